//! Shared test helpers: temporary databases, a running server, a raw HTTP
//! client, and child processes of this very test binary.

#![allow(dead_code)]

pub mod child_lines;
pub mod fake_strike;
pub mod fake_whm;
pub mod nwc_wallet;
pub mod relay;
pub mod relay_client;
pub mod remote_signer;
pub mod smtp;
pub mod tools;

use hostr::app::App;
use hostr::config::Config;
use hostr::customer::Customer;
use hostr::http::{self, RunningServer};
use hostr::ids::new_uuid;
use hostr::timestamp::Timestamp;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("hostr-test-").tempdir().expect("create a temporary folder")
}

pub fn customer(public_key_hex: &str, email: Option<&str>) -> Customer {
    Customer::new(new_uuid(), public_key_hex.to_owned(), email.map(str::to_owned), Timestamp::now())
}

/// A valid-looking 64-hex public key derived from `n` (not a real curve point;
/// the store only checks the format).
pub fn key(n: u64) -> String {
    format!("{:064x}", n)
}

/// The project's `public/` folder.
pub fn public_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("public")
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    server: Option<RunningServer>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// The real application on a free port over a fresh database.
    pub fn start() -> TestServer {
        let dir = temp_dir();
        let mut server = TestServer::start_on(dir.path().join("database"), |_| {});
        server._dir = Some(dir);
        server
    }

    pub fn start_on(database: PathBuf, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::for_database(database, "127.0.0.1:0".parse().unwrap());
        config.public_dir = public_dir();
        adjust(&mut config);
        let app = Arc::new(App::open(config.clone()).expect("open the test database"));
        app.start_workers();
        let handler_app = app.clone();
        let handler: http::Handler = Arc::new(move |rq| hostr::api::route(&handler_app, rq));
        TestServer::with_handler(app, handler)
    }

    /// A server whose requests all go to `handler`, for testing the shell.
    pub fn with_handler(app: Arc<App>, handler: http::Handler) -> TestServer {
        let config = &app.config;
        let settings = hostr::api::server_settings(config);
        let server = http::server::start(config.listen, &settings, handler).expect("start the test server");
        TestServer { addr: server.addr(), app, server: Some(server), _dir: None }
    }

    pub fn get(&self, path: &str) -> Reply {
        send(self.addr, &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"))
    }

    pub fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `code` of an API error body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or("").to_owned()
    }
}

/// Sends raw bytes and reads one response until the server closes or the
/// declared body is complete.
pub fn send(addr: SocketAddr, raw: &str) -> Reply {
    send_bytes(addr, raw.as_bytes())
}

pub fn send_bytes(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect to the test server");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // A server may answer before reading everything (413); ignore the reset.
    let _ = stream.write_all(raw);
    read_reply(&mut stream)
}

pub fn read_reply(stream: &mut TcpStream) -> Reply {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(reply) = parse_reply(&data) {
            return reply;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    parse_reply(&data).unwrap_or_else(|| panic!("incomplete response: {:?}", String::from_utf8_lossy(&data)))
}

fn parse_reply(data: &[u8]) -> Option<Reply> {
    let head_end = data.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&data[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body = data.get(head_end + 4..head_end + 4 + length)?.to_vec();
    Some(Reply { status, headers, body })
}

/// Runs the test named `role` of this test binary as a separate process,
/// with `env` set; the role's test does its work only when
/// `HOSTR_TEST_ROLE` names it.
pub fn spawn_role(role: &str, env: &[(&str, String)]) -> Child {
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command
        .args([role, "--exact", "--nocapture", "--test-threads=1", "--include-ignored"])
        .env("HOSTR_TEST_ROLE", role)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    command.spawn().expect("start a child test process")
}

/// Whether this process was started by `spawn_role` to play `role`.
pub fn playing(role: &str) -> bool {
    std::env::var("HOSTR_TEST_ROLE").is_ok_and(|r| r == role)
}

/// The acknowledgement a child printed on this line, if any. The test
/// harness may print its own text before the first one on the same line.
pub fn ack(line: &str) -> Option<&str> {
    line.split_once("ack ").map(|(_, rest)| rest)
}

impl TestServer {
    /// Sends a request with extra headers and an optional JSON body.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            raw.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        raw.push_str("\r\n");
        raw.push_str(body.unwrap_or(""));
        send(self.addr, &raw)
    }

    /// A request authenticated with `Authorization: Bearer`.
    pub fn authed(&self, method: &str, path: &str, token: &str, body: Option<&str>) -> Reply {
        self.request(method, path, &[("Authorization", &format!("Bearer {token}"))], body)
    }

    /// A request as the browser sends it: the cookie and the site's Origin.
    pub fn browser(&self, method: &str, path: &str, token: &str, body: Option<&str>) -> Reply {
        let cookie = format!("hostr_session={token}");
        let origin = self.app.config.public_url.origin().to_owned();
        self.request(method, path, &[("Cookie", &cookie), ("Origin", &origin)], body)
    }

    pub fn challenge(&self) -> String {
        let reply = self.get("/api/challenge");
        assert_eq!(reply.status, 200, "{:?}", String::from_utf8_lossy(&reply.body));
        reply.json()["challenge"].as_str().unwrap().to_owned()
    }

    /// Signs in with `keys`; returns the session token.
    pub fn sign_in(&self, keys: &nostr::prelude::Keys) -> String {
        let event = login_event(keys, &self.app.config.public_url.verify_url(), &self.challenge());
        let reply = self.verify(&event);
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        reply.json()["token"].as_str().unwrap().to_owned()
    }

    pub fn verify(&self, event: &serde_json::Value) -> Reply {
        self.request("POST", "/api/verify", &[], Some(&serde_json::json!({"event": event}).to_string()))
    }
}

/// A proper NIP-98 sign-in event for `url` and `challenge`, signed now.
pub fn login_event(keys: &nostr::prelude::Keys, url: &str, challenge: &str) -> serde_json::Value {
    let tags = vec![vec!["u", url], vec!["method", "POST"], vec!["challenge", challenge]];
    signed_event(keys, 27235, hostr::api::unix_now(), tags)
}

/// Any signed event, as a browser signer makes it.
pub fn signed_event(
    keys: &nostr::prelude::Keys,
    kind: u16,
    created_at: i64,
    tags: Vec<Vec<&str>>,
) -> serde_json::Value {
    use nostr::prelude::*;
    let tags = tags.into_iter().map(|t| Tag::parse(t).unwrap());
    let event = EventBuilder::new(Kind::from(kind), "Sign in to test")
        .tags(tags)
        .custom_created_at(Timestamp::from(created_at as u64))
        .finalize(keys)
        .unwrap();
    serde_json::to_value(&event).unwrap()
}

pub fn new_keys() -> nostr::prelude::Keys {
    nostr::prelude::Keys::generate()
}
