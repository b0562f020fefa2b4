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

    /// Resolves once at least `n` signals have arrived.
    pub async fn reached(&self, n: u8) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|c| *c >= n).await;
    }
}
