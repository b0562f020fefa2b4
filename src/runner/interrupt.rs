//! Interrupts: SIGINT/SIGTERM as a count the executor watches.

/// Ctrl-C / SIGTERM: the first cancels the current step and skips the rest
/// (`finally` still runs); the second skips `finally` too.
#[derive(Debug, Clone)]
pub struct Interrupt(pub tokio::sync::watch::Receiver<u8>);

impl Interrupt {
    /// An interrupt that never fires.
    #[must_use]
    pub fn never() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(0);
        std::mem::forget(tx);
        Interrupt(rx)
    }

    #[must_use]
    pub fn count(&self) -> u8 {
        *self.0.borrow()
    }

    /// Installs the SIGINT/SIGTERM handlers on `rt` (at once, not on first
    /// poll) and returns the count the executor watches.
    #[must_use]
    pub fn listen(rt: &tokio::runtime::Runtime) -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let (tx, rx) = tokio::sync::watch::channel(0u8);
        let _guard = rt.enter();
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            crate::errln!(
                "warning: cannot catch SIGINT/SIGTERM: they will end the run without reports"
            );
            return Interrupt(rx);
        };
        rt.spawn(async move {
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                let n = tx.borrow().saturating_add(1);
                crate::errln!(
                    "\n{}",
                    if n == 1 {
                        "interrupted: stopping the current step, running `finally` (again to skip it)"
                    } else {
                        "interrupted again: skipping `finally`"
                    }
                );
                let _ = tx.send(n);
            }
        });
        Interrupt(rx)
    }

    /// Resolves once at least `n` signals have arrived.
    pub async fn reached(&self, n: u8) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|c| *c >= n).await;
    }
}
