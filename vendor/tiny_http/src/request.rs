use std::io::Error as IoError;
use std::io::{self, Cursor, ErrorKind, Read, Write};

use std::fmt;
use std::net::SocketAddr;

use std::sync::mpsc::Sender;
use std::sync::Arc;

use crate::limits::{ConnControl, UnreadBody};
use crate::util::{EqualReader, FusedReader};
use crate::{HTTPVersion, Header, Method, Response, StatusCode};
use chunked_transfer::Decoder;

/// Represents an HTTP request made by a client.
///
/// A `Request` object is what is produced by the server, and is your what
/// your code must analyse and answer.
///
/// This object implements the `Send` trait, therefore you can dispatch your requests to
/// worker threads.
///
/// # Pipelining
///
/// If a client sends multiple requests in a row (without waiting for the response), then you will
/// get multiple `Request` objects simultaneously. This is called *requests pipelining*.
/// Tiny-http automatically reorders the responses so that you don't need to worry about the order
/// in which you call `respond` or `into_writer`.
///
/// This mechanic is disabled if:
///
///  - The body of a request is large enough (handling requires pipelining requires storing the
///    body of the request in a buffer ; if the body is too big, tiny-http will avoid doing that)
///  - A request sends a `Expect: 100-continue` header (which means that the client waits to
///    know whether its body will be processed before sending it)
///  - A request sends a `Connection: close` header or `Connection: upgrade` header (used for
///    websockets), which indicates that this is the last request that will be received on this
///    connection
///
/// # Automatic cleanup
///
/// If a `Request` object is destroyed without `into_writer` or `respond` being called,
/// an empty response with a 500 status code (internal server error) will automatically be
/// sent back to the client.
/// This means that if your code fails during the handling of a request, this "internal server
/// error" response will automatically be sent during the stack unwinding.
///
/// # Testing
///
/// If you want to build fake requests to test your server, use [`TestRequest`](crate::test::TestRequest).
pub struct Request {
    // where to read the body from
    data_reader: Option<Box<dyn Read + Send + 'static>>,

    // if this writer is empty, then the request has been answered
    response_writer: Option<Box<dyn Write + Send + 'static>>,

    remote_addr: Option<SocketAddr>,

    // true if HTTPS, false if HTTP
    secure: bool,

    method: Method,

    path: String,

    http_version: HTTPVersion,

    headers: Vec<Header>,

    body_length: Option<usize>,

    // true if a `100 Continue` response must be sent when `as_reader()` is called
    must_send_continue: bool,

    // If Some, a message must be sent after responding
    notify_when_responded: Option<Sender<()>>,

    // PATCH (request bodies): the control block of the connection the request came from
    // (`None` for `TestRequest`), and whether `close_connection()` was called
    control: Option<Arc<ConnControl>>,
    close_connection: bool,
}

struct NotifyOnDrop<R> {
    sender: Sender<()>,
    inner: R,
}

impl<R: Read> Read for NotifyOnDrop<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}
impl<R: Write> Write for NotifyOnDrop<R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
impl<R> Drop for NotifyOnDrop<R> {
    fn drop(&mut self) {
        let _ = self.sender.send(()); // PATCH: was unwrap(), see PATCHES.md
    }
}

