//! `lab status`: which components run, and the tail of the logs of those that do not.

use std::fmt::Write as _;

use crate::process::{alive, log_tail};
use crate::state::{Component, LabState};
use crate::up::{indent, ready};

/// One line per component: running or not (with log tail when not).
#[must_use]
pub fn status_text(state: &LabState) -> (String, bool) {
    let mut out = String::new();
    let mut healthy = true;
    let mut line = |c: &Component, extra: &str| {
        let up = alive(c.pid, &state.dir);
        healthy &= up;
        let _ = writeln!(
            out,
            "  {:<40} pid {:<8} {}{extra}",
            c.name,
            c.pid,
            if up { "running" } else { "NOT RUNNING" }
        );
        if !up {
            let _ = writeln!(out, "{}", indent(&log_tail(&c.log, 10)));
        }
    };
    line(&state.etcd, &format!("  127.0.0.1:{}", state.etcd.port));
    for c in &state.clusters {
        let r = if alive(c.apiserver.pid, &state.dir) && ready(state, c) {
            "  ready"
        } else {
            ""
        };
        line(&c.apiserver, &format!("  {}{r}", c.server));
        if let Some(k) = &c.controller_manager {
            line(k, "");
        }
    }
    (out, healthy)
}
