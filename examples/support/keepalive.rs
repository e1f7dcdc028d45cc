//! A minimal HTTP/1.1 client on one keep-alive connection, for the load
//! generators: just enough to send a request and read one response.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// Sends one request (with `headers`, each ending in `\r\n`) and reads its
/// response; returns the status and the body.
pub fn exchange(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Result<(u16, Vec<u8>), String> {
    let content = if body.is_empty() {
        String::new()
    } else {
        format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len())
    };
    // One write, as browsers send a request: written piece by piece, a
    // request would reach the server in several packets.
    let request = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n{headers}{content}\r\n{body}");
    writer.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(format!("bad status line {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().map_err(|_| "bad content-length")?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok((status, body))
}
