//! The SeccompProfile controller of the node daemon (`seccomp.md` §3–§7, §9).
//!
//! Per profile: resolve base profiles through the API (SC-16, SC-21..SC-23), refuse profiles
//! that break the SPOD's allowedSyscalls policy (SC-37..SC-39), write the resolved JSON with
//! spo-seccomp's installer under `<kubelet>/seccomp/operator/<name>.json` (SC-06..SC-12),
//! report this node's state with server-side apply (SC-27, SC-29), and on deletion keep the
//! file while a pod on this node uses it (SC-33, SC-34, SC-36).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{finalizer, Event as FinalizerEvent};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Client, Resource, ResourceExt};
use spo_seccomp::resolve::{
    resolve_async, syscalls_annotation, AsyncBaseProfileResolver, BoxError,
};

use super::health::{kernel_has_seccomp, Health};
use super::inuse::{pod_uses_file, profile_uses};
use super::{nodestatus, Context, DaemonOptions};
use crate::api::names::{
    node_finalizer, profile_id, ANNOTATION_SYSCALLS, FINALIZER_IN_USE, LABEL_PROFILE_ID,
};
use crate::api::{
    InstallState, SeccompProfile, SecurityProfileNodeStatus, SecurityProfilesOperatorDaemon,
};
use crate::metrics::Metrics;

/// Event reasons and error-metric reasons of `seccomp.md` §9.
pub mod reason {
    /// The kernel lacks seccomp (SC-15).
    pub const NOT_SUPPORTED: &str = "SeccompNotSupportedOnNode";
    /// A base profile is missing or the chain is broken (SC-16).
    pub const INVALID: &str = "InvalidSeccompProfile";
    /// An `oci://` base could not be pulled (SC-19).
    pub const CANNOT_PULL: &str = "CannotPullSeccompProfile";
    /// The file could not be written.
    pub const CANNOT_SAVE: &str = "CannotSaveSeccompProfile";
    /// The file could not be removed.
    pub const CANNOT_REMOVE: &str = "CannotRemoveSeccompProfile";
    /// The profile object could not be updated.
    pub const CANNOT_UPDATE: &str = "CannotUpdateSeccompProfile";
    /// The profile breaks the SPOD's allowedSyscalls policy (SC-37).
    pub const NOT_ALLOWED: &str = "ProfileNotAllowed";
    /// The node status could not be written or removed.
    pub const CANNOT_UPDATE_NODE_STATUS: &str = "CannotUpdateNodeStatus";
    /// The file was written (Normal).
    pub const SAVED: &str = "SavedSeccompProfile";
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API call failed.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// Writing or removing the file failed.
    #[error(transparent)]
    Seccomp(#[from] spo_seccomp::SeccompError),
    /// A pod on this node still uses the profile; deletion waits (SC-34).
    #[error("profile {0} is in use by pod {1}")]
    InUse(String, String),
    /// The finalizer helper failed.
    #[error("{0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    /// The pod cache is gone.
    #[error("pod cache closed")]
    CacheClosed,
    /// The blocking file task did not finish.
    #[error("file task failed: {0}")]
    Blocking(String),
}

/// Base profiles: other SeccompProfile objects, from the watch cache first, else a GET;
/// `oci://` references through spo-oci's resolver (SC-17..SC-20).
struct ApiResolver {
    store: Store<SeccompProfile>,
    api: Api<SeccompProfile>,
    oci: OciBases,
    spod: Store<SecurityProfilesOperatorDaemon>,
    spod_ref: (String, String),
}

/// How `oci://` base profiles are verified, from the SPOD (SC-18): off when
/// `disableOciArtifactSignatureVerification` is true, else the daemon's key
/// (`--oci-verify-key`) or keyless with the SPOD's identity and issuer patterns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OciPolicy {
    /// No verification.
    Disabled,
    /// The daemon's public key.
    Key,
    /// Keyless: (identity regexp, OIDC issuer regexp).
    Keyless(String, String),
}

/// 0.10's flat `spec.<key>` of a SPOD the manager has not folded yet (VER-08).
fn flat_setting<'a>(
    spod: Option<&'a SecurityProfilesOperatorDaemon>,
    key: &str,
) -> Option<&'a serde_json::Value> {
    spod?.spec.deprecated.get(key)
}

