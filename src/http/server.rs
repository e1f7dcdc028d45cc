//! The server shell: the listening socket, a fixed number of worker slots,
//! and what every request goes through (limits, panic safety, access log).
//!
//! Connections are accepted by tiny_http (patched: see
//! vendor/tiny_http/PATCHES.md) with a cap on open connections and a
//! deadline for each request head, so idle or slow clients cannot exhaust
//! threads or memory. Each connection's thread reads a complete request
//! (head and body) and then handles it itself, once it holds one of the
//! `workers` slots: at most that many requests are handled at once, and a
//! request never changes threads (a hand-off to a pool and back cost two
//! thread wake-ups per request). Waiting for a slot, a connection counts as
//! busy, as it did while its request waited in a pool's queue.

use super::error::HttpError;
use super::request::Request;
use super::response::Response;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Turns a request into a response; must not block for long.
pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// How the server treats connections and requests.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Requests handled at once (worker slots).
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
    server: tiny_http::Server,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops gracefully: the socket closes and idle connections end at once;
    /// requests already received are answered (with their connections
    /// closed after the response) for up to `DRAIN_LIMIT`.
    pub fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        if !self.server.shut_down(DRAIN_LIMIT) {
            log::warn!("stopped with requests still in progress after {} s", DRAIN_LIMIT.as_secs());
        }
    }
}

/// The worker slots: a request is handled only by a thread holding one.
struct Slots {
    state: Mutex<SlotCount>,
    freed: Condvar,
}

struct SlotCount {
    free: usize,
    waiting: usize,
}

impl Slots {
    fn new(count: usize) -> Slots {
        Slots { state: Mutex::new(SlotCount { free: count.max(1), waiting: 0 }), freed: Condvar::new() }
    }

    /// Waits for a free slot and holds it until the returned guard is dropped.
    fn take(&self) -> SlotGuard<'_> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.free == 0 {
            state.waiting += 1;
            state = self.freed.wait(state).unwrap_or_else(PoisonError::into_inner);
            state.waiting -= 1;
        }
        state.free -= 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a Slots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.free += 1;
        // A notification is a system call even when nobody waits.
        let anyone = state.waiting > 0;
        drop(state);
        if anyone {
            self.0.freed.notify_one();
        }
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
    let stopping = Arc::new(AtomicBool::new(false));
    let slots = Slots::new(settings.workers);
    let shell = Shell { handler, max_body: settings.max_body, security: security_headers(settings) };
    let stop_flag = stopping.clone();
    let on_connection_thread: tiny_http::Handler = Arc::new(move |raw| {
        let _slot = slots.take();
        shell.handle(raw, stop_flag.load(Ordering::SeqCst));
    });
    let server = tiny_http::Server::from_listener_with_handler(listener, None, limits, on_connection_thread)
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(RunningServer { addr, stopping, server })
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

/// The security headers every response carries, rendered once.
fn security_headers(settings: &ServerSettings) -> Arc<[u8]> {
    let security = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Content-Security-Policy", settings.content_security_policy.as_str()),
    ];
    let mut lines = Vec::new();
    for (name, value) in security {
        push_header_line(&mut lines, name, value);
    }
    lines.into()
}

/// Appends `name: value\r\n` to a response head, unless the value is empty;
/// a value that would break the head (a control character such as CR or
/// LF, or anything but visible ASCII and spaces) is dropped and logged.
fn push_header_line(head: &mut Vec<u8>, name: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    // The server frames and dates every response itself.
    let framing = ["Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "Trailer", "Date", "Server"];
    let malformed = !value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
    if malformed || framing.iter().any(|f| f.eq_ignore_ascii_case(name)) {
        log::error!("dropping response header {name}: malformed, or one the server sets");
        return;
    }
    for part in [name, ": ", value, "\r\n"] {
        head.extend_from_slice(part.as_bytes());
    }
}

/// What every request goes through, around the handler.
struct Shell {
    handler: Handler,
    max_body: usize,
    /// Header lines of every response.
    security: Arc<[u8]>,
}

impl Shell {
    fn handle(&self, mut raw: tiny_http::Request, stopping: bool) {
        let started = Instant::now();
        let response = match Request::read(&mut raw, self.max_body) {
            Ok(request) => catch_unwind(AssertUnwindSafe(|| (self.handler)(&request))).unwrap_or_else(|_| {
                let (method, path) = (&request.method, &request.path);
                Response::error(&HttpError::internal(&format!("handler panicked on {method} {path}")))
            }),
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
            "{} \"{} {}\" {} {} {}ms",
            Remote(raw.remote_addr().map(SocketAddr::ip)),
            raw.method().as_str().escape_debug(),
            raw.url().split('?').next().unwrap_or("").escape_debug(),
            response.status,
            response.body.len(),
            started.elapsed().as_millis()
        );
        let mut own = Vec::with_capacity(256);
        for (name, value) in &response.headers {
            push_header_line(&mut own, name, value);
        }
        let reply = tiny_http::Response::from_data(response.body)
            .with_status_code(response.status)
            .with_header_lines(Some(self.security.clone()), own);
        if let Err(e) = raw.respond(reply) {
            log::debug!("client went away before the response was sent: {e}");
        }
    }
}

/// The client's address in the access log, `-` when there is none.
struct Remote(Option<std::net::IpAddr>);

impl std::fmt::Display for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::push_header_line;

    #[test]
    fn header_lines_refuse_what_would_break_or_reframe_the_response() {
        let cases: [(&str, &str, &str); 7] = [
            ("Cache-Control", "no-store", "Cache-Control: no-store\r\n"),
            ("ETag", "\"a b\"\t", "ETag: \"a b\"\t\r\n"),
            ("Set-Cookie", "", ""),
            ("Set-Cookie", "a=b\r\nLocation: /evil", ""),
            ("Content-Disposition", "attachment; filename=\"é.csv\"", ""),
            ("content-length", "0", ""),
            ("Connection", "close", ""),
        ];
        for (name, value, expected) in cases {
            let mut head = Vec::new();
            push_header_line(&mut head, name, value);
            assert_eq!(String::from_utf8(head).unwrap(), expected, "{name}: {value:?}");
        }
    }
}
