//! Serving `/metrics` and `/metrics-spod` as upstream does (ARCH-11, OP-37): TLS on 9443 with
//! Kubernetes authentication and authorisation — the bearer token goes through a TokenReview,
//! the user through a SubjectAccessReview for `get` on the non-resource URL (ClusterRole
//! `spo-metrics-client` grants it) — or plain HTTP without auth in insecure mode (OP-16).
//! The certificate files are re-read when they change, so a renewed `metrics-server-cert`
//! is served without a restart. Health endpoints (`/healthz`, `/readyz`) need no auth.
//!
//! The decision is a pure function ([`decide`]); the reviews are the thin part.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use kube::Client;
use tokio_rustls::rustls;

/// What a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Serve it.
    Allow,
    /// 401: no or invalid credentials.
    Unauthenticated,
    /// 403: authenticated, not allowed.
    Forbidden,
}

/// The decision from the two reviews: `authenticated` is the TokenReview's answer (`None`
/// when the request carried no bearer token), `allowed` the SubjectAccessReview's.
pub fn decide(authenticated: Option<bool>, allowed: bool) -> Decision {
    match authenticated {
        None | Some(false) => Decision::Unauthenticated,
        Some(true) if allowed => Decision::Allow,
        Some(true) => Decision::Forbidden,
    }
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let (scheme, token) = h.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// (token, path) → decision and when it was made.
type DecisionCache = HashMap<(String, String), (Decision, Instant)>;

/// Kubernetes authn/authz with a short cache (Prometheus scrapes every 10 s).
#[derive(Clone)]
pub struct KubeAuth {
    client: Client,
    cache: Arc<Mutex<DecisionCache>>,
}

impl KubeAuth {
    /// Reviews against the API server `client` talks to.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            cache: Arc::default(),
        }
    }

    /// Decides a request for `path` with `token`.
    pub async fn check(&self, token: Option<&str>, path: &str) -> Decision {
        let Some(token) = token else {
            return Decision::Unauthenticated;
        };
        let key = (token.to_string(), path.to_string());
        if let Ok(c) = self.cache.lock() {
            if let Some((d, at)) = c.get(&key) {
                if at.elapsed() < Duration::from_secs(30) {
                    return *d;
                }
            }
        }
        let d = self.review(token, path).await;
        if let Ok(mut c) = self.cache.lock() {
            if c.len() > 1024 {
                c.clear();
            }
            c.insert(key, (d, Instant::now()));
        }
        d
    }

    async fn review(&self, token: &str, path: &str) -> Decision {
        let tr = TokenReview {
            spec: TokenReviewSpec {
                token: token.to_string(),
                ..TokenReviewSpec::default()
            },
            ..TokenReview::default()
        };
        let api: Api<TokenReview> = Api::all(self.client.clone());
        let status = match api.create(&PostParams::default(), &tr).await {
            Ok(r) => r.status.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "TokenReview failed");
                return Decision::Unauthenticated;
            }
        };
        if status.authenticated != Some(true) {
            return decide(Some(false), false);
        }
        let user = status.user.unwrap_or_default();
        let sar = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: user.username,
                groups: user.groups,
                uid: user.uid,
                non_resource_attributes: Some(NonResourceAttributes {
                    path: Some(path.to_string()),
                    verb: Some("get".into()),
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let api: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let allowed = match api.create(&PostParams::default(), &sar).await {
            Ok(r) => r.status.is_some_and(|s| s.allowed),
            Err(e) => {
                tracing::warn!(error = %e, "SubjectAccessReview failed");
                false
            }
        };
        decide(Some(true), allowed)
    }
}

/// How the endpoint is served.
#[derive(Clone)]
pub enum Mode {
    /// Plain HTTP, no auth (`--with-insecure-metrics-access`).
    Insecure,
    /// TLS with certificates from `dir` (`tls.crt`, `tls.key`) and Kubernetes auth.
    Secure {
        /// Certificate directory (the mounted `metrics-server-cert`).
        dir: PathBuf,
        /// The reviewer.
        auth: KubeAuth,
    },
}

/// Renders the body of a metrics path, `None` for unknown paths.
pub type Render = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Errors of loading the certificate files.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The files hold no usable certificate or key.
    #[error("{0}")]
    Invalid(String),
}

struct Reloading {
    dir: PathBuf,
    current: Mutex<Option<(SystemTime, Arc<rustls::ServerConfig>)>>,
}

impl Reloading {
    fn config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let crt = self.dir.join("tls.crt");
        let key = self.dir.join("tls.key");
        let stamp = |p: &PathBuf| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .map_err(|source| TlsError::Read {
                    path: p.clone(),
                    source,
                })
        };
        let mtime = stamp(&crt)?.max(stamp(&key)?);
        if let Ok(cur) = self.current.lock() {
            if let Some((t, cfg)) = cur.as_ref() {
                if *t == mtime {
                    return Ok(cfg.clone());
                }
            }
        }
        let read = |p: &PathBuf| {
            std::fs::read(p).map_err(|source| TlsError::Read {
                path: p.clone(),
                source,
            })
        };
        let certs: Vec<_> = rustls_pemfile::certs(&mut read(&crt)?.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::Invalid(format!("{}: {e}", crt.display())))?;
        let key_der = rustls_pemfile::private_key(&mut read(&key)?.as_slice())
            .map_err(|e| TlsError::Invalid(format!("{}: {e}", key.display())))?
            .ok_or_else(|| TlsError::Invalid(format!("{}: no private key", key.display())))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Invalid(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key_der)
            .map_err(|e| TlsError::Invalid(e.to_string()))?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        let cfg = Arc::new(cfg);
        if let Ok(mut cur) = self.current.lock() {
            *cur = Some((mtime, cfg.clone()));
        }
        tracing::info!(dir = %self.dir.display(), "metrics certificate loaded");
        Ok(cfg)
    }
}

