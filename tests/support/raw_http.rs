//! A raw HTTP/1.1 server for hostile answers: it writes exactly what a test
//! scripts, per request (bodies that never end, huge bodies, answers that
//! never come, control characters). One thread per connection; every answer
//! closes its connection, so each request is scripted on its own.

#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What the server does with request number `n` (0-based).
#[derive(Debug, Clone)]
pub enum Reply {
    /// A whole answer: status, content type, body.
    Full(u16, &'static str, Vec<u8>),
    /// A 200 with a `Content-Length` of `n` bytes, written in 64 KiB chunks.
    Sized(u64),
    /// A 200 with no length whose body never ends.
    Endless,
    /// Headers and then nothing, for ever.
    StallBody,
    /// Nothing at all, for ever (the request is read).
    Hang,
}

pub struct RawServer {
    pub addr: SocketAddr,
    /// Requests seen.
    pub count: Arc<AtomicU64>,
}

impl RawServer {
    pub fn url(&self) -> String {
        format!("http://{}/api", self.addr)
    }
}

/// A JSON answer with status 200.
pub fn json(body: &str) -> Reply {
    Reply::Full(200, "application/json", body.as_bytes().to_vec())
}

/// Starts a server that answers request `n` with `script(n)`.
pub fn serve(script: impl Fn(u64) -> Reply + Send + Sync + 'static) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicU64::new(0));
    let script = Arc::new(script);
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let script = script.clone();
            let seen = seen.clone();
            std::thread::spawn(move || {
                let _ = handle(stream, &*script, &seen);
            });
        }
    });
    RawServer { addr, count }
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut byte)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&byte[..n]);
    }
    Ok(())
}

fn handle(
    mut stream: TcpStream,
    script: &(dyn Fn(u64) -> Reply + Send + Sync),
    seen: &AtomicU64,
) -> std::io::Result<()> {
    read_request(&mut stream)?;
    let n = seen.fetch_add(1, Ordering::SeqCst);
    match script(n) {
        Reply::Full(status, ctype, body) => {
            write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)?;
        }
        Reply::Sized(len) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
            )?;
            let chunk = vec![b'x'; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let k = left.min(chunk.len() as u64) as usize;
                stream.write_all(&chunk[..k])?;
                left -= k as u64;
            }
        }
        Reply::Endless => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n"
            )?;
            let chunk = vec![b'y'; 64 * 1024];
            loop {
                stream.write_all(&chunk)?;
            }
        }
        Reply::StallBody => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{{"
            )?;
            std::thread::sleep(Duration::from_secs(3600));
        }
        Reply::Hang => std::thread::sleep(Duration::from_secs(3600)),
    }
    Ok(())
}
