//! Process-wide set-up shared by the cluster client and the probe's HTTP client.

/// Installs the TLS provider (ring) once. kube uses rustls with ring; reqwest
/// is built without a provider of its own, so both share this one.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
