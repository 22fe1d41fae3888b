//! The AppArmorProfile controller of the node daemon (`apparmor.md` §4, AA-12, AA-14, AA-15,
//! AA-17, AA-18): render with spo-apparmor, write `/etc/apparmor.d/<file>` and load it with
//! `apparmor_parser`; or, with `--apparmor-offline` (hosts where AppArmor cannot be active,
//! and tests), compile it with `apparmor_parser -Q -K` and write the file without loading.
//! Disabled and partial profiles are not installed (upstream installs them: a weak point).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{finalizer, Event as FinalizerEvent};
use kube::runtime::{predicates, reflector, watcher, Predicate, WatchStreamExt};
use kube::{Client, Resource, ResourceExt};
use spo_apparmor::install::{ApparmorParser, Existing, Host};

use super::health::Health;
use super::nodestatus;
use crate::api::names::{node_finalizer, profile_id, LABEL_PROFILE_ID};
use crate::api::{AppArmorProfile, InstallState, SecurityProfileNodeStatus};
use crate::metrics::Metrics;

/// Event and metric reasons (`apparmor.md` §5).
pub mod reason {
    /// The host has no AppArmor (AA-14).
    pub const NOT_SUPPORTED: &str = "AppArmorNotSupportedOnNode";
    /// Rendering, compiling or loading failed.
    pub const CANNOT_LOAD: &str = "CannotLoadAppArmorProfile";
    /// Unloading failed.
    pub const CANNOT_REMOVE: &str = "CannotRemoveAppArmorProfile";
    /// Loaded (Normal).
    pub const LOADED: &str = "AppArmorProfileLoaded";
}

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API call failed.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// spo-apparmor failed.
    #[error(transparent)]
    AppArmor(#[from] spo_apparmor::Error),
    /// The finalizer helper failed.
    #[error("{0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
}

/// The controller's state.
pub struct AppArmor {
    node: String,
    dir: PathBuf,
    offline: bool,
    parser: ApparmorParser,
    host: Host,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    profiles: Api<AppArmorProfile>,
    statuses: Api<SecurityProfileNodeStatus>,
}

async fn warn(s: &AppArmor, p: &AppArmorProfile, reason: &str, note: String) {
    tracing::warn!(profile = %p.name_any(), reason, "{note}");
    s.metrics.apparmor_error(reason);
    event(s, p, EventType::Warning, reason, note);
}