/// The verification policy of `oci://` bases under `spod` (SC-18): `spec.security.*`, else
/// the flat 0.10 names.
pub fn oci_policy(spod: Option<&SecurityProfilesOperatorDaemon>, have_key: bool) -> OciPolicy {
    let security = spod.and_then(|s| s.spec.security.as_ref());
    let disabled = security
        .and_then(|s| s.disable_oci_artifact_signature_verification)
        .or_else(|| {
            flat_setting(spod, "disableOciArtifactSignatureVerification")
                .and_then(serde_json::Value::as_bool)
        })
        .unwrap_or(false);
    if disabled {
        return OciPolicy::Disabled;
    }
    if have_key {
        return OciPolicy::Key;
    }
    let re = |grouped: Option<&String>, k: &str| {
        grouped
            .map(String::as_str)
            .or_else(|| flat_setting(spod, k).and_then(serde_json::Value::as_str))
            .filter(|s| !s.is_empty())
            .unwrap_or(".*")
            .to_owned()
    };
    OciPolicy::Keyless(
        re(
            security.and_then(|s| s.allowed_identity_regexp.as_ref()),
            "allowedIdentityRegexp",
        ),
        re(
            security.and_then(|s| s.allowed_oidc_issuer_regexp.as_ref()),
            "allowedOidcIssuerRegexp",
        ),
    )
}

/// `oci://` bases: one registry client made on first use (nothing is loaded while no
/// profile names an `oci://` base), one spo-oci resolver — with its 24 h cache — per
/// verification policy.
pub struct OciBases {
    options: spo_oci::RegistryOptions,
    key: Option<spo_oci::Verification>,
    registry: std::sync::OnceLock<Result<spo_oci::Registry, String>>,
    resolvers:
        std::sync::Mutex<std::collections::HashMap<OciPolicy, Arc<spo_oci::resolver::OciResolver>>>,
}

