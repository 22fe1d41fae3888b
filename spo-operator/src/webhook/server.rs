//! The webhook's TLS server (ARCH-06): rustls (ring), HTTP/1.1 only (ALPN `http/1.1`, no
//! HTTP/2), a minimum TLS version of 1.2 or 1.3, and the certificate re-read from its files
//! whenever they change (checked on each handshake by modification time). Serves `/convert`.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio_rustls::rustls;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

/// Flags of `spo-operator webhook`.
#[derive(Debug, Clone, clap::Args)]
pub struct WebhookOptions {
    /// Port to listen on (ARCH-06).
    #[arg(short = 'p', long, default_value_t = 9443)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: String,
    /// Serving certificate (PEM).
    #[arg(long, default_value = "/tmp/k8s-webhook-server/serving-certs/tls.crt")]
    pub tls_cert_file: PathBuf,
    /// Its private key (PEM).
    #[arg(long, default_value = "/tmp/k8s-webhook-server/serving-certs/tls.key")]
    pub tls_key_file: PathBuf,
    /// Minimum TLS version: `1.2` or `1.3` (ARCH-06).
    #[arg(long, default_value = "1.2", value_parser = ["1.2", "1.3"])]
    pub tls_min_version: String,
}

/// Why the server could not start or load its certificate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The PEM held no usable certificate or key.
    #[error("{path}: {what}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// Binding failed.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
}

fn load(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, Error> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| Error::Read {
            path: p.into(),
            source,
        })
    };
    let certs: Vec<_> = rustls_pemfile::certs(&mut read(cert)?.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Pem {
            path: cert.into(),
            what: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(Error::Pem {
            path: cert.into(),
            what: "no certificate".into(),
        });
    }
    let key_der = rustls_pemfile::private_key(&mut read(key)?.as_slice())
        .map_err(|e| Error::Pem {
            path: key.into(),
            what: e.to_string(),
        })?
        .ok_or_else(|| Error::Pem {
            path: key.into(),
            what: "no private key".into(),
        })?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider.key_provider.load_private_key(key_der)?;
    Ok(Arc::new(CertifiedKey::new(certs, signing)))
}

fn mtimes(cert: &Path, key: &Path) -> Stamp {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some((m(cert)?, m(key)?))
}

/// Modification times of the certificate and key files.
type Stamp = Option<(SystemTime, SystemTime)>;

/// Serves the certificate, reloading it when its files change (ARCH-06).
#[derive(Debug)]
pub struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    state: Mutex<(Stamp, Arc<CertifiedKey>)>,
}

impl ReloadingCert {
    /// Loads the pair once; fails when it is unusable.
    pub fn new(cert: PathBuf, key: PathBuf) -> Result<Self, Error> {
        let ck = load(&cert, &key)?;
        let stamp = mtimes(&cert, &key);
        Ok(Self {
            cert,
            key,
            state: Mutex::new((stamp, ck)),
        })
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut st = self.state.lock().ok()?;
        let now = mtimes(&self.cert, &self.key);
        if now.is_some() && now != st.0 {
            match load(&self.cert, &self.key) {
                Ok(ck) => {
                    tracing::info!(cert = %self.cert.display(), "serving certificate reloaded");
                    *st = (now, ck);
                }
                // A half-written pair: keep serving the old one until the files settle.
                Err(e) => tracing::warn!(error = %e, "cannot reload the serving certificate"),
            }
        }
        Some(st.1.clone())
    }
}

/// The rustls configuration: HTTP/1.1 only, the minimum version, a reloading certificate.
pub fn tls_config(opts: &WebhookOptions) -> Result<rustls::ServerConfig, Error> {
    let versions: &[&rustls::SupportedProtocolVersion] = if opts.tls_min_version == "1.3" {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(ReloadingCert::new(
            opts.tls_cert_file.clone(),
            opts.tls_key_file.clone(),
        )?));
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

fn respond(code: u16, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::OK);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

async fn handle(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != "/convert" {
        return Ok(respond(404, "{\"error\":\"not found\"}".into()));
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Ok(respond(
                400,
                serde_json::json!({"error": e.to_string()}).to_string(),
            ))
        }
    };
    let review: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Ok(respond(
                400,
                serde_json::json!({"error": format!("ConversionReview: {e}")}).to_string(),
            ))
        }
    };
    Ok(respond(200, super::convert::review(&review).to_string()))
}

/// Serves until the process ends.
pub async fn run(opts: WebhookOptions) -> anyhow::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(&opts)?));
    let addr = format!("{}:{}", opts.bind, opts.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| Error::Bind {
            addr: addr.clone(),
            source,
        })?;
    tracing::info!(%addr, min_tls = %opts.tls_min_version, "webhook serving /convert");
    loop {
        let (tcp, _) = listener.accept().await?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), hyper::service::service_fn(handle))
                .await;
        });
    }
}
