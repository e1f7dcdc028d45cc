//! Connection limits (local patch, not in upstream tiny_http 0.12; see PATCHES.md).
//!
//! Upstream tiny_http gives every accepted connection its own thread, sets no socket
//! timeouts, and keeps a connection (and its thread) for as long as the client holds it
//! open. A few thousand idle or slowly-sent ("slowloris") connections are then enough to
//! exhaust threads or file descriptors, after which the server stops answering.
//!
//! This module bounds that:
//!
//! * [`ConnectionLimits`] is the public configuration, passed to
//!   [`Server::from_listener_with_limits`](crate::Server::from_listener_with_limits).
//! * [`ConnControl`] is the per-connection state shared by the connection's thread, the
//!   read half of its socket and the accept thread. It enforces the request-head deadline
//!   (a total deadline, so dripping bytes does not extend it) and the per-read body timeout.
//! * [`Tracker`] counts live connections, knows which ones are waiting for a request head
//!   (and since when), and evicts the longest-waiting one when the cap is reached.
//! * (Request bodies) [`ConnControl`] also carries what the request being handled leaves
//!   for the connection thread to do after the response ([`AfterRequest`]): close the
//!   connection (`Request::close_connection()`), drain an unread body, or close because
//!   the end of the body is unknown. See `ClientConnection` and `ConnBody`.

use std::collections::{BTreeSet, HashMap};
use std::convert::TryFrom;
use std::io::{Error as IoError, ErrorKind, Result as IoResult};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::connection::Connection;

/// Limits applied to the connections accepted by a [`Server`](crate::Server).
///
/// `Server::http`, `Server::new`, `Server::from_listener` etc. use
/// [`ConnectionLimits::default()`]; use
/// [`Server::from_listener_with_limits`](crate::Server::from_listener_with_limits) to choose
/// other values. A timeout of `None` (or zero) disables that timeout.
///
/// ```
/// use std::time::Duration;
/// let limits = tiny_http::ConnectionLimits {
///     max_connections: 256,
///     head_timeout: Some(Duration::from_secs(5)),
///     ..Default::default()
/// };
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Maximum number of client connections open at once (each one uses a thread and
    /// three file descriptors). When the cap is reached and another client is waiting to
    /// be accepted, the connection that has waited longest for a request head is closed to
    /// make room; a connection whose request is being handled is never closed this way.
    /// If every connection is busy, the server stops accepting until one ends (clients
    /// then wait in the kernel's listen backlog). Values below 1 are treated as 1.
    pub max_connections: usize,

    /// Time allowed for the complete head (request line and headers) of the *first*
    /// request on a connection, counted from when the connection was accepted. This is a
    /// total deadline: receiving bytes does not extend it. On expiry the connection is
    /// closed (with `408 Request Timeout` if part of a head had arrived).
    pub head_timeout: Option<Duration>,

    /// Time a keep-alive connection may stay idle after a response, counted from when the
    /// previous response was finished until the complete head of the next request has
    /// arrived (again a total deadline).
    pub keep_alive_timeout: Option<Duration>,

    /// Timeout of each single read of a request body (`Request::as_reader()`, also the
    /// socket read of an upgraded connection). Applies per read, not to the whole body.
    pub body_read_timeout: Option<Duration>,

    /// Timeout of each single write to the socket (responses).
    pub write_timeout: Option<Duration>,

    /// Maximum size in bytes of a request head (request line plus headers). A larger
    /// head is answered with `431 Request Header Fields Too Large` and the connection is
    /// closed.
    pub max_head_bytes: usize,

    /// Largest request body (by its declared `Content-Length`) that is read completely
    /// by the connection's own thread, before the request is handed to the application,
    /// under the same total deadline as the request head (`head_timeout` /
    /// `keep_alive_timeout`): a slowly sent body then costs no application thread, and
    /// the connection can still be evicted while it arrives. `Request::as_reader()` then
    /// reads from memory. Larger bodies, and bodies with `Transfer-Encoding: chunked`, are
    /// handed over unread and are read by the application (per-read
    /// `body_read_timeout` only). A request with `Expect: 100-continue` and a body within
    /// this limit gets its `100 Continue` from the connection thread before the body is
    /// read. Up to `max_connections` such bodies can be held in memory at once.
    pub max_buffered_body: usize,
}