/// PATCH (request bodies): where a [`ConnBody`] reads from.
enum BodySource<R> {
    /// A body with a `Content-Length`; `left` bytes of it have not been read yet.
    Length { source: R, left: usize },
    /// A body with `Transfer-Encoding: chunked`.
    Chunked(Decoder<R>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    Reading,
    /// Read to its end: the connection is positioned at the next request.
    Done,
    /// Reading failed (error, or the connection ended before the body): where the body
    /// ends is unknown.
    Failed,
}

/// PATCH (request bodies): the body reader of a request that came from a connection and
/// was not read into memory before being handed out (a `Content-Length` above
/// `ConnectionLimits::max_buffered_body`, or a chunked body).
///
/// Upstream, dropping a partly read `Content-Length` body drained the rest of it, in the
/// application's thread (bounded only by the keep-alive deadline), and dropping a partly
/// read chunked body left the rest on the connection, to be parsed as the next request.
/// This reader does neither: when dropped before its end it reports what is left to the
/// connection's [`ConnControl`], and the connection thread then either drains it or
/// closes the connection (see `ClientConnection`). It also reports a connection that
/// ends before the end of the body as an error (upstream: a short body and `Ok(0)`), and
/// never reads past the end of its body.
struct ConnBody<R: Read> {
    source: BodySource<R>,
    state: BodyState,
    control: Arc<ConnControl>,
}

impl<R: Read> ConnBody<R> {
    fn new(source: BodySource<R>, control: Arc<ConnControl>) -> Self {
        let state = match source {
            BodySource::Length { left: 0, .. } => BodyState::Done,
            _ => BodyState::Reading,
        };
        ConnBody {
            source,
            state,
            control,
        }
    }
}

fn body_cut_short() -> IoError {
    IoError::new(
        ErrorKind::UnexpectedEof,
        "the connection ended before the end of the request body",
    )
}

impl<R: Read> Read for ConnBody<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.state {
            BodyState::Done => return Ok(0),
            BodyState::Failed => {
                return Err(IoError::other("reading the request body failed earlier"))
            }
            BodyState::Reading if buf.is_empty() => return Ok(0),
            BodyState::Reading => {}
        }
        let (result, state) = match &mut self.source {
            BodySource::Length { source, left } => {
                let len = buf.len().min(*left);
                match source.read(&mut buf[..len]) {
                    Ok(0) => (Err(body_cut_short()), BodyState::Failed),
                    Ok(n) => {
                        *left -= n;
                        let state = if *left == 0 {
                            BodyState::Done
                        } else {
                            BodyState::Reading
                        };
                        (Ok(n), state)
                    }
                    // nothing was consumed: the body can still be read or drained
                    Err(e) if e.kind() == ErrorKind::Interrupted => (Err(e), BodyState::Reading),
                    Err(e) => (Err(e), BodyState::Failed),
                }
            }
            BodySource::Chunked(decoder) => match decoder.read(buf) {
                // the decoder also returns 0 when the connection ends inside a chunk
                Ok(0) if decoder.remaining_chunks_size().is_some() => {
                    (Err(body_cut_short()), BodyState::Failed)
                }
                Ok(0) => (Ok(0), BodyState::Done),
                Ok(n) => (Ok(n), BodyState::Reading),
                Err(e) => (Err(e), BodyState::Failed),
            },
        };
        self.state = state;
        result
    }
}

impl<R: Read> Drop for ConnBody<R> {
    // Runs before `source` is dropped, i.e. before the connection's reader is passed on to
    // the connection thread, which therefore always sees this report.
    fn drop(&mut self) {
        let unread = match (self.state, &self.source) {
            (BodyState::Done, _) => return,
            (BodyState::Reading, BodySource::Length { left, .. }) => UnreadBody::Bytes(*left),
            _ => UnreadBody::Unknown,
        };
        self.control.set_unread_body(unread);
    }
}

/// Error that can happen when building a `Request` object.
#[derive(Debug)]
pub enum RequestCreationError {
    /// The client sent an `Expect` header that was not recognized by tiny-http.
    ExpectationFailed,

    /// Error while reading data from the socket during the creation of the `Request`.
    CreationIoError(IoError),

    /// PATCH (strict framing): where the body ends is not one number (see
    /// `checked_body_length`); answered with `400` and the connection closed.
    AmbiguousFraming,
}

impl From<IoError> for RequestCreationError {
    fn from(err: IoError) -> RequestCreationError {
        RequestCreationError::CreationIoError(err)
    }
}

/// PATCH (request bodies): how `new_request` treats the request body.
pub(crate) struct BodyOptions {
    /// A body whose `Content-Length` is at most this is read into memory by `new_request`
    /// (upstream: 1024 bytes, and never with `Expect: 100-continue`).
    pub(crate) max_buffered: usize,
    /// The control block of the connection. When set, a body that is not buffered is read
    /// through a [`ConnBody`], which never drains the rest of the body itself but reports
    /// it to the connection thread (see `ClientConnection`).
    pub(crate) control: Option<Arc<ConnControl>>,
}

impl Default for BodyOptions {
    fn default() -> Self {
        BodyOptions {
            max_buffered: 1024,
            control: None,
        }
    }
}

