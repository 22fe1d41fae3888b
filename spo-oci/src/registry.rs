//! The registry I/O: a thin layer over `oci-client` with the options users run registries
//! with (TLS roots, plain HTTP, credentials), bounded retries on 5xx and connection errors,
//! an overall timeout, and size-limited, digest-checked blob reads.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use oci_spec::image::{Descriptor, ImageManifest};
use thiserror::Error;

use crate::layout::{self, sha256_digest, Layer, LayoutError, MANIFEST_MEDIA_TYPE};

/// Default limit for one profile layer (profiles are small; a bigger layer is refused
/// before and while it is read).
pub const DEFAULT_MAX_LAYER: u64 = 4 * 1024 * 1024;
/// Default overall timeout of one push or pull (upstream: 5 minutes).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A registry operation failed.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// The reference does not parse.
    #[error("invalid reference {reference:?}: {reason}")]
    Reference {
        /// The string.
        reference: String,
        /// Why.
        reason: String,
    },
    /// The registry refused the credentials (or needs some).
    #[error("{what} {reference}: unauthorized (401): give --username/USERNAME and PASSWORD, or log in with docker/podman")]
    Unauthorized {
        /// The operation.
        what: &'static str,
        /// The reference.
        reference: String,
    },
    /// The reference or blob does not exist.
    #[error("{what} {reference}: not found")]
    NotFound {
        /// The operation.
        what: &'static str,
        /// The reference.
        reference: String,
    },
    /// Any other registry failure, after retries where they apply.
    #[error("{what} {reference} failed after {attempts} attempt(s): {source}")]
    Registry {
        /// The operation.
        what: &'static str,
        /// The reference.
        reference: String,
        /// How many attempts were made.
        attempts: u32,
        /// The client's error.
        #[source]
        source: OciDistributionError,
    },
    /// Content does not match its digest.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was read.
        what: String,
        /// The digest it should have.
        expected: String,
        /// The digest it has.
        actual: String,
    },
    /// A blob is larger than allowed.
    #[error("{what}: layer of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was read.
        what: String,
        /// Its (announced or actual) size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The overall timeout elapsed.
    #[error("{what} {reference}: timed out after {secs} s")]
    Timeout {
        /// The operation.
        what: &'static str,
        /// The reference.
        reference: String,
        /// The timeout.
        secs: u64,
    },
    /// The artifact breaks the layout.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A credential helper or auth file named for the registry failed.
    #[error("credentials for {registry}: {source}")]
    Credentials {
        /// The registry host.
        registry: String,
        /// The helper's or auth file's error.
        #[source]
        source: crate::auth::AuthError,
    },
    /// TLS setup (CA file) failed.
    #[error("TLS setup: {0}")]
    Tls(String),
}

/// How to talk to registries.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RegistryOptions {
    /// Use plain HTTP for every registry (`--plain-http`).
    pub plain_http: bool,
    /// Extra trusted CA certificates (PEM), besides the system roots (`--ca-file`).
    pub ca_pems: Vec<Vec<u8>>,
    /// Username and password; used only when both are set (CLI-21).
    pub credentials: Option<(String, String)>,
    /// Overall timeout of one operation.
    pub timeout: Duration,
    /// Retries after the first attempt on 5xx and connection errors (none on 4xx).
    pub retries: u32,
    /// First back-off delay; doubles per retry.
    pub backoff: Duration,
    /// Largest layer read.
    pub max_layer: u64,
    /// Without `credentials`: look up each registry's credentials in the Docker/Podman auth
    /// files and credential helpers ([`crate::auth::credentials_for`]) the first time it is
    /// used — for clients that talk to several registries, such as `oci://` base chains.
    pub auth_files: bool,
}

impl RegistryOptions {
    /// Sets [`RegistryOptions::plain_http`].
    #[must_use]
    pub fn with_plain_http(mut self, plain_http: bool) -> Self {
        self.plain_http = plain_http;
        self
    }

    /// Sets [`RegistryOptions::ca_pems`].
    #[must_use]
    pub fn with_ca_pems(mut self, ca_pems: Vec<Vec<u8>>) -> Self {
        self.ca_pems = ca_pems;
        self
    }

    /// Sets [`RegistryOptions::credentials`].
    #[must_use]
    pub fn with_credentials(mut self, credentials: Option<(String, String)>) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets [`RegistryOptions::timeout`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`RegistryOptions::retries`].
    #[must_use]
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Sets [`RegistryOptions::backoff`].
    #[must_use]
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets [`RegistryOptions::max_layer`].
    #[must_use]
    pub fn with_max_layer(mut self, max_layer: u64) -> Self {
        self.max_layer = max_layer;
        self
    }