impl Default for ConnectionLimits {
    /// `max_connections`: 1024, `head_timeout`: 10 s, `keep_alive_timeout`: 15 s,
    /// `body_read_timeout`: 30 s, `write_timeout`: 30 s, `max_head_bytes`: 64 KiB,
    /// `max_buffered_body`: 64 KiB.
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 1024,
            head_timeout: Some(Duration::from_secs(10)),
            keep_alive_timeout: Some(Duration::from_secs(15)),
            body_read_timeout: Some(Duration::from_secs(30)),
            write_timeout: Some(Duration::from_secs(30)),
            max_head_bytes: 64 * 1024,
            max_buffered_body: 64 * 1024,
        }
    }
}

impl ConnectionLimits {
    /// No limits at all, i.e. the behaviour of upstream tiny_http 0.12 (apart from the
    /// accept loop surviving errors). Only meant for comparisons and tests.
    #[doc(hidden)]
    pub fn unlimited() -> Self {
        ConnectionLimits {
            max_connections: usize::MAX,
            head_timeout: None,
            keep_alive_timeout: None,
            body_read_timeout: None,
            write_timeout: None,
            max_head_bytes: usize::MAX,
            // upstream read bodies of at most 1024 bytes before handing the request out
            max_buffered_body: 1024,
        }
    }
}

/// `Some(0)` means "no timeout" (the socket API rejects a zero timeout).
fn nonzero(d: Option<Duration>) -> Option<Duration> {
    d.filter(|d| !d.is_zero())
}

/// What the reads of a connection currently serve.
#[derive(Debug, Clone, Copy)]
enum ReadMode {
    /// Waiting for a request head: the whole head must arrive before `deadline`.
    /// `got_bytes` records whether anything arrived since the wait began.
    Head {
        deadline: Option<Instant>,
        got_bytes: bool,
    },
    /// A request is being handled: reads (of its body) only have the per-read timeout,
    /// which is set on the socket before the first read in this mode.
    /// PATCH (fewer system calls): `timeout_set` records whether that has happened; most
    /// requests never read the socket in this mode (their body, if any, was buffered with
    /// the head), and save the `setsockopt`.
    Body { timeout_set: bool },
}

/// PATCH (request bodies): a connection whose request left more than this many body bytes
/// unread is closed rather than drained (by the connection thread) for the next request.
pub(crate) const MAX_DRAIN_BYTES: usize = 256 * 1024;

/// PATCH (request bodies): when the server closes a connection on which the client may
/// still be sending (`Request::close_connection()`, or a request body left unread), it
/// first shuts down its sending side and then reads and discards what arrives, for at
/// most this long and this many bytes, before closing the socket. Closing a socket with
/// unread data makes the kernel send a reset, which can destroy the response before the
/// client has read it.
pub(crate) const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
pub(crate) const LINGER_MAX_BYTES: usize = 1024 * 1024;

/// PATCH (request bodies): what is left of the body of the request being handled, as
/// reported when the application drops its body reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum UnreadBody {
    /// Read to its end (or it had none, or it was read before the request was handed out).
    #[default]
    Nothing,
    /// This many bytes of a `Content-Length` body were not read.
    Bytes(usize),
    /// Where the body ends is unknown: a chunked body not read to its end, or a body
    /// whose reading failed. The connection cannot be used for another request.
    Unknown,
}

/// PATCH (request bodies): what the connection thread must do once the response to the
/// current request is done.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AfterRequest {
    /// The application asked for the connection to be closed after the response.
    pub(crate) close: bool,
    pub(crate) unread: UnreadBody,
}

/// What the reads of a connection serve, and the read timeout on its socket.
struct Reads {
    mode: ReadMode,
    /// PATCH (fewer system calls): the read timeout `before_read` last set on the socket
    /// (`None`: not known, or none), so that it is set again only when it changes.
    socket_timeout: Option<Duration>,
}

/// PATCH (fewer system calls): a head read's timeout is the time left until the head
/// deadline rounded down to a multiple of this, so that the reads of a keep-alive
/// connection (each with nearly the same time left) find it already set and need no
/// `setsockopt`. A read that times out early, before the deadline, is simply repeated.
const TIMEOUT_GRANULE: Duration = Duration::from_millis(250);

/// Per-connection control block, shared (through `Arc`) by the read half of the socket,
/// the connection's thread and the [`Tracker`].
pub(crate) struct ConnControl {
    /// A duplicate handle of the client socket: used to set timeouts and, by the accept
    /// thread, to shut the connection down when evicting it. Socket options and shutdown
    /// apply to the socket, not to the handle, so they affect the other handles as well.
    sock: Connection,
    reads: Mutex<Reads>,
    body_read_timeout: Option<Duration>,
    /// PATCH (request bodies): set by the current request (`Request::close_connection`,
    /// its body reader), taken by the connection thread once the response is done.
    after: Mutex<AfterRequest>,
}