/// PATCH (strict framing): the request's `Content-Length`, if it has one, checked as RFC 9112
/// (6.1, 6.3) asks, or `AmbiguousFraming`.
///
/// Upstream read the first `Content-Length` header only, and took a value that did not
/// parse (`5x`, `0, 40`, `-1`, empty, above `usize::MAX`) as "no body": the body was then
/// read as the next request of the connection (request smuggling, by any client whose
/// request passes a proxy that reads the length differently, or simply after an
/// application that answers without looking at the body). It also took `+5` as 5, and
/// treated every `Transfer-Encoding` as chunked, ignoring a `Content-Length` beside it.
///
/// Now every `Content-Length` field value, split at commas, must be one or more ASCII
/// digits and fit in a `usize` (so at most `u64::MAX`), and all of them must be the same
/// number (`5, 5` or two `Content-Length: 5` count as one `5`, as the RFC allows). A request
/// with `Transfer-Encoding` must have `chunked` as its last coding (all `Transfer-Encoding`
/// fields together, as one list) and no `Content-Length` (the RFC allows refusing this
/// combination, the classic request-smuggling one). Then the body is chunked and the
/// length is `None`, as upstream.
fn checked_body_length(headers: &[Header]) -> Result<Option<usize>, RequestCreationError> {
    let list = |name: &'static str| -> Vec<&str> {
        headers
            .iter()
            .filter(|h| h.field.equiv(name))
            .flat_map(|h| h.value.as_str().split(','))
            .map(|v| v.trim_matches(|c| c == ' ' || c == '\t'))
            .collect()
    };
    let (codings, lengths) = (list("Transfer-Encoding"), list("Content-Length"));
    if !codings.is_empty() {
        let chunked_last = codings
            .last()
            .is_some_and(|c| c.eq_ignore_ascii_case("chunked"));
        return if chunked_last && lengths.is_empty() {
            Ok(None)
        } else {
            Err(RequestCreationError::AmbiguousFraming)
        };
    }
    let mut length = None;
    for value in lengths {
        let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
        // (`parse` alone would take `+5`; it fails above `usize::MAX`)
        let number = if digits { value.parse().ok() } else { None };
        match (number, length) {
            (Some(n), None) => length = Some(n),
            (Some(n), Some(first)) if n == first => {}
            _ => return Err(RequestCreationError::AmbiguousFraming),
        }
    }
    Ok(length)
}

