//! The least a server must do for one Nostr sign-in on this machine, to
//! measure hostr against: the same two HTTP exchanges on a keep-alive
//! loopback connection, answered by one blocking thread per connection, with
//! the same event check (id and BIP-340 signature, through the nostr crate)
//! and nothing else: no limits, no sessions, no customer lookup, no log, no
//! security headers. Not a server for anything but this measurement.

use nostr::prelude::Event;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// Listens on 127.0.0.1, says where on stderr (in the line the generator
/// looks for), and serves until the process ends.
pub fn serve() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    eprintln!("floor listening on {} ", listener.local_addr()?);
    eprintln!("floor lookup tables ready (none)");
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || answer_requests(stream));
    }
    Ok(())
}

fn answer_requests(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    let mut challenges = 0u64;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let is_challenge = line.starts_with("GET /api/challenge ");
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let (status, answer) = if is_challenge {
            challenges += 1;
            let random = getrandom::u64().map_err(std::io::Error::other)?;
            ("200 OK", format!(r#"{{"challenge":"{random:016x}{challenges:016x}"}}"#))
        } else {
            verify(&body)
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        writer.write_all(response.as_bytes())?;
    }
}

fn verify(body: &[u8]) -> (&'static str, String) {
    #[derive(serde::Deserialize)]
    struct Body {
        event: Event,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(Body { event }) if event.verify_id() && event.verify_signature() => {
            ("200 OK", format!(r#"{{"publicKey":"{}"}}"#, event.pubkey.to_hex()))
        }
        _ => ("401 Unauthorized", r#"{"error":"bad event"}"#.to_owned()),
    }
}