impl ConnControl {
    /// Starts waiting for a request head, which must be complete within `timeout`.
    pub(crate) fn expect_head(&self, timeout: Option<Duration>) {
        let deadline = nonzero(timeout).map(|t| Instant::now() + t);
        let mut reads = self.reads.lock().unwrap();
        reads.mode = ReadMode::Head {
            deadline,
            got_bytes: false,
        };
        if deadline.is_none() {
            let _ = self.sock.set_read_timeout(None);
            reads.socket_timeout = None;
        }
    }

    /// A request head was received and the request is handed to the application: from
    /// now on reads are body reads with a per-read timeout only.
    pub(crate) fn expect_body(&self) {
        self.reads.lock().unwrap().mode = ReadMode::Body { timeout_set: false };
    }

    /// Called by the read half before each read of the socket.
    pub(crate) fn before_read(&self) -> IoResult<()> {
        let mut reads = self.reads.lock().unwrap();
        match reads.mode {
            ReadMode::Head {
                deadline: Some(deadline),
                got_bytes,
            } => {
                // Limit this read to the time left until the head deadline, so that a
                // client dripping one byte now and then cannot extend it.
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining < Duration::from_millis(1) {
                    return Err(head_timeout_error(got_bytes));
                }
                let granules = remaining.as_nanos() / TIMEOUT_GRANULE.as_nanos();
                let timeout = match u32::try_from(granules) {
                    Ok(0) | Err(_) => remaining,
                    Ok(granules) => TIMEOUT_GRANULE * granules,
                };
                if reads.socket_timeout != Some(timeout) {
                    reads.socket_timeout = None;
                    self.sock.set_read_timeout(Some(timeout))?;
                    reads.socket_timeout = Some(timeout);
                }
            }
            ReadMode::Body { timeout_set: false } => {
                reads.socket_timeout = None;
                self.sock.set_read_timeout(self.body_read_timeout)?;
                reads.mode = ReadMode::Body { timeout_set: true };
            }
            ReadMode::Head { deadline: None, .. } | ReadMode::Body { timeout_set: true } => {}
        }
        Ok(())
    }

    /// Called by the read half with the result of each read of the socket. `None`: the
    /// read timed out before the head deadline (see `TIMEOUT_GRANULE`), read again.
    pub(crate) fn after_read(&self, result: IoResult<usize>) -> Option<IoResult<usize>> {
        let mut reads = self.reads.lock().unwrap();
        Some(match (&mut reads.mode, result) {
            (ReadMode::Head { got_bytes, .. }, Ok(n)) => {
                *got_bytes |= n > 0;
                Ok(n)
            }
            // With a read timeout, a blocking socket reports `WouldBlock` (Unix) or
            // `TimedOut` (Windows) when it expires.
            (
                ReadMode::Head {
                    deadline,
                    got_bytes,
                },
                Err(e),
            ) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let early = deadline.is_some_and(|deadline| {
                    deadline.saturating_duration_since(Instant::now()) >= Duration::from_millis(1)
                });
                if early {
                    return None;
                }
                Err(head_timeout_error(*got_bytes))
            }
            (ReadMode::Body { .. }, Err(e)) if e.kind() == ErrorKind::WouldBlock => Err(
                IoError::new(ErrorKind::TimedOut, "timed out reading the request body"),
            ),
            (_, result) => result,
        })
    }

    fn shutdown(&self) {
        let _ = self.sock.shutdown(Shutdown::Both);
    }

    /// PATCH (request bodies): ends the sending side of the connection (the client sees
    /// the end of the stream after the last response), reads remain possible.
    pub(crate) fn shutdown_write(&self) {
        let _ = self.sock.shutdown(Shutdown::Write);
    }

    /// PATCH (request bodies): `Request::close_connection()` was called.
    pub(crate) fn request_close(&self) {
        self.after.lock().unwrap().close = true;
    }

    /// PATCH (request bodies): the application dropped the body reader of the current
    /// request before its end.
    pub(crate) fn set_unread_body(&self, unread: UnreadBody) {
        self.after.lock().unwrap().unread = unread;
    }

    /// PATCH (request bodies): what the request just answered left behind; resets it for
    /// the next request.
    pub(crate) fn take_after_request(&self) -> AfterRequest {
        std::mem::take(&mut *self.after.lock().unwrap())
    }
}