impl OciBases {
    /// From the daemon's flags: plain HTTP, an extra CA, a verification key. Anonymous pulls
    /// (SC-17); a bad CA or key file is an error at start-up.
    pub fn from_options(opts: &DaemonOptions) -> crate::Result<Self> {
        use crate::Context as _;
        let mut options = spo_oci::RegistryOptions::default().with_plain_http(opts.oci_plain_http);
        if let Some(ca) = &opts.oci_ca_file {
            options.ca_pems.push(
                std::fs::read(ca).with_context(|| format!("--oci-ca-file {}", ca.display()))?,
            );
        }
        let key = match &opts.oci_verify_key {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("--oci-verify-key {}", p.display()))?;
                let k = spo_oci::sign::parse_public_key(&text)
                    .with_context(|| format!("--oci-verify-key {}", p.display()))?;
                Some(spo_oci::Verification::Key(k))
            }
            None => None,
        };
        Ok(OciBases {
            options,
            key,
            registry: std::sync::OnceLock::new(),
            resolvers: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// The resolver for `policy`.
    fn resolver(
        &self,
        policy: &OciPolicy,
    ) -> Result<Arc<spo_oci::resolver::OciResolver>, BoxError> {
        if let Some(r) = self
            .resolvers
            .lock()
            .ok()
            .and_then(|m| m.get(policy).cloned())
        {
            return Ok(r);
        }
        let registry = self
            .registry
            .get_or_init(|| spo_oci::Registry::new(self.options.clone()).map_err(|e| e.to_string()))
            .clone()
            .map_err(|e| format!("registry client: {e}"))?;
        let verification = match policy {
            OciPolicy::Disabled => spo_oci::Verification::Disabled,
            OciPolicy::Key => self.key.clone().ok_or("no verification key configured")?,
            OciPolicy::Keyless(id, iss) => spo_oci::Verification::Keyless(
                spo_oci::keyless::KeylessPolicy::new(None, id, iss)
                    .map_err(|e| format!("SPOD signature policy: {e}"))?,
            ),
        };
        let r = Arc::new(spo_oci::resolver::OciResolver::new(registry, verification));
        if let Ok(mut m) = self.resolvers.lock() {
            m.insert(policy.clone(), r.clone());
        }
        Ok(r)
    }
}

/// Converts a resource to the LSM crate's profile (same spec; name, labels, annotations).
pub fn to_core(p: &SeccompProfile) -> spo_seccomp::SeccompProfile {
    let mut meta = spo_core::ObjectMeta::named(p.name_any());
    meta.labels = p.labels().clone();
    meta.annotations = p.annotations().clone();
    spo_seccomp::SeccompProfile::new(meta, p.spec.clone())
}

impl AsyncBaseProfileResolver for ApiResolver {
    async fn fetch(&self, name: &str) -> Result<Option<spo_seccomp::SeccompProfile>, BoxError> {
        if name.starts_with("oci://") {
            let spod = self.spod.state().into_iter().find(|s| {
                s.metadata.name.as_deref() == Some(self.spod_ref.1.as_str())
                    && s.metadata.namespace.as_deref() == Some(self.spod_ref.0.as_str())
            });
            let policy = oci_policy(spod.as_deref(), self.oci.key.is_some());
            let resolver = self.oci.resolver(&policy)?;
            return resolver.pull(name).await.map(Some);
        }
        if let Some(p) = self.store.get(&ObjectRef::new(name)) {
            return Ok(Some(to_core(&p)));
        }
        Ok(self.api.get_opt(name).await?.map(|p| to_core(&p)))
    }
}

/// The controller's state besides the shared [`Context`].
pub struct Seccomp {
    /// Shared context.
    pub ctx: Context,
    resolver: ApiResolver,
    profiles: Api<SeccompProfile>,
    statuses: Api<SecurityProfileNodeStatus>,
}

/// Publishes an event without delaying the reconcile (events are best effort).
async fn publish(ctx: &Context, p: &SeccompProfile, type_: EventType, reason: &str, note: String) {
    let ev = Event {
        type_,
        reason: reason.into(),
        note: Some(note),
        action: "Reconcile".into(),
        secondary: None,
    };
    // Events of cluster-scoped objects live in `default`; API servers before 1.22 insist that
    // the reference names the event's namespace.
    let mut reference = p.object_ref(&());
    reference.namespace.get_or_insert_with(|| "default".into());
    let recorder = ctx.recorder.clone();
    let name = p.name_any();
    let slots = ctx.api_slots.clone();
    tokio::spawn(async move {
        let _permit = slots.acquire_owned().await;
        if let Err(e) = Box::pin(recorder.publish(&ev, &reference)).await {
            tracing::warn!(profile = %name, error = %e, "cannot publish event");
        }
    });
}

async fn warn(s: &Seccomp, p: &SeccompProfile, reason: &str, note: String) {
    tracing::warn!(profile = %p.name_any(), reason, "{note}");
    s.ctx.metrics.seccomp_error(reason);
    publish(&s.ctx, p, EventType::Warning, reason, note).await;
}

async fn set_state(s: &Seccomp, p: &SeccompProfile, state: InstallState) -> Result<(), Error> {
    if let Err(e) = nodestatus::apply_state(&s.statuses, p, &s.ctx.node, state).await {
        warn(
            s,
            p,
            reason::CANNOT_UPDATE_NODE_STATUS,
            format!("cannot update node status: {e}"),
        )
        .await;
        return Err(e.into());
    }
    Ok(())
}

/// The allowed-syscalls policy of the SPOD, when it sets one.
fn policy(
    spod: Option<&SecurityProfilesOperatorDaemon>,
) -> Option<(Vec<String>, Vec<spo_seccomp::Action>)> {
    let (syscalls, actions) = spod?.spec.allowed();
    if syscalls.is_empty() {
        return None;
    }
    Some((syscalls, actions))
}

/// Writes the resolved profile with spo-seccomp's installer on the blocking pool (the
/// write is `fsync`ed; it must not stall the reconciles sharing a runtime thread).
async fn install_file(
    root: &Path,
    resolved: spo_seccomp::SeccompProfile,
) -> Result<spo_seccomp::install::InstallOutcome, Error> {
    // A few writers at a time: each blocking task may start a thread (and glibc gives busy
    // threads their own malloc arenas), so 1,000 new profiles must not mean 500 threads.
    static WRITERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
    let _slot = WRITERS
        .acquire()
        .await
        .map_err(|e| Error::Blocking(e.to_string()))?;
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || spo_seccomp::install::install(&root, &resolved))
        .await
        .map_err(|e| Error::Blocking(e.to_string()))?
        .map_err(Error::from)
}

