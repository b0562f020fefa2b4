//! Why a request to an API server failed, and whether trying again may help.

/// Why a cluster operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig or context is unusable.
    #[error("{0}")]
    Config(String),
    /// The API server cannot be reached (after retries).
    #[error("{0}")]
    Unreachable(String),
    /// RBAC said no.
    #[error("{0}")]
    Forbidden(String),
    /// No such kind on the cluster.
    #[error("{0}")]
    UnknownKind(String),
    /// The API server refused the request (invalid object, conflict, ...).
    #[error("{0}")]
    Api(String),
    /// The step's time ran out.
    #[error("{0}")]
    Timeout(String),
}

/// Classifies a kube error.
#[must_use]
pub fn classify(cluster: &str, e: &kube::Error) -> ClusterError {
    match e {
        kube::Error::Api(s) => match s.code {
            403 => ClusterError::Forbidden(format!("forbidden by RBAC: {}", s.message)),
            404 => ClusterError::UnknownKind(format!("not found: {}", s.message)),
            409 => ClusterError::Api(format!("conflict: {}", s.message)),
            422 => ClusterError::Api(format!("invalid object: {}", s.message)),
            _ => ClusterError::Api(format!("{} ({})", s.message, s.code)),
        },
        kube::Error::Discovery(d) => ClusterError::UnknownKind(format!("discovery: {d}")),
        other => ClusterError::Unreachable(format!(
            "cannot reach the API server of `{cluster}`: {}",
            short(other)
        )),
    }
}

fn short(e: &kube::Error) -> String {
    crate::language::diag::error_chain(e)
}

/// Whether an error is worth retrying: connection problems, throttling, server errors.
#[must_use]
pub fn transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => {
            (matches!(s.code, 429 | 500 | 502 | 503 | 504) && !s.message.contains("typed patch"))
                || s.message.contains("etcdserver: leader changed")
                || s.message.contains("etcdserver: request timed out")
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_) => true,
        _ => false,
    }
}
