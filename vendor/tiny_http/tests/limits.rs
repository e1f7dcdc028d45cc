//! Tests of the connection-limits patch (see PATCHES.md).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tiny_http::{ConnectionLimits, Response, Server};

fn server(limits: ConnectionLimits) -> (Arc<Server>, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = Server::from_listener_with_limits(listener, None, limits).unwrap();
    (Arc::new(server), port)
}

/// Answers every request with its body (or "ok"), from a worker thread.
fn echo_worker(server: &Arc<Server>) {
    let server = server.clone();
    thread::spawn(move || {
        for mut rq in server.incoming_requests() {
            let mut body = String::new();
            let _ = rq.as_reader().read_to_string(&mut body);
            if body.is_empty() {
                body = "ok".to_string();
            }
            let _ = rq.respond(Response::from_string(body));
        }
    });
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Reads one response with a `Content-Length` body; returns (status line, body).
fn read_response(stream: &mut TcpStream) -> (String, String) {
    let (head, body) = read_response_with_head(stream);
    (head.lines().next().unwrap().to_string(), body)
}

/// Reads one response with a `Content-Length` body; returns (head, body).
fn read_response_with_head(stream: &mut TcpStream) -> (String, String) {
    let mut data = Vec::new();
    let mut byte = [0u8];
    while !data.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "connection closed");
        data.push(byte[0]);
    }
    let head = String::from_utf8(data).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            if name.eq_ignore_ascii_case("content-length") {
                value.trim().parse().ok()
            } else {
                None
            }
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

/// Reads until EOF (or error) and returns what was received.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut data = Vec::new();
    let _ = stream.read_to_end(&mut data);
    String::from_utf8_lossy(&data).to_string()
}

#[test]
fn keep_alive_and_bodies_work() {
    let (server, port) = server(ConnectionLimits::default());
    echo_worker(&server);
    let mut c = connect(port);
    for i in 0..3 {
        let body = format!("hello {}", i);
        write!(
            c,
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{}",
            body.len(),
            body
        )
        .unwrap();
        assert_eq!(read_response(&mut c), ("HTTP/1.1 200 OK".to_string(), body));
    }
    // a larger body (read by the connection thread, below `max_buffered_body`; the
    // response stays below tiny_http's chunked-encoding threshold)
    let body = "x".repeat(20_000);
    write!(
        c,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        body
    )
    .unwrap();
    assert_eq!(read_response(&mut c).1.len(), body.len());
    assert_eq!(server.num_connections(), 1);
}

#[test]
fn dripping_does_not_extend_the_head_deadline() {
    let (server, port) = server(ConnectionLimits {
        head_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    });
    echo_worker(&server);
    let mut c = connect(port);
    let start = Instant::now();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    // one more header byte every 200 ms, for up to 5 s
    for _ in 0..25 {
        thread::sleep(Duration::from_millis(200));
        if c.write_all(b"a").is_err() {
            break;
        }
    }
    let answer = read_to_close(&mut c);
    assert!(answer.starts_with("HTTP/1.1 408"), "{:?}", answer);
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_millis(2500), "{:?}", elapsed);
}

#[test]
fn idle_connection_is_closed_silently() {
    let (server, port) = server(ConnectionLimits {
        head_timeout: Some(Duration::from_millis(500)),
        keep_alive_timeout: Some(Duration::from_millis(500)),
        ..Default::default()
    });
    echo_worker(&server);
    let start = Instant::now();
    let mut c = connect(port);
    assert_eq!(read_to_close(&mut c), "");
    assert!(start.elapsed() < Duration::from_secs(2));

    // idle after a response (keep-alive)
    let mut c = connect(port);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c).1, "ok");
    let start = Instant::now();
    assert_eq!(read_to_close(&mut c), "");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn slow_body_is_not_cut_by_the_head_deadline() {
    let (server, port) = server(ConnectionLimits {
        head_timeout: Some(Duration::from_millis(500)),
        body_read_timeout: Some(Duration::from_secs(2)),
        // a body above this is read by the application, with the per-read timeout only
        max_buffered_body: 1024,
        ..Default::default()
    });
    echo_worker(&server);
    let mut c = connect(port);
    c.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n")
        .unwrap();
    // 4 x 1000 bytes over 1.6 s: longer than head_timeout, each read within the body timeout
    for _ in 0..4 {
        thread::sleep(Duration::from_millis(400));
        c.write_all(&[b'b'; 1000]).unwrap();
    }
    assert_eq!(read_response(&mut c).1.len(), 4000);
}

