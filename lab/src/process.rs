//! Starting, watching and stopping the lab's processes.

use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::state::{Component, LabError, io};

pub(crate) fn free_ports(n: usize) -> Result<Vec<u16>, LabError> {
    // Hold every listener until all ports are chosen, so they are distinct.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(io("cannot find a free port on 127.0.0.1"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()
        .map_err(io("cannot read a local port"))
}

/// True when something accepts connections on 127.0.0.1:port.
#[must_use]
pub fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// True when the process runs (not a zombie) and its command line mentions `marker`.
#[must_use]
pub fn alive(pid: u32, marker: &Path) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name.
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next());
    if matches!(state, Some("Z" | "X")) {
        return false;
    }
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    // Between fork and exec the command line can be empty for a moment.
    if cmdline.is_empty() {
        return true;
    }
    let marker = marker.to_string_lossy();
    String::from_utf8_lossy(&cmdline).contains(marker.as_ref())
}

pub(crate) fn spawn(
    name: &str,
    bin: &Path,
    args: &[String],
    log: &Path,
    port: u16,
) -> Result<Component, LabError> {
    let f = fs::File::create(log).map_err(io(format!("cannot create {}", log.display())))?;
    let f2 = f
        .try_clone()
        .map_err(io("cannot duplicate a log file handle"))?;
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(f)
        .stderr(f2)
        .process_group(0);
    // SAFETY: only async-signal-safe calls (signal, sigprocmask) between fork and exec.
    // A parent that ignores or blocks signals (shells, make, CI runners) would
    // otherwise pass that on, and the component would not stop on SIGTERM.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT] {
                libc::signal(sig, libc::SIG_DFL);
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &raw const set, std::ptr::null_mut());
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(io(format!("cannot start {}", bin.display())))?;
    let pid = child.id();
    // Reap the process when it ends, so a stopped component never lingers as a zombie.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(Component {
        name: name.to_owned(),
        pid,
        log: log.to_path_buf(),
        port,
    })
}

/// Last lines of a log file, for crash reports.
#[must_use]
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub(crate) fn random_token() -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| format!("{:x}", rng.random_range(0..16u8)))
        .collect()
}

pub(crate) fn kill(pid: u32, sig: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a pid we started and checked is alive; no memory is touched.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}