/// Builds a new request.
///
/// After the request line and headers have been read from the socket, a new `Request` object
/// is built.
///
/// You must pass a `Read` that will allow the `Request` object to read from the incoming data.
/// It is the responsibility of the `Request` to read only the data of the request and not further.
///
/// The `Write` object will be used by the `Request` to write the response.
#[allow(clippy::too_many_arguments)]
pub fn new_request<R, W>(
    secure: bool,
    method: Method,
    path: String,
    version: HTTPVersion,
    headers: Vec<Header>,
    remote_addr: Option<SocketAddr>,
    mut source_data: R,
    mut writer: W,
    body_options: BodyOptions, // PATCH (request bodies)
) -> Result<Request, RequestCreationError>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    // finding the transfer-encoding header
    let transfer_encoding = headers
        .iter()
        .find(|h: &&Header| h.field.equiv("Transfer-Encoding"))
        .map(|h| h.value.clone());

    // PATCH (strict framing): upstream took the first `Content-Length` header, and any
    // value that was not a number as "no body"; see `checked_body_length`
    let content_length = checked_body_length(&headers)?;

    // true if the client sent a `Expect: 100-continue` header
    let expects_continue = {
        match headers
            .iter()
            .find(|h: &&Header| h.field.equiv("Expect"))
            .map(|h| h.value.as_str())
        {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("100-continue") => true,
            _ => return Err(RequestCreationError::ExpectationFailed),
        }
    };

    // true if the client sent a `Connection: upgrade` header
    let connection_upgrade = {
        match headers
            .iter()
            .find(|h: &&Header| h.field.equiv("Connection"))
            .map(|h| h.value.as_str())
        {
            Some(v) if v.to_ascii_lowercase().contains("upgrade") => true,
            _ => false,
        }
    };

    // PATCH (request bodies): whether the `100 Continue` is left to `as_reader()`
    let mut must_send_continue = expects_continue;
    let control = body_options.control;

    // we wrap `source_data` around a reading whose nature depends on the transfer-encoding and
    // content-length headers
    let reader = if connection_upgrade {
        // if we have a `Connection: upgrade`, always keeping the whole reader
        Box::new(source_data) as Box<dyn Read + Send + 'static>
    } else if let Some(content_length) = content_length {
        if content_length == 0 {
            Box::new(io::empty()) as Box<dyn Read + Send + 'static>
        } else if content_length <= body_options.max_buffered {
            // if the content-length is small enough, we just read everything into a buffer
            // PATCH (request bodies): the limit is `ConnectionLimits::max_buffered_body`
            // (upstream: 1024). This runs in the connection's thread, under the deadline of
            // the request head. With `Expect: 100-continue` (upstream: never buffered), the
            // `100 Continue` is sent here first (HTTP/1.1 only, RFC 9110 10.1.1), so that a
            // client cannot get an unread small body past this by adding the header.
            if expects_continue {
                must_send_continue = false;
                if version > HTTPVersion(1, 0) {
                    Response::new_empty(StatusCode(100)).raw_print(
                        &mut writer,
                        version.clone(),
                        &headers,
                        true,
                        None,
                    )?;
                    writer.flush()?;
                }
            }

            // PATCH: the buffer grows with the data received instead of being allocated
            // at the declared size up front
            let mut buffer = Vec::with_capacity(content_length.min(16 * 1024));
            source_data
                .by_ref()
                .take(content_length as u64)
                .read_to_end(&mut buffer)?;
            if buffer.len() != content_length {
                // the socket returned EOF, but we were before the expected content-length
                // aborting
                let info = "Connection has been closed before we received enough data";
                let err = IoError::new(ErrorKind::ConnectionAborted, info);
                return Err(RequestCreationError::CreationIoError(err));
            }

            Box::new(Cursor::new(buffer)) as Box<dyn Read + Send + 'static>
        } else if let Some(control) = control.clone() {
            // PATCH (request bodies): see `ConnBody`
            Box::new(ConnBody::new(
                BodySource::Length {
                    source: source_data,
                    left: content_length,
                },
                control,
            )) as Box<dyn Read + Send + 'static>
        } else {
            let (data_reader, _) = EqualReader::new(source_data, content_length); // TODO:
            Box::new(FusedReader::new(data_reader)) as Box<dyn Read + Send + 'static>
        }
    } else if transfer_encoding.is_some() {
        // if a transfer-encoding was specified, then "chunked" is ALWAYS applied
        // over the message (RFC2616 #3.6)
        if let Some(control) = control.clone() {
            // PATCH (request bodies): see `ConnBody`
            Box::new(ConnBody::new(
                BodySource::Chunked(Decoder::new(source_data)),
                control,
            )) as Box<dyn Read + Send + 'static>
        } else {
            Box::new(FusedReader::new(Decoder::new(source_data))) as Box<dyn Read + Send + 'static>
        }
    } else {
        // if we have neither a Content-Length nor a Transfer-Encoding,
        // assuming that we have no data
        // TODO: could also be multipart/byteranges
        Box::new(io::empty()) as Box<dyn Read + Send + 'static>
    };

    Ok(Request {
        data_reader: Some(reader),
        response_writer: Some(Box::new(writer) as Box<dyn Write + Send + 'static>),
        remote_addr,
        secure,
        method,
        path,
        http_version: version,
        headers,
        body_length: content_length,
        must_send_continue,
        notify_when_responded: None,
        control,
        close_connection: false,
    })
}

impl Request {
    /// Returns true if the request was made through HTTPS.
    #[inline]
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Returns the method requested by the client (eg. `GET`, `POST`, etc.).
    #[inline]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Returns the resource requested by the client.
    #[inline]
    pub fn url(&self) -> &str {
        &self.path
    }

    /// Returns a list of all headers sent by the client.
    #[inline]
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Returns the HTTP version of the request.
    #[inline]
    pub fn http_version(&self) -> &HTTPVersion {
        &self.http_version
    }

    /// Returns the length of the body in bytes.
    ///
    /// Returns `None` if the length is unknown.
    #[inline]
    pub fn body_length(&self) -> Option<usize> {
        self.body_length
    }

    /// Returns the address of the client that sent this request.
    ///
    /// The address is always `Some` for TCP listeners, but always `None` for UNIX listeners
    /// (as the remote address of a UNIX client is almost always unnamed).
    ///
    /// Note that this is gathered from the socket. If you receive the request from a proxy,
    /// this function will return the address of the proxy and not the address of the actual
    /// user.
    #[inline]
    pub fn remote_addr(&self) -> Option<&SocketAddr> {
        self.remote_addr.as_ref()
    }