/// The fast path of a new profile (before this node's finalizer is on it): resolve, check
/// the policy and write the file at once, so a pod waiting for the file does not wait for the
/// finalizer's round trip and watch event. Silent on failure — the reconcile after the
/// finalizer is added reports it. Returns true when a file was written.
async fn install_early(p: &SeccompProfile, s: &Seccomp) -> bool {
    if kernel_has_seccomp().is_err() {
        return false;
    }
    let Ok(resolved) = Box::pin(resolve_async(
        &to_core(p),
        &s.resolver,
        spo_seccomp::merge::UnionMode::V1,
    ))
    .await
    else {
        return false;
    };
    if s.ctx.spod.wait_until_ready().await.is_err() {
        return false;
    }
    if let Some((syscalls, actions)) = policy(s.ctx.spod().as_deref()) {
        if !spo_seccomp::allowed::check_allowed(&resolved.spec, &syscalls, &actions).is_empty() {
            return false;
        }
    }
    match install_file(&s.ctx.seccomp_root, resolved).await {
        Ok(spo_seccomp::install::InstallOutcome::Written(path)) => {
            saved(s, p, &path).await;
            true
        }
        _ => false,
    }
}

/// Counts and announces a written file (SC-42, `SavedSeccompProfile`).
async fn saved(s: &Seccomp, p: &SeccompProfile, path: &Path) {
    s.ctx.metrics.seccomp_op("update");
    let note = format!(
        "Successfully saved profile to disk on {}: {}",
        s.ctx.node,
        path.display()
    );
    publish(&s.ctx, p, EventType::Normal, reason::SAVED, note).await;
}

async fn apply(p: Arc<SeccompProfile>, s: &Seccomp) -> Result<Action, Error> {
    let name = p.name_any();
    if let Err(e) = kernel_has_seccomp() {
        warn(s, &p, reason::NOT_SUPPORTED, e).await;
        return Ok(Action::await_change());
    }
    // §3 step 3: resolve base profiles.
    let core = to_core(&p);
    let resolved = match resolve_async(&core, &s.resolver, spo_seccomp::merge::UnionMode::V1).await
    {
        Ok(r) => r,
        Err(e) => {
            let why = match &e {
                spo_seccomp::resolve::ResolveError::Fetch { name, .. }
                    if name.starts_with("oci://") =>
                {
                    reason::CANNOT_PULL
                }
                _ => reason::INVALID,
            };
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(c) = src {
                msg.push_str(&format!(": {c}"));
                src = c.source();
            }
            warn(s, &p, why, msg).await;
            // Weak point 10: report Error instead of leaving the status empty.
            set_state(s, &p, InstallState::Error).await?;
            return Ok(Action::requeue(Duration::from_secs(10)));
        }
    };
    // §3 step 4 / §7: the allowedSyscalls policy.
    s.ctx
        .spod
        .wait_until_ready()
        .await
        .map_err(|_| Error::CacheClosed)?;
    if let Some((syscalls, actions)) = policy(s.ctx.spod().as_deref()) {
        let v = spo_seccomp::allowed::check_allowed(&resolved.spec, &syscalls, &actions);
        if !v.is_empty() {
            warn(
                s,
                &p,
                reason::NOT_ALLOWED,
                format!("profile {name} not allowed: {v}"),
            )
            .await;
            set_state(s, &p, InstallState::Error).await?;
            return Ok(Action::await_change());
        }
    }
    // §3 steps 6–8: the file.
    let labels_partial = resolved
        .metadata
        .labels
        .get(spo_core::LABEL_PARTIAL)
        .is_some_and(|v| v == "true");
    let annotation = syscalls_annotation(&resolved);
    let outcome = install_file(&s.ctx.seccomp_root, resolved).await;
    let state = match outcome {
        Ok(spo_seccomp::install::InstallOutcome::Written(path)) => {
            saved(s, &p, &path).await;
            InstallState::Installed
        }
        Ok(spo_seccomp::install::InstallOutcome::Unchanged(_)) => InstallState::Installed,
        Ok(spo_seccomp::install::InstallOutcome::NotInstalled { .. }) => {
            if labels_partial {
                InstallState::Partial
            } else {
                InstallState::Disabled
            }
        }
        Ok(_) => InstallState::Installed,
        Err(e) => {
            warn(
                s,
                &p,
                reason::CANNOT_SAVE,
                format!("cannot save profile: {e}"),
            )
            .await;
            set_state(s, &p, InstallState::Error).await?;
            return Err(e);
        }
    };
    if state == InstallState::Installed {
        sync_namespaced_links(s, &name);
    }
    // The file is on disk first (what pods wait for); then SC-26 / SC-28: the syscalls annotation and the profile-id label, one apply shared by
    // every node (same field manager, same values: no conflicts), only when they differ.
    let id = profile_id("SeccompProfile", &name);
    if p.annotations().get(ANNOTATION_SYSCALLS) != Some(&annotation)
        || p.labels().get(LABEL_PROFILE_ID) != Some(&id)
    {
        let patch = serde_json::json!({
            "apiVersion": format!("{}/{}", crate::api::GROUP, crate::api::HUB),
            "kind": "SeccompProfile",
            "metadata": {"name": name, "labels": {LABEL_PROFILE_ID: id}, "annotations": {ANNOTATION_SYSCALLS: annotation}},
        });
        if let Err(e) = s
            .profiles
            .patch(
                &name,
                &PatchParams::apply("spo-daemon").force(),
                &Patch::Apply(&patch),
            )
            .await
        {
            warn(
                s,
                &p,
                reason::CANNOT_UPDATE,
                format!("cannot update profile: {e}"),
            )
            .await;
            return Err(e.into());
        }
    }

    set_state(s, &p, state).await?;
    Ok(Action::await_change())
}

