//! Node statuses → profile status (`seccomp.md` §6.3): the lowest state over nodes (SC-30),
//! the Ready condition (SC-31), `localhostProfile` (SC-07), stale nodes removed (SC-32,
//! by exact name, not upstream's substring match — weak point 11), and a bounded wait for
//! nodes that never report: after the timeout they are named in the condition instead of
//! leaving the profile Pending forever (weak point 4).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crate::Context as _;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Client, ResourceExt};

use super::ManagerOptions;
use crate::api::names::{node_finalizer, profile_id, LABEL_PROFILE_ID};
use crate::api::{InstallState, ProfileStatus, SeccompProfile, SecurityProfileNodeStatus};

/// The aggregated view of one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// The lowest state over the nodes that reported (Pending when none did).
    pub status: InstallState,
    /// `True`/`False` of the Ready condition.
    pub ready: bool,
    /// The condition's reason (SC-31).
    pub reason: &'static str,
    /// The condition's message: empty, or the nodes that have not reported.
    pub message: String,
}

/// Ready condition of a state (SC-31).
pub fn ready_condition(state: InstallState) -> (bool, &'static str) {
    match state {
        InstallState::Installed => (true, "Available"),
        InstallState::Pending | InstallState::InProgress => (false, "Creating"),
        InstallState::Terminating => (false, "Deleting"),
        InstallState::Error | InstallState::Partial | InstallState::Disabled => {
            (false, "Unavailable")
        }
    }
}

/// Aggregates node states. `missing` are expected nodes that have not reported;
/// `waited_out` says the bounded wait for them is over.
pub fn aggregate(
    states: &BTreeMap<String, InstallState>,
    missing: &[String],
    waited_out: bool,
) -> Aggregate {
    let lowest = states
        .values()
        .min()
        .copied()
        .unwrap_or(InstallState::Pending);
    let status = if !missing.is_empty() && !waited_out {
        InstallState::Pending.min(lowest)
    } else {
        lowest
    };
    let (mut ready, mut reason) = ready_condition(status);
    // Never empty: API servers before 1.22 read "" as null and reject it.
    let mut message = format!(
        "profile {} on every node that reported",
        status.as_str().to_lowercase()
    );
    if !missing.is_empty() {
        message = format!("no report from node(s): {}", missing.join(", "));
        if waited_out {
            ready = false;
            reason = "NodesNotReporting";
        }
    }
    Aggregate {
        status,
        ready,
        reason,
        message,
    }
}

/// The desired status of a seccomp profile from its aggregate, keeping the old condition's
/// transition time when nothing in it changed.
pub fn desired_status(
    kind: &str,
    name: &str,
    agg: &Aggregate,
    old: Option<&ProfileStatus>,
    now: Time,
    generation: Option<i64>,
) -> ProfileStatus {
    let status_str = if agg.ready { "True" } else { "False" };
    let old_cond = old.and_then(|o| o.conditions.iter().find(|c| c.type_ == "Ready"));
    let same = old_cond.is_some_and(|c| {
        c.status == status_str && c.reason == agg.reason && c.message == agg.message
    });
    let cond = Condition {
        type_: "Ready".into(),
        status: status_str.into(),
        reason: agg.reason.into(),
        message: agg.message.clone(),
        last_transition_time: if same {
            old_cond
                .map(|c| c.last_transition_time.clone())
                .unwrap_or(now)
        } else {
            now
        },
        observed_generation: generation,
    };
    ProfileStatus {
        status: Some(agg.status),
        conditions: vec![cond],
        localhost_profile: (kind == "SeccompProfile")
            .then(|| spo_seccomp::install::localhost_profile(name)),
        path: None,
        usage: (kind == "SelinuxProfile" || kind == "RawSelinuxProfile")
            .then(|| format!("{name}.process")),
        active_workloads: old.map(|o| o.active_workloads.clone()).unwrap_or_default(),
    }
}

