use ascii::AsciiString;

use std::io::Error as IoError;
use std::io::Result as IoResult;
use std::io::{BufRead, BufReader, BufWriter, ErrorKind, Read, Write};

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use crate::common::{HTTPVersion, Method};
use crate::limits::{ConnControl, UnreadBody, LINGER_MAX_BYTES, LINGER_TIMEOUT, MAX_DRAIN_BYTES};
use crate::request::BodyOptions;
use crate::util::RefinedTcpStream;
use crate::util::{SequentialReader, SequentialReaderBuilder, SequentialWriterBuilder};
use crate::Request;

/// A ClientConnection is an object that will store a socket to a client
/// and return Request objects.
pub struct ClientConnection {
    // address of the client
    remote_addr: IoResult<Option<SocketAddr>>,

    // sequence of Readers to the stream, so that the data is not read in
    //  the wrong order
    source: SequentialReaderBuilder<BufReader<RefinedTcpStream>>,

    // sequence of Writers to the stream, to avoid writing response #2 before
    //  response #1
    sink: SequentialWriterBuilder<BufWriter<RefinedTcpStream>>,

    // Reader to read the next header from
    next_header_source: SequentialReader<BufReader<RefinedTcpStream>>,

    // set to true if we know that the previous request is the last one
    no_more_requests: bool,

    // true if the connection goes through SSL
    secure: bool,

    // PATCH (connection limits): maximum size of a request head, and what is left of it
    // for the head being read
    max_head_bytes: usize,
    head_bytes_left: usize,

    // PATCH (request bodies): the connection's control block (through which a request
    // reports `close_connection()` and what it left of its body), the limit of bodies
    // read before a request is handed out, whether a request was handed out whose
    // leftovers are not settled yet, and whether to end with a lingering close
    control: Option<Arc<ConnControl>>,
    max_buffered_body: usize,
    request_out: bool,
    linger: bool,
}

/// Error that can happen when reading a request.
#[derive(Debug)]
enum ReadError {
    WrongRequestLine,
    WrongHeader(HTTPVersion),
    /// the client sent an unrecognized `Expect` header
    ExpectationFailed(HTTPVersion),
    ReadIoError(IoError),
    /// PATCH: the request head is larger than `max_head_bytes`
    HeadTooLarge,
    /// PATCH (strict framing): the length of the request body is not one number
    AmbiguousFraming(HTTPVersion),
}

impl ClientConnection {
    /// Creates a new `ClientConnection` that takes ownership of the `TcpStream`.
    pub fn new(
        write_socket: RefinedTcpStream,
        mut read_socket: RefinedTcpStream,
    ) -> ClientConnection {
        let remote_addr = read_socket.peer_addr();
        let secure = read_socket.secure();

        let mut source = SequentialReaderBuilder::new(BufReader::with_capacity(1024, read_socket));
        let first_header = source.next().unwrap();

        ClientConnection {
            source,
            sink: SequentialWriterBuilder::new(BufWriter::with_capacity(1024, write_socket)),
            remote_addr,
            next_header_source: first_header,
            no_more_requests: false,
            secure,
            max_head_bytes: usize::MAX,
            head_bytes_left: usize::MAX,
            control: None,
            max_buffered_body: 1024,
            request_out: false,
            linger: false,
        }
    }

    /// PATCH (request bodies): the connection's control block (see `ConnBody`,
    /// `Request::close_connection`). Without one, bodies are handled as upstream.
    pub(crate) fn set_control(&mut self, control: Arc<ConnControl>) {
        self.control = Some(control);
    }

    /// PATCH (request bodies): bodies with a `Content-Length` of at most this are read
    /// before the request is handed out (default: 1024, as upstream).
    pub(crate) fn set_max_buffered_body(&mut self, max_buffered_body: usize) {
        self.max_buffered_body = max_buffered_body;
    }