/// The error returned when the head deadline passed. `TimedOut` makes `ClientConnection`
/// answer `408 Request Timeout` before closing; when nothing at all was received (an idle
/// connection) another kind is used so that the connection is closed silently, as
/// clients do not expect a response on an idle keep-alive connection.
fn head_timeout_error(got_bytes: bool) -> IoError {
    if got_bytes {
        IoError::new(ErrorKind::TimedOut, "request head not received in time")
    } else {
        IoError::new(ErrorKind::ConnectionAborted, "idle connection timed out")
    }
}

/// Book-keeping of the live connections of one server, shared by the accept thread and
/// the connection threads.
pub(crate) struct Tracker {
    limits: ConnectionLimits,
    state: Mutex<TrackerState>,
    /// Notified when a connection ends or starts waiting for a head (becomes evictable).
    changed: Condvar,
}

struct TrackerState {
    next_id: u64,
    conns: HashMap<u64, Entry>,
    /// Connections waiting for a request head, oldest first: the eviction candidates.
    waiting: BTreeSet<(Instant, u64)>,
    /// Connections shut down by an eviction whose thread has not finished yet.
    evicting: usize,
    /// Set once the server is closing: connections that become idle are closed.
    closing: bool,
    /// PATCH (fewer system calls): threads waiting on `Tracker::changed`; it is notified
    /// only when there are some (a notification is a system call even when nobody waits).
    waiters: usize,
}

struct Entry {
    ctl: Arc<ConnControl>,
    /// `Some(since)` while waiting for a request head (then also in `waiting`).
    waiting_since: Option<Instant>,
    evicted: bool,
}

impl TrackerState {
    /// Shuts down the connection that has waited longest for a request head.
    fn evict_oldest(&mut self) -> bool {
        let Some((_, id)) = self.waiting.pop_first() else {
            return false;
        };
        let entry = self
            .conns
            .get_mut(&id)
            .expect("waiting connection is registered");
        entry.waiting_since = None;
        entry.evicted = true;
        entry.ctl.shutdown();
        self.evicting += 1;
        true
    }
}

impl Tracker {
    pub(crate) fn new(mut limits: ConnectionLimits) -> Arc<Tracker> {
        limits.max_connections = limits.max_connections.max(1);
        limits.head_timeout = nonzero(limits.head_timeout);
        limits.keep_alive_timeout = nonzero(limits.keep_alive_timeout);
        limits.body_read_timeout = nonzero(limits.body_read_timeout);
        limits.write_timeout = nonzero(limits.write_timeout);
        Arc::new(Tracker {
            limits,
            state: Mutex::new(TrackerState {
                next_id: 0,
                conns: HashMap::new(),
                waiting: BTreeSet::new(),
                evicting: 0,
                closing: false,
                waiters: 0,
            }),
            changed: Condvar::new(),
        })
    }

    pub(crate) fn num_connections(&self) -> usize {
        self.state.lock().unwrap().conns.len()
    }

    /// Called by the accept thread with a freshly accepted connection in hand: returns
    /// once there is room for one more connection, evicting the connection that has
    /// waited longest for a request head if the cap is reached. Returns `false` if `close`
    /// was set meanwhile.
    pub(crate) fn wait_for_room(&self, close: &AtomicBool) -> bool {
        let mut state = self.state.lock().unwrap();
        loop {
            if close.load(Ordering::Relaxed) {
                return false;
            }
            if state.conns.len() < self.limits.max_connections {
                return true;
            }
            // At the cap. Evict one connection unless an eviction is already under way
            // (its thread will end in a moment); otherwise wait until a connection ends
            // or becomes evictable. The timeout only serves to notice `close`.
            if state.conns.len() - state.evicting >= self.limits.max_connections
                && state.evict_oldest()
            {
                log::debug!("connection cap reached: evicted the longest-waiting connection");
                continue;
            }
            state = self.wait_changed(state, Duration::from_millis(200));
        }
    }

