//! A local HTTP server for probe tests and benchmarks: answers `GET /api`
//! like the demo app (color, count, greeting, pod, textColor, userAgent),
//! picking the color at random by the configured weights. The color
//! `denied` answers 403 with Istio's text body `RBAC: access denied`.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// How the server answers; change it while it runs.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// (color, weight) pairs; weights need not sum to 1.
    pub weights: Vec<(String, f64)>,
    pub status: u16,
    pub delay: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            weights: vec![("blue".into(), 1.0)],
            status: 200,
            delay: Duration::ZERO,
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub behaviour: Arc<Mutex<Behaviour>>,
    pub count: Arc<AtomicU64>,
}

impl Server {
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}/api", self.addr)
    }

    pub fn set(&self, b: Behaviour) {
        *self.behaviour.lock().unwrap() = b;
    }
}

fn answer(b: &Behaviour, count: u64, ua: &str) -> (u16, String) {
    use rand::Rng as _;
    let total: f64 = b.weights.iter().map(|(_, w)| w).sum();
    let mut u = rand::rng().random_range(0.0..total.max(f64::MIN_POSITIVE));
    let mut color = b.weights.last().map(|(c, _)| c.clone()).unwrap_or_default();
    for (c, w) in &b.weights {
        if u < *w {
            color = c.clone();
            break;
        }
        u -= w;
    }
    let (greeting, text, pod) = match color.as_str() {
        "green" => ("Bonjour 👋🏽", "whitesmoke", "green-7f9c4d-x2x"),
        "yellow" => ("Hola ✋🏽", "black", "vm-192.168.1.10"),
        _ => ("Namaste 🙏🏽", "whitesmoke", "blue-5d8f7b-q8z"),
    };
    if color == "denied" {
        return (403, "RBAC: access denied".to_owned());
    }
    let body = serde_json::json!({
        "color": color, "count": count, "greeting": greeting, "pod": pod, "textColor": text, "userAgent": ua
    });
    (b.status, body.to_string())
}

/// Starts the server on 127.0.0.1 (optionally with TLS); it runs until the runtime ends.
pub async fn start(behaviour: Behaviour, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let behaviour = Arc::new(Mutex::new(behaviour));
    let count = Arc::new(AtomicU64::new(0));
    let (b2, c2) = (behaviour.clone(), count.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (b, c) = (b2.clone(), c2.clone());
            let tls = tls.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let b = b.lock().unwrap().clone();
                    let n = c.fetch_add(1, Ordering::Relaxed) + 1;
                    let ua = req
                        .headers()
                        .get("user-agent")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    async move {
                        if !b.delay.is_zero() {
                            tokio::time::sleep(b.delay).await;
                        }
                        let (status, body) = answer(&b, n, &ua);
                        let ctype = if body.starts_with('{') {
                            "application/json"
                        } else {
                            "text/plain"
                        };
                        Ok::<_, Infallible>(
                            Response::builder()
                                .status(status)
                                .header("content-type", ctype)
                                .header("set-cookie", "session=very-secret-cookie")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap(),
                        )
                    }
                });
                let builder = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(acc) => {
                        if let Ok(s) = acc.accept(stream).await {
                            let _ = builder.serve_connection(TokioIo::new(s), svc).await;
                        }
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                    }
                }
            });
        }
    });
    Server {
        addr,
        behaviour,
        count,
    }
}

/// A TLS acceptor with a certificate signed by a fresh CA; returns the CA PEM.
pub fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    scenario::install_crypto_provider();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let der_key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der_key)
        .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca.pem())
}
