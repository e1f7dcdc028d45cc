//! The server shell: the listening socket, a fixed pool of workers, and
//! what every request goes through (limits, panic safety, access log).
//!
//! Connections are accepted by tiny_http (patched: see
//! vendor/tiny_http/PATCHES.md) with a cap on open connections and a
//! deadline for each request head, so idle or slow clients cannot exhaust
//! threads or memory. Requests are then handled by a fixed number of
//! worker threads.

use super::error::HttpError;
use super::request::Request;
use super::response::Response;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Turns a request into a response; must not block for long.
pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// How the server treats connections and requests.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub workers: usize,
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub max_body: usize,
    /// Sent as `Content-Security-Policy` on every response, beside the other
    /// security headers; empty sends none.
    pub content_security_policy: String,
}

/// How long a stopping server keeps draining requests already received.
const DRAIN_LIMIT: Duration = Duration::from_secs(20);

pub struct RunningServer {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    server: Arc<tiny_http::Server>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops gracefully: requests already received are answered (with
    /// their connections closed after the response), then the workers end
    /// and the socket closes.
    pub fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        for worker in self.workers {
            let _ = worker.join();
        }
        drop(self.server);
    }
}

/// Binds `addr` and starts serving with `handler`.
pub fn start(addr: SocketAddr, settings: &ServerSettings, handler: Handler) -> io::Result<RunningServer> {
    raise_open_file_limit();
    let listener = TcpListener::bind(addr)?;
    tune_listener(&listener);
    let addr = listener.local_addr()?;
    let limits = tiny_http::ConnectionLimits {
        max_connections: settings.max_connections,
        head_timeout: Some(settings.header_timeout),
        // Whole bodies arrive before a worker sees the request, under the
        // head deadline: a slow body costs an evictable connection, not a worker.
        max_buffered_body: settings.max_body,
        ..tiny_http::ConnectionLimits::default()
    };
    let server = tiny_http::Server::from_listener_with_limits(listener, None, limits)
        .map_err(|e| io::Error::other(e.to_string()))?;
    let server = Arc::new(server);
    let stopping = Arc::new(AtomicBool::new(false));
    let workers = (0..settings.workers)
        .map(|n| {
            let (server, stopping, handler) = (server.clone(), stopping.clone(), handler.clone());
            let (max_body, policy) = (settings.max_body, settings.content_security_policy.clone());
            std::thread::Builder::new()
                .name(format!("worker-{n}"))
                .spawn(move || work(&server, &stopping, &handler, max_body, &policy))
        })
        .collect::<io::Result<Vec<_>>>()?;
    Ok(RunningServer { addr, stopping, workers, server })
}

/// Each connection costs a few file descriptors; the common soft limit of
/// 1,024 would cap the server below `max_connections`, so take the hard limit.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit with a pointer to a live rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                log::warn!("cannot raise the open-file limit: {}", io::Error::last_os_error());
            }
        }
    }
}

/// Two kernel settings for the listening socket:
/// - an accept queue of 1,024 instead of std's 128, so that in a connection
///   flood a fresh client's attempt is queued rather than dropped and retried
///   a second later (a much longer queue only makes it wait behind more
///   attackers; measured with examples/conn_flood.rs);
/// - `TCP_DEFER_ACCEPT`: a connection is not handed over before its first
///   bytes arrive, so clients that connect and send nothing cost no thread;
/// - `TCP_NODELAY`, see below.
fn tune_listener(listener: &TcpListener) {
    let fd = listener.as_raw_fd();
    let defer_seconds: libc::c_int = 5;
    let on: libc::c_int = 1;
    // SAFETY: listen and setsockopt on a socket this function borrows, with a
    // pointer to a live c_int and its exact size.
    let (listened, deferred, no_delay) = unsafe {
        (
            libc::listen(fd, 1024),
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                (&defer_seconds as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ),
            // Inherited by accepted connections: tiny_http writes a response's
            // head and body separately, and Nagle's algorithm would hold the
            // body back until the client's delayed ACK, some 40 ms.
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ),
        )
    };
    if listened != 0 || deferred != 0 || no_delay != 0 {
        log::warn!("cannot tune the listening socket: {}", io::Error::last_os_error());
    }
}

fn work(server: &tiny_http::Server, stopping: &AtomicBool, handler: &Handler, max_body: usize, policy: &str) {
    let mut drain_deadline: Option<Instant> = None;
    loop {
        let stop = stopping.load(Ordering::SeqCst);
        if stop && *drain_deadline.get_or_insert_with(|| Instant::now() + DRAIN_LIMIT) < Instant::now() {
            return;
        }
        match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(raw)) => handle(raw, handler, max_body, policy, stop),
            Ok(None) if stop => return,
            Ok(None) => {}
            Err(e) => {
                log::error!("receiving a request failed: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn handle(mut raw: tiny_http::Request, handler: &Handler, max_body: usize, policy: &str, stopping: bool) {
    let started = Instant::now();
    let (method, path) = (raw.method().to_string(), raw.url().split('?').next().unwrap_or("").to_owned());
    let remote = raw.remote_addr().map_or_else(|| "-".to_owned(), |a| a.ip().to_string());
    let response = match Request::read(&mut raw, max_body) {
        Ok(request) => catch_unwind(AssertUnwindSafe(|| handler(&request)))
            .unwrap_or_else(|_| Response::error(&HttpError::internal(&format!("handler panicked on {method} {path}")))),
        Err(error) => {
            // Whatever of a refused request is still on the wire must never
            // be read as the next request.
            raw.close_connection();
            Response::error(&error)
        }
    };
    if stopping {
        raw.close_connection();
    }
    log::info!(
        "{remote} \"{} {}\" {} {} {}ms",
        method.escape_debug(),
        path.escape_debug(),
        response.status,
        response.body.len(),
        started.elapsed().as_millis()
    );
    let status = response.status;
    let mut reply = tiny_http::Response::from_data(response.body).with_status_code(status);
    let security = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Content-Security-Policy", policy),
    ];
    let headers = response.headers.iter().map(|(n, v)| (*n, v.as_str())).chain(security);
    for (name, value) in headers {
        if value.is_empty() {
            continue;
        }
        match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            Ok(header) => reply.add_header(header),
            Err(()) => log::error!("dropping malformed response header {name}"),
        }
    }
    if let Err(e) = raw.respond(reply) {
        log::debug!("client went away before the response was sent: {e}");
    }
}