    /// Waits for a notification of `changed`, at most `timeout`.
    fn wait_changed<'a>(
        &self,
        mut state: MutexGuard<'a, TrackerState>,
        timeout: Duration,
    ) -> MutexGuard<'a, TrackerState> {
        state.waiters += 1;
        let mut state = self.changed.wait_timeout(state, timeout).unwrap().0;
        state.waiters -= 1;
        state
    }

    /// Notifies `changed` (after the state lock is released) if anyone waits.
    fn notify_changed(&self, state: MutexGuard<'_, TrackerState>) {
        let anyone = state.waiters > 0;
        drop(state);
        if anyone {
            self.changed.notify_all();
        }
    }

    /// PATCH (handler on the connection's thread): waits until no connection is left
    /// (after the server was closed), or until `deadline`. Returns whether none is left.
    pub(crate) fn wait_for_no_connections(&self, deadline: Instant) -> bool {
        let mut state = self.state.lock().unwrap();
        loop {
            if state.conns.is_empty() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self.wait_changed(state, left.min(Duration::from_millis(200)));
        }
    }

    /// Called by the accept thread when the process is out of file descriptors: closes
    /// the connection that has waited longest for a request head, to free some.
    pub(crate) fn evict_for_fds(&self) -> bool {
        let mut state = self.state.lock().unwrap();
        // Do not pile up evictions faster than the connection threads can finish.
        state.evicting == 0 && state.evict_oldest()
    }

    /// Registers a newly accepted connection, which starts waiting for its first head.
    /// Applies the write timeout and the first head deadline. `sock` must be a handle of
    /// the connection's socket that is used by nothing else.
    pub(crate) fn register(self: &Arc<Self>, sock: Connection) -> Slot {
        let _ = sock.set_write_timeout(self.limits.write_timeout);
        let ctl = Arc::new(ConnControl {
            sock,
            reads: Mutex::new(Reads {
                mode: ReadMode::Body { timeout_set: false },
                socket_timeout: None,
            }),
            body_read_timeout: self.limits.body_read_timeout,
            after: Mutex::new(AfterRequest::default()),
        });
        // Also bounds the TLS handshake (per read), which happens before the first head.
        let _ = ctl.sock.set_read_timeout(self.limits.head_timeout);
        ctl.expect_head(self.limits.head_timeout);

        let now = Instant::now();
        let mut state = self.state.lock().unwrap();
        let id = state.next_id;
        state.next_id += 1;
        state.conns.insert(
            id,
            Entry {
                ctl: ctl.clone(),
                waiting_since: Some(now),
                evicted: false,
            },
        );
        state.waiting.insert((now, id));
        Slot {
            tracker: self.clone(),
            id,
            ctl,
        }
    }

    /// Called when the server closes: shuts down every connection waiting for a head;
    /// the others are closed once their current request has been answered.
    pub(crate) fn close_idle(&self) {
        let mut state = self.state.lock().unwrap();
        state.closing = true;
        while state.evict_oldest() {}
    }
}

/// A live connection's registration with the [`Tracker`]; dropping it (when the
/// connection's thread is done with the connection) frees its place.
pub(crate) struct Slot {
    tracker: Arc<Tracker>,
    id: u64,
    ctl: Arc<ConnControl>,
}

impl Slot {
    pub(crate) fn control(&self) -> Arc<ConnControl> {
        self.ctl.clone()
    }

    pub(crate) fn max_head_bytes(&self) -> usize {
        self.tracker.limits.max_head_bytes
    }

    /// PATCH (request bodies): see `ConnectionLimits::max_buffered_body`.
    pub(crate) fn max_buffered_body(&self) -> usize {
        self.tracker.limits.max_buffered_body
    }

    /// The request head has been received and the request is about to be handed to the
    /// application: the connection is busy and may not be evicted any more. Returns
    /// `false` if it was evicted just before (its socket is already shut down).
    pub(crate) fn begin_request(&self) -> bool {
        {
            let mut state = self.tracker.state.lock().unwrap();
            let entry = state.conns.get_mut(&self.id).expect("slot is registered");
            if entry.evicted {
                return false;
            }
            if let Some(since) = entry.waiting_since.take() {
                state.waiting.remove(&(since, self.id));
            }
        }
        self.ctl.expect_body();
        true
    }

    /// The response to the current request has been written: the connection waits for
    /// the next request head (keep-alive) and becomes evictable again. Returns `false`
    /// if the server is closing (the connection should then be closed).
    pub(crate) fn end_request(&self) -> bool {
        self.ctl.expect_head(self.tracker.limits.keep_alive_timeout);
        let now = Instant::now();
        let mut state = self.tracker.state.lock().unwrap();
        if state.closing {
            return false;
        }
        let entry = state.conns.get_mut(&self.id).expect("slot is registered");
        if entry.evicted {
            return false;
        }
        entry.waiting_since = Some(now);
        state.waiting.insert((now, self.id));
        self.tracker.notify_changed(state);
        true
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.tracker.state.lock().unwrap();
        if let Some(entry) = state.conns.remove(&self.id) {
            if let Some(since) = entry.waiting_since {
                state.waiting.remove(&(since, self.id));
            }
            if entry.evicted {
                state.evicting -= 1;
            }
        }
        self.tracker.notify_changed(state);
    }
}
