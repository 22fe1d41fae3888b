//! The SELinux controllers of the node daemon (`selinux.md` §5, SE-18..SE-27): one for
//! SelinuxProfile (translated to CIL with spo-selinux, parents looked up in the watch cache)
//! and one for RawSelinuxProfile (checked and wrapped by spo-selinux; switched off with
//! `--with-raw-selinux=false`, SE-27). Both write `<dir>/<policy>.cil` and install it with
//! spo-selinux's installer: `semodule` (optionally `-p ROOT -s STORE`) committing without a
//! reload, or, with `--selinux-offline-base BASE.cil` (hosts without SELinux), a compile
//! check with `secilc`. The running policy is reloaded by one rate-limited loop per node
//! ([`reload`], SE-23). Node status `InProgress` → `Installed` or `Error`; removal on
//! deletion; events and metrics with the reasons of §8 (SE-31).

pub mod reload;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{finalizer, Event as FinalizerEvent};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Client, Resource, ResourceExt};
use spo_selinux::install::{PolicyInstaller, Semodule, SystemRunner, WriteOutcome};
use spo_selinux::Module;

use super::health::Health;
use super::nodestatus;
use crate::api::names::{node_finalizer, profile_id, FINALIZER_IN_USE, LABEL_PROFILE_ID};
use crate::api::spod::SpodSelinuxOptions;
use crate::api::{
    InstallState, RawSelinuxProfile, SecurityProfileNodeStatus, SecurityProfilesOperatorDaemon,
    SelinuxProfile,
};
use crate::metrics::Metrics;
use reload::{Poll, ReloadAction, Reloader};

/// Event and metric reasons (`selinux.md` §8).
pub mod reason {
    /// Validation, translation or the policy manager refused the module (Warning).
    pub const CANNOT_SAVE: &str = "CannotSaveSelinuxPolicy";
    /// The node status could not be written (Warning).
    pub const CANNOT_UPDATE_STATUS: &str = "CannotUpdatePolicyStatus";
    /// Removal failed (Warning).
    pub const CANNOT_REMOVE: &str = "CannotRemoveSelinuxPolicy";
    /// The policy manager (`semodule`) cannot be run at all (Warning).
    pub const CANNOT_CONTACT: &str = "CannotContactSelinuxd";
    /// The CIL file could not be written (Warning).
    pub const CANNOT_WRITE: &str = "CannotWritePolicyFile";
    /// The running policy could not be reloaded (Warning, no metric reason upstream).
    pub const CANNOT_RELOAD: &str = "CannotReloadSelinuxPolicy";
    /// Installed (Normal).
    pub const SAVED: &str = "SavedSelinuxPolicy";
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API call failed.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// spo-selinux failed.
    #[error(transparent)]
    Selinux(#[from] spo_selinux::Error),
    /// The finalizer helper failed.
    #[error("{0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    /// Pods still use the profile (`in-use-by-active-pods`): the policy stays installed.
    #[error("profile {0} is in use by active pods; the policy stays installed")]
    InUse(String),
    /// The policy store does not take changes yet (SE-20); the removal waits.
    #[error("the SELinux policy store is not ready; removal of {0} waits")]
    NotReady(String),
}

/// Offline installer: `secilc` compiles the module against a base policy; nothing is loaded.
#[derive(Debug, Clone)]
pub struct SecilcCheck {
    /// The base policy (CIL).
    pub base: PathBuf,
}

impl PolicyInstaller for SecilcCheck {
    fn install(&self, cil_file: &Path) -> Result<(), spo_selinux::Error> {
        let args: Vec<OsString> = vec![
            "-o".into(),
            "/dev/null".into(),
            "-f".into(),
            "/dev/null".into(),
            self.base.clone().into_os_string(),
            cil_file.as_os_str().to_owned(),
        ];
        let out = std::process::Command::new("secilc").args(&args).output();
        match out {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(spo_selinux::Error::Command {
                command: format!("secilc {}", cil_file.display()),
                status: o.status.to_string(),
                stderr: String::from_utf8_lossy(&o.stderr).trim().to_string(),
            }),
            Err(source) => Err(spo_selinux::Error::Spawn {
                program: "secilc".into(),
                source,
            }),
        }
    }

