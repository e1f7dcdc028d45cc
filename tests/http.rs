//! The server shell, over real sockets: routing, limits, errors, static
//! files, panics, idle and slow clients, graceful shutdown.

use crate::common::{TestServer, ack, playing, read_reply, send, spawn_role, temp_dir};
use hostr::http::{Handler, Response};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn health_reports_sandbox_mode() {
    let server = TestServer::start();
    let reply = server.get("/api/health");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let json = reply.json();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["sandbox"]["payments"], true);
    assert_eq!(json["sandbox"]["whm"], true);
    assert_eq!((json["unreadableRecords"].as_u64(), json["whm"].as_str()), (Some(0), Some("ok")));
}

#[test]
fn health_is_degraded_while_a_record_cannot_be_read() {
    let server = TestServer::start();
    let broken = server.app.store.dir::<hostr::plan::Plan>().unwrap().join("broken.json");
    std::fs::write(&broken, "{\"id\": \"broken\",}").unwrap();
    let json = server.get("/api/health").json();
    assert_eq!((json["status"].as_str(), json["unreadableRecords"].as_u64()), (Some("degraded"), Some(1)), "{json}");
    std::fs::remove_file(&broken).unwrap();
    assert_eq!(server.get("/api/health").json()["status"], "ok", "back to ok once fixed");
}

#[test]
fn plans_list_the_seeded_basic_plan_and_only_plans_on_sale() {
    let server = TestServer::start();
    let plans = server.get("/api/plans").json()["plans"].clone();
    assert_eq!(plans.as_array().unwrap().len(), 1);
    assert_eq!(plans[0]["id"], "basic");
    assert_eq!(plans[0]["name"], "Web storage basic");
    assert_eq!(plans[0]["storage"], 10);
    assert_eq!(plans[0]["accounts"], 1);
    assert!(plans[0].get("whmPackage").is_none(), "internal fields stay private");

    // An operator takes the plan off sale and adds a broken one by hand.
    let dir = server.app.store.dir::<hostr::plan::Plan>().unwrap();
    let basic = std::fs::read_to_string(dir.join("basic.json")).unwrap();
    std::fs::write(dir.join("basic.json"), basic.replace("\"available\": true", "\"available\": false")).unwrap();
    std::fs::write(dir.join("broken.json"), "{\"id\": \"broken\",}").unwrap();
    let reply = server.get("/api/plans");
    assert_eq!(reply.status, 200, "a broken plan must not take the listing down");
    assert_eq!(reply.json()["plans"], serde_json::json!([]));
}

#[test]
fn a_listing_address_leads_to_its_plan_and_nothing_else_does() {
    use nostr::nips::nip19::{Nip19Coordinate, ToBech32};
    use nostr::prelude::{Coordinate, Kind};
    let server = TestServer::start();
    let naddr = |author, id: &str| {
        let coordinate = Coordinate::new(Kind::from(30402), author).identifier(id);
        Nip19Coordinate::new(coordinate, []).to_bech32().unwrap()
    };
    let operator = server.app.operator.public_key();
    let ours = server.get(&format!("/api/listing?naddr={}", naddr(operator, "basic")));
    assert_eq!((ours.status, ours.json()["plan"].as_str()), (200, Some("basic")), "{}", ours.json());

    let stranger = crate::common::new_keys().public_key();
    for (path, status, code) in [
        (format!("/api/listing?naddr={}", naddr(stranger, "basic")), 404, "not_our_listing"),
        (format!("/api/listing?naddr={}", naddr(operator, "gone")), 404, "no_such_plan"),
        ("/api/listing?naddr=naddr1broken".to_string(), 400, "invalid_naddr"),
        ("/api/listing".to_string(), 400, "missing_naddr"),
    ] {
        let reply = server.get(&path);
        assert_eq!((reply.status, reply.error_code().as_str()), (status, code), "{path}");
    }
}