#[test]
fn oldest_waiting_connection_is_evicted_at_the_cap() {
    let (server, port) = server(ConnectionLimits {
        max_connections: 2,
        ..Default::default()
    });
    echo_worker(&server);
    let mut idle1 = connect(port);
    thread::sleep(Duration::from_millis(50));
    let mut idle2 = connect(port);
    thread::sleep(Duration::from_millis(50));
    assert_eq!(server.num_connections(), 2);

    let mut fresh = connect(port);
    fresh
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut fresh).1, "ok");
    // the oldest was evicted, the other one is still open
    assert_eq!(read_to_close(&mut idle1), "");
    idle2.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        idle2.read(&mut buf).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

#[test]
fn busy_connection_is_never_evicted() {
    let (server, port) = server(ConnectionLimits {
        max_connections: 1,
        ..Default::default()
    });
    let mut busy = connect(port);
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let rq = server.recv().unwrap();
    assert_eq!(rq.url(), "/slow");

    // at the cap with nothing evictable: the second client waits (not accepted)
    let mut waiting = connect(port);
    waiting
        .write_all(b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert!(server
        .recv_timeout(Duration::from_millis(500))
        .unwrap()
        .is_none());

    // once the busy request is answered, its connection is idle and evictable
    rq.respond(Response::from_string("slow")).unwrap();
    assert_eq!(read_response(&mut busy).1, "slow");
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    assert_eq!(rq.url(), "/next");
    rq.respond(Response::from_string("next")).unwrap();
    assert_eq!(read_response(&mut waiting).1, "next");
    assert_eq!(read_to_close(&mut busy), "");
}

#[test]
fn oversized_head_is_rejected() {
    let (server, port) = server(ConnectionLimits {
        max_head_bytes: 1024,
        ..Default::default()
    });
    echo_worker(&server);
    let mut c = connect(port);
    let _ = write!(
        c,
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "y".repeat(2000)
    );
    assert!(read_to_close(&mut c).starts_with("HTTP/1.1 431"));

    let mut c = connect(port);
    write!(
        c,
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "y".repeat(900)
    )
    .unwrap();
    assert_eq!(read_response(&mut c).1, "ok");
}

// ---- request bodies and `Request::close_connection()` (see PATCHES.md) ----

/// Like `echo_worker`, and records the URL of every request handed to the application.
fn recording_echo_worker(server: &Arc<Server>, seen: &Arc<Mutex<Vec<String>>>) {
    let (server, seen) = (server.clone(), seen.clone());
    thread::spawn(move || {
        for mut rq in server.incoming_requests() {
            seen.lock().unwrap().push(rq.url().to_string());
            let mut body = String::new();
            let _ = rq.as_reader().read_to_string(&mut body);
            if body.is_empty() {
                body = "ok".to_string();
            }
            let _ = rq.respond(Response::from_string(body));
        }
    });
}

/// Asserts that the server closed the connection (EOF, not just silence).
fn assert_eof(stream: &mut TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut buf = [0u8; 256];
    match stream.read(&mut buf) {
        Ok(0) => {}
        other => panic!(
            "expected EOF, got {:?}",
            other.map(|n| String::from_utf8_lossy(&buf[..n]).to_string())
        ),
    }
}

fn body_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

#[test]
fn slow_body_within_buffer_limit_never_reaches_the_application() {
    let (server, port) = server(ConnectionLimits {
        head_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    recording_echo_worker(&server, &seen);
    recording_echo_worker(&server, &seen);

    // more slow clients than workers: each declares 5,000 bytes, sends 1,100, then nothing
    let start = Instant::now();
    let mut slow: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut c = connect(port);
            c.write_all(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
                .unwrap();
            c.write_all(&[b'b'; 1100]).unwrap();
            c
        })
        .collect();
    thread::sleep(Duration::from_millis(200));

    // the workers are free: a fresh client is answered at once
    let asked = Instant::now();
    let mut fresh = connect(port);
    fresh
        .write_all(b"GET /fresh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut fresh).1, "ok");
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "{:?}",
        asked.elapsed()
    );

    // the slow bodies count like slow heads: 408 and closed at the head deadline
    for c in &mut slow {
        let answer = read_to_close(c);
        assert!(answer.starts_with("HTTP/1.1 408"), "{:?}", answer);
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_millis(2500),
        "{:?}",
        elapsed
    );
    assert_eq!(*seen.lock().unwrap(), vec!["/fresh".to_string()]);
}

#[test]
fn body_within_buffer_limit_arrives_complete() {
    let (server, port) = server(ConnectionLimits::default());
    let body = body_bytes(60_000);
    let mut c = connect(port);
    write!(
        c,
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    c.write_all(&body[..30_000]).unwrap();
    // not handed to the application before the whole body is in
    assert!(server
        .recv_timeout(Duration::from_millis(300))
        .unwrap()
        .is_none());
    c.write_all(&body[30_000..]).unwrap();
    let mut rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    assert_eq!(rq.body_length(), Some(body.len()));
    let mut got = Vec::new();
    rq.as_reader().read_to_end(&mut got).unwrap();
    assert!(got == body, "body differs ({} bytes)", got.len());
    rq.respond(Response::from_string(got.len().to_string()))
        .unwrap();
    assert_eq!(read_response(&mut c).1, "60000");

    // same connection, with `Expect: 100-continue`: the connection thread sends the
    // `100 Continue` and reads the body before handing the request out
    let body = body_bytes(2_000);
    write!(
        c,
        "PUT /again HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut interim = Vec::new();
    let mut byte = [0u8];
    while !interim.ends_with(b"\r\n\r\n") {
        assert_eq!(c.read(&mut byte).unwrap(), 1);
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue\r\n"),
        "{:?}",
        String::from_utf8_lossy(&interim)
    );
    assert!(server
        .recv_timeout(Duration::from_millis(300))
        .unwrap()
        .is_none());
    c.write_all(&body).unwrap();
    let mut rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    assert_eq!(rq.url(), "/again");
    let mut got = Vec::new();
    rq.as_reader().read_to_end(&mut got).unwrap();
    assert!(got == body, "body differs ({} bytes)", got.len());
    rq.respond(Response::from_string("again")).unwrap();
    assert_eq!(read_response(&mut c).1, "again");
}

#[test]
fn close_connection_ends_the_connection_after_the_response() {
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    // the application reads the first 16 bytes of the body, then refuses the request;
    // the bytes after them would be the next request if the connection went on
    let chunked = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}{}",
        16 + smuggled.len(),
        "A".repeat(16),
        smuggled
    );
    let declared = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{}{}",
        "A".repeat(16),
        smuggled
    );
    for request in [chunked, declared] {
        let (server, port) = server(ConnectionLimits::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (worker_server, worker_seen) = (server.clone(), seen.clone());
        let worker = thread::spawn(move || {
            let mut respond_times = Vec::new();
            for mut rq in worker_server.incoming_requests() {
                worker_seen.lock().unwrap().push(rq.url().to_string());
                let mut start = [0u8; 16];
                rq.as_reader().read_exact(&mut start).unwrap();
                rq.close_connection();
                let started = Instant::now();
                rq.respond(Response::from_string("too large").with_status_code(413))
                    .unwrap();
                respond_times.push(started.elapsed());
            }
            respond_times
        });

        let mut c = connect(port);
        c.write_all(request.as_bytes()).unwrap();
        let (head, body) = read_response_with_head(&mut c);
        assert!(head.starts_with("HTTP/1.1 413"), "{:?}", head);
        assert!(head.contains("\r\nConnection: close\r\n"), "{:?}", head);
        assert_eq!(body, "too large");
        // the client keeps its side open (and its body unfinished): the server ends the
        // connection anyway, right after the response
        let start = Instant::now();
        assert_eof(&mut c);
        assert!(start.elapsed() < Duration::from_millis(500));

        thread::sleep(Duration::from_millis(200));
        assert_eq!(*seen.lock().unwrap(), vec!["/upload".to_string()]);
        server.unblock();
        let respond_times = worker.join().unwrap();
        // and the worker did not wait for the rest of the body
        assert!(
            respond_times[0] < Duration::from_millis(200),
            "{:?}",
            respond_times
        );
    }
}

#[test]
fn unread_body_is_drained_by_the_connection_not_the_worker() {
    let (server, port) = server(ConnectionLimits {
        keep_alive_timeout: Some(Duration::from_secs(3)),
        ..Default::default()
    });
    let mut c = connect(port);
    c.write_all(b"POST /refused HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789")
        .unwrap();
    let rq = server.recv().unwrap();
    assert_eq!(rq.url(), "/refused");
    // answered without reading the body: respond() returns at once (upstream drained the
    // rest of the body here, in the application's thread)
    let start = Instant::now();
    rq.respond(Response::from_string("refused").with_status_code(413))
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(read_response(&mut c).1, "refused");

    // the connection thread drains the rest (within the keep-alive deadline), and the
    // connection goes on with the next request
    c.write_all(&[b'z'; 100_000 - 10]).unwrap();
    c.write_all(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    assert_eq!(rq.url(), "/next");
    rq.respond(Response::from_string("next")).unwrap();
    assert_eq!(read_response(&mut c).1, "next");
}

#[test]
fn large_unread_body_closes_the_connection() {
    let (server, port) = server(ConnectionLimits::default());
    let mut c = connect(port);
    c.write_all(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n0123456789")
        .unwrap();
    let rq = server.recv().unwrap();
    let start = Instant::now();
    rq.respond(Response::from_string("refused").with_status_code(413))
        .unwrap();
    assert!(start.elapsed() < Duration::from_millis(200));
    assert_eq!(read_response(&mut c).1, "refused");
    // too much left to drain: the connection is closed after the response
    assert_eof(&mut c);
}

#[test]
fn unfinished_chunked_body_closes_the_connection() {
    let (server, port) = server(ConnectionLimits::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (worker_server, worker_seen) = (server.clone(), seen.clone());
    thread::spawn(move || {
        for mut rq in worker_server.incoming_requests() {
            worker_seen.lock().unwrap().push(rq.url().to_string());
            // reads only a part of the body, without `close_connection()`
            let mut start = [0u8; 4];
            let _ = rq.as_reader().read_exact(&mut start);
            let _ = rq.respond(Response::from_string("partial"));
        }
    });
    let mut c = connect(port);
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    write!(
        c,
        "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\nAAAA{}",
        4 + smuggled.len(),
        smuggled
    )
    .unwrap();
    assert_eq!(read_response(&mut c).1, "partial");
    assert_eof(&mut c);
    thread::sleep(Duration::from_millis(200));
    assert_eq!(*seen.lock().unwrap(), vec!["/upload".to_string()]);
}

#[test]
fn refused_expect_continue_request_closes_the_connection() {
    let (server, port) = server(ConnectionLimits::default());
    let mut c = connect(port);
    // above `max_buffered_body`: handed out unread, `100 Continue` left to `as_reader()`
    c.write_all(
        b"PUT /big HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n",
    )
    .unwrap();
    let rq = server.recv().unwrap();
    let start = Instant::now();
    rq.respond(Response::from_string("refused").with_status_code(413))
        .unwrap();
    assert!(start.elapsed() < Duration::from_millis(200));
    // the client never sent its body and may or may not send it now: the connection
    // cannot carry another request
    let (head, body) = read_response_with_head(&mut c);
    assert!(head.starts_with("HTTP/1.1 413"), "{:?}", head);
    assert!(head.contains("\r\nConnection: close\r\n"), "{:?}", head);
    assert_eq!(body, "refused");
    assert_eof(&mut c);
}

#[test]
fn unsupported_http_version_is_answered_and_frees_the_connection() {
    let (server, port) = server(ConnectionLimits {
        max_connections: 1,
        ..Default::default()
    });
    echo_worker(&server);
    for _ in 0..2 {
        let mut c = connect(port);
        c.write_all(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n").unwrap();
        let answer = read_to_close(&mut c);
        assert!(answer.starts_with("HTTP/1.1 505"), "{:?}", answer);
    }
    let mut c = connect(port);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut c).1, "ok");
}

#[test]
fn server_drop_with_a_request_in_flight() {
    let (server, port) = server(ConnectionLimits::default());
    let mut idle = connect(port);
    let mut busy = connect(port);
    busy.write_all(b"GET /last HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut rq = server.recv().unwrap();
    drop(server);
    // waiting connections are closed at once, the busy one after its response
    assert_eof(&mut idle);
    rq.close_connection();
    rq.respond(Response::from_string("bye")).unwrap();
    let (head, body) = read_response_with_head(&mut busy);
    assert!(head.contains("\r\nConnection: close\r\n"), "{:?}", head);
    assert_eq!(body, "bye");
    assert_eof(&mut busy);
}

// ---- strict message framing (see PATCHES.md) ----

/// Framing headers whose body length is not one number (RFC 9112, 6.3): each must be
/// answered with `400` and end the connection, before the application sees anything.
const AMBIGUOUS_FRAMING: &[&str] = &[
    "Content-Length: 5x",
    "Content-Length: 5\r\nContent-Length: 40",
    "Content-Length: 0, 40",
    "Content-Length: 18446744073709551616", // u64::MAX + 1
    "Content-Length: 99999999999999999999999999",
    "Content-Length: +5",
    "Content-Length: -1",
    "Content-Length:",
    "Content-Length: 5,",
    "Content-Length: 0x5",
    "Content-Length: 5 5",
    "Transfer-Encoding: chunked\r\nContent-Length: 5",
    "Content-Length: 0\r\nTransfer-Encoding: chunked",
    "Transfer-Encoding: gzip",
    "Transfer-Encoding: chunked, gzip",
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity",
    "Transfer-Encoding:",
];

#[test]
fn ambiguous_body_length_is_refused_and_ends_the_connection() {
    let (server, port) = server(ConnectionLimits::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    recording_echo_worker(&server, &seen);
    // what follows the head is a complete request for a server that takes the body to
    // be empty (or, with `Transfer-Encoding`, that reads it as chunked)
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    for framing in AMBIGUOUS_FRAMING {
        let end_of_chunks = if framing.contains("Transfer-Encoding") {
            "0\r\n\r\n"
        } else {
            ""
        };
        let mut c = connect(port);
        write!(
            c,
            "POST /upload HTTP/1.1\r\nHost: x\r\n{}\r\n\r\n{}{}",
            framing, end_of_chunks, smuggled
        )
        .unwrap();
        let (head, body) = read_response_with_head(&mut c);
        assert!(
            head.starts_with("HTTP/1.1 400"),
            "{:?}: {:?}",
            framing,
            head
        );
        assert!(
            head.contains("\r\nConnection: close\r\n"),
            "{:?}: {:?}",
            framing,
            head
        );
        assert_eq!(body, "", "{:?}", framing);
        // the client keeps its side open: the server closes anyway, and answers nothing else
        assert_eof(&mut c);
    }
    thread::sleep(Duration::from_millis(100));
    assert_eq!(*seen.lock().unwrap(), Vec::<String>::new());
}

#[test]
fn repeated_identical_content_lengths_count_as_one() {
    let (server, port) = server(ConnectionLimits::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    recording_echo_worker(&server, &seen);
    for framing in [
        "Content-Length: 5, 5",
        "Content-Length: 5\r\nContent-Length: 5",
        "Content-Length: 005",
        "Content-Length:5",
    ] {
        let mut c = connect(port);
        write!(
            c,
            "POST /upload HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\nhello"
        )
        .unwrap();
        write!(c, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let (status, body) = read_response(&mut c);
        assert_eq!(
            (status.as_str(), body.as_str()),
            ("HTTP/1.1 200 OK", "hello"),
            "{:?}",
            framing
        );
        assert_eq!(read_response(&mut c).1, "ok", "{:?}", framing);
    }
    assert_eq!(seen.lock().unwrap().len(), 8);
}

/// PATCH (handler on the connection's thread): requests go to the handler, each on the thread
/// of the connection that read it (the same thread for every request of a connection),
/// never through `recv()`.
#[test]
fn handler_answers_on_the_connection_thread() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let threads = Arc::new(Mutex::new(Vec::new()));
    let seen = threads.clone();
    let handler: tiny_http::Handler = Arc::new(move |mut rq: tiny_http::Request| {
        seen.lock().unwrap().push(thread::current().id());
        let mut body = String::new();
        let _ = rq.as_reader().read_to_string(&mut body);
        let _ = rq.respond(Response::from_string(format!("got {body}")));
    });
    let server =
        Server::from_listener_with_handler(listener, None, ConnectionLimits::default(), handler)
            .unwrap();
    let mut streams = [connect(port), connect(port)];
    for n in [0, 1, 0, 1] {
        let stream = &mut streams[n];
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
            .unwrap();
        assert_eq!(read_response(stream).1, "got hi");
    }
    let threads = threads.lock().unwrap().clone();
    assert_eq!(threads[0], threads[2], "one connection, one thread");
    assert_eq!(threads[1], threads[3], "one connection, one thread");
    assert_ne!(threads[0], threads[1], "two connections, two threads");
    assert!(server.try_recv().unwrap().is_none(), "nothing for recv()");
}

/// PATCH (handler on the connection's thread): `shut_down` closes idle connections, lets
/// the request in flight finish, and returns once it has.
#[test]
fn shut_down_waits_for_the_request_in_flight() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let finished = Arc::new(Mutex::new(false));
    let done = finished.clone();
    let handler: tiny_http::Handler = Arc::new(move |rq: tiny_http::Request| {
        if rq.url() == "/slow" {
            thread::sleep(Duration::from_millis(500));
        }
        let _ = rq.respond(Response::from_string("ok"));
        *done.lock().unwrap() = true;
    });
    let server =
        Server::from_listener_with_handler(listener, None, ConnectionLimits::default(), handler)
            .unwrap();
    let mut idle = connect(port);
    idle.write_all(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut idle).1, "ok");
    *finished.lock().unwrap() = false;
    let in_flight = thread::spawn(move || {
        let mut stream = connect(port);
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let answer = read_response(&mut stream);
        (answer, read_to_close(&mut stream))
    });
    thread::sleep(Duration::from_millis(150));
    assert!(server.shut_down(Duration::from_secs(10)));
    assert!(
        *finished.lock().unwrap(),
        "returned before the request was answered"
    );
    assert_eq!(
        read_to_close(&mut idle),
        "",
        "the idle connection is closed"
    );
    let ((status, body), rest) = in_flight.join().unwrap();
    assert!(status.contains("200"), "{}", status);
    assert_eq!(
        (body.as_str(), rest.as_str()),
        ("ok", ""),
        "answered, then closed"
    );
}