fn respond(code: u16, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::OK);
    r
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    auth: Option<KubeAuth>,
    render: Render,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if path == "/healthz" || path == "/readyz" {
        return respond(200, "ok\n".into());
    }
    if let Some(auth) = auth {
        let header = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok());
        match auth.check(bearer(header), &path).await {
            Decision::Allow => {}
            Decision::Unauthenticated => return respond(401, "Unauthorized\n".into()),
            Decision::Forbidden => return respond(403, "Forbidden\n".into()),
        }
    }
    match render(&path) {
        Some(body) => respond(200, body),
        None => respond(404, "not found\n".into()),
    }
}

/// Serves on `listener` until the task is dropped. Certificates are (re)loaded per
/// connection when their files change; a connection before they exist is closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    mode: Mode,
    render: Render,
) -> Result<(), TlsError> {
    let (reload, auth) = match &mode {
        Mode::Insecure => (None, None),
        Mode::Secure { dir, auth } => {
            let r = Reloading {
                dir: dir.clone(),
                current: Mutex::new(None),
            };
            // Missing files are not fatal: the certificate may arrive later (a Secret mount).
            if let Err(e) = r.config() {
                tracing::warn!(error = %e, "metrics certificate not loaded yet");
            }
            (Some(Arc::new(r)), Some(auth.clone()))
        }
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (reload, auth, render) = (reload.clone(), auth.clone(), render.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let (auth, render) = (auth.clone(), render.clone());
                async move { Ok::<_, Infallible>(handle(req, auth, render).await) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match reload {
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                }
                Some(r) => {
                    let cfg = match r.config() {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(error = %e, "metrics TLS configuration");
                            return;
                        }
                    };
                    let Ok(tls) = tokio_rustls::TlsAcceptor::from(cfg).accept(stream).await else {
                        return;
                    };
                    let _ = http.serve_connection(TokioIo::new(tls), svc).await;
                }
            }
        });
    }
}

/// Errors of fetching a metrics source over its unix socket.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connecting, writing or reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("{path}: {message}")]
    Http {
        /// The socket.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// No answer within the timeout.
    #[error("{path}: no answer within {timeout:?}")]
    Timeout {
        /// The socket.
        path: PathBuf,
        /// The limit.
        timeout: Duration,
    },
}

/// Largest exposition accepted from one source.
pub const MAX_SOURCE_BYTES: usize = 16 << 20;

/// GET `/metrics` over the unix socket `path` (a standalone enricher's, see [`serve_unix`]);
/// the whole exchange is bounded by `timeout`.
pub async fn fetch_unix(path: &std::path::Path, timeout: Duration) -> Result<String, FetchError> {
    match tokio::time::timeout(timeout, fetch_unix_inner(path)).await {
        Ok(r) => r,
        Err(_) => Err(FetchError::Timeout {
            path: path.to_path_buf(),
            timeout,
        }),
    }
}

async fn fetch_unix_inner(path: &std::path::Path) -> Result<String, FetchError> {
    use http_body_util::BodyExt as _;
    let http = |message: String| FetchError::Http {
        path: path.to_path_buf(),
        message,
    };
    let stream = tokio::net::UnixStream::connect(path)
        .await
        .map_err(|source| FetchError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| http(e.to_string()))?;
    let driver = tokio::spawn(conn);
    let req = Request::get("/metrics")
        .header(hyper::header::HOST, "localhost")
        .body(http_body_util::Empty::<Bytes>::new())
        .map_err(|e| http(e.to_string()))?;
    let resp = send
        .send_request(req)
        .await
        .map_err(|e| http(e.to_string()))?;
    if !resp.status().is_success() {
        driver.abort();
        return Err(http(format!("HTTP {}", resp.status())));
    }
    let body = http_body_util::Limited::new(resp.into_body(), MAX_SOURCE_BYTES)
        .collect()
        .await
        .map_err(|e| http(e.to_string()))?
        .to_bytes();
    driver.abort();
    String::from_utf8(body.to_vec()).map_err(|e| http(format!("not UTF-8: {e}")))
}

/// Serves `render("/metrics")` as HTTP/1.1 on the unix socket `path` (a standalone
/// enricher's registry for the daemon's `/metrics-spod`; `curl --unix-socket` reads it too).
/// A stale socket file is replaced; the socket is made `0660` and given the group of its
/// directory (the pod's `fsGroup` on an emptyDir), so a non-root daemon container of the same
/// pod can connect. Returns the accept loop's task.
pub fn serve_unix(
    path: &std::path::Path,
    render: Render,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        std::fs::remove_file(path)?;
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    if let Some(gid) = path
        .parent()
        .and_then(|d| std::fs::metadata(d).ok())
        .map(|m| m.gid())
    {
        if let Err(e) = std::os::unix::fs::chown(path, None, Some(gid)) {
            tracing::debug!(error = %e, socket = %path.display(), "metrics socket group");
        }
    }
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let render = render.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let render = render.clone();
                    async move {
                        let resp = match render(req.uri().path()) {
                            Some(body) => respond(200, body),
                            None => respond(404, "not found\n".into()),
                        };
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: OP-37, ARCH-11
    #[test]
    fn decision_and_bearer_parsing() {
        assert_eq!(decide(None, true), Decision::Unauthenticated);
        assert_eq!(decide(Some(false), true), Decision::Unauthenticated);
        assert_eq!(decide(Some(true), false), Decision::Forbidden);
        assert_eq!(decide(Some(true), true), Decision::Allow);
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }
}