#[test]
fn unknown_routes_and_wrong_methods_get_json_errors() {
    let server = TestServer::start();
    let reply = server.get("/api/nothing-here");
    assert_eq!((reply.status, reply.error_code().as_str()), (404, "no_such_endpoint"));
    assert!(reply.json()["error"]["message"].as_str().unwrap().len() > 10);
    let reply = send(server.addr, "DELETE /api/plans HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!((reply.status, reply.error_code().as_str()), (405, "method_not_allowed"));
    assert_eq!(reply.header("allow"), Some("GET"));
    let profile = send(server.addr, "DELETE /api/profile HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(profile.header("allow"), Some("GET, PUT"));
    let reply = server.get("/no-such-page.html");
    assert_eq!((reply.status, reply.error_code().as_str()), (404, "not_found"));
}

#[test]
fn bodies_over_the_limit_are_refused_with_413() {
    let server = TestServer::start();
    let limit = server.app.config.max_body;
    let body = "x".repeat(limit + 1);
    let declared = format!(
        "POST /api/plans HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = send(server.addr, &declared);
    assert_eq!((reply.status, reply.error_code().as_str()), (413, "body_too_large"));
    // Chunked bodies are not accepted at all: the API's bodies are small
    // JSON with a known length.
    let chunked = format!(
        "POST /api/plans HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let reply = send(server.addr, &chunked);
    assert_eq!((reply.status, reply.error_code().as_str()), (411, "length_required"));
    // The server is still serving.
    assert_eq!(server.get("/api/health").status, 200);
}

#[test]
fn oversized_heads_and_urls_are_refused() {
    let server = TestServer::start();
    let long_url = format!("GET /api/health?x={} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", "a".repeat(20_000));
    let reply = send(server.addr, &long_url);
    assert_eq!((reply.status, reply.error_code().as_str()), (414, "url_too_long"));
    let many = "X-Filler: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n".repeat(2_000);
    let reply = send(server.addr, &format!("GET /api/health HTTP/1.1\r\nHost: t\r\n{many}\r\n"));
    assert_eq!(reply.status, 431);
    assert_eq!(server.get("/api/health").status, 200);
}

#[test]
fn static_files_have_types_and_revalidation_and_no_traversal() {
    let server = TestServer::start();
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let etag = page.header("etag").unwrap().to_owned();
    let again = send(
        server.addr,
        &format!("GET /index.html HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    for path in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E%2FCargo.toml",
        "/..%2fCargo.toml",
        "/..%5cCargo.toml",
        "/public/../../Cargo.toml",
        "/.%2e/Cargo.toml",
        "//etc/passwd",
        "/%00index.html",
        "/_shell.html",
    ] {
        let reply = send(server.addr, &format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
        assert!(matches!(reply.status, 400 | 404), "{path}: {}", reply.status);
        assert!(!String::from_utf8_lossy(&reply.body).contains("[package]"), "{path} leaked a file");
    }
}

/// The pages' Content-Security-Policy comes as a header, the same for every
/// page, and no page carries one of its own in a `<meta>` tag (a second
/// policy would silently narrow the first).
#[test]
fn pages_get_their_content_security_policy_as_a_header_and_carry_no_meta_policy() {
    let server = TestServer::start();
    let policy = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' wss:; \
        img-src 'self' data: https:; object-src 'none'; base-uri 'none'; form-action 'self'";
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(crate::common::public_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".html") && !name.starts_with(['_', '.']) {
            pages.push(format!("/{name}"));
        }
    }
    pages.push("/".to_owned());
    assert!(pages.len() >= 5, "{pages:?}");
    for page in pages {
        let reply = server.get(&page);
        assert_eq!(reply.status, 200, "{page}");
        assert_eq!(reply.header("content-security-policy"), Some(policy), "{page}");
        let html = String::from_utf8_lossy(&reply.body).to_lowercase();
        assert!(!html.contains("content-security-policy"), "{page} has a policy of its own");
    }
}

/// A remote signer's local relay (`ws://` to this machine, as in the tests)
/// is allowed by exactly its origin; `ws:` as a whole never is.
#[test]
fn the_policy_allows_exactly_the_configured_plain_signer_relays() {
    let dir = crate::common::temp_dir();
    let server = TestServer::start_on(dir.path().join("db"), |c| {
        c.signer_relays = vec!["wss://relay.example.com".into(), "ws://127.0.0.1:7777/nostr".into()];
    });
    let policy = server.get("/").header("content-security-policy").unwrap().to_owned();
    assert!(policy.contains("connect-src 'self' wss: ws://127.0.0.1:7777;"), "{policy}");
    assert!(!policy.contains("ws: ") && !policy.contains("relay.example.com"), "{policy}");
}

#[test]
fn a_panicking_handler_answers_500_and_the_worker_keeps_serving() {
    let base = TestServer::start();
    let handler: Handler = Arc::new(|rq| {
        if rq.path == "/boom" {
            panic!("deliberate test panic");
        }
        Response::json(200, &serde_json::json!({"ok": true}))
    });
    let mut config = base.app.config.clone();
    config.workers = 1; // the very worker that panicked must answer next
    let app = Arc::new(hostr::app::App::open(config).unwrap());
    let server = TestServer::with_handler(app, handler);
    for _ in 0..3 {
        let reply = server.get("/boom");
        assert_eq!((reply.status, reply.error_code().as_str()), (500, "internal_error"));
        assert!(!String::from_utf8_lossy(&reply.body).contains("deliberate"), "no internals in responses");
        assert_eq!(server.get("/fine").status, 200);
    }
}

#[test]
fn idle_and_half_sent_connections_beyond_the_cap_do_not_lock_out_a_new_client() {
    let dir = crate::common::temp_dir();
    // A small cap, so that the flood below is many times over it.
    let server = TestServer::start_on(dir.path().join("db"), |c| c.max_connections = 16);
    let idle: Vec<TcpStream> = (0..100).map(|_| TcpStream::connect(server.addr).unwrap()).collect();
    let half: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.write_all(b"GET /api/health HTTP/1.1\r\nHost: t\r\nX-Slow: ").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..5 {
        assert_eq!(server.get("/api/health").status, 200);
    }
    // The server made room by closing the longest-waiting half-sent ones.
    let closed = half
        .into_iter()
        .filter(|mut s| {
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            // Closed: end of stream or reset; still open: the read times out.
            match s.read(&mut [0u8; 1]) {
                Ok(0) => true,
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
                Ok(_) => false,
            }
        })
        .count();
    assert!(closed >= 80, "only {closed} of 100 half-sent connections were closed");
    drop(idle);
}

#[test]
fn keep_alive_connections_serve_several_requests() {
    let server = TestServer::start();
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..3 {
        stream.write_all(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        assert_eq!(read_reply(&mut stream).status, 200);
    }
}

/// Answering a request costs no hand-off between threads: the thread that
/// read it answers it. Counted as the voluntary context switches of a whole
/// process (a child, so that no other test's threads count) over 200
/// requests on one keep-alive connection: the client and the server each
/// sleep once per request, and a hand-off to a worker and back cost two more.
#[test]
fn a_request_is_answered_by_the_thread_that_read_it() {
    let mut child = spawn_role("http::role_sequential_client", &[]);
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(child.wait().unwrap().success(), "the child failed: {out}");
    let switches: f64 =
        out.lines().find_map(ack).and_then(|a| a.strip_prefix("switches ")?.trim().parse().ok()).unwrap();
    let per_request = switches / 200.0;
    assert!(per_request < 2.5, "{per_request} voluntary context switches per request");
}

#[test]
#[ignore = "run as a child process by a_request_is_answered_by_the_thread_that_read_it"]
fn role_sequential_client() {
    if !playing("http::role_sequential_client") {
        return;
    }
    let dir = temp_dir();
    let mut config = hostr::config::Config::for_database(dir.path().join("db"), "127.0.0.1:0".parse().unwrap());
    config.public_dir = crate::common::public_dir();
    // No background workers: only the server's threads and this one run.
    let app = Arc::new(hostr::app::App::open(config).unwrap());
    let handler: Handler = Arc::new(|_| Response::json(200, &serde_json::json!({"ok": true})));
    let server = TestServer::with_handler(app, handler);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut exchange = || {
        stream.write_all(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        assert_eq!(read_reply(&mut stream).status, 200);
    };
    (0..20).for_each(|_| exchange());
    let before = voluntary_switches();
    (0..200).for_each(|_| exchange());
    println!("ack switches {}", voluntary_switches() - before);
}

/// Voluntary context switches of this process's live threads.
fn voluntary_switches() -> u64 {
    let tasks = std::fs::read_dir("/proc/self/task").unwrap();
    let status = |task: std::fs::DirEntry| std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
    let switches = |status: String| {
        let line = status.lines().find(|l| l.starts_with("voluntary_ctxt_switches:")).map(str::to_owned);
        line.and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0)
    };
    tasks.flatten().map(status).map(switches).sum()
}

#[test]
fn shutdown_finishes_requests_in_progress() {
    let base = TestServer::start();
    let handler: Handler = Arc::new(|rq| {
        if rq.path == "/slow" {
            std::thread::sleep(Duration::from_millis(700));
        }
        Response::json(200, &serde_json::json!({"path": rq.path}))
    });
    let app = Arc::new(hostr::app::App::open(base.app.config.clone()).unwrap());
    let server = TestServer::with_handler(app, handler);
    let addr = server.addr;
    let in_flight =
        std::thread::spawn(move || send(addr, "GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    std::thread::sleep(Duration::from_millis(200));
    server.stop();
    let reply = in_flight.join().unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["path"], "/slow");
    // Stopped means stopped: no new request is answered.
    if let Ok(mut late) = TcpStream::connect(addr) {
        late.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = late.write_all(b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n");
        let mut answer = [0u8; 16];
        let n = late.read(&mut answer).unwrap_or(0);
        assert!(!answer[..n].starts_with(b"HTTP/1.1 200"), "a stopped server answered");
    }
}

/// Sends `raw` on one connection and returns everything the server sends
/// back until it closes the connection (or 5 s pass).
fn exchange_until_close(addr: std::net::SocketAddr, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = stream.write_all(raw);
    let mut all = Vec::new();
    let _ = stream.read_to_end(&mut all);
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn a_refused_body_is_never_read_as_the_next_request() {
    let server = TestServer::start();
    let smuggled = "GET /api/smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    // A chunked body is refused with 411, and the connection ends there.
    let chunked = format!(
        "POST /api/verify HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{smuggled}\r\n0\r\n\r\n",
        smuggled.len()
    );
    let answer = exchange_until_close(server.addr, chunked.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 411"), "{answer}");
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "exactly one response: {answer}");
    // A declared body over the limit is refused unread; what follows is not a request.
    let limit = server.app.config.max_body;
    let declared = format!(
        "POST /api/verify HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{smuggled}",
        limit * 4
    );
    let answer = exchange_until_close(server.addr, declared.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(!answer.contains("no_such_endpoint"), "the smuggled request was answered: {answer}");
    // Upgrades are refused before anything is read.
    let upgrade = "GET /api/health HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
    let answer = exchange_until_close(server.addr, upgrade.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("upgrade_not_supported"), "{answer}");
}

#[test]
fn a_body_length_that_is_not_one_number_is_refused_and_ends_the_connection() {
    let server = TestServer::start();
    // Taken as "no body", what follows the head would be answered as a second request
    // (after the end of a chunked body, for the cases with Transfer-Encoding).
    let smuggled = "GET /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    for framing in [
        "Content-Length: 5x",
        "Content-Length: 5\r\nContent-Length: 40",
        "Content-Length: 0, 40",
        "Content-Length: 18446744073709551616",
        "Content-Length: +5",
        "Content-Length: -1",
        "Content-Length: ",
        "Transfer-Encoding: chunked\r\nContent-Length: 5",
    ] {
        let end_of_chunks = if framing.contains("Transfer-Encoding") { "0\r\n\r\n" } else { "" };
        let request = format!("POST /api/logout HTTP/1.1\r\nHost: t\r\n{framing}\r\n\r\n{end_of_chunks}{smuggled}");
        let answer = exchange_until_close(server.addr, request.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 400"), "{framing:?}: {answer}");
        assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{framing:?}: exactly one response: {answer}");
    }
    assert_eq!(server.get("/api/health").status, 200);
}

#[test]
fn slow_bodies_do_not_hold_the_workers() {
    let dir = crate::common::temp_dir();
    let server = TestServer::start_on(dir.path().join("db"), |c| c.workers = 2);
    // Each declares 5,000 bytes and sends 1,000: they wait in their own
    // connection threads, never in a worker.
    let slow: Vec<TcpStream> = (0..6)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            let head = "POST /api/verify HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n";
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&[b' '; 1000]).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..3 {
        assert_eq!(server.get("/api/health").status, 200);
    }
    drop(slow);
}
