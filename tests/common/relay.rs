//! A real Nostr relay for the tests: the PyPI `nostr-relay` (1.14), which
//! nobody here wrote, started on a free port of 127.0.0.1 with its own SQLite
//! file and stopped (its whole process group) when the value is dropped.
//!
//! `.ci/run` installs it into `~/.cache/hostr-ci/venv`; `HOSTR_TEST_RELAY`
//! names another `nostr-relay` executable. Without one, `TestRelay::start`
//! says so and gives None (a failure in CI).

use super::tools;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a test wants its relay to behave.
#[derive(Clone, Debug, Default)]
pub struct RelayOptions {
    /// NIP-42: the relay sends an AUTH challenge on connect and saves events
    /// only from connections authenticated as one of these keys (hex); it
    /// refuses the others with `restricted:` (and an empty event id, a quirk
    /// of this relay). Empty: no authentication.
    pub writers: Vec<String>,
    /// Extra top-level YAML appended to the relay's configuration (for
    /// example its `rate_limits:` section).
    pub extra_yaml: String,
    /// The port to listen on (a relay that comes back where it was); none: a free one.
    pub port: Option<u16>,
}

pub struct TestRelay {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl TestRelay {
    /// A relay with the default options, or None when none is installed.
    pub fn start() -> Option<TestRelay> {
        TestRelay::start_with(RelayOptions::default())
    }

    pub fn start_with(options: RelayOptions) -> Option<TestRelay> {
        let program = relay_program()?;
        let dir = super::temp_dir();
        let port = options.port.unwrap_or_else(tools::free_port);
        let config = dir.path().join("relay.yaml");
        std::fs::write(&config, relay_yaml(&dir.path().join("nostr.sqlite3"), port, &options))
            .expect("write the relay's config");
        let log = std::fs::File::create(dir.path().join("relay.log")).expect("create the relay's log");
        let child = Command::new(&program)
            .arg("-c")
            .arg(&config)
            .arg("serve")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            // Its own process group, so that Drop stops gunicorn's workers too.
            .process_group(0)
            .spawn()
            .expect("start nostr-relay");
        let relay = TestRelay { child, port, _dir: dir };
        relay.wait_until_ready();
        // The relay makes its tables on start; roles are read at each AUTH.
        for writer in &options.writers {
            let status = Command::new(&program)
                .arg("-c")
                .arg(&config)
                .args(["role", "set", "-p", writer, "-r", "w"])
                .current_dir(relay._dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run nostr-relay role set");
            assert!(status.success(), "nostr-relay role set {writer} failed");
        }
        Some(relay)
    }

    /// `ws://127.0.0.1:<port>`, the address the relay also accepts for AUTH.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The relay's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("relay.log")).unwrap_or_default()
    }

    /// Waits until the relay answers its NIP-11 document over HTTP.
    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("http://127.0.0.1:{}/", self.port);
        let agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(2))).build().new_agent();
        while Instant::now() < deadline {
            if agent.get(&url).header("Accept", "application/nostr+json").call().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("nostr-relay did not start within 30 s on port {}:\n{}", self.port, self.log());
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        let group = -(self.child.id() as i32);
        // SAFETY: kill(2) with a negative pid signals the relay's own group.
        unsafe {
            libc::kill(group, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above; whatever is left of the group is killed.
        unsafe {
            libc::kill(group, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn relay_program() -> Option<PathBuf> {
    let venv = tools::ci_cache().join("venv").join("bin");
    let found = tools::find_tool("HOSTR_TEST_RELAY", &["nostr-relay"], &[venv]);
    if found.is_none() {
        tools::missing(
            "the Nostr relay (PyPI nostr-relay)",
            "hostr's relay client, listings, receipts and notices were NOT tested against a relay.",
            "Install it: python3 -m venv ~/.cache/hostr-ci/venv && ~/.cache/hostr-ci/venv/bin/pip install nostr-relay==1.14",
        );
    }
    found
}

fn relay_yaml(database: &std::path::Path, port: u16, options: &RelayOptions) -> String {
    let url = format!("ws://127.0.0.1:{port}");
    let auth = if !options.writers.is_empty() {
        format!("authentication:\n  enabled: true\n  relay_urls:\n    - {url}\n  actions:\n    save: w\n    query: a\n")
    } else {
        "authentication:\n  enabled: false\n".to_string()
    };
    format!(
        "relay_name: hostr-test\n\
         storage:\n  sqlalchemy.url: sqlite+aiosqlite:///{db}\n\
         gunicorn:\n  bind: 127.0.0.1:{port}\n  workers: 1\n  loglevel: warning\n\
         {auth}{extra}\n",
        db = database.display(),
        extra = options.extra_yaml,
    )
}