    /// PATCH (request bodies): called once the response to the request handed out last
    /// is done, before anything else is read from the connection. Waits until the
    /// application has dropped that request's body reader, then settles what the request
    /// left: nothing (go on), a `Content-Length` rest of at most `MAX_DRAIN_BYTES` (read
    /// and discarded here, under the keep-alive deadline, then go on), or anything else or
    /// `Request::close_connection()` (return `false`: close, with a lingering close).
    fn settle_previous_request(&mut self) -> bool {
        let control = match &self.control {
            Some(control) => control.clone(),
            None => return true, // upstream behaviour: `EqualReader` drains when dropped
        };
        self.next_header_source.wait_turn();
        let after = control.take_after_request();
        let keep = match after.unread {
            UnreadBody::Nothing => !after.close,
            UnreadBody::Bytes(left)
                if !after.close && !self.no_more_requests && left <= MAX_DRAIN_BYTES =>
            {
                match self.discard(left) {
                    Ok(()) => true,
                    // too slow, or gone: nothing to linger for
                    Err(_) => return false,
                }
            }
            _ => false,
        };
        self.linger |= !keep;
        keep
    }

    /// PATCH (request bodies): reads and discards exactly `len` bytes.
    fn discard(&mut self, mut len: usize) -> IoResult<()> {
        let mut buf = [0u8; 8 * 1024];
        while len > 0 {
            let chunk = len.min(buf.len());
            match self.next_header_source.read(&mut buf[..chunk]) {
                Ok(0) => return Err(IoError::from(ErrorKind::UnexpectedEof)),
                Ok(n) => len -= n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// PATCH (request bodies): ends the connection (the connection thread calls this once
    /// it reads no more requests). Normally this just drops it. After
    /// `Request::close_connection()`, or when a request body was left unread, the client
    /// may still be sending, and closing a socket with unread data makes the kernel send a
    /// reset, which can destroy the response before the client has read it. So then: flush
    /// the response, shut down the sending side (the client sees the end of the stream),
    /// and read and discard what still arrives, until the client closes its side, for at
    /// most `LINGER_TIMEOUT` and `LINGER_MAX_BYTES`. The connection stays evictable
    /// meanwhile (it is waiting for a head, as far as the `Tracker` is concerned).
    pub(crate) fn close(mut self) {
        if self.request_out {
            // the connection thread stopped before asking for the next request (server
            // closing, connection evicted): nothing will be drained
            self.request_out = false;
            self.no_more_requests = true;
            self.settle_previous_request();
        }
        let control = match (&self.control, self.linger) {
            (Some(control), true) => control.clone(),
            _ => return,
        };
        // the last response may still be in the write buffer (`Request::into_writer()`
        // and the error responses of `next()` do not flush)
        if self.sink.next().unwrap().flush().is_err() {
            return;
        }
        control.shutdown_write();
        control.expect_head(Some(LINGER_TIMEOUT));
        let mut buf = [0u8; 8 * 1024];
        let mut total = 0;
        while total < LINGER_MAX_BYTES {
            match self.next_header_source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => total += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }

    /// PATCH (connection limits): limits the size of request heads (default: unlimited).
    pub fn set_max_head_bytes(&mut self, max_head_bytes: usize) {
        self.max_head_bytes = max_head_bytes;
    }

    /// Reads the next line from self.next_header_source.
    ///
    /// Reads until `CRLF` is reached. The next read will start
    ///  at the first byte of the new line.
    /// PATCH: fails with `HeadTooLarge` once the head exceeds `max_head_bytes`.
    /// PATCH (request heads): scans the read buffer for the line's end rather than reading
    /// one byte at a time (each through two layers of readers); same lines, same limit.
    /// As upstream, a `LF` not preceded by `CR` is part of the line.
    fn read_next_line(&mut self) -> Result<AsciiString, ReadError> {
        let mut buf = Vec::new();

        loop {
            let available = self
                .next_header_source
                .fill_buf()
                .map_err(ReadError::ReadIoError)?;
            if available.is_empty() {
                return Err(ReadError::ReadIoError(IoError::new(
                    ErrorKind::ConnectionAborted,
                    "Unexpected EOF",
                )));
            }
            let (take, ends_with_lf) = match available.iter().position(|&b| b == b'\n') {
                Some(lf) => (lf + 1, true),
                None => (available.len(), false),
            };
            if take > self.head_bytes_left {
                // upstream failed on reading the first byte beyond the limit
                self.next_header_source.consume(self.head_bytes_left + 1);
                self.head_bytes_left = 0;
                return Err(ReadError::HeadTooLarge);
            }
            buf.extend_from_slice(&available[..take]);
            self.next_header_source.consume(take);
            self.head_bytes_left -= take;

            if ends_with_lf && buf.len() >= 2 && buf[buf.len() - 2] == b'\r' {
                buf.truncate(buf.len() - 2); // removing the '\r\n'
                return AsciiString::from_ascii(buf).map_err(|_| {
                    ReadError::ReadIoError(IoError::new(
                        ErrorKind::InvalidInput,
                        "Header is not in ASCII",
                    ))
                });
            }
        }
    }

    /// Reads a request from the stream.
    /// Blocks until the header has been read.
    fn read(&mut self) -> Result<Request, ReadError> {
        self.head_bytes_left = self.max_head_bytes;
        let (method, path, version, headers) = {
            // reading the request line
            let (method, path, version) = {
                let line = self.read_next_line()?;

                parse_request_line(
                    line.as_str().trim(), // TODO: remove this conversion
                )?
            };

            // getting all headers
            let headers = {
                let mut headers = Vec::new();
                loop {
                    let line = self.read_next_line()?;

                    if line.is_empty() {
                        break;
                    };
                    headers.push(match FromStr::from_str(line.as_str().trim()) {
                        // TODO: remove this conversion
                        Ok(h) => h,
                        _ => return Err(ReadError::WrongHeader(version)),
                    });
                }

                headers
            };

            (method, path, version, headers)
        };

        // building the writer for the request
        let writer = self.sink.next().unwrap();

        // follow-up for next potential request
        let mut data_source = self.source.next().unwrap();
        std::mem::swap(&mut self.next_header_source, &mut data_source);

        // building the next reader
        let request = crate::request::new_request(
            self.secure,
            method,
            path,
            version.clone(),
            headers,
            *self.remote_addr.as_ref().unwrap(),
            data_source,
            writer,
            // PATCH (request bodies)
            BodyOptions {
                max_buffered: self.max_buffered_body,
                control: self.control.clone(),
            },
        )
        .map_err(|e| {
            use crate::request;
            match e {
                request::RequestCreationError::CreationIoError(e) => ReadError::ReadIoError(e),
                request::RequestCreationError::ExpectationFailed => {
                    ReadError::ExpectationFailed(version)
                }
                request::RequestCreationError::AmbiguousFraming => {
                    ReadError::AmbiguousFraming(version)
                }
            }
        })?;

        // return the request
        Ok(request)
    }
}

impl Iterator for ClientConnection {
    type Item = Request;

    /// Blocks until the next Request is available.
    /// Returns None when no new Requests will come from the client.
    fn next(&mut self) -> Option<Request> {
        use crate::{Response, StatusCode};

        // PATCH (request bodies): first deal with what the previous request left on the
        // connection (its response is done by now)
        if self.request_out {
            self.request_out = false;
            if !self.settle_previous_request() {
                return None;
            }
        }

        // the client sent a "connection: close" header in this previous request
        //  or is using HTTP 1.0, meaning that no new request will come
        if self.no_more_requests {
            return None;
        }

        // PATCH: the `loop` around this is gone: its only `continue` (after a 505) now
        // closes the connection, see below
        let rq = match self.read() {
            Err(ReadError::WrongRequestLine) => {
                let writer = self.sink.next().unwrap();
                let response = Response::new_empty(StatusCode(400));
                response
                    .raw_print(writer, HTTPVersion(1, 1), &[], false, None)
                    .ok();
                return None; // we don't know where the next request would start,
                             // se we have to close
            }

            Err(ReadError::WrongHeader(ver)) => {
                let writer = self.sink.next().unwrap();
                let response = Response::new_empty(StatusCode(400));
                response.raw_print(writer, ver, &[], false, None).ok();
                return None; // we don't know where the next request would start,
                             // se we have to close
            }

            Err(ReadError::ReadIoError(ref err)) if err.kind() == ErrorKind::TimedOut => {
                // request timeout
                let writer = self.sink.next().unwrap();
                let response = Response::new_empty(StatusCode(408));
                response
                    .raw_print(writer, HTTPVersion(1, 1), &[], false, None)
                    .ok();
                return None; // closing the connection
            }

            Err(ReadError::ExpectationFailed(ver)) => {
                let writer = self.sink.next().unwrap();
                let response = Response::new_empty(StatusCode(417));
                response.raw_print(writer, ver, &[], true, None).ok();
                return None; // TODO: should be recoverable, but needs handling in case of body
            }

            Err(ReadError::HeadTooLarge) => {
                // PATCH (connection limits)
                let writer = self.sink.next().unwrap();
                let response = Response::new_empty(StatusCode(431));
                response
                    .raw_print(writer, HTTPVersion(1, 1), &[], false, None)
                    .ok();
                return None; // closing the connection
            }

            Err(ReadError::AmbiguousFraming(ver)) => {
                // PATCH (strict framing): RFC 9112 6.3: 400, then close. Where the
                // request ends is unknown, so nothing after its head is read as a request;
                // the client may still be sending it: lingering close (see `close()`).
                let writer = self.sink.next().unwrap();
                let response = Response::new_empty(StatusCode(400)).with_connection_close();
                response.raw_print(writer, ver, &[], false, None).ok();
                self.linger = true;
                return None;
            }

            Err(ReadError::ReadIoError(_)) => return None,

            Ok(rq) => rq,
        };

        // checking HTTP version
        if *rq.http_version() > (1, 1) {
            // PATCH: upstream wrote this through a new writer while `rq`, whose writer
            // comes first, was still alive: the write waited for `rq` forever, and the
            // connection's thread hung for good (with the connection limits, its slot
            // was never freed either). Write it through `rq`'s own writer, and close
            // the connection (`rq`'s body, if any, was not read).
            let writer = rq.into_writer();
            let response = Response::from_string(
                "This server only supports HTTP versions 1.0 and 1.1".to_owned(),
            )
            .with_status_code(StatusCode(505));
            response
                .raw_print(writer, HTTPVersion(1, 1), &[], false, None)
                .ok();
            self.request_out = true;
            self.no_more_requests = true;
            return None;
        }

        // updating the status of the connection
        let connection_header = rq
            .headers()
            .iter()
            .find(|h| h.field.equiv("Connection"))
            .map(|h| h.value.as_str());

        let lowercase = connection_header.map(|h| h.to_ascii_lowercase());

        match lowercase {
            Some(ref val) if val.contains("close") => self.no_more_requests = true,
            Some(ref val) if val.contains("upgrade") => self.no_more_requests = true,
            Some(ref val)
                if !val.contains("keep-alive") && *rq.http_version() == HTTPVersion(1, 0) =>
            {
                self.no_more_requests = true
            }
            None if *rq.http_version() == HTTPVersion(1, 0) => self.no_more_requests = true,
            _ => (),
        };

        // returning the request
        self.request_out = true; // PATCH (request bodies)
        Some(rq)
    }
}

/// Parses a "HTTP/1.1" string.
fn parse_http_version(version: &str) -> Result<HTTPVersion, ReadError> {
    let (major, minor) = match version {
        "HTTP/0.9" => (0, 9),
        "HTTP/1.0" => (1, 0),
        "HTTP/1.1" => (1, 1),
        "HTTP/2.0" => (2, 0),
        "HTTP/3.0" => (3, 0),
        _ => return Err(ReadError::WrongRequestLine),
    };

    Ok(HTTPVersion(major, minor))
}

/// Parses the request line of the request.
/// eg. GET / HTTP/1.1
fn parse_request_line(line: &str) -> Result<(Method, String, HTTPVersion), ReadError> {
    let mut parts = line.split(' ');

    let method = parts.next().and_then(|w| w.parse().ok());
    let path = parts.next().map(ToOwned::to_owned);
    let version = parts.next().and_then(|w| parse_http_version(w).ok());

    method
        .and_then(|method| Some((method, path?, version?)))
        .ok_or(ReadError::WrongRequestLine)
}

#[cfg(test)]
mod test {
    #[test]
    fn test_parse_request_line() {
        let (method, path, ver) = super::parse_request_line("GET /hello HTTP/1.1").unwrap();

        assert!(method == crate::Method::Get);
        assert!(path == "/hello");
        assert!(ver == crate::common::HTTPVersion(1, 1));

        assert!(super::parse_request_line("GET /hello").is_err());
        assert!(super::parse_request_line("qsd qsd qsd").is_err());
    }
}
