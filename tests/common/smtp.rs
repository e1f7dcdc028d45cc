//! A real SMTP server for the tests: PyPI `aiosmtpd` (1.4.6), which nobody
//! here wrote, started on a free port of 127.0.0.1 with its Mailbox handler
//! writing every message it accepts into a Maildir; stopped when dropped.
//!
//! `.ci/run` installs it into `~/.cache/hostr-ci/venv`; `HOSTR_TEST_PYTHON`
//! names another Python that has it. Without one, `TestSmtp::start` says so
//! and gives None (a failure in CI).

use super::tools;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestSmtp {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

/// One message as the server stored it, decoded enough to read.
#[derive(Debug, Clone)]
pub struct Mail {
    pub headers: Vec<(String, String)>,
    /// The text of every part, decoded.
    pub text: String,
    pub raw: String,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn subject(&self) -> &str {
        self.header("Subject").unwrap_or("")
    }
}

impl TestSmtp {
    /// A server on a free port, or None when aiosmtpd is not installed.
    pub fn start() -> Option<TestSmtp> {
        let mut smtp = TestSmtp { child: None, port: tools::free_port(), dir: super::temp_dir() };
        smtp.resume()?;
        Some(smtp)
    }

    /// `smtp://127.0.0.1:<port>`, for `HOSTR_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the server (an outage); the messages stay.
    pub fn pause(&mut self) {
        if let Some(child) = self.child.take() {
            stop(child);
        }
    }

    /// Starts it again on the same port and Maildir.
    pub fn resume(&mut self) -> Option<()> {
        let python = python()?;
        let maildir = self.dir.path().join("maildir");
        let log = std::fs::File::create(self.dir.path().join("smtp.log")).expect("create the SMTP log");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        self.wait_until_ready();
        Some(())
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.path().join("smtp.log")).unwrap_or_default();
        panic!("aiosmtpd did not start within 30 s on port {}:\n{log}", self.port);
    }

    /// Every message received so far, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        let new = self.dir.path().join("maildir").join("new");
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&new)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), e.path()))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.into_iter().map(|(_, path)| parse(&std::fs::read_to_string(path).expect("read a mail"))).collect()
    }

    /// The messages to `address`.
    pub fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails().into_iter().filter(|m| m.header("To").is_some_and(|to| to.contains(address))).collect()
    }
}

impl Drop for TestSmtp {
    fn drop(&mut self) {
        self.pause();
    }
}

fn stop(mut child: Child) {
    // SAFETY: kill(2) with a negative pid signals the server's own group.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    let _ = child.wait();
}

fn python() -> Option<PathBuf> {
    // Only the venv's Python (or the one named) has aiosmtpd, not the PATH's.
    let found = match std::env::var_os("HOSTR_TEST_PYTHON") {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(tools::ci_cache().join("venv").join("bin").join("python3")),
    }
    .filter(|path| path.is_file());
    if found.is_none() {
        tools::missing(
            "the SMTP server (PyPI aiosmtpd)",
            "hostr's email notices were NOT tested against an SMTP server.",
            "Install it: python3 -m venv ~/.cache/hostr-ci/venv && ~/.cache/hostr-ci/venv/bin/pip install aiosmtpd==1.4.6",
        );
    }
    found
}

/// Headers (unfolded) and the decoded text of every part.
fn parse(raw: &str) -> Mail {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let headers = headers(head);
    let boundary = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
        .and_then(|(_, v)| v.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').split(';').next().unwrap_or("").trim_matches('"').to_owned());
    let text = match boundary {
        Some(boundary) => body
            .split(&format!("--{boundary}"))
            .filter_map(|part| part.split_once("\n\n"))
            .map(|(part_head, part_body)| decode(&headers_of(part_head), part_body))
            .collect::<Vec<_>>()
            .join("\n"),
        None => decode(&headers, body),
    };
    Mail { headers, text, raw }
}

fn headers_of(head: &str) -> Vec<(String, String)> {
    headers(head.trim_start_matches('\n'))
}

fn headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

fn decode(headers: &[(String, String)], body: &str) -> String {
    let encoding = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("Content-Transfer-Encoding"));
    match encoding.map(|(_, v)| v.to_ascii_lowercase()) {
        Some(e) if e == "base64" => {
            use base64::Engine;
            let joined: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(joined).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Some(e) if e == "quoted-printable" => {
            let joined = body.replace("=\n", "");
            let mut bytes = Vec::new();
            let mut iter = joined.bytes().peekable();
            while let Some(b) = iter.next() {
                if b == b'=' {
                    let hi = iter.next().unwrap_or(b'0');
                    let lo = iter.next().unwrap_or(b'0');
                    bytes.push(u8::from_str_radix(&format!("{}{}", hi as char, lo as char), 16).unwrap_or(b'?'));
                } else {
                    bytes.push(b);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => body.to_owned(),
    }
}