/// VER-09: pods on this node that reference `operator/<ns>/<file>` get
/// `<root>/<ns>/<file>` → `../<file>`; links of namespaces no pod uses any more are removed.
fn sync_namespaced_links(s: &Seccomp, name: &str) {
    let file = spo_seccomp::install::file_name(name);
    let wanted: BTreeSet<String> = s
        .ctx
        .pods
        .state()
        .iter()
        .flat_map(|pod| profile_uses(pod))
        .filter(|u| u.file == file)
        .filter_map(|u| u.namespace)
        .collect();
    for ns in &wanted {
        if let Err(e) = link(&s.ctx.seccomp_root, ns, &file) {
            tracing::warn!(profile = name, namespace = %ns, error = %e, "cannot link namespaced path");
        }
    }
}

fn link(root: &Path, ns: &str, file: &str) -> std::io::Result<()> {
    let dir = root.join(ns);
    std::fs::create_dir_all(&dir)?;
    let l = dir.join(file);
    match std::fs::read_link(&l) {
        Ok(t) if t == Path::new("..").join(file) => Ok(()),
        _ => {
            let _ = std::fs::remove_file(&l);
            std::os::unix::fs::symlink(Path::new("..").join(file), &l)
        }
    }
}

/// Removes every `<root>/<ns>/<file>` link (and the namespace directory when it empties).
fn remove_links(root: &Path, file: &str) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let dir = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            let l = dir.join(file);
            if std::fs::symlink_metadata(&l).is_ok_and(|m| m.file_type().is_symlink()) {
                let _ = std::fs::remove_file(&l);
                let _ = std::fs::remove_dir(&dir);
            }
        }
    }
}

async fn cleanup(p: Arc<SeccompProfile>, s: &Seccomp) -> Result<Action, Error> {
    let name = p.name_any();
    // §6.5 step 1.
    set_state(s, &p, InstallState::Terminating).await?;
    // §6.5 step 2 / SC-34: the file stays while a pod on this node uses it.
    if !s.ctx.pods.wait_until_ready().await {
        return Err(Error::CacheClosed);
    }
    let file = spo_seccomp::install::file_name(&name);
    if let Some(pod) = s
        .ctx
        .pods
        .state()
        .iter()
        .find(|pod| pod_uses_file(pod, &file))
    {
        let who = format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any());
        return Err(Error::InUse(name, who));
    }
    if p.finalizers().iter().any(|f| f == FINALIZER_IN_USE) {
        return Err(Error::InUse(
            name,
            "(in-use-by-active-pods finalizer)".into(),
        ));
    }
    // §6.5 step 3.
    remove_links(&s.ctx.seccomp_root, &file);
    match spo_seccomp::install::uninstall(&s.ctx.seccomp_root, &name) {
        Ok(_) => s.ctx.metrics.seccomp_op("delete"),
        Err(e) => {
            warn(
                s,
                &p,
                reason::CANNOT_REMOVE,
                format!("cannot remove profile: {e}"),
            )
            .await;
            return Err(e.into());
        }
    }
    // §6.5 step 5 (the finalizer helper removes this node's finalizer after we return).
    if let Err(e) = nodestatus::delete(&s.statuses, &*p, &s.ctx.node).await {
        warn(
            s,
            &p,
            reason::CANNOT_UPDATE_NODE_STATUS,
            format!("cannot delete node status: {e}"),
        )
        .await;
        return Err(e.into());
    }
    Ok(Action::await_change())
}