    fn remove(&self, _name: &spo_selinux::PolicyName) -> Result<(), spo_selinux::Error> {
        Ok(())
    }
}

/// The SelinuxProfile parents in the watch cache.
pub struct Parents(Option<Store<SelinuxProfile>>);

fn to_core(p: &SelinuxProfile) -> spo_selinux::SelinuxProfile {
    let mut meta = spo_core::ObjectMeta::named(p.name_any());
    meta.labels = p.labels().clone();
    spo_selinux::SelinuxProfile {
        metadata: meta,
        version: spo_core::Version::V1,
        spec: p.spec.clone(),
    }
}

impl spo_selinux::ParentResolver for Parents {
    fn lookup(
        &self,
        name: &str,
        _namespace: Option<&str>,
    ) -> Result<Option<spo_selinux::SelinuxProfile>, spo_selinux::ResolveError> {
        Ok(self
            .0
            .as_ref()
            .and_then(|s| s.get(&ObjectRef::new(name)))
            .map(|p| to_core(&p)))
    }
}

/// The validation and translation options a SPOD asks for (`selinux.md` §2): system
/// templates from `selinux.options.allowedSystemProfiles` (0.10: `selinuxOptions.…`; default
/// `["container"]`), and the deny list settings `denied*` / `allowed*` (SE-15..SE-17).
pub fn options_from_spod(spod: Option<&SecurityProfilesOperatorDaemon>) -> spo_selinux::Options {
    let mut o = spo_selinux::Options::default();
    let Some(spod) = spod else { return o };
    let grouped = spod.spec.selinux.as_ref().and_then(|s| s.options.clone());
    // 0.10's flat `selinuxOptions`, until the manager folds it into `selinux.options`.
    let flat = || {
        spod.spec
            .deprecated
            .get("selinuxOptions")
            .and_then(|v| serde_json::from_value::<SpodSelinuxOptions>(v.clone()).ok())
    };
    let Some(opts) = grouped.or_else(flat) else {
        return o;
    };
    if let Some(list) = opts.allowed_system_profiles {
        o.allowed_system_profiles = spo_selinux::AllowedSystemProfiles::List(list);
    }
    let set = |v: Option<Vec<String>>| v.unwrap_or_default().into_iter().collect();
    o.deny.denied_types = set(opts.denied_types);
    o.deny.denied_classes = set(opts.denied_classes);
    o.deny.denied_permissions = set(opts.denied_permissions);
    o.deny.allowed_types = set(opts.allowed_types);
    o.deny.allowed_classes = set(opts.allowed_classes);
    o.deny.allowed_permissions = set(opts.allowed_permissions);
    o
}

/// A kind the SELinux controllers install: SelinuxProfile or RawSelinuxProfile.
pub trait SelinuxKind:
    Resource<DynamicType = (), Scope = k8s_openapi::ClusterResourceScope>
    + Clone
    + serde::de::DeserializeOwned
    + serde::Serialize
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The kind's name.
    const KIND: &'static str;
    /// Whether `spec.state` is `Disabled`.
    fn disabled(&self) -> bool;
    /// The module to install (validated with `opts`).
    fn module(
        &self,
        parents: &Parents,
        opts: &spo_selinux::Options,
    ) -> Result<Module, spo_selinux::Error>;
}

impl SelinuxKind for SelinuxProfile {
    const KIND: &'static str = "SelinuxProfile";
    fn disabled(&self) -> bool {
        self.spec.state == spo_selinux::model::State::Disabled
    }
    fn module(
        &self,
        parents: &Parents,
        opts: &spo_selinux::Options,
    ) -> Result<Module, spo_selinux::Error> {
        spo_selinux::to_cil(&to_core(self), opts, parents)
    }
}