struct Ctx {
    client: Client,
    statuses: Store<SecurityProfileNodeStatus>,
    nodes: Store<Node>,
    timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

/// A profile kind whose status the manager aggregates.
pub trait AggregatedProfile:
    kube::Resource<DynamicType = (), Scope = k8s_openapi::ClusterResourceScope>
    + crate::api::SpoResource
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The current status.
    fn profile_status(&self) -> Option<&ProfileStatus>;
}

impl AggregatedProfile for SeccompProfile {
    fn profile_status(&self) -> Option<&ProfileStatus> {
        self.status.as_ref()
    }
}

impl AggregatedProfile for crate::api::SelinuxProfile {
    fn profile_status(&self) -> Option<&ProfileStatus> {
        self.status.as_ref()
    }
}

impl AggregatedProfile for crate::api::RawSelinuxProfile {
    fn profile_status(&self) -> Option<&ProfileStatus> {
        self.status.as_ref()
    }
}

impl AggregatedProfile for crate::api::AppArmorProfile {
    fn profile_status(&self) -> Option<&ProfileStatus> {
        self.status.as_ref()
    }
}

async fn reconcile<K: AggregatedProfile>(p: Arc<K>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let name = p.name_any();
    let id = profile_id(K::KIND, &name);
    let api: Api<K> = Api::all(ctx.client.clone());
    let mine: Vec<_> = ctx
        .statuses
        .state()
        .into_iter()
        .filter(|s| s.labels().get(LABEL_PROFILE_ID) == Some(&id))
        .collect();
    let nodes: BTreeSet<String> = ctx.nodes.state().iter().map(|n| n.name_any()).collect();
    let mut states = BTreeMap::new();
    for s in &mine {
        let node = s.spec.node_name.clone();
        if !nodes.is_empty() && !nodes.contains(&node) {
            // SC-32: the node is gone.
            let spns: Api<SecurityProfileNodeStatus> = Api::all(ctx.client.clone());
            let _ = spns.delete(&s.name_any(), &DeleteParams::default()).await;
            let fin = node_finalizer(&node);
            let rest: Vec<String> = p
                .finalizers()
                .iter()
                .filter(|f| **f != fin)
                .cloned()
                .collect();
            if rest.len() != p.finalizers().len() {
                let patch = serde_json::json!({"metadata": {"finalizers": rest, "resourceVersion": p.resource_version()}});
                api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
            }
            continue;
        }
        if let Some(st) = s.status.as_ref().and_then(|s| s.status) {
            states.insert(node, st);
        }
    }
    let missing: Vec<String> = nodes
        .iter()
        .filter(|n| !states.contains_key(*n))
        .cloned()
        .collect();
    let age = p
        .meta()
        .creation_timestamp
        .as_ref()
        .map(|t| Duration::from_secs(t.0.as_second().max(0) as u64))
        .and_then(|c| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|now| now.saturating_sub(c))
        })
        .unwrap_or_default();
    let waited_out = age >= ctx.timeout;
    if states.is_empty() && missing.is_empty() {
        return Ok(Action::await_change());
    }
    let agg = aggregate(&states, &missing, waited_out);
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let want = desired_status(
        K::KIND,
        &name,
        &agg,
        p.profile_status(),
        now,
        p.meta().generation,
    );
    let unchanged = p.profile_status().is_some_and(|old| {
        old.status == want.status
            && old.localhost_profile == want.localhost_profile
            && old.usage == want.usage
            && old.conditions == want.conditions
    });
    if !unchanged {
        let patch = serde_json::json!({"status": want});
        api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    if !missing.is_empty() && !waited_out {
        return Ok(Action::requeue(
            ctx.timeout.saturating_sub(age).max(Duration::from_secs(1)),
        ));
    }
    Ok(Action::await_change())
}

fn error_policy<K>(_p: Arc<K>, e: &Error, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(error = %e, "aggregation failed");
    Action::requeue(Duration::from_secs(5))
}