    /// Sets [`RegistryOptions::auth_files`].
    #[must_use]
    pub fn with_auth_files(mut self, auth_files: bool) -> Self {
        self.auth_files = auth_files;
        self
    }
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            plain_http: false,
            ca_pems: Vec::new(),
            credentials: None,
            timeout: DEFAULT_TIMEOUT,
            retries: 4,
            backoff: Duration::from_millis(200),
            max_layer: DEFAULT_MAX_LAYER,
            auth_files: false,
        }
    }
}

/// Parses a reference (`registry/repo:tag`, `registry/repo@sha256:…`, an optional `oci://`
/// prefix) by the distribution grammar. Our own parser: `oci-spec`'s `Reference::from_str`
/// compiles a Unicode regex that costs ~15 ms and several MB per process.
pub fn parse_reference(s: &str) -> Result<Reference, RegistryError> {
    let input = s.strip_prefix("oci://").unwrap_or(s);
    let err = |reason: &str| RegistryError::Reference {
        reference: input.into(),
        reason: reason.into(),
    };
    let (name, digest) = match input.split_once('@') {
        Some((n, d)) => {
            let (algo, hex) = d
                .split_once(':')
                .ok_or_else(|| err("digest must be <algorithm>:<hex>"))?;
            if algo.is_empty()
                || !algo
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+._-".contains(&b))
                || hex.len() < 32
                || !hex.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(err("invalid digest"));
            }
            (n, Some(d.to_owned()))
        }
        None => (input, None),
    };
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name[slash..].rfind(':') {
        Some(i) => (&name[..slash + i], Some(&name[slash + i + 1..])),
        None => (name, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && !t.starts_with(['.', '-'])
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !ok {
            return Err(err("invalid tag"));
        }
    }
    let (registry, repo) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (first.to_owned(), rest.to_owned())
        }
        _ if !name.contains('/') => ("docker.io".to_owned(), format!("library/{name}")),
        _ => ("docker.io".to_owned(), name.to_owned()),
    };
    if registry.is_empty()
        || !registry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    {
        return Err(err("invalid registry"));
    }
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && c.as_bytes()[0].is_ascii_alphanumeric()
            && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
    };
    if repo.len() > 255 || !repo.split('/').all(component_ok) {
        return Err(err(
            "invalid repository name (lowercase letters, digits and . _ - separated by /)",
        ));
    }
    Ok(match (tag, digest) {
        (Some(t), Some(d)) => Reference::with_tag_and_digest(registry, repo, t.to_owned(), d),
        (None, Some(d)) => Reference::with_digest(registry, repo, d),
        (t, None) => Reference::with_tag(registry, repo, t.unwrap_or("latest").to_owned()),
    })
}

/// `registry/repository` of a reference (the `docker-reference` cosign signs).
pub fn repository_of(r: &Reference) -> String {
    format!("{}/{}", r.registry(), r.repository())
}

/// A registry client.
#[derive(Clone)]
pub struct Registry {
    client: Client,
    auth: RegistryAuth,
    opts: RegistryOptions,
    /// Whether the client has been given `auth` (see [`Registry::authorise`]).
    auth_stored: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Per-registry credentials from the auth files (`opts.auth_files`), looked up once.
    per_registry: std::sync::Arc<std::sync::Mutex<HashMap<String, RegistryAuth>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("opts", &self.opts.plain_http)
            .finish()
    }
}

fn is_retryable(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code >= 500 || *code == 429,
        OciDistributionError::RequestError(_) | OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

fn is_not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            format!("{:?}", e.code)
                .to_ascii_lowercase()
                .contains("unknown")
        }),
        _ => false,
    }
}

fn is_unauthorized(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 401 || *code == 403,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            let c = format!("{:?}", e.code).to_ascii_lowercase();
            c.contains("unauthorized") || c.contains("denied")
        }),
        _ => false,
    }
}