fn event(s: &AppArmor, p: &AppArmorProfile, type_: EventType, reason: &str, note: String) {
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

fn to_core(p: &AppArmorProfile) -> spo_apparmor::AppArmorProfile {
    let mut core = spo_apparmor::AppArmorProfile::new(p.name_any(), Default::default());
    core.metadata.labels = p.labels().clone();
    core.spec = p.spec.clone();
    core
}

fn skipped(p: &AppArmorProfile) -> Option<InstallState> {
    if p.labels()
        .get(spo_core::LABEL_PARTIAL)
        .is_some_and(|v| v == "true")
    {
        return Some(InstallState::Partial);
    }
    (p.spec.state == Some(spo_apparmor::State::Disabled)).then_some(InstallState::Disabled)
}

async fn apply(p: Arc<AppArmorProfile>, s: &AppArmor) -> Result<Action, Error> {
    let name = p.name_any();
    if !s.offline && !s.host.apparmor_enabled() {
        warn(
            s,
            &p,
            reason::NOT_SUPPORTED,
            format!("AppArmor is not enabled on node {}", s.node),
        )
        .await;
        return Ok(Action::await_change());
    }
    let id = profile_id("AppArmorProfile", &name);
    if p.labels().get(LABEL_PROFILE_ID) != Some(&id) {
        let patch = serde_json::json!({
            "apiVersion": format!("{}/{}", crate::api::GROUP, crate::api::HUB),
            "kind": "AppArmorProfile",
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
    if let Some(state) = skipped(&p) {
        let _ = spo_apparmor::install::remove_policy(&s.dir, &name);
        nodestatus::apply_state(&s.statuses, &*p, &s.node, state).await?;
        return Ok(Action::await_change());
    }
    let result = (|| -> Result<(), String> {
        let text = spo_apparmor::render(&to_core(&p), None).map_err(|e| e.to_string())?;
        if s.offline {
            let diags = s.parser.compile(&text).map_err(|e| e.to_string())?;
            if !diags.is_empty() {
                let msgs: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
                return Err(format!(
                    "apparmor_parser rejected the policy: {}",
                    msgs.join("; ")
                ));
            }
            spo_apparmor::install::write_policy(&s.dir, &name, &text).map_err(|e| e.to_string())?;
        } else {
            let existing = if p.metadata.generation == Some(1) {
                Existing::Refuse
            } else {
                Existing::Replace
            };
            spo_apparmor::install::install(&s.host, &s.dir, &s.parser, &name, &text, existing)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            s.metrics.apparmor_op("update");
            event(
                s,
                &p,
                EventType::Normal,
                reason::LOADED,
                format!("profile {name} installed on {}", s.node),
            );
            nodestatus::apply_state(&s.statuses, &*p, &s.node, InstallState::Installed).await?;
            Ok(Action::await_change())
        }
        Err(e) => {
            warn(s, &p, reason::CANNOT_LOAD, e).await;
            nodestatus::apply_state(&s.statuses, &*p, &s.node, InstallState::Error).await?;
            Ok(Action::requeue(Duration::from_secs(30)))
        }
    }
}

async fn cleanup(p: Arc<AppArmorProfile>, s: &AppArmor) -> Result<Action, Error> {
    let name = p.name_any();
    nodestatus::apply_state(&s.statuses, &*p, &s.node, InstallState::Terminating).await?;
    let removed = if s.offline {
        spo_apparmor::install::remove_policy(&s.dir, &name)
    } else {
        spo_apparmor::install::remove(&s.host, &s.dir, &s.parser, &name)
    };
    if let Err(e) = removed {
        warn(s, &p, reason::CANNOT_REMOVE, e.to_string()).await;
        return Err(e.into());
    }
    s.metrics.apparmor_op("delete");
    nodestatus::delete(&s.statuses, &*p, &s.node).await?;
    Ok(Action::await_change())
}

/// Reconciles one AppArmorProfile on this node.
pub async fn reconcile(p: Arc<AppArmorProfile>, s: Arc<AppArmor>) -> Result<Action, Error> {
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

fn error_policy(p: Arc<AppArmorProfile>, e: &Error, _s: Arc<AppArmor>) -> Action {
    tracing::warn!(profile = %p.name_any(), error = %e, "apparmor reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

/// Starts the controller and runs it until a signal.
pub async fn run(
    client: Client,
    opts: super::DaemonOptions,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    health: Health,
) -> crate::Result<()> {
    std::fs::create_dir_all(&opts.apparmor_dir)?;
    let parser = ApparmorParser::find()
        .ok_or_else(|| crate::Error::Config("apparmor_parser not found".into()))?;
    let host = Host::system();
    health.set(
        "apparmor",
        if opts.apparmor_offline || host.apparmor_enabled() {
            Ok(())
        } else {
            Err("AppArmor is not enabled".into())
        },
    );
    let profiles: Api<AppArmorProfile> = Api::all(client.clone());
    let (store, writer) = reflector::store();
    // AA-18: only spec (generation) or label changes trigger a reconcile (plus finalizer and
    // deletion changes, which the finalizer flow needs).
    let stream = reflector::reflector(
        writer,
        watcher(profiles.clone(), watcher::Config::default()),
    )
    .applied_objects()
    .default_backoff()
    .predicate_filter(
        predicates::generation
            .combine(predicates::labels)
            .combine(predicates::finalizers),
        Default::default(),
    );
    let s = Arc::new(AppArmor {
        node: opts.node_name.clone(),
        dir: opts.apparmor_dir.clone(),
        offline: opts.apparmor_offline,
        parser,
        host,
        recorder,
        metrics,
        profiles,
        statuses: Api::all(client),
    });
    tracing::info!(dir = %s.dir.display(), offline = s.offline, "apparmor controller starting");
    Controller::for_stream(stream, store)
        .shutdown_on_signal()
        .run(reconcile, error_policy, s)
        .for_each(|_| async {})
        .await;
    Ok(())
}