    /// Sends a response with a `Connection: upgrade` header, then turns the `Request` into a `Stream`.
    ///
    /// The main purpose of this function is to support websockets.
    /// If you detect that the request wants to use some kind of protocol upgrade, you can
    ///  call this function to obtain full control of the socket stream.
    ///
    /// If you call this on a non-websocket request, tiny-http will wait until this `Stream` object
    ///  is destroyed before continuing to read or write on the socket. Therefore you should always
    ///  destroy it as soon as possible.
    pub fn upgrade<R: Read>(
        mut self,
        protocol: &str,
        response: Response<R>,
    ) -> Box<dyn ReadWrite + Send> {
        use crate::util::CustomStream;

        response
            .raw_print(
                self.response_writer.as_mut().unwrap().by_ref(),
                self.http_version.clone(),
                &self.headers,
                false,
                Some(protocol),
            )
            .ok(); // TODO: unused result

        self.response_writer.as_mut().unwrap().flush().ok(); // TODO: unused result

        let stream = CustomStream::new(self.extract_reader_impl(), self.extract_writer_impl());
        if let Some(sender) = self.notify_when_responded.take() {
            let stream = NotifyOnDrop {
                sender,
                inner: stream,
            };
            Box::new(stream) as Box<dyn ReadWrite + Send>
        } else {
            Box::new(stream) as Box<dyn ReadWrite + Send>
        }
    }

    /// Closes the connection once the response to this request has been sent.
    ///
    /// The response gets a `Connection: close` header, and after it has been written the
    /// server reads no further request from this connection: whatever the client still
    /// sends (the unread rest of this request's body, pipelined requests) is discarded,
    /// never drained for or parsed as another request. Use it when refusing a request
    /// without reading its body (e.g. `413 Payload Too Large`), or to end keep-alive
    /// connections during a graceful shutdown. (An application cannot do this by adding
    /// a `Connection` header: `Response::add_header` ignores that header.)
    ///
    /// The connection ends after `respond()`, after the writer of `into_writer()` or the
    /// stream of `upgrade()` is dropped, or after the automatic `500` response if the
    /// request is dropped unanswered. The server shuts down its sending side right after
    /// the response, so the client sees the end of the stream at once; it then discards
    /// what the client still sends for up to 2 seconds (1 MiB) before closing the socket,
    /// so that the response is not destroyed by a TCP reset.
    ///
    /// (Local patch, not in upstream tiny_http 0.12; see `PATCHES.md`.)
    pub fn close_connection(&mut self) {
        self.close_connection = true;
        if let Some(control) = &self.control {
            control.request_close();
        }
    }

    /// Allows to read the body of the request.
    ///
    /// # Example
    ///
    // PATCH (workspace member): the doctest ran against upstream's dev-dependency
    // rustc-serialize (deprecated, not kept); a hidden stand-in `Json` keeps the example as is.
    /// ```no_run
    /// # extern crate tiny_http;
    /// # struct Json;
    /// # impl std::str::FromStr for Json {
    /// #     type Err = ();
    /// #     fn from_str(_: &str) -> Result<Json, ()> { Ok(Json) }
    /// # }
    /// # use std::io::Read;
    /// # fn get_content_type(_: &tiny_http::Request) -> &'static str { "" }
    /// # fn main() {
    /// # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
    /// let mut request = server.recv().unwrap();
    ///
    /// if get_content_type(&request) == "application/json" {
    ///     let mut content = String::new();
    ///     request.as_reader().read_to_string(&mut content).unwrap();
    ///     let json: Json = content.parse().unwrap();
    /// }
    /// # }
    /// ```
    ///
    /// If the client sent a `Expect: 100-continue` header with the request, calling this
    ///  function will send back a `100 Continue` response.
    #[inline]
    pub fn as_reader(&mut self) -> &mut dyn Read {
        if self.must_send_continue {
            let msg = Response::new_empty(StatusCode(100));
            msg.raw_print(
                self.response_writer.as_mut().unwrap().by_ref(),
                self.http_version.clone(),
                &self.headers,
                true,
                None,
            )
            .ok();
            self.response_writer.as_mut().unwrap().flush().ok();
            self.must_send_continue = false;
        }

        self.data_reader.as_mut().unwrap()
    }

