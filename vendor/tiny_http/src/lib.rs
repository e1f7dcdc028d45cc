//! # Simple usage
//!
//! ## Creating the server
//!
//! The easiest way to create a server is to call `Server::http()`.
//!
//! The `http()` function returns an `IoResult<Server>` which will return an error
//! in the case where the server creation fails (for example if the listening port is already
//! occupied).
//!
//! ```no_run
//! let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! ```
//!
//! A newly-created `Server` will immediately start listening for incoming connections and HTTP
//! requests.
//!
//! ## Receiving requests
//!
//! Calling `server.recv()` will block until the next request is available.
//! This function returns an `IoResult<Request>`, so you need to handle the possible errors.
//!
//! ```no_run
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//!
//! loop {
//!     // blocks until the next request is received
//!     let request = match server.recv() {
//!         Ok(rq) => rq,
//!         Err(e) => { println!("error: {}", e); break }
//!     };
//!
//!     // do something with the request
//!     // ...
//! }
//! ```
//!
//! In a real-case scenario, you will probably want to spawn multiple worker tasks and call
//! `server.recv()` on all of them. Like this:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use std::thread;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! let server = Arc::new(server);
//! let mut guards = Vec::with_capacity(4);
//!
//! for _ in (0 .. 4) {
//!     let server = server.clone();
//!
//!     let guard = thread::spawn(move || {
//!         loop {
//!             let rq = server.recv().unwrap();
//!
//!             // ...
//!         }
//!     });
//!
//!     guards.push(guard);
//! }
//! ```
//!
//! If you don't want to block, you can call `server.try_recv()` instead.
//!
//! ## Handling requests
//!
//! The `Request` object returned by `server.recv()` contains informations about the client's request.
//! The most useful methods are probably `request.method()` and `request.url()` which return
//! the requested method (`GET`, `POST`, etc.) and url.
//!
//! To handle a request, you need to create a `Response` object. See the docs of this object for
//! more infos. Here is an example of creating a `Response` from a file:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! ```
//!
//! All that remains to do is call `request.respond()`:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! # let request = server.recv().unwrap();
//! # let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! let _ = request.respond(response);
//! ```
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![allow(clippy::match_like_matches_macro)]

#[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
use zeroize::Zeroizing;

use std::error::Error;
use std::io::Error as IoError;
use std::io::ErrorKind as IoErrorKind;
use std::io::Result as IoResult;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use client::ClientConnection;
use connection::Connection;
use util::MessagesQueue;

pub use common::{HTTPVersion, Header, HeaderField, Method, StatusCode};
pub use connection::{ConfigListenAddr, ListenAddr, Listener};
pub use limits::ConnectionLimits;
pub use request::{ReadWrite, Request};
pub use response::{Response, ResponseBox};
pub use test::TestRequest;

mod client;
mod common;
mod connection;
mod limits;
mod request;
mod response;
mod ssl;
mod test;
mod util;

/// The main class of this library.
///
/// Destroying this object will immediately close the listening socket and the reading
///  part of all the client's connections. Requests that have already been returned by
///  the `recv()` function will not close and the responses will be transferred to the client.
pub struct Server {
    // should be false as long as the server exists
    // when set to true, all the subtasks will close within a few hundreds ms
    close: Arc<AtomicBool>,

    // queue for messages received by child threads
    messages: Arc<MessagesQueue<Message>>,

    // result of TcpListener::local_addr()
    listening_addr: ListenAddr,

    // PATCH (connection limits): live connections
    tracker: Arc<limits::Tracker>,

    // PATCH (handler on the connection's thread): the accept thread, joined by `shut_down`
    accept_thread: Option<thread::JoinHandle<()>>,
}

/// PATCH (handler on the connection's thread): a function that answers requests on the
/// thread of the connection that read them, given to
/// [`Server::from_listener_with_handler`]. It must answer the request (or drop it, which
/// answers `500`); the connection reads its next request once it has returned and the
/// response is done.
pub type Handler = Arc<dyn Fn(Request) + Send + Sync + 'static>;

enum Message {
    // PATCH: no longer produced (accept errors used to be reported through `recv()` just
    // before the accept loop stopped for good); kept so `recv()` is unchanged.
    #[allow(dead_code)]
    Error(IoError),
    NewRequest(Request),
}

impl From<IoError> for Message {
    fn from(e: IoError) -> Message {
        Message::Error(e)
    }
}

impl From<Request> for Message {
    fn from(rq: Request) -> Message {
        Message::NewRequest(rq)
    }
}