impl SelinuxKind for RawSelinuxProfile {
    const KIND: &'static str = "RawSelinuxProfile";
    fn disabled(&self) -> bool {
        self.spec.state == spo_selinux::model::State::Disabled
    }
    fn module(
        &self,
        _parents: &Parents,
        opts: &spo_selinux::Options,
    ) -> Result<Module, spo_selinux::Error> {
        let mut meta = spo_core::ObjectMeta::named(self.name_any());
        meta.labels = self.labels().clone();
        let core = spo_selinux::RawSelinuxProfile {
            metadata: meta,
            version: spo_core::Version::V1,
            spec: self.spec.clone(),
        };
        spo_selinux::raw_to_cil(&core, opts)
    }
}

/// What both SELinux controllers of a node share: the installer (one `semodule` at a time,
/// it locks the store anyway), its readiness, and the reload bookkeeping.
pub struct Node {
    node: String,
    dir: PathBuf,
    installer: Mutex<Box<dyn PolicyInstaller + Send>>,
    ready: AtomicBool,
    reloader: Mutex<Reloader>,
    wake_reload: tokio::sync::Notify,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    statuses: Api<SecurityProfileNodeStatus>,
    /// This daemon's SPOD (the only one watched).
    spod: Store<SecurityProfilesOperatorDaemon>,
}

impl Node {
    /// The options of the SPOD, once its watch has listed (default options without a SPOD).
    async fn options(&self) -> spo_selinux::Options {
        let _ = self.spod.wait_until_ready().await;
        options_from_spod(self.spod.state().first().map(|s| &**s))
    }

    /// Runs `f` with the installer; blocking (semodule), so the caller is on a blocking
    /// thread (the reload loop) or uses [`Node::installer_call`].
    fn with_installer<T>(&self, f: impl FnOnce(&dyn PolicyInstaller) -> T) -> T {
        let guard = self.installer.lock().unwrap_or_else(|p| p.into_inner());
        f(guard.as_ref())
    }

    /// [`Node::with_installer`] from a reconcile: the worker thread is handed over while
    /// semodule runs (or waits for the store lock), so the other controllers keep running.
    fn installer_call<T>(&self, f: impl FnOnce(&dyn PolicyInstaller) -> T) -> T {
        tokio::task::block_in_place(|| self.with_installer(f))
    }
}

/// One controller's state.
pub struct Selinux<K: SelinuxKind> {
    node: Arc<Node>,
    parents: Parents,
    profiles: Api<K>,
}

fn event<K: SelinuxKind>(n: &Node, p: &K, type_: EventType, reason: &str, note: String) {
    if type_ == EventType::Warning {
        tracing::warn!(kind = K::KIND, profile = %p.name_any(), reason, "{note}");
        if reason != reason::CANNOT_RELOAD {
            n.metrics.selinux_error(reason);
        }
    }
    let ev = Event {
        type_,
        reason: reason.into(),
        note: Some(note),
        action: "Reconcile".into(),
        secondary: None,
    };
    let mut reference = p.object_ref(&());
    reference.namespace.get_or_insert_with(|| "default".into());
    let recorder = n.recorder.clone();
    tokio::spawn(async move {
        let _ = recorder.publish(&ev, &reference).await;
    });
}

async fn set_state<K: SelinuxKind>(n: &Node, p: &K, state: InstallState) -> Result<(), Error> {
    if let Err(e) = nodestatus::apply_state(&n.statuses, p, &n.node, state).await {
        event(
            n,
            p,
            EventType::Warning,
            reason::CANNOT_UPDATE_STATUS,
            format!("cannot set node status {}: {e}", state.as_str()),
        );
        return Err(e.into());
    }
    Ok(())
}