    /// Turns the `Request` into a writer.
    ///
    /// The writer has a raw access to the stream to the user.
    /// This function is useful for things like CGI.
    ///
    /// Note that the destruction of the `Writer` object may trigger
    /// some events. For exemple if a client has sent multiple requests and the requests
    /// have been processed in parallel, the destruction of a writer will trigger
    /// the writing of the next response.
    /// Therefore you should always destroy the `Writer` as soon as possible.
    #[inline]
    pub fn into_writer(mut self) -> Box<dyn Write + Send + 'static> {
        self.close_if_body_never_asked_for(); // PATCH (request bodies)
        let writer = self.extract_writer_impl();
        if let Some(sender) = self.notify_when_responded.take() {
            let writer = NotifyOnDrop {
                sender,
                inner: writer,
            };
            Box::new(writer) as Box<dyn Write + Send + 'static>
        } else {
            writer
        }
    }

    /// Extract the response `Writer` object from the Request, dropping this `Writer` has the same side effects
    /// as the object returned by `into_writer` above.
    ///
    /// This may only be called once on a single request.
    fn extract_writer_impl(&mut self) -> Box<dyn Write + Send + 'static> {
        use std::mem;

        assert!(self.response_writer.is_some());

        let mut writer = None;
        mem::swap(&mut self.response_writer, &mut writer);
        writer.unwrap()
    }

    /// Extract the body `Reader` object from the Request.
    ///
    /// This may only be called once on a single request.
    fn extract_reader_impl(&mut self) -> Box<dyn Read + Send + 'static> {
        use std::mem;

        assert!(self.data_reader.is_some());

        let mut reader = None;
        mem::swap(&mut self.data_reader, &mut reader);
        reader.unwrap()
    }

    /// Sends a response to this request.
    #[inline]
    pub fn respond<R>(mut self, response: Response<R>) -> Result<(), IoError>
    where
        R: Read,
    {
        let res = self.respond_impl(response);
        if let Some(sender) = self.notify_when_responded.take() {
            let _ = sender.send(()); // PATCH: was unwrap(), see PATCHES.md
        }
        res
    }

    fn respond_impl<R>(&mut self, response: Response<R>) -> Result<(), IoError>
    where
        R: Read,
    {
        let mut writer = self.extract_writer_impl();

        let do_not_send_body = self.method == Method::Head;

        // PATCH (request bodies): see `close_connection()`
        self.close_if_body_never_asked_for();
        let response = if self.close_connection {
            response.with_connection_close()
        } else {
            response
        };

        Self::ignore_client_closing_errors(response.raw_print(
            writer.by_ref(),
            self.http_version.clone(),
            &self.headers,
            do_not_send_body,
            None,
        ))?;

        Self::ignore_client_closing_errors(writer.flush())
    }

    /// PATCH (request bodies): a client that sent `Expect: 100-continue` and is answered
    /// without having been sent `100 Continue` (the application did not call
    /// `as_reader()`) has not sent its body, and may or may not send it later: the
    /// connection cannot be used for another request, so it is closed after the response
    /// (RFC 9110, 10.1.1). Only for requests from a connection (not `TestRequest`).
    fn close_if_body_never_asked_for(&mut self) {
        if self.must_send_continue && self.body_length != Some(0) && self.control.is_some() {
            self.close_connection();
        }
    }

    fn ignore_client_closing_errors(result: io::Result<()>) -> io::Result<()> {
        result.or_else(|err| match err.kind() {
            ErrorKind::BrokenPipe => Ok(()),
            ErrorKind::ConnectionAborted => Ok(()),
            ErrorKind::ConnectionRefused => Ok(()),
            ErrorKind::ConnectionReset => Ok(()),
            _ => Err(err),
        })
    }

    pub(crate) fn with_notify_sender(mut self, sender: Sender<()>) -> Self {
        self.notify_when_responded = Some(sender);
        self
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> Result<(), fmt::Error> {
        write!(
            formatter,
            "Request({} {} from {:?})",
            self.method, self.path, self.remote_addr
        )
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if self.response_writer.is_some() {
            let response = Response::empty(500);
            let _ = self.respond_impl(response); // ignoring any potential error
            if let Some(sender) = self.notify_when_responded.take() {
                let _ = sender.send(()); // PATCH: was unwrap(), see PATCHES.md
            }
        }
    }
}

/// Dummy trait that regroups the `Read` and `Write` traits.
///
/// Automatically implemented on all types that implement both `Read` and `Write`.
pub trait ReadWrite: Read + Write {}
impl<T> ReadWrite for T where T: Read + Write {}

#[cfg(test)]
mod tests {
    use super::Request;

    #[test]
    fn must_be_send() {
        #![allow(dead_code)]
        fn f<T: Send>(_: &T) {}
        fn bar(rq: &Request) {
            f(rq);
        }
    }
}
