//! Tests of the connection-limits patch (see PATCHES.md).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
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
    (
        head.lines().next().unwrap().to_string(),
        String::from_utf8(body).unwrap(),
    )
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
    // a larger body (read through `as_reader()` in the worker; the response stays below
    // tiny_http's chunked-encoding threshold)
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