/// SE-20: whether the policy manager takes modules. Once ready, it stays ready (a failing
/// install reports itself); before that every reconcile asks again.
fn ready<K: SelinuxKind>(n: &Node, p: &K) -> bool {
    if n.ready.load(Ordering::Acquire) {
        return true;
    }
    match n.installer_call(|i| i.ready()) {
        Ok(()) => {
            tracing::info!("SELinux policy store is ready");
            install_recording_type(n);
            n.ready.store(true, Ordering::Release);
            true
        }
        Err(e @ spo_selinux::Error::Spawn { .. }) => {
            event(
                n,
                p,
                EventType::Warning,
                reason::CANNOT_CONTACT,
                e.to_string(),
            );
            false
        }
        Err(e) => {
            tracing::info!(kind = K::KIND, profile = %p.name_any(), error = %e, "SELinux policy store not ready; requeueing");
            false
        }
    }
}

/// SE-28: the permissive recording type `selinuxrecording.process` is installed once the
/// store is ready (the node bootstrap of §7, which upstream's init container does). A
/// failure is logged; profiles still install.
fn install_recording_type(n: &Node) {
    let result = spo_selinux::record::recording_module().and_then(|m| {
        n.installer_call(|i| spo_selinux::install::install_module(&n.dir, &m, i))
            .map(|o| (m, o))
    });
    match result {
        Ok((m, WriteOutcome::Written)) => {
            tracing::info!(policy = %m.name().as_str(), "installed the SELinux recording type");
            let queued = n
                .reloader
                .lock()
                .map(|mut r| r.commit("Node", m.name().as_str(), ReloadAction::Install, 0))
                .unwrap_or(false);
            if queued {
                n.wake_reload.notify_one();
            }
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "cannot install the SELinux recording type {}", spo_selinux::RECORDING_TYPE);
            if let Ok(name) = spo_selinux::PolicyName::new("selinuxrecording") {
                let _ = spo_selinux::install::remove_policy(&n.dir, &name);
            }
        }
    }
}

/// How long a reconcile waits when the store is not ready (SE-20).
pub const NOT_READY_REQUEUE: Duration = Duration::from_secs(5);

fn commit_reload<K: SelinuxKind>(n: &Node, p: &K, action: ReloadAction) {
    let generation = p.meta().generation.unwrap_or(0);
    let queued = n
        .reloader
        .lock()
        .map(|mut r| r.commit(K::KIND, &p.name_any(), action, generation))
        .unwrap_or(false);
    if queued {
        n.wake_reload.notify_one();
    }
}