/// Reconciles one profile on this node.
pub async fn reconcile(p: Arc<SeccompProfile>, s: Arc<Seccomp>) -> Result<Action, Error> {
    let fin = node_finalizer(&s.ctx.node);
    // Futures that wait are kept small: with 1,000 new profiles, 1,000 reconciles wait for a
    // slot at once, and an unboxed reconcile future is as large as its deepest API call.
    let early = p.meta().deletion_timestamp.is_none()
        && !p.finalizers().iter().any(|f| f == &fin)
        && Box::pin(install_early(&p, &s)).await;
    let name = p.name_any();
    // The file is on disk; the API round trips below take one of the bounded slots.
    let _permit = s
        .ctx
        .api_slots
        .acquire()
        .await
        .map_err(|_| Error::CacheClosed)?;
    let r = Box::pin(finalizer(&s.profiles, &fin, p, |ev| async {
        match ev {
            FinalizerEvent::Apply(p) => apply(p, &s).await,
            FinalizerEvent::Cleanup(p) => cleanup(p, &s).await,
        }
    }))
    .await;
    if early {
        if let Err(kube::runtime::finalizer::Error::AddFinalizer(_)) = &r {
            forget_if_gone(&s, &name, &fin).await;
        }
    }
    match r {
        Err(e) => match stale_finalizer_patch(&e) {
            Some(action) => {
                tracing::debug!(profile = %name, error = %e, "finalizer patch on a stale copy");
                Ok(action)
            }
            None => Err(Error::Finalizer(Box::new(e))),
        },
        Ok(a) => Ok(a),
    }
}

/// The finalizer helper patches `metadata.finalizers` with a JSON-patch `test` of the list
/// (or of this node's index in it) as the watch cache last saw it. A reconcile that runs
/// on a copy older than the server's — common while a policy sweep deletes many profiles
/// and the objects' finalizer lists change under it — gets 422 (the `test` failed, or no
/// finalizer may be added to an object being deleted) or 409; once its finalizer is
/// removed, a reconcile still queued for the object gets 404. None of these is a failure:
/// 404 means the deletion finished; 409/422 are retried shortly against the fresh copy the
/// watch is about to deliver. Any other error is returned (`None`).
pub fn stale_finalizer_patch(e: &kube::runtime::finalizer::Error<Error>) -> Option<Action> {
    use kube::runtime::finalizer::Error as F;
    let (F::AddFinalizer(kube::Error::Api(api)) | F::RemoveFinalizer(kube::Error::Api(api))) = e
    else {
        return None;
    };
    match api.code {
        404 => Some(Action::await_change()),
        409 | 422 => Some(Action::requeue(Duration::from_millis(500))),
        _ => None,
    }
}

/// After an early write whose finalizer could not be added: when the profile is gone or
/// being deleted without this node's finalizer, no cleanup will run, so the file goes now.
async fn forget_if_gone(s: &Seccomp, name: &str, fin: &str) {
    let gone = match s.profiles.get_opt(name).await {
        Ok(None) => true,
        Ok(Some(p)) => {
            p.meta().deletion_timestamp.is_some() && !p.finalizers().iter().any(|f| f == fin)
        }
        Err(_) => false,
    };
    if gone {
        let file = spo_seccomp::install::file_name(name);
        remove_links(&s.ctx.seccomp_root, &file);
        if let Err(e) = spo_seccomp::install::uninstall(&s.ctx.seccomp_root, name) {
            tracing::warn!(profile = name, error = %e, "cannot remove the file of a deleted profile");
        }
    }
}

fn error_policy(p: Arc<SeccompProfile>, e: &Error, _s: Arc<Seccomp>) -> Action {
    let in_use = matches!(e, Error::Finalizer(b) if matches!(**b, kube::runtime::finalizer::Error::CleanupFailed(Error::InUse(..))));
    if in_use {
        tracing::info!(profile = %p.name_any(), "{e}; deletion waits");
        Action::requeue(Duration::from_secs(10))
    } else {
        tracing::warn!(profile = %p.name_any(), error = %e, "reconcile failed");
        Action::requeue(Duration::from_secs(5))
    }
}

