//! The workload annotator for SelinuxProfiles (`seccomp.md` §6.4, SE-30): pods whose pod or
//! container `securityContext.seLinuxOptions.type` is `<name>.process` of a SelinuxProfile
//! carrying the `profile-id` label are listed as `namespace/pod` in its
//! `status.activeWorkloads`, and the profile holds finalizer `in-use-by-active-pods` while
//! the list is non-empty. The node daemons keep the policy installed while the finalizer is
//! there (upstream weak point 4). Pure selection functions plus one controller.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, SELinuxOptions};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Client, ResourceExt};

use crate::api::names::{FINALIZER_IN_USE, LABEL_PROFILE_ID};
use crate::api::SelinuxProfile;

/// The suffix of an operator SELinux type.
pub const PROCESS_SUFFIX: &str = ".process";

fn type_of(o: Option<&SELinuxOptions>) -> Option<&str> {
    o?.type_.as_deref()
}

/// Names of the SelinuxProfiles whose type (`<name>.process`) the pod uses in its pod,
/// container, init-container or ephemeral-container security context. Sorted, unique.
pub fn selinux_profiles_used(pod: &Pod) -> BTreeSet<String> {
    let mut types: Vec<&str> = Vec::new();
    if let Some(spec) = &pod.spec {
        types.extend(type_of(
            spec.security_context
                .as_ref()
                .and_then(|s| s.se_linux_options.as_ref()),
        ));
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            types.extend(type_of(
                c.security_context
                    .as_ref()
                    .and_then(|s| s.se_linux_options.as_ref()),
            ));
        }
        for c in spec.ephemeral_containers.iter().flatten() {
            types.extend(type_of(
                c.security_context
                    .as_ref()
                    .and_then(|s| s.se_linux_options.as_ref()),
            ));
        }
    }
    types
        .into_iter()
        .filter_map(|t| t.strip_suffix(PROCESS_SUFFIX))
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether the pod still counts as a workload: not being deleted and not finished.
pub fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    pod.metadata.deletion_timestamp.is_none() && !matches!(phase, Some("Succeeded" | "Failed"))
}