impl Registry {
    /// A client with `opts`. Installs the `ring` rustls provider when none is installed.
    pub fn new(opts: RegistryOptions) -> Result<Self, RegistryError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = ClientConfig {
            protocol: if opts.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            extra_root_certificates: opts
                .ca_pems
                .iter()
                .map(|pem| Certificate {
                    encoding: CertificateEncoding::Pem,
                    data: pem.clone(),
                })
                .collect(),
            // Plain HTTP needs no trust store: loading the system roots would cost ~40 ms and
            // ~18 MB per process. One fixed certificate keeps the (unused) TLS stack valid.
            tls_certs_only: if opts.plain_http {
                vec![Certificate {
                    encoding: CertificateEncoding::Pem,
                    data: crate::keyless::PUBLIC_GOOD_FULCIO_ROOT.as_bytes().to_vec(),
                }]
            } else {
                Vec::new()
            },
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: Some(Duration::from_secs(60)),
            max_concurrent_upload: 8,
            max_concurrent_download: 4,
            // Profiles are small: one POST and one PUT per blob, not POST + PATCH + PUT.
            use_monolithic_push: true,
            ..ClientConfig::default()
        };
        let client = Client::try_from(config).map_err(|e| RegistryError::Tls(e.to_string()))?;
        let auth = match &opts.credentials {
            Some((u, p)) if !u.is_empty() && !p.is_empty() => {
                RegistryAuth::Basic(u.clone(), p.clone())
            }
            _ => RegistryAuth::Anonymous,
        };
        Ok(Registry {
            client,
            auth,
            opts,
            auth_stored: Default::default(),
            per_registry: Default::default(),
        })
    }

    /// The credentials for `r`'s registry: the explicit ones, else (with `auth_files`) the
    /// auth files' and helpers' entry for that registry, else anonymous.
    fn auth_for(&self, r: &Reference) -> Result<RegistryAuth, RegistryError> {
        if !matches!(self.auth, RegistryAuth::Anonymous) || !self.opts.auth_files {
            return Ok(self.auth.clone());
        }
        let registry = r.registry().to_owned();
        let mut cache = self
            .per_registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(a) = cache.get(&registry) {
            return Ok(a.clone());
        }
        let found = crate::auth::credentials_for(&registry).map_err(|source| {
            RegistryError::Credentials {
                registry: registry.clone(),
                source,
            }
        })?;
        let auth = match found {
            Some((u, p)) => RegistryAuth::Basic(u, p),
            None => RegistryAuth::Anonymous,
        };
        cache.insert(registry, auth.clone());
        Ok(auth)
    }

    /// The options.
    pub fn options(&self) -> &RegistryOptions {
        &self.opts
    }

    /// Runs `op` with retries (5xx, 429, connection errors; never other 4xx) and maps the
    /// final error.
    async fn retry<T, F, Fut>(
        &self,
        what: &'static str,
        reference: &Reference,
        op: F,
    ) -> Result<T, RegistryError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if is_retryable(&e) && attempt <= self.opts.retries => {
                    let delay = self.opts.backoff * 2u32.saturating_pow(attempt - 1);
                    tracing::warn!(%e, attempt, ?delay, "{what} {reference}: retrying");
                    tokio::time::sleep(delay).await;
                }
                Err(e) => {
                    let reference = reference.whole();
                    return Err(if is_unauthorized(&e) {
                        RegistryError::Unauthorized { what, reference }
                    } else if is_not_found(&e) {
                        RegistryError::NotFound { what, reference }
                    } else if let OciDistributionError::DigestError(d) = e {
                        RegistryError::DigestMismatch {
                            what: format!("{what} {reference}"),
                            expected: String::new(),
                            actual: d.to_string(),
                        }
                    } else {
                        RegistryError::Registry {
                            what,
                            reference,
                            attempts: attempt,
                            source: e,
                        }
                    });
                }
            }
        }
    }

    /// Runs `fut` under the overall timeout.
    pub async fn with_timeout<T, E: From<RegistryError>>(
        &self,
        what: &'static str,
        reference: &Reference,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        match tokio::time::timeout(self.opts.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(E::from(RegistryError::Timeout {
                what,
                reference: reference.whole(),
                secs: self.opts.timeout.as_secs(),
            })),
        }
    }

    /// Hands the credentials to the client before a push request. Anonymous clients skip
    /// this until a registry answers 401: oci-client probes `GET /v2/` before *every*
    /// request once anonymous auth is stored and the registry is open (the probe's "no
    /// challenge" is not cached), doubling the round trips of a push.
    async fn authorise(&self, r: &Reference, force: bool) {
        use std::sync::atomic::Ordering;
        if force
            || !matches!(self.auth, RegistryAuth::Anonymous)
            || self.auth_stored.load(Ordering::Relaxed)
        {
            // Stored before the flag is raised: a request that sees the flag has credentials.
            self.client
                .store_auth_if_needed(r.resolve_registry(), &self.auth)
                .await;
            self.auth_stored.store(true, Ordering::Relaxed);
        }
    }

    /// Runs a push request; an anonymous client that is refused (401) learns the
    /// registry's challenge (e.g. anonymous bearer tokens) and tries once more.
    async fn pushing<T, F, Fut>(
        &self,
        what: &'static str,
        r: &Reference,
        op: F,
    ) -> Result<T, RegistryError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        use std::sync::atomic::Ordering;
        self.authorise(r, false).await;
        // Whether this attempt went without credentials (another concurrent request may
        // hand them over meanwhile; each request that went without retries once).
        let without = !self.auth_stored.load(Ordering::Relaxed);
        match self.retry(what, r, &op).await {
            Err(RegistryError::Unauthorized { .. }) if without => {
                self.authorise(r, true).await;
                self.retry(what, r, &op).await
            }
            other => other,
        }
    }

    /// Uploads `data` as a blob. Profiles are small, so no existence check first (one round
    /// trip less per blob; registries deduplicate).
    pub async fn push_blob(&self, r: &Reference, data: &[u8]) -> Result<String, RegistryError> {
        let digest = sha256_digest(data);
        let bytes = bytes_of(data);
        self.pushing("push blob", r, || {
            self.client.push_blob(r, bytes.clone(), &digest)
        })
        .await?;
        Ok(digest)
    }

    /// Uploads distinct blobs concurrently.
    pub async fn push_blobs(&self, r: &Reference, blobs: &[&[u8]]) -> Result<(), RegistryError> {
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<&[u8]> = blobs.iter().copied().filter(|b| seen.insert(*b)).collect();
        futures_util::future::try_join_all(unique.into_iter().map(|b| self.push_blob(r, b)))
            .await?;
        Ok(())
    }

    /// Uploads a manifest given as bytes; returns its digest.
    pub async fn push_manifest(
        &self,
        r: &Reference,
        raw: &[u8],
        media_type: &str,
    ) -> Result<String, RegistryError> {
        let ct = media_type
            .parse()
            .map_err(|_| LayoutError::NotAnArtifact(format!("bad media type {media_type}")))?;
        let bytes = bytes_of(raw);
        self.pushing("push manifest", r, || {
            self.client
                .push_manifest_raw(r, bytes.clone(), std::clone::Clone::clone(&ct))
        })
        .await?;
        Ok(sha256_digest(raw))
    }

    /// Pushes a profile artifact in upstream's layout (CLI-18) to `r`; returns the
    /// manifest digest.
    pub async fn push_artifact(
        &self,
        r: &Reference,
        layers: &[Layer],
        annotations: &[(String, String)],
        created: &str,
    ) -> Result<String, RegistryError> {
        let manifest = layout::manifest(layers, annotations, created)?;
        let raw =
            serde_json::to_vec(&manifest).map_err(|e| LayoutError::NotAnArtifact(e.to_string()))?;
        self.with_timeout("push", r, async {
            // Blobs concurrently (each is a POST + PUT round trip), then the manifest.
            let mut blobs: Vec<&[u8]> = vec![layout::EMPTY_CONFIG];
            blobs.extend(layers.iter().map(|l| l.data.as_slice()));
            self.push_blobs(r, &blobs).await?;
            self.push_manifest(r, &raw, MANIFEST_MEDIA_TYPE).await
        })
        .await
    }

    /// Resolves `r` (tag or digest) to the manifest digest (CLI-24).
    pub async fn resolve(&self, r: &Reference) -> Result<String, RegistryError> {
        let auth = self.auth_for(r)?;
        let d = self
            .retry("resolve", r, || self.client.fetch_manifest_digest(r, &auth))
            .await?;
        if let Some(want) = r.digest() {
            if want != d {
                return Err(RegistryError::DigestMismatch {
                    what: format!("manifest {}", r.whole()),
                    expected: want.into(),
                    actual: d,
                });
            }
        }
        Ok(d)
    }

    /// The raw manifest at `r` (must carry a digest), checked against that digest.
    pub async fn manifest_raw(&self, r: &Reference) -> Result<Vec<u8>, RegistryError> {
        let accept = [
            MANIFEST_MEDIA_TYPE,
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ];
        let auth = self.auth_for(r)?;
        let (raw, _) = self
            .retry("pull manifest", r, || {
                self.client.pull_manifest_raw(r, &auth, &accept)
            })
            .await?;
        if let Some(want) = r.digest() {
            let got = sha256_digest(&raw);
            if got != want {
                return Err(RegistryError::DigestMismatch {
                    what: format!("manifest {}", r.whole()),
                    expected: want.into(),
                    actual: got,
                });
            }
        }
        Ok(raw.to_vec())
    }

    /// The raw manifest at `r` read in one request, with the digest of the bytes read.
    pub async fn manifest_by_tag(&self, r: &Reference) -> Result<(Vec<u8>, String), RegistryError> {
        let accept = [
            MANIFEST_MEDIA_TYPE,
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ];
        let auth = self.auth_for(r)?;
        let (raw, _) = self
            .retry("pull manifest", r, || {
                self.client.pull_manifest_raw(r, &auth, &accept)
            })
            .await?;
        let digest = sha256_digest(&raw);
        if let Some(want) = r.digest() {
            if want != digest {
                return Err(RegistryError::DigestMismatch {
                    what: format!("manifest {}", r.whole()),
                    expected: want.into(),
                    actual: digest,
                });
            }
        }
        Ok((raw.to_vec(), digest))
    }

    /// Reads the blob of `d` from `r`'s repository, refusing more than `limit` bytes (by
    /// the descriptor's size before reading, and while reading) and checking its digest.
    pub async fn blob(
        &self,
        r: &Reference,
        d: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let what = format!("blob {}", d.digest());
        if d.size() > limit {
            return Err(RegistryError::TooLarge {
                what,
                size: d.size(),
                limit,
            });
        }
        let expected = d.digest().to_string();
        let desc = oci_client::manifest::OciDescriptor {
            media_type: d.media_type().to_string(),
            digest: expected.clone(),
            size: i64::try_from(d.size()).unwrap_or(i64::MAX),
            ..Default::default()
        };
        let data = self
            .retry("pull blob", r, || async {
                let mut s = self.client.pull_blob_stream(r, &desc).await?;
                if let Some(n) = s.content_length.filter(|n| *n > limit) {
                    return Ok(Err(BlobStop::TooLarge(n)));
                }
                let mut buf = Vec::with_capacity(usize::try_from(d.size()).unwrap_or(0));
                while let Some(chunk) = s.stream.next().await {
                    let chunk = match chunk {
                        Ok(c) => c,
                        // The client's verifying stream reports a digest mismatch at the end:
                        // bad content, not a transient failure.
                        Err(e) if e.to_string().to_ascii_lowercase().contains("digest") => {
                            return Ok(Err(BlobStop::Digest(e.to_string())))
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let total = (buf.len() + chunk.len()) as u64;
                    if total > limit {
                        return Ok(Err(BlobStop::TooLarge(total)));
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(Ok(buf))
            })
            .await?;
        let data = match data {
            Ok(d) => d,
            Err(BlobStop::TooLarge(size)) => {
                return Err(RegistryError::TooLarge { what, size, limit })
            }
            Err(BlobStop::Digest(msg)) => {
                return Err(RegistryError::DigestMismatch {
                    what,
                    expected,
                    actual: msg,
                })
            }
        };
        let got = sha256_digest(&data);
        if got != expected {
            return Err(RegistryError::DigestMismatch {
                what,
                expected,
                actual: got,
            });
        }
        Ok(data)
    }

    /// Resolves `r` to its digest, then reads and parses the artifact's manifest by that
    /// digest only (CLI-24). Returns the pinned reference, the manifest and its bytes.
    pub async fn artifact_manifest(
        &self,
        r: &Reference,
    ) -> Result<(Reference, ImageManifest), RegistryError> {
        let digest = self.resolve(r).await?;
        let pinned = r.clone_with_digest(digest);
        let raw = self.manifest_raw(&pinned).await?;
        let m = layout::parse_manifest(&raw)?;
        Ok((pinned, m))
    }
}

enum BlobStop {
    TooLarge(u64),
    Digest(String),
}

fn bytes_of(data: &[u8]) -> Vec<u8> {
    data.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_like_the_distribution_grammar() {
        let r = parse_reference("oci://127.0.0.1:5000/profiles/runc:v1.2").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag(), r.digest()),
            ("127.0.0.1:5000", "profiles/runc", Some("v1.2"), None)
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let r = parse_reference(&format!("ghcr.io/a/b@{d}")).unwrap();
        assert_eq!((r.tag(), r.digest()), (None, Some(d.as_str())));
        let r = parse_reference(&format!("localhost/x:t@{d}")).unwrap();
        assert_eq!((r.registry(), r.tag()), ("localhost", Some("t")));
        let r = parse_reference("busybox").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("docker.io", "library/busybox", Some("latest"))
        );
        for bad in [
            "",
            "Reg.io/UPPER:v1",
            "reg.io/a:",
            "reg.io/a:-x",
            "reg.io/a@sha256:12",
            "reg.io/a@:abc",
            "reg.io//a",
            "reg.io/a b",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
    }
}