/// SC-40: when the SPOD's allowedSyscalls set changes to a non-empty list (and when the
/// daemon first sees it), delete every SeccompProfile that breaks it.
async fn sweep(s: &Seccomp, spod: &SecurityProfilesOperatorDaemon) {
    let Some((syscalls, actions)) = policy(Some(spod)) else {
        return;
    };
    for p in s.resolver.store.state() {
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Ok(resolved) =
            resolve_async(&to_core(&p), &s.resolver, spo_seccomp::merge::UnionMode::V1).await
        else {
            continue;
        };
        let v = spo_seccomp::allowed::check_allowed(&resolved.spec, &syscalls, &actions);
        if v.is_empty() {
            continue;
        }
        warn(
            s,
            &p,
            reason::NOT_ALLOWED,
            format!("deleting profile {}: not allowed: {v}", p.name_any()),
        )
        .await;
        match s
            .profiles
            .delete(&p.name_any(), &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => {
                tracing::warn!(profile = %p.name_any(), error = %e, "cannot delete non-compliant profile")
            }
        }
    }
}

/// What the pod cache keeps of a pod: in-use protection and VER-09 read the name,
/// namespace, seccomp annotations, the containers' security contexts and the phase.
fn slim_pod(pod: &mut Pod) {
    pod.managed_fields_mut().clear();
    pod.annotations_mut()
        .remove("kubectl.kubernetes.io/last-applied-configuration");
    if let Some(st) = pod.status.as_mut() {
        *st = k8s_openapi::api::core::v1::PodStatus {
            phase: st.phase.take(),
            ..Default::default()
        };
    }
}