async fn apply<K: SelinuxKind>(p: Arc<K>, s: &Selinux<K>) -> Result<Action, Error> {
    let n = &s.node;
    let name = p.name_any();
    let id = profile_id(K::KIND, &name);
    if p.labels().get(LABEL_PROFILE_ID) != Some(&id) {
        let patch = serde_json::json!({
            "apiVersion": format!("{}/{}", crate::api::GROUP, crate::api::HUB),
            "kind": K::KIND,
            "metadata": {"name": name, "labels": {LABEL_PROFILE_ID: id}},
        });
        s.profiles
            .patch(
                &name,
                &PatchParams::apply("spo-daemon").force(),
                &Patch::Apply(&patch),
            )
            .await?;
    }
    // SE-20: nothing changes until the store takes modules.
    if !ready(n, &*p) {
        return Ok(Action::requeue(NOT_READY_REQUEUE));
    }
    // SE-18: validated, never installed.
    let opts = n.options().await;
    let module = match p.module(&s.parents, &opts) {
        Ok(m) => m,
        Err(e) => {
            event(
                n,
                &*p,
                EventType::Warning,
                reason::CANNOT_SAVE,
                format!("Profile failed validation on {}: {e}", n.node),
            );
            set_state(n, &*p, InstallState::Error).await?;
            // A missing parent may appear later (weak point 5): look again now and then.
            return Ok(Action::requeue(Duration::from_secs(60)));
        }
    };
    let partial = p
        .labels()
        .get(spo_core::LABEL_PARTIAL)
        .is_some_and(|v| v == "true");
    if partial || p.disabled() {
        let state = if partial {
            InstallState::Partial
        } else {
            InstallState::Disabled
        };
        // A profile installed before it was disabled leaves the node's policy.
        remove_module(n, &*p)?;
        set_state(n, &*p, state).await?;
        return Ok(Action::await_change());
    }
    let outcome = match spo_selinux::install::write_policy(&n.dir, module.name(), &module.render())
    {
        Ok(o) => o,
        Err(e) => {
            event(
                n,
                &*p,
                EventType::Warning,
                reason::CANNOT_WRITE,
                e.to_string(),
            );
            return Err(e.into());
        }
    };
    if outcome == WriteOutcome::Written {
        // SE-19: a new or changed file is InProgress until the policy manager took it.
        set_state(n, &*p, InstallState::InProgress).await?;
        let file = n.dir.join(module.name().file_name());
        if let Err(e) = n.installer_call(|i| i.install(&file)) {
            event(
                n,
                &*p,
                EventType::Warning,
                reason::CANNOT_SAVE,
                format!("Failed to save profile to disk on {}: {e}", n.node),
            );
            // A failed install must be retried even if the file is unchanged next time.
            let _ = spo_selinux::install::remove_policy(&n.dir, module.name());
            set_state(n, &*p, InstallState::Error).await?;
            return Ok(Action::requeue(Duration::from_secs(30)));
        }
        n.metrics.selinux_op("update");
        event(
            n,
            &*p,
            EventType::Normal,
            reason::SAVED,
            format!("Successfully saved profile to disk on {}", n.node),
        );
        commit_reload(n, &*p, ReloadAction::Install);
    }
    set_state(n, &*p, InstallState::Installed).await?;
    Ok(Action::await_change())
}

/// Removes the profile's module from the node when it is installed (deletion, or a profile
/// that became disabled or partial).
fn remove_module<K: SelinuxKind>(n: &Node, p: &K) -> Result<(), Error> {
    let Ok(pn) = spo_selinux::PolicyName::new(&p.name_any()) else {
        return Ok(());
    };
    let existed = n.dir.join(pn.file_name()).exists();
    let removed = n.installer_call(|i| {
        if existed {
            spo_selinux::install::uninstall_module(&n.dir, &pn, i)
        } else {
            Ok(false)
        }
    });
    if let Err(e) = removed {
        event(
            n,
            p,
            EventType::Warning,
            reason::CANNOT_REMOVE,
            e.to_string(),
        );
        return Err(e.into());
    }
    if existed {
        n.metrics.selinux_op("delete");
        commit_reload(n, p, ReloadAction::Remove);
    }
    Ok(())
}

async fn cleanup<K: SelinuxKind>(p: Arc<K>, s: &Selinux<K>) -> Result<Action, Error> {
    let n = &s.node;
    let name = p.name_any();
    set_state(n, &*p, InstallState::Terminating).await?;
    // SE-30 / weak point 4: pods still run with the type; keep the policy until they are gone.
    if p.finalizers().iter().any(|f| f == FINALIZER_IN_USE) {
        return Err(Error::InUse(name));
    }
    if !ready(n, &*p) {
        // An error keeps this node's finalizer: the module must not outlive the object.
        return Err(Error::NotReady(name));
    }
    remove_module(n, &*p)?;
    if let Err(e) = nodestatus::delete(&n.statuses, &*p, &n.node).await {
        event(
            n,
            &*p,
            EventType::Warning,
            reason::CANNOT_UPDATE_STATUS,
            format!("cannot delete node status: {e}"),
        );
        return Err(e.into());
    }
    Ok(Action::await_change())
}

