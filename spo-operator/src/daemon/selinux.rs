//! The SelinuxProfile controller of the node daemon (`selinux.md` SE-19..SE-22): translate
//! the profile to CIL with spo-selinux (parents looked up in the watch cache), write
//! `<dir>/<policy>.cil` and install it with spo-selinux's installer — `semodule` against the
//! host, or, with `--selinux-offline-base BASE.cil` (hosts without SELinux, and tests), a
//! compile check of the module against that base policy with `secilc`. Node status
//! `Installed` or `Error`; removal on deletion. RawSelinuxProfile is not handled yet.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{finalizer, Event as FinalizerEvent};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Client, Resource, ResourceExt};
use spo_selinux::install::{PolicyInstaller, Semodule, SystemRunner};

use super::health::Health;
use super::nodestatus;
use crate::api::names::{node_finalizer, profile_id, LABEL_PROFILE_ID};
use crate::api::{InstallState, SecurityProfileNodeStatus, SelinuxProfile};
use crate::metrics::Metrics;

/// Event and metric reasons.
pub mod reason {
    /// Translation or installation failed.
    pub const CANNOT_INSTALL: &str = "CannotInstallSelinuxPolicy";
    /// Removal failed.
    pub const CANNOT_REMOVE: &str = "CannotRemoveSelinuxPolicy";
    /// Installed (Normal).
    pub const INSTALLED: &str = "SavedSelinuxProfile";
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
            Ok(o) => Err(spo_selinux::Error::Invalid {
                kind: "SelinuxProfile",
                name: cil_file.display().to_string(),
                violations: {
                    let mut v = spo_core::Violations::new();
                    v.push("cil", String::from_utf8_lossy(&o.stderr).trim().to_string());
                    v
                },
            }),
            Err(e) => Err(spo_selinux::Error::Invalid {
                kind: "SelinuxProfile",
                name: cil_file.display().to_string(),
                violations: {
                    let mut v = spo_core::Violations::new();
                    v.push("secilc", format!("cannot run secilc: {e}"));
                    v
                },
            }),
        }
    }

    fn remove(&self, _name: &spo_selinux::PolicyName) -> Result<(), spo_selinux::Error> {
        Ok(())
    }
}

struct Parents(Store<SelinuxProfile>);

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
        Ok(self.0.get(&ObjectRef::new(name)).map(|p| to_core(&p)))
    }
}

/// The controller's state.
pub struct Selinux {
    node: String,
    dir: PathBuf,
    installer: Box<dyn PolicyInstaller + Send + Sync>,
    parents: Parents,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    profiles: Api<SelinuxProfile>,
    statuses: Api<SecurityProfileNodeStatus>,
}

fn event(s: &Selinux, p: &SelinuxProfile, type_: EventType, reason: &str, note: String) {
    if type_ == EventType::Warning {
        tracing::warn!(profile = %p.name_any(), reason, "{note}");
        s.metrics.selinux_error(reason);
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
    let recorder = s.recorder.clone();
    tokio::spawn(async move {
        let _ = recorder.publish(&ev, &reference).await;
    });
}

async fn apply(p: Arc<SelinuxProfile>, s: &Selinux) -> Result<Action, Error> {
    let name = p.name_any();
    let id = profile_id("SelinuxProfile", &name);
    if p.labels().get(LABEL_PROFILE_ID) != Some(&id) {
        let patch = serde_json::json!({
            "apiVersion": format!("{}/{}", crate::api::GROUP, crate::api::HUB),
            "kind": "SelinuxProfile",
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
    if p.spec.state == spo_selinux::model::State::Disabled {
        nodestatus::apply_state(&s.statuses, &*p, &s.node, InstallState::Disabled).await?;
        return Ok(Action::await_change());
    }
    let result = spo_selinux::to_cil(&to_core(&p), &spo_selinux::Options::default(), &s.parents)
        .and_then(|module| {
            spo_selinux::install::install_module(&s.dir, &module, s.installer.as_ref())
        });
    match result {
        Ok(_) => {
            s.metrics.selinux_op("update");
            event(
                s,
                &p,
                EventType::Normal,
                reason::INSTALLED,
                format!("policy {name} installed on {}", s.node),
            );
            nodestatus::apply_state(&s.statuses, &*p, &s.node, InstallState::Installed).await?;
            Ok(Action::await_change())
        }
        Err(e) => {
            event(
                s,
                &p,
                EventType::Warning,
                reason::CANNOT_INSTALL,
                e.to_string(),
            );
            // A failed install must be retried even if the file is unchanged next time.
            if let Ok(pn) = spo_selinux::PolicyName::new(&name) {
                let _ = spo_selinux::install::remove_policy(&s.dir, &pn);
            }
            nodestatus::apply_state(&s.statuses, &*p, &s.node, InstallState::Error).await?;
            Ok(Action::requeue(Duration::from_secs(30)))
        }
    }
}

async fn cleanup(p: Arc<SelinuxProfile>, s: &Selinux) -> Result<Action, Error> {
    let name = p.name_any();
    nodestatus::apply_state(&s.statuses, &*p, &s.node, InstallState::Terminating).await?;
    if let Ok(pn) = spo_selinux::PolicyName::new(&name) {
        if let Err(e) = spo_selinux::install::uninstall_module(&s.dir, &pn, s.installer.as_ref()) {
            event(
                s,
                &p,
                EventType::Warning,
                reason::CANNOT_REMOVE,
                e.to_string(),
            );
            return Err(e.into());
        }
    }
    s.metrics.selinux_op("delete");
    nodestatus::delete(&s.statuses, &*p, &s.node).await?;
    Ok(Action::await_change())
}

/// Reconciles one SelinuxProfile on this node.
pub async fn reconcile(p: Arc<SelinuxProfile>, s: Arc<Selinux>) -> Result<Action, Error> {
    let fin = node_finalizer(&s.node);
    finalizer(&s.profiles, &fin, p, |ev| async {
        match ev {
            FinalizerEvent::Apply(p) => apply(p, &s).await,
            FinalizerEvent::Cleanup(p) => cleanup(p, &s).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

fn error_policy(p: Arc<SelinuxProfile>, e: &Error, _s: Arc<Selinux>) -> Action {
    tracing::warn!(profile = %p.name_any(), error = %e, "selinux reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

/// Starts the controller and runs it until a signal.
pub async fn run(
    client: Client,
    opts: super::DaemonOptions,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    health: Health,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&opts.selinux_dir)?;
    let installer: Box<dyn PolicyInstaller + Send + Sync> = match &opts.selinux_offline_base {
        Some(base) => Box::new(SecilcCheck { base: base.clone() }),
        None => Box::new(Semodule::new(SystemRunner)),
    };
    health.set("selinux", Ok(()));
    let profiles: Api<SelinuxProfile> = Api::all(client.clone());
    let (store, writer) = reflector::store();
    let stream = reflector::reflector(
        writer,
        watcher(profiles.clone(), watcher::Config::default()),
    )
    .applied_objects()
    .default_backoff();
    let s = Arc::new(Selinux {
        node: opts.node_name.clone(),
        dir: opts.selinux_dir.clone(),
        installer,
        parents: Parents(store.clone()),
        recorder,
        metrics,
        profiles,
        statuses: Api::all(client),
    });
    tracing::info!(dir = %s.dir.display(), "selinux controller starting");
    Controller::for_stream(stream, store)
        .shutdown_on_signal()
        .run(reconcile, error_policy, s)
        .for_each(|_| async {})
        .await;
    Ok(())
}
