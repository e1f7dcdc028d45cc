//! Tiny demo server for the connection-limits patch (see PATCHES.md): binds
//! 127.0.0.1:PORT, answers every request with `200 ok` from a few worker threads, and
//! exits by itself after `--seconds`. Meant to be flooded with hostr's
//! `examples/conn_flood.rs`.
//!
//! ```text
//! cargo run --release --example limits_demo -- [--port 8099] [--workers 4]
//!     [--seconds 120] [--max-connections N] [--unlimited] [--defer-accept SECS]
//! ```
//!
//! `--unlimited` uses `ConnectionLimits::unlimited()` (no cap, no timeouts: close to
//! upstream tiny_http 0.12). `--defer-accept SECS` sets TCP_DEFER_ACCEPT (Linux) on the
//! listening socket.

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tiny_http::{ConnectionLimits, Response, Server};

fn main() {
    let mut port: u16 = 8099;
    let mut workers: usize = 4;
    let mut seconds: u64 = 120;
    let mut limits = ConnectionLimits::default();
    let mut defer_accept: Option<i32> = None;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = |i: usize| -> &str {
            args.get(i + 1)
                .unwrap_or_else(|| panic!("missing value after {}", args[i]))
        };
        match args[i].as_str() {
            "--port" => port = value(i).parse().expect("--port"),
            "--workers" => workers = value(i).parse().expect("--workers"),
            "--seconds" => seconds = value(i).parse().expect("--seconds"),
            "--max-connections" => {
                limits.max_connections = value(i).parse().expect("--max-connections")
            }
            "--defer-accept" => defer_accept = Some(value(i).parse().expect("--defer-accept")),
            "--unlimited" => {
                limits = ConnectionLimits::unlimited();
                i += 1;
                continue;
            }
            other => panic!("unknown argument {}", other),
        }
        i += 2;
    }

    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    if let Some(secs) = defer_accept {
        set_defer_accept(&listener, secs);
    }
    eprintln!(
        "limits_demo: pid {} listening on {} with {:?}, defer_accept {:?}",
        std::process::id(),
        listener.local_addr().unwrap(),
        limits,
        defer_accept
    );
    let server =
        Arc::new(Server::from_listener_with_limits(listener, None, limits).expect("server"));

    for _ in 0..workers {
        let server = server.clone();
        thread::spawn(move || loop {
            match server.recv_timeout(Duration::from_millis(500)) {
                Ok(Some(rq)) => {
                    let _ = rq.respond(Response::from_string("ok"));
                }
                Ok(None) => {}
                Err(e) => eprintln!("recv error: {}", e),
            }
        });
    }

    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        thread::sleep(Duration::from_secs(5));
        eprintln!("limits_demo: {} connections", server.num_connections());
    }
}

#[cfg(target_os = "linux")]
fn set_defer_accept(listener: &TcpListener, secs: i32) {
    use std::os::unix::io::AsRawFd;
    // The kernel hands a connection to accept() only once data has arrived on it (or
    // after about `secs` seconds), so idle connections never reach the server's threads.
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            &secs as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt(TCP_DEFER_ACCEPT): {}",
        std::io::Error::last_os_error()
    );
}

#[cfg(not(target_os = "linux"))]
fn set_defer_accept(_listener: &TcpListener, _secs: i32) {
    eprintln!("TCP_DEFER_ACCEPT is Linux-only; ignored");
}
