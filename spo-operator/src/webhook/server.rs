//! The webhook's TLS server (ARCH-06): rustls (ring), HTTP/1.1 only (ALPN `http/1.1`, no
//! HTTP/2), a minimum TLS version of 1.2 or 1.3, and the certificate re-read from its files
//! whenever they change (checked on each handshake by modification time). Serves `/convert`,
//! the admission webhooks (`/validate-profile`, `/validate-rawselinuxprofile`,
//! `/mutate-v1-pod-binding`, `/mutate-v1-pod-recording`, `/mutate-v1-exec-metadata`), request
//! metrics at `/metrics` and `/healthz`. SIGTERM/SIGINT stop accepting and let in-flight reviews
//! finish (up to 10 s).

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

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::admission::{parse_review, review_response, AdmissionResponse};
use super::state::{PodWebhookOptions, State};

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
    /// Longest wait, in milliseconds, for a bound profile whose status is still empty; kept
    /// under the webhooks' 10 s timeout so a slow profile cannot stall pod creation.
    #[arg(long, default_value_t = 4000)]
    pub profile_wait_ms: u64,
    /// Serve only conversion, validation and exec metadata (no cluster access needed).
    #[arg(long)]
    pub no_pod_webhooks: bool,
    /// Print the webhook configurations for this base URL (e.g. `https://127.0.0.1:9443`)
    /// as a JSON `List` for `kubectl apply -f -` and exit; needs `--ca-file`.
    #[arg(long, requires = "ca_file")]
    pub print_configurations: Option<String>,
    /// CA certificate (PEM) for the printed configurations' `caBundle`.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Include the exec metadata webhooks in the printed configurations (OP-24).
    #[arg(long)]
    pub with_exec_metadata: bool,
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

/// Labels of the review counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReviewLabels {
    path: String,
    allowed: String,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PathLabels {
    path: String,
}

/// Request metrics of the webhook.
struct Metrics {
    registry: Registry,
    reviews: Family<ReviewLabels, Counter>,
    seconds: Family<PathLabels, Histogram>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let reviews = Family::<ReviewLabels, Counter>::default();
        let seconds = Family::<PathLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
            ])
        });
        registry.register(
            "spo_webhook_reviews",
            "Admission and conversion reviews by path and outcome",
            reviews.clone(),
        );
        registry.register(
            "spo_webhook_review_duration_seconds",
            "Time to handle a review inside the server",
            seconds.clone(),
        );
        Self {
            registry,
            reviews,
            seconds,
        }
    }
}

/// What the handlers share.
struct Served {
    state: tokio::sync::OnceCell<Arc<State>>,
    metrics: Metrics,
}

async fn admission(served: &Served, path: &str, body: &[u8]) -> (u16, String, bool) {
    let (api, req) = match parse_review(body) {
        Ok(x) => x,
        Err(e) => {
            return (
                400,
                serde_json::json!({"error": e.to_string()}).to_string(),
                false,
            )
        }
    };
    let resp = match path {
        "/validate-profile" | "/validate-rawselinuxprofile" => super::validate::review(&req),
        "/mutate-v1-exec-metadata" => super::execmeta::review(&req),
        _ => match served.state.get() {
            None => AdmissionResponse::deny(500, "webhook caches not ready (or no cluster access)"),
            Some(st) if path == "/mutate-v1-pod-binding" => st.binding(&req).await,
            Some(st) => st.recording(&req).await,
        },
    };
    if !resp.allowed {
        tracing::info!(path, uid = %req.uid, message = %resp.message, "refused");
    }
    let allowed = resp.allowed;
    (
        200,
        review_response(&api, &req.uid, &resp).to_string(),
        allowed,
    )
}

async fn handle(
    served: Arc<Served>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let start = std::time::Instant::now();
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/healthz" => return Ok(respond(200, "{\"status\":\"ok\"}".into())),
        "/metrics" => {
            let mut out = String::new();
            let _ = prometheus_client::encoding::text::encode(&mut out, &served.metrics.registry);
            return Ok(respond(200, out));
        }
        "/convert"
        | "/validate-profile"
        | "/validate-rawselinuxprofile"
        | "/mutate-v1-exec-metadata"
        | "/mutate-v1-pod-binding"
        | "/mutate-v1-pod-recording" => {}
        _ => return Ok(respond(404, "{\"error\":\"not found\"}".into())),
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
    let (code, text, allowed) = if path == "/convert" {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(review) => (200, super::convert::review(&review).to_string(), true),
            Err(e) => (
                400,
                serde_json::json!({"error": format!("ConversionReview: {e}")}).to_string(),
                false,
            ),
        }
    } else {
        admission(&served, &path, &body).await
    };
    served
        .metrics
        .reviews
        .get_or_create(&ReviewLabels {
            path: path.clone(),
            allowed: allowed.to_string(),
        })
        .inc();
    served
        .metrics
        .seconds
        .get_or_create(&PathLabels { path })
        .observe(start.elapsed().as_secs_f64());
    Ok(respond(code, text))
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}

/// Serves until SIGTERM/SIGINT, then finishes in-flight reviews (at most 10 s).
pub async fn run(opts: WebhookOptions) -> crate::Result<()> {
    if let (Some(url), Some(ca)) = (&opts.print_configurations, &opts.ca_file) {
        use base64::Engine as _;
        let pem = std::fs::read(ca).map_err(|source| Error::Read {
            path: ca.clone(),
            source,
        })?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        let list = super::config::configurations(url, &b64, opts.with_exec_metadata);
        println!("{list:#}");
        return Ok(());
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(&opts)?));
    let addr = format!("{}:{}", opts.bind, opts.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| Error::Bind {
            addr: addr.clone(),
            source,
        })?;
    let served = Arc::new(Served {
        state: tokio::sync::OnceCell::new(),
        metrics: Metrics::new(),
    });
    if !opts.no_pod_webhooks {
        let served = served.clone();
        let wait = std::time::Duration::from_millis(opts.profile_wait_ms);
        tokio::spawn(async move {
            match kube::Client::try_default().await {
                Ok(client) => {
                    let st = State::start(client, PodWebhookOptions { profile_wait: wait }).await;
                    let _ = served.state.set(Arc::new(st));
                    tracing::info!("pod webhooks ready");
                }
                Err(e) => tracing::error!(error = %e, "no cluster access: pod webhooks refuse"),
            }
        });
    }
    tracing::info!(%addr, min_tls = %opts.tls_min_version, "webhook serving");
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => r?,
            _ = &mut stop => break,
        };
        let acceptor = acceptor.clone();
        let served = served.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = hyper::service::service_fn(move |r| handle(served.clone(), r));
            let conn =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), svc);
            let _ = watcher.watch(conn).await;
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight reviews");
    if tokio::time::timeout(std::time::Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight reviews still running after 10 s");
    }
    Ok(())
}