// this trait is to make sure that Server implements Share and Send
#[doc(hidden)]
#[allow(dead_code)] // PATCH: silences a warning on current rustc; the impl below is the check
trait MustBeShareDummy: Sync + Send {}
#[doc(hidden)]
impl MustBeShareDummy for Server {}

pub struct IncomingRequests<'a> {
    server: &'a Server,
}

/// Represents the parameters required to create a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The addresses to try to listen to.
    pub addr: ConfigListenAddr,

    /// If `Some`, then the server will use SSL to encode the communications.
    pub ssl: Option<SslConfig>,
}

/// Configuration of the server for SSL.
#[derive(Debug, Clone)]
pub struct SslConfig {
    /// Contains the public certificate to send to clients.
    pub certificate: Vec<u8>,
    /// Contains the ultra-secret private key used to decode communications.
    pub private_key: Vec<u8>,
}

impl Server {
    /// Shortcut for a simple server on a specific address.
    #[inline]
    pub fn http<A>(addr: A) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::from_socket_addrs(addr)?,
            ssl: None,
        })
    }

    /// Shortcut for an HTTPS server on a specific address.
    #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
    #[inline]
    pub fn https<A>(
        addr: A,
        config: SslConfig,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::from_socket_addrs(addr)?,
            ssl: Some(config),
        })
    }

    #[cfg(unix)]
    #[inline]
    /// Shortcut for a UNIX socket server at a specific path
    pub fn http_unix(
        path: &std::path::Path,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::unix_from_path(path),
            ssl: None,
        })
    }

    /// Builds a new server that listens on the specified address.
    pub fn new(config: ServerConfig) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let listener = config.addr.bind()?;
        Self::from_listener(listener, config.ssl)
    }

    /// Builds a new server using the specified TCP listener.
    ///
    /// This is useful if you've constructed TcpListener using some less usual method
    /// such as from systemd. For other cases, you probably want the `new()` function.
    ///
    /// Uses the default [`ConnectionLimits`].
    pub fn from_listener<L: Into<Listener>>(
        listener: L,
        ssl_config: Option<SslConfig>,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Self::from_listener_with_limits(listener, ssl_config, ConnectionLimits::default())
    }

    /// Builds a new server using the specified listener and connection limits.
    ///
    /// (Local patch, not in upstream tiny_http 0.12; see `PATCHES.md`.)
    pub fn from_listener_with_limits<L: Into<Listener>>(
        listener: L,
        ssl_config: Option<SslConfig>,
        limits: ConnectionLimits,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Self::start(listener.into(), ssl_config, limits, None)
    }

    /// Builds a new server using the specified listener and connection limits, whose
    /// requests are answered by `handler` on the thread of the connection that read them,
    /// instead of being handed out by `recv()` (which then never returns a request).
    ///
    /// Handing a request from the connection's thread to another thread and its answer
    /// back costs two thread wake-ups per request; this costs none. The handler may run on
    /// as many threads at once as there are busy connections: limiting that (e.g. with a
    /// semaphore) is up to the application.
    ///
    /// (Local patch, not in upstream tiny_http 0.12; see `PATCHES.md`.)
    pub fn from_listener_with_handler<L: Into<Listener>>(
        listener: L,
        ssl_config: Option<SslConfig>,
        limits: ConnectionLimits,
        handler: Handler,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Self::start(listener.into(), ssl_config, limits, Some(handler))
    }

    fn start(
        listener: Listener,
        ssl_config: Option<SslConfig>,
        limits: ConnectionLimits,
        handler: Option<Handler>,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        // building the "close" variable
        let close_trigger = Arc::new(AtomicBool::new(false));

        // building the TcpListener
        let (server, local_addr) = {
            let local_addr = listener.local_addr()?;
            log::debug!("Server listening on {}", local_addr);
            (listener, local_addr)
        };

        // building the SSL capabilities
        #[cfg(all(feature = "ssl-openssl", feature = "ssl-rustls"))]
        compile_error!(
            "Features 'ssl-openssl' and 'ssl-rustls' must not be enabled at the same time"
        );
        #[cfg(not(any(feature = "ssl-openssl", feature = "ssl-rustls")))]
        type SslContext = ();
        #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
        type SslContext = crate::ssl::SslContextImpl;
        let ssl: Option<SslContext> = {
            match ssl_config {
                #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
                Some(config) => Some(SslContext::from_pem(
                    config.certificate,
                    Zeroizing::new(config.private_key),
                )?),
                #[cfg(not(any(feature = "ssl-openssl", feature = "ssl-rustls")))]
                Some(_) => return Err(
                    "Building a server with SSL requires enabling the `ssl` feature in tiny-http"
                        .into(),
                ),
                None => None,
            }
        };

        // PATCH: the TLS handshake is done by the connection's thread (upstream did it in
        // the accept thread, where one slow client stalled all accepts)
        let ssl = ssl.map(Arc::new);

        // creating a task where server.accept() is continuously called
        // and ClientConnection objects are pushed in the messages queue
        let messages = MessagesQueue::with_capacity(8);

        let tracker = limits::Tracker::new(limits);

        let inside_close_trigger = close_trigger.clone();
        let inside_messages = messages.clone();
        let inside_tracker = tracker.clone();
        let accept_thread = thread::spawn(move || {
            let tracker = inside_tracker;
            // a tasks pool is used to dispatch the connections into threads; there are at
            // most `max_connections` of them at a time (plus a few idle threads)
            let tasks_pool = util::TaskPool::new();

            log::debug!("Running accept thread");
            while !inside_close_trigger.load(Relaxed) {
                let sock = match server.accept() {
                    Ok((sock, _)) => sock,
                    Err(e) => {
                        // PATCH: upstream reported the error via `recv()` and left the
                        // loop, i.e. stopped accepting for good (e.g. on EMFILE).
                        accept_error_backoff(&e, &tracker);
                        continue;
                    }
                };

                // PATCH: make room for this connection under the connection cap, by
                // evicting the connection that has waited longest for a request head,
                // or by waiting (not accepting) until a connection ends.
                if !tracker.wait_for_room(&inside_close_trigger) {
                    break;
                }

                // a second handle of the socket, through which the tracker sets timeouts
                // and shuts the connection down when evicting it
                let control_sock = match sock.try_clone() {
                    Ok(s) => s,
                    Err(e) => {
                        accept_error_backoff(&e, &tracker);
                        continue;
                    }
                };
                let slot = tracker.register(control_sock);

                let messages = inside_messages.clone();
                let handler = handler.clone();
                let ssl = ssl.clone();
                let mut task = Some(move || {
                    // declared first so that it is dropped last, after the sockets
                    let slot = slot;

                    use util::RefinedTcpStream;
                    let halves = match ssl {
                        None => RefinedTcpStream::new(sock),
                        #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
                        Some(ref ssl) => {
                            // trying to apply SSL over the connection
                            // if an error occurs, we just close the socket
                            match ssl.accept(sock) {
                                Ok(s) => RefinedTcpStream::new(s),
                                Err(_) => return,
                            }
                        }
                        #[cfg(not(any(feature = "ssl-openssl", feature = "ssl-rustls")))]
                        Some(ref _ssl) => unreachable!(),
                    };
                    let (mut read_closable, write_closable) = match halves {
                        Ok(halves) => halves,
                        Err(e) => {
                            log::error!("Error setting up client connection: {}", e);
                            return;
                        }
                    };
                    read_closable.set_control(slot.control());
                    let mut client = ClientConnection::new(write_closable, read_closable);
                    client.set_max_head_bytes(slot.max_head_bytes());
                    // PATCH (request bodies): bodies up to `max_buffered_body` are read
                    // here, before the request is handed out; what a request leaves
                    // unread, and `Request::close_connection()`, come back through the
                    // control block
                    client.set_max_buffered_body(slot.max_buffered_body());
                    client.set_control(slot.control());

                    // PATCH: requests of a connection are handled one at a time (upstream
                    // did this for HTTPS only): the next head is read once the response
                    // to the previous request is done, so the connection is either
                    // waiting for a head (evictable, under the head deadline) or busy.
                    // PATCH (handler on the connection's thread): with a handler, the
                    // request is answered right here; the notification is then already
                    // waiting when the handler returns (unless it kept the writer of
                    // `into_writer()` or the stream of `upgrade()` alive).
                    let (sender, receiver) = mpsc::channel();
                    for rq in &mut client {
                        if !slot.begin_request() {
                            break; // evicted at the last moment
                        }
                        let rq = rq.with_notify_sender(sender.clone());
                        match &handler {
                            Some(handler) => handler(rq),
                            None => messages.push(rq.into()),
                        }
                        if receiver.recv().is_err() || !slot.end_request() {
                            break;
                        }
                    }
                    // PATCH (request bodies): a lingering close where needed
                    client.close();
                });
                tasks_pool.spawn(Box::new(move || {
                    if let Some(task) = task.take() {
                        task();
                    }
                }));
            }
            tracker.close_idle();
            log::debug!("Terminating accept thread");
        });

        // result
        Ok(Server {
            messages,
            close: close_trigger,
            listening_addr: local_addr,
            tracker,
            accept_thread: Some(accept_thread),
        })
    }

    /// Stops the server gracefully: stops accepting (the listening socket is closed when
    /// this returns), closes the connections waiting for a request head, and waits until
    /// the others have answered their current request and closed, or until `drain_limit`
    /// has passed. Returns whether every connection was closed in time.
    ///
    /// (Local patch, not in upstream tiny_http 0.12; see `PATCHES.md`.)
    pub fn shut_down(mut self, drain_limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + drain_limit;
        let tracker = self.tracker.clone();
        let accept_thread = self.accept_thread.take();
        drop(self);
        if let Some(accept_thread) = accept_thread {
            let _ = accept_thread.join();
        }
        tracker.wait_for_no_connections(deadline)
    }

    /// Returns an iterator for all the incoming requests.
    ///
    /// The iterator will return `None` if the server socket is shutdown.
    #[inline]
    pub fn incoming_requests(&self) -> IncomingRequests<'_> {
        IncomingRequests { server: self }
    }

    /// Returns the address the server is listening to.
    #[inline]
    pub fn server_addr(&self) -> ListenAddr {
        self.listening_addr.clone()
    }

    /// Returns the number of clients currently connected to the server.
    ///
    /// PATCH: upstream 0.12 panicked with `unimplemented!()`.
    pub fn num_connections(&self) -> usize {
        self.tracker.num_connections()
    }

    /// Blocks until an HTTP request has been submitted and returns it.
    pub fn recv(&self) -> IoResult<Request> {
        match self.messages.pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(rq),
            None => Err(IoError::new(IoErrorKind::Other, "thread unblocked")),
        }
    }

    /// Same as `recv()` but doesn't block longer than timeout
    pub fn recv_timeout(&self, timeout: Duration) -> IoResult<Option<Request>> {
        match self.messages.pop_timeout(timeout) {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Same as `recv()` but doesn't block.
    pub fn try_recv(&self) -> IoResult<Option<Request>> {
        match self.messages.try_pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Unblock thread stuck in recv() or incoming_requests().
    /// If there are several such threads, only one is unblocked.
    /// This method allows graceful shutdown of server.
    pub fn unblock(&self) {
        self.messages.unblock();
    }
}

/// PATCH: what the accept loop does on an accept error instead of stopping: log it, back
/// off briefly and go on. When out of file descriptors, also close the connection that
/// has waited longest for a request head, and back off longer.
fn accept_error_backoff(err: &IoError, tracker: &limits::Tracker) {
    #[cfg(unix)]
    const OUT_OF_FDS: [i32; 2] = [23, 24]; // ENFILE, EMFILE (Linux, BSDs, macOS)
    #[cfg(not(unix))]
    const OUT_OF_FDS: [i32; 1] = [10024]; // WSAEMFILE

    if err
        .raw_os_error()
        .is_some_and(|code| OUT_OF_FDS.contains(&code))
    {
        log::error!(
            "Error accepting new client (out of file descriptors): {}",
            err
        );
        tracker.evict_for_fds();
        thread::sleep(Duration::from_millis(100));
    } else {
        log::error!("Error accepting new client: {}", err);
        thread::sleep(Duration::from_millis(10));
    }
}

impl Iterator for IncomingRequests<'_> {
    type Item = Request;
    fn next(&mut self) -> Option<Request> {
        self.server.recv().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close.store(true, Relaxed);
        // Connect briefly to ourselves to unblock the accept thread
        let maybe_stream = match &self.listening_addr {
            ListenAddr::IP(addr) => TcpStream::connect(addr).map(Connection::from),
            #[cfg(unix)]
            ListenAddr::Unix(addr) => {
                // TODO: use connect_addr when its stabilized.
                let path = addr.as_pathname().unwrap();
                std::os::unix::net::UnixStream::connect(path).map(Connection::from)
            }
        };
        if let Ok(stream) = maybe_stream {
            let _ = stream.shutdown(Shutdown::Both);
        }

        #[cfg(unix)]
        if let ListenAddr::Unix(addr) = &self.listening_addr {
            if let Some(path) = addr.as_pathname() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
