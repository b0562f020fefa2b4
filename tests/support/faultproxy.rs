//! A fault-injecting TCP proxy for tests: it sits between scenario and an
//! API server (TLS passes through untouched) and, per mode, passes
//! connections, resets them, stalls them, drops a fraction of them, or flaps
//! up and down. `kill` cuts every open connection at once (an API server
//! that dies mid-request). Plain threads, no runtime: it works under any test.

#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::prng;

/// What the proxy does with a new connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Forward to the upstream.
    Pass,
    /// Reset at once (TCP RST, as a crashed server's port after a restart).
    Reset,
    /// Accept and never answer nor close.
    Stall,
    /// Reset this fraction of connections (0..1, seeded), pass the rest.
    Drop(f64),
    /// Down (new connections reset, open ones cut) for `down`, then up for `up`, and
    /// again, timed from the first connection. Down first: a client fast enough to
    /// finish inside one up phase would otherwise see no fault at all, and a test of
    /// getting through faults would pass without any.
    Flap { up: Duration, down: Duration },
}

struct Shared {
    mode: Mutex<Mode>,
    stop: AtomicBool,
    /// Open forwarded connections (client side), cut by `kill` and by a flap going down.
    open: Mutex<Vec<TcpStream>>,
    /// Held stalled connections.
    stalled: Mutex<Vec<TcpStream>>,
    accepted: AtomicUsize,
    faulted: AtomicUsize,
    rng: Mutex<prng::SplitMix64>,
    /// A flap's clock: set at the first connection, so that connection always
    /// meets a down phase however long the client took to start.
    started: std::sync::OnceLock<Instant>,
}

/// A running proxy; stopped (and every connection closed) on drop.
pub struct Proxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` per `mode`.
    pub fn start(upstream: SocketAddr, mode: Mode) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            mode: Mutex::new(mode),
            stop: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
            stalled: Mutex::new(Vec::new()),
            accepted: AtomicUsize::new(0),
            faulted: AtomicUsize::new(0),
            rng: Mutex::new(prng::SplitMix64(0x5EED)),
            started: std::sync::OnceLock::new(),
        });
        let s = shared.clone();
        std::thread::spawn(move || accept_loop(&listener, upstream, &s));
        let s = shared.clone();
        std::thread::spawn(move || flap_watch(&s));
        Proxy { addr, shared }
    }

    /// `https://127.0.0.1:PORT` (TLS passes through to the upstream).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// Cuts every open connection (forwarded and stalled) now.
    pub fn kill(&self) {
        cut_all(&self.shared);
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections reset, dropped, stalled or cut so far.
    pub fn faulted(&self) -> usize {
        self.shared.faulted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        cut_all(&self.shared);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

fn cut_all(s: &Shared) {
    for c in s.open.lock().unwrap().drain(..) {
        // A connection still open when cut is a fault the client sees.
        if c.peer_addr().is_ok() {
            s.faulted.fetch_add(1, Ordering::SeqCst);
        }
        reset(&c);
    }
    for c in s.stalled.lock().unwrap().drain(..) {
        reset(&c);
    }
}

/// Closes with RST (SO_LINGER 0), not FIN: the peer sees "connection reset".
fn reset(c: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            c.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    let _ = c.shutdown(Shutdown::Both);
}

fn is_down(s: &Shared) -> bool {
    match *s.mode.lock().unwrap() {
        Mode::Flap { up, down } => {
            let Some(started) = s.started.get() else {
                return false;
            };
            let period = (up + down).as_millis().max(1);
            started.elapsed().as_millis() % period < down.as_millis()
        }
        Mode::Reset => true,
        _ => false,
    }
}

/// A flap going down cuts the open connections, as a server that goes away.
fn flap_watch(s: &Shared) {
    let mut was_down = false;
    while !s.stop.load(Ordering::SeqCst) {
        let down = is_down(s);
        if down && !was_down {
            cut_all(s);
        }
        was_down = down;
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn accept_loop(listener: &TcpListener, upstream: SocketAddr, s: &Arc<Shared>) {
    for conn in listener.incoming() {
        if s.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = conn else { continue };
        s.started.get_or_init(Instant::now);
        s.accepted.fetch_add(1, Ordering::SeqCst);
        let mode = *s.mode.lock().unwrap();
        let fault = match mode {
            Mode::Pass => None,
            Mode::Reset => Some(Mode::Reset),
            Mode::Stall => Some(Mode::Stall),
            Mode::Drop(p) => (s.rng.lock().unwrap().next_f64() < p).then_some(Mode::Reset),
            Mode::Flap { .. } => is_down(s).then_some(Mode::Reset),
        };
        match fault {
            Some(Mode::Stall) => {
                s.faulted.fetch_add(1, Ordering::SeqCst);
                s.stalled.lock().unwrap().push(client);
            }
            Some(_) => {
                s.faulted.fetch_add(1, Ordering::SeqCst);
                reset(&client);
            }
            None => {
                let s = s.clone();
                std::thread::spawn(move || forward(client, upstream, &s));
            }
        }
    }
}

fn forward(client: TcpStream, upstream: SocketAddr, s: &Shared) {
    let Ok(server) = TcpStream::connect(upstream) else {
        reset(&client);
        return;
    };
    if let Ok(c) = client.try_clone() {
        s.open.lock().unwrap().push(c);
    }
    let (Ok(mut c_read), Ok(mut s_write)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        pump(&mut c_read, &mut s_write);
    });
    let (mut s_read, mut c_write) = (server, client);
    pump(&mut s_read, &mut c_write);
    let _ = up.join();
}

/// Copies until either side closes, then closes both directions.
fn pump(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