/// Reconciles one profile of kind `K` on this node.
pub async fn reconcile<K: SelinuxKind>(p: Arc<K>, s: Arc<Selinux<K>>) -> Result<Action, Error> {
    let fin = node_finalizer(&s.node.node);
    finalizer(&s.profiles, &fin, p, |ev| async {
        match ev {
            FinalizerEvent::Apply(p) => apply(p, &s).await,
            FinalizerEvent::Cleanup(p) => cleanup(p, &s).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

fn error_policy<K: SelinuxKind>(p: Arc<K>, e: &Error, _s: Arc<Selinux<K>>) -> Action {
    let in_use = matches!(e, Error::Finalizer(b) if matches!(**b, kube::runtime::finalizer::Error::CleanupFailed(Error::InUse(..))));
    if in_use {
        tracing::info!(kind = K::KIND, profile = %p.name_any(), "in use by active pods; waiting");
        return Action::requeue(Duration::from_secs(10));
    }
    let not_ready = matches!(e, Error::Finalizer(b) if matches!(**b, kube::runtime::finalizer::Error::CleanupFailed(Error::NotReady(..))));
    if not_ready {
        tracing::info!(kind = K::KIND, profile = %p.name_any(), "SELinux policy store not ready; removal waits");
        return Action::requeue(NOT_READY_REQUEUE);
    }
    tracing::warn!(kind = K::KIND, profile = %p.name_any(), error = %e, "selinux reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

/// The node's reload loop (SE-23): sleeps until a commit wakes it, reloads at most every
/// [`reload::MIN_INTERVAL`], one reload for everything committed before it.
async fn reload_loop(n: Arc<Node>) {
    loop {
        let poll = match n.reloader.lock() {
            Ok(mut r) => r.poll(Instant::now()),
            Err(_) => return,
        };
        match poll {
            Poll::Idle => n.wake_reload.notified().await,
            Poll::Wait(d) => {
                tokio::select! {
                    _ = tokio::time::sleep(d) => {}
                    _ = n.wake_reload.notified() => {}
                }
            }
            Poll::ReloadNow => {
                let node = n.clone();
                let result =
                    tokio::task::spawn_blocking(move || node.with_installer(|i| i.reload()))
                        .await
                        .unwrap_or_else(|e| {
                            Err(spo_selinux::Error::Spawn {
                                program: "semodule -R".into(),
                                source: std::io::Error::other(e.to_string()),
                            })
                        });
                match &result {
                    Ok(()) => tracing::info!("reloaded the SELinux policy"),
                    Err(e) => {
                        tracing::warn!(reason = reason::CANNOT_RELOAD, error = %e, "cannot reload the SELinux policy")
                    }
                }
                if let Ok(mut r) = n.reloader.lock() {
                    r.finished(result.is_ok());
                }
            }
        }
    }
}

type Watch<K> = std::pin::Pin<Box<dyn futures::Stream<Item = Result<K, watcher::Error>> + Send>>;

/// A cached watch of every object of kind `K`.
fn watch<K: SelinuxKind>(api: &Api<K>) -> (Store<K>, Watch<K>) {
    let (store, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api.clone(), watcher::Config::default()))
        .applied_objects()
        .default_backoff();
    (store, Box::pin(stream))
}

async fn controller<K: SelinuxKind>(
    profiles: Api<K>,
    (store, stream): (Store<K>, Watch<K>),
    node: Arc<Node>,
    parents: Parents,
) {
    let s = Arc::new(Selinux {
        node,
        parents,
        profiles,
    });
    tracing::info!(kind = K::KIND, dir = %s.node.dir.display(), "selinux controller starting");
    Controller::for_stream(stream, store)
        .shutdown_on_signal()
        .run(reconcile::<K>, error_policy::<K>, s)
        .for_each(|_| async {})
        .await;
}

/// The installer the options ask for.
pub fn installer(opts: &super::DaemonOptions) -> Box<dyn PolicyInstaller + Send> {
    match &opts.selinux_offline_base {
        Some(base) => Box::new(SecilcCheck { base: base.clone() }),
        None => {
            let mut s = Semodule::new(SystemRunner);
            s.root = opts.selinux_root.clone();
            s.store = opts.selinux_store.clone();
            // The reload is the rate-limited loop's job (SE-23).
            s.no_reload = true;
            Box::new(s)
        }
    }
}

/// Starts the SelinuxProfile controller, and the RawSelinuxProfile one unless
/// `--with-raw-selinux=false` (SE-27), and runs them until a signal.
pub async fn run(
    client: Client,
    opts: super::DaemonOptions,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    health: Health,
) -> crate::Result<()> {
    std::fs::create_dir_all(&opts.selinux_dir)?;
    let spods: Api<SecurityProfilesOperatorDaemon> =
        Api::namespaced(client.clone(), &opts.operator_namespace);
    let (spod, spod_writer) = reflector::store();
    let spod_watch = reflector::reflector(
        spod_writer,
        watcher(
            spods,
            watcher::Config::default().fields(&format!("metadata.name={}", opts.spod_name)),
        ),
    )
    .applied_objects()
    .default_backoff();
    let spod_task = tokio::spawn(spod_watch.for_each(|_| async {}));
    let node = Arc::new(Node {
        node: opts.node_name.clone(),
        dir: opts.selinux_dir.clone(),
        installer: Mutex::new(installer(&opts)),
        ready: AtomicBool::new(false),
        reloader: Mutex::new(Reloader::new(Duration::from_secs(
            opts.selinux_reload_interval,
        ))),
        wake_reload: tokio::sync::Notify::new(),
        recorder,
        metrics,
        statuses: Api::all(client.clone()),
        spod,
    });
    health.set("selinux", Ok(()));
    let reloads = tokio::spawn(reload_loop(node.clone()));
    // The SelinuxProfile controller's own cache is where parents are looked up.
    let profiles: Api<SelinuxProfile> = Api::all(client.clone());
    let (store, stream) = watch(&profiles);
    let parents = Parents(Some(store.clone()));
    let selinux = controller(profiles, (store, stream), node.clone(), parents);
    if opts.with_raw_selinux {
        health.set("selinux-raw", Ok(()));
        let raws: Api<RawSelinuxProfile> = Api::all(client);
        let w = watch(&raws);
        tokio::join!(selinux, controller(raws, w, node, Parents(None)));
    } else {
        tracing::info!(
            "RawSelinuxProfile support is off (SPOD selinux.enableRawSelinuxProfiles: false)"
        );
        selinux.await;
    }
    reloads.abort();
    spod_task.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spod(spec: serde_json::Value) -> SecurityProfilesOperatorDaemon {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "security-profiles-operator.x-k8s.io/v1alpha1",
            "kind": "SecurityProfilesOperatorDaemon",
            "metadata": {"name": "spod", "namespace": "security-profiles-operator"},
            "spec": spec,
        }))
        .expect("spod")
    }

    // covers: SE-04, SE-16, SE-17 (the daemon reads them from its SPOD)
    #[test]
    fn spod_selinux_options_reach_validation() {
        let d = options_from_spod(None);
        assert_eq!(
            d.allowed_system_profiles,
            spo_selinux::AllowedSystemProfiles::default()
        );
        let o = options_from_spod(Some(&spod(serde_json::json!({"selinux": {"options": {
            "allowedSystemProfiles": ["container", "net_container"],
            "deniedTypes": ["container_file_t"],
            "allowedPermissions": ["mounton"],
        }}}))));
        assert_eq!(
            o.allowed_system_profiles,
            spo_selinux::AllowedSystemProfiles::List(vec![
                "container".into(),
                "net_container".into()
            ])
        );
        assert!(o.deny.types().contains("container_file_t"));
        assert!(o.deny.types().contains("kernel_t"), "built-ins stay");
        assert!(!o.deny.permissions().contains("mounton"));
        // 0.10's flat name.
        let flat = options_from_spod(Some(&spod(serde_json::json!({"selinuxOptions": {
            "allowedSystemProfiles": ["net_container"]}}))));
        assert_eq!(
            flat.allowed_system_profiles,
            spo_selinux::AllowedSystemProfiles::List(vec!["net_container".into()])
        );
    }
}
