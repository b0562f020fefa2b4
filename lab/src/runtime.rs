//! Async plumbing for blocking callers: one TLS provider, one way to block on a future.

/// Installs the process-wide TLS provider (ring) once. kube uses rustls with
/// ring; reqwest is built without a provider of its own, so both share this one.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Runs a future to completion from synchronous code, on a runtime of its
/// own (on a separate thread when called from inside a runtime).
///
/// # Panics
/// Only if a Tokio runtime cannot be built (out of threads or memory).
pub fn block_on<F>(f: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    let run = move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build a Tokio runtime")
            .block_on(f)
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| s.spawn(run).join().expect("runtime thread"))
    } else {
        run()
    }
}