/// Runs the aggregation controller until a signal.
pub async fn run(opts: ManagerOptions) -> crate::Result<()> {
    let client = Client::try_default()
        .await
        .context("connecting to the API server")?;
    let spns: Api<SecurityProfileNodeStatus> = Api::all(client.clone());
    let nodes_api: Api<Node> = Api::all(client.clone());
    let (nodes, writer) = reflector::store();
    let node_stream = reflector::reflector(writer, watcher(nodes_api, watcher::Config::default()))
        .applied_objects()
        .default_backoff();
    tokio::spawn(node_stream.for_each(|_| async {}));
    // The node-status store is the controller's owned-object watch; a second watch keeps
    // an indexable copy.
    let (statuses, swriter) = reflector::store();
    let status_stream =
        reflector::reflector(swriter, watcher(spns.clone(), watcher::Config::default()))
            .applied_objects()
            .default_backoff();
    tokio::spawn(status_stream.for_each(|_| async {}));
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        statuses,
        nodes,
        timeout: Duration::from_secs(opts.node_report_timeout),
    });
    ctx.statuses.wait_until_ready().await.ok();
    tracing::info!("node-status aggregation starting");
    tokio::join!(
        controller::<SeccompProfile>(client.clone(), spns.clone(), ctx.clone()),
        controller::<crate::api::AppArmorProfile>(client.clone(), spns.clone(), ctx.clone()),
        controller::<crate::api::SelinuxProfile>(client.clone(), spns.clone(), ctx.clone()),
        controller::<crate::api::RawSelinuxProfile>(client, spns, ctx),
    );
    Ok(())
}

async fn controller<K: AggregatedProfile>(
    client: Client,
    spns: Api<SecurityProfileNodeStatus>,
    ctx: Arc<Ctx>,
) {
    Controller::new(Api::<K>::all(client), watcher::Config::default())
        .owns(spns, watcher::Config::default())
        .shutdown_on_signal()
        .run(reconcile::<K>, error_policy::<K>, ctx)
        .for_each(|_| async {})
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstallState::*;

    fn states(v: &[(&str, InstallState)]) -> BTreeMap<String, InstallState> {
        v.iter().map(|(n, s)| (n.to_string(), *s)).collect()
    }

    // covers: SC-30, SC-31
    #[test]
    fn lowest_state_and_ready_condition() {
        let a = aggregate(&states(&[("a", Installed), ("b", Installed)]), &[], false);
        assert_eq!(
            (a.status, a.ready, a.reason),
            (Installed, true, "Available")
        );
        let a = aggregate(&states(&[("a", Installed), ("b", Terminating)]), &[], false);
        assert_eq!(
            (a.status, a.ready, a.reason),
            (Terminating, false, "Deleting")
        );
        let a = aggregate(&states(&[("a", Error), ("b", Terminating)]), &[], false);
        assert_eq!((a.status, a.reason), (Error, "Unavailable"));
        let a = aggregate(&states(&[("a", InProgress)]), &[], false);
        assert_eq!((a.status, a.reason), (InProgress, "Creating"));
    }

    // covers: weak point 4 (bounded wait for nodes that never report)
    #[test]
    fn silent_nodes_are_named_after_the_wait() {
        let s = states(&[("a", Installed)]);
        let waiting = aggregate(&s, &["b".into()], false);
        assert_eq!((waiting.status, waiting.reason), (Pending, "Creating"));
        let out = aggregate(&s, &["b".into()], true);
        assert_eq!(out.status, Installed);
        assert!(!out.ready);
        assert_eq!(out.reason, "NodesNotReporting");
        assert!(out.message.contains('b'), "{}", out.message);
    }

    // covers: SC-07
    #[test]
    fn status_carries_localhost_profile() {
        let agg = aggregate(&states(&[("a", Installed)]), &[], false);
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let st = desired_status("SeccompProfile", "p1", &agg, None, now, Some(1));
        assert_eq!(st.localhost_profile.as_deref(), Some("operator/p1.json"));
        assert_eq!(st.conditions[0].reason, "Available");
    }
}