/// `namespace/name` of every active pod using profile `name`, sorted.
pub fn active_workloads<'a>(name: &str, pods: impl IntoIterator<Item = &'a Pod>) -> Vec<String> {
    let mut out: Vec<String> = pods
        .into_iter()
        .filter(|p| is_active(p) && selinux_profiles_used(p).contains(name))
        .map(|p| format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The finalizer list the profile should have with `workloads` in use.
pub fn desired_finalizers(current: &[String], in_use: bool) -> Vec<String> {
    let mut f: Vec<String> = current
        .iter()
        .filter(|f| *f != FINALIZER_IN_USE)
        .cloned()
        .collect();
    if in_use {
        f.push(FINALIZER_IN_USE.to_string());
    }
    f
}

struct Ctx {
    pods: Store<Pod>,
    profiles: Api<SelinuxProfile>,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

async fn reconcile(p: Arc<SelinuxProfile>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    // Only operator-managed profiles (labelled by a daemon) are tracked.
    if !p.labels().contains_key(LABEL_PROFILE_ID) {
        return Ok(Action::await_change());
    }
    let name = p.name_any();
    let pods = ctx.pods.state();
    let want = active_workloads(&name, pods.iter().map(|p| &**p));
    let have = p
        .status
        .as_ref()
        .map(|s| s.active_workloads.clone())
        .unwrap_or_default();
    let in_use = !want.is_empty();
    let fins = desired_finalizers(p.finalizers(), in_use);
    // Add the finalizer before listing a pod; remove it only after the list is empty.
    if in_use && fins.len() != p.finalizers().len() {
        set_finalizers(&ctx, &p, &fins).await?;
    }
    if want != have {
        let patch = serde_json::json!({"status": {"activeWorkloads": want}});
        ctx.profiles
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    if !in_use && fins.len() != p.finalizers().len() {
        set_finalizers(&ctx, &p, &fins).await?;
    }
    Ok(Action::await_change())
}

async fn set_finalizers(ctx: &Ctx, p: &SelinuxProfile, fins: &[String]) -> Result<(), Error> {
    // The resourceVersion makes this a compare-and-swap: the node daemons edit the same list.
    let patch = serde_json::json!({"metadata": {
        "finalizers": fins,
        "resourceVersion": p.resource_version(),
    }});
    ctx.profiles
        .patch(
            &p.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    Ok(())
}

fn error_policy(p: Arc<SelinuxProfile>, e: &Error, _ctx: Arc<Ctx>) -> Action {
    tracing::debug!(profile = %p.name_any(), error = %e, "workload annotation failed; retrying");
    Action::requeue(Duration::from_secs(2))
}

/// Runs the SelinuxProfile workload annotator until a signal.
pub async fn run(client: Client) -> crate::Result<()> {
    let pods_api: Api<Pod> = Api::all(client.clone());
    let (pods, writer) = reflector::store();
    let pod_events = reflector::reflector(writer, watcher(pods_api, watcher::Config::default()))
        .touched_objects()
        .default_backoff();
    let profiles: Api<SelinuxProfile> = Api::all(client);
    let ctx = Arc::new(Ctx {
        pods,
        profiles: profiles.clone(),
    });
    tracing::info!("selinux workload annotator starting");
    Controller::new(profiles, watcher::Config::default())
        .watches_stream(pod_events, |pod: Pod| {
            selinux_profiles_used(&pod)
                .into_iter()
                .map(|n| ObjectRef::<SelinuxProfile>::new(&n))
                .collect::<Vec<_>>()
        })
        .shutdown_on_signal()
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {})
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).expect("pod")
    }

    // covers: SE-30
    #[test]
    fn se_30_pods_using_a_process_type_are_active_workloads() {
        let a = pod(
            json!({"metadata": {"name": "a", "namespace": "web"}, "spec": {
            "securityContext": {"seLinuxOptions": {"type": "nginx-secure.process"}},
            "containers": [{"name": "c", "image": "x"}]}}),
        );
        let b = pod(
            json!({"metadata": {"name": "b", "namespace": "app"}, "spec": {
            "initContainers": [{"name": "i", "image": "x",
                "securityContext": {"seLinuxOptions": {"type": "errorlogger.process", "level": "s0"}}}],
            "containers": [{"name": "c", "image": "x",
                "securityContext": {"seLinuxOptions": {"type": "nginx-secure.process"}}}]}}),
        );
        let other = pod(
            json!({"metadata": {"name": "o", "namespace": "web"}, "spec": {
            "containers": [{"name": "c", "image": "x",
                "securityContext": {"seLinuxOptions": {"type": "container_t"}}}]}}),
        );
        let done = pod(
            json!({"metadata": {"name": "d", "namespace": "web"}, "spec": {
            "securityContext": {"seLinuxOptions": {"type": "nginx-secure.process"}},
            "containers": [{"name": "c", "image": "x"}]}, "status": {"phase": "Succeeded"}}),
        );
        let going = pod(json!({"metadata": {"name": "g", "namespace": "web",
                "deletionTimestamp": "2026-01-01T00:00:00Z"}, "spec": {
            "securityContext": {"seLinuxOptions": {"type": "nginx-secure.process"}},
            "containers": [{"name": "c", "image": "x"}]}}));
        assert_eq!(
            selinux_profiles_used(&b).into_iter().collect::<Vec<_>>(),
            ["errorlogger", "nginx-secure"]
        );
        assert!(selinux_profiles_used(&other).is_empty());
        let pods = [a, b, other, done, going];
        assert_eq!(
            active_workloads("nginx-secure", pods.iter()),
            ["app/b", "web/a"]
        );
        assert_eq!(active_workloads("errorlogger", pods.iter()), ["app/b"]);
        assert!(active_workloads("container_t", pods.iter()).is_empty());
        // `.process` alone names no profile.
        let bare = pod(json!({"metadata": {"name": "x"}, "spec": {
            "securityContext": {"seLinuxOptions": {"type": ".process"}}, "containers": []}}));
        assert!(selinux_profiles_used(&bare).is_empty());
    }

    // covers: SE-30
    #[test]
    fn se_30_finalizer_follows_use() {
        let node = "n1-deleted".to_string();
        assert_eq!(
            desired_finalizers(std::slice::from_ref(&node), true),
            [node.clone(), FINALIZER_IN_USE.to_string()]
        );
        assert_eq!(
            desired_finalizers(&[node.clone(), FINALIZER_IN_USE.to_string()], true),
            [node.clone(), FINALIZER_IN_USE.to_string()]
        );
        assert_eq!(
            desired_finalizers(&[FINALIZER_IN_USE.to_string(), node.clone()], false),
            [node]
        );
    }
}