/// Starts the controller and runs it until a signal.
pub async fn run(
    client: Client,
    opts: DaemonOptions,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    health: Health,
) -> crate::Result<()> {
    health.set("seccomp", kernel_has_seccomp());
    let node = opts.node_name.clone();
    let oci = OciBases::from_options(&opts)?;
    let profiles: Api<SeccompProfile> = Api::all(client.clone());
    let spods: Api<SecurityProfilesOperatorDaemon> =
        Api::namespaced(client.clone(), &opts.operator_namespace);

    // The pods of this node — of the watched namespaces only (ARCH-13). Only what in-use
    // protection and VER-09 read is kept (no managedFields, no status but the phase).
    let pod_apis: Vec<Api<Pod>> = match opts.watched_namespaces() {
        None => vec![Api::all(client.clone())],
        Some(list) => {
            tracing::info!(namespaces = ?list, "restricted to namespaces");
            list.iter()
                .map(|ns| Api::namespaced(client.clone(), ns))
                .collect()
        }
    };
    let mut pod_stores = Vec::new();
    let mut pod_streams = Vec::new();
    for api in pod_apis {
        let (store, writer) = reflector::store();
        pod_stores.push(store);
        pod_streams.push(
            reflector::reflector(
                writer,
                watcher(
                    api,
                    watcher::Config::default().fields(&format!("spec.nodeName={node}")),
                )
                .modify(slim_pod),
            )
            .touched_objects()
            .default_backoff()
            .boxed(),
        );
    }
    let pod_stream = futures::stream::select_all(pod_streams);
    let (spod_store, spod_writer) = reflector::store();
    let spod_stream = reflector::reflector(
        spod_writer,
        watcher(
            spods,
            watcher::Config::default().fields(&format!("metadata.name={}", opts.spod_name)),
        ),
    )
    .applied_objects()
    .default_backoff();

    // The watch cache keeps what reconciles read: managedFields and kubectl's
    // last-applied copy are dropped (memory with many profiles).
    let (store, writer) = reflector::store();
    let profile_stream = reflector::reflector(
        writer,
        watcher(profiles.clone(), watcher::Config::default()).modify(|p: &mut SeccompProfile| {
            p.managed_fields_mut().clear();
            p.annotations_mut()
                .remove("kubectl.kubernetes.io/last-applied-configuration");
        }),
    )
    .applied_objects()
    .default_backoff();
    let controller = Controller::for_stream(profile_stream, store.clone());
    let spod_ref = (opts.operator_namespace.clone(), opts.spod_name.clone());
    let s = Arc::new(Seccomp {
        ctx: Context {
            client: client.clone(),
            node: node.clone(),
            seccomp_root: super::seccomp_root(&opts.kubelet_dir),
            recorder,
            metrics,
            spod: spod_store.clone(),
            pods: super::PodCache(pod_stores),
            spod_ref: spod_ref.clone(),
            api_slots: Arc::new(tokio::sync::Semaphore::new(opts.api_concurrency.max(1))),
        },
        resolver: ApiResolver {
            store,
            api: profiles.clone(),
            oci,
            spod: spod_store,
            spod_ref,
        },
        profiles,
        statuses: Api::all(client),
    });

    let sweeper = {
        let s = s.clone();
        async move {
            let mut last: Option<BTreeSet<String>> = None;
            let mut stream = std::pin::pin!(spod_stream);
            while let Some(ev) = stream.next().await {
                let Ok(spod) = ev else { continue };
                let set: BTreeSet<String> = spod.spec.allowed().0.into_iter().collect();
                if last.as_ref() != Some(&set) {
                    last = Some(set);
                    s.resolver.store.wait_until_ready().await.ok();
                    sweep(&s, &spod).await;
                }
            }
        }
    };
    tokio::spawn(sweeper);

    tracing::info!(node = %node, root = %s.ctx.seccomp_root.display(), "seccomp controller starting");
    controller
        .watches_stream(pod_stream, |pod: Pod| {
            profile_uses(&pod)
                .into_iter()
                .flat_map(|u| u.candidate_names())
                .map(|n| ObjectRef::new(&n))
                .collect::<Vec<_>>()
        })
        .shutdown_on_signal()
        .run(reconcile, error_policy, s)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "controller");
            }
        })
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::finalizer::Error as F;

    fn api(code: u16) -> kube::Error {
        let status: kube::core::Status =
            serde_json::from_value(serde_json::json!({"code": code})).expect("status");
        kube::Error::Api(Box::new(status))
    }

    // The 422/409/404 of finalizer patches on a stale copy are not failures.
    #[test]
    fn finalizer_patches_on_stale_copies_are_retried_quietly() {
        let gone = stale_finalizer_patch(&F::RemoveFinalizer(api(404)));
        assert_eq!(gone, Some(Action::await_change()));
        for code in [409, 422] {
            let r = stale_finalizer_patch(&F::RemoveFinalizer(api(code)));
            assert_eq!(r, Some(Action::requeue(Duration::from_millis(500))));
            let r = stale_finalizer_patch(&F::AddFinalizer(api(code)));
            assert_eq!(r, Some(Action::requeue(Duration::from_millis(500))));
        }
        assert_eq!(stale_finalizer_patch(&F::RemoveFinalizer(api(500))), None);
        assert_eq!(stale_finalizer_patch(&F::AddFinalizer(api(403))), None);
    }

    // covers: SC-18 (the SPOD's switch and patterns choose the verification)
    #[test]
    fn oci_verification_follows_the_spod() {
        let spod = |spec: serde_json::Value| -> SecurityProfilesOperatorDaemon {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "security-profiles-operator.x-k8s.io/v1alpha1",
                "kind": "SecurityProfilesOperatorDaemon",
                "metadata": {"name": "spod", "namespace": "spo"},
                "spec": spec,
            }))
            .expect("spod")
        };
        assert_eq!(
            oci_policy(None, false),
            OciPolicy::Keyless(".*".into(), ".*".into())
        );
        assert_eq!(oci_policy(None, true), OciPolicy::Key);
        let off = spod(
            serde_json::json!({"security": {"disableOciArtifactSignatureVerification": true}}),
        );
        assert_eq!(oci_policy(Some(&off), true), OciPolicy::Disabled);
        // 0.10's flat field name (VER-08).
        let flat = spod(serde_json::json!({"disableOciArtifactSignatureVerification": true}));
        assert_eq!(oci_policy(Some(&flat), false), OciPolicy::Disabled);
        let ids = spod(serde_json::json!({"security": {
            "allowedIdentityRegexp": "^me@example.com$", "allowedOidcIssuerRegexp": "^https://issuer$"}}));
        assert_eq!(
            oci_policy(Some(&ids), false),
            OciPolicy::Keyless("^me@example.com$".into(), "^https://issuer$".into())
        );
    }
}
