//! The merger (`mergeStrategy: Containers`, recording.md §5): when a ProfileRecording is
//! deleted, its partial profiles are merged per container into `<recording>-<container>`,
//! with the syscall coverage of RC-25, the partials deleted, and the recording's
//! `has-unmerged-profiles` finalizer released once no partial is left (RC-23, weak point 12).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crate::Context as _;
use futures::StreamExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use spo_core::recording::{MergeStrategy, RecordingKind};
use spo_seccomp::{Action as SeccompAction, ProfileState, SeccompSpec, Syscall};

use crate::api::{ProfileRecording, SeccompProfile};
use crate::daemon::recorder::{
    profile_name, ANNOTATION_COVERAGE, FINALIZER_UNMERGED, LABEL_CONTAINER_ID, LABEL_RECORDING_ID,
    LABEL_RECORDING_NAMESPACE,
};

/// Field manager of the merger's writes.
pub const MANAGER: &str = "spo-merger";

/// `spo.x-k8s.io/syscall-coverage` (RC-25): how many partials contained each syscall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Always `v1`.
    pub version: &'static str,
    /// Number of partial profiles merged.
    pub total: usize,
    /// Per syscall: in how many partials it occurred (keys sorted).
    pub syscalls: BTreeMap<String, usize>,
}

fn allowed(spec: &SeccompSpec) -> BTreeSet<String> {
    spec.syscalls
        .iter()
        .filter(|s| s.action == SeccompAction::Allow && s.args.is_empty())
        .flat_map(|s| s.names.iter().cloned())
        .collect()
}

/// Merges the partial seccomp specs of one container (RC-24): the union of the allowed
/// syscalls (sorted), the first partial's default action, the union of architectures;
/// disabled when any partial is (RC-18). `None` for no partials.
pub fn merge_seccomp(partials: &[&SeccompSpec]) -> Option<(SeccompSpec, Coverage)> {
    let first = partials.first()?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut arches = BTreeSet::new();
    let mut disabled = false;
    for p in partials {
        for n in allowed(p) {
            *counts.entry(n).or_default() += 1;
        }
        arches.extend(p.architectures.iter().copied());
        disabled |= p.effective_state() == ProfileState::Disabled;
    }
    let mut spec = SeccompSpec::new(first.default_action);
    spec.architectures = arches.into_iter().collect();
    if !counts.is_empty() {
        spec.syscalls = vec![Syscall::new(counts.keys().cloned(), SeccompAction::Allow)];
    }
    if disabled {
        spec.state = Some(ProfileState::Disabled);
    }
    Some((
        spec,
        Coverage {
            version: "v1",
            total: partials.len(),
            syscalls: counts,
        },
    ))
}

/// Label selector of a recording's partial profiles (with the namespace label: weak point 12).
pub fn partial_selector(recording: &str, namespace: &str) -> String {
    format!(
        "{LABEL_RECORDING_ID}={recording},{LABEL_RECORDING_NAMESPACE}={namespace},spo.x-k8s.io/partial=true"
    )
}

struct Ctx {
    client: Client,
    events: Recorder,
}

/// Errors of a merge reconcile (retried).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct MergeError(crate::Error);

fn publish(ctx: &Ctx, r: &ProfileRecording, type_: EventType, reason: &str, note: String) {
    let ev = Event {
        type_,
        reason: reason.into(),
        note: Some(note),
        action: "Merge".into(),
        secondary: None,
    };
    let reference = r.object_ref(&());
    let events = ctx.events.clone();
    tokio::spawn(async move {
        if let Err(e) = events.publish(&ev, &reference).await {
            tracing::warn!(error = %e, "cannot publish event");
        }
    });
}

async fn release(api: &Api<ProfileRecording>, r: &ProfileRecording) -> crate::Result<()> {
    let fins: Vec<String> = r
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER_UNMERGED)
        .cloned()
        .collect();
    let patch = serde_json::json!({"metadata": {"finalizers": fins,
        "resourceVersion": r.resource_version()}});
    api.patch(
        &r.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .context("releasing the has-unmerged-profiles finalizer")?;
    Ok(())
}

async fn reconcile(r: Arc<ProfileRecording>, ctx: Arc<Ctx>) -> Result<Action, MergeError> {
    if r.metadata.deletion_timestamp.is_none()
        || !r.finalizers().iter().any(|f| f == FINALIZER_UNMERGED)
    {
        return Ok(Action::await_change());
    }
    let ns = r.namespace().unwrap_or_default();
    let recordings: Api<ProfileRecording> = Api::namespaced(ctx.client.clone(), &ns);
    match r.spec.kind {
        RecordingKind::SeccompProfile => {
            merge_kind::<SeccompProfile>(&ctx, &r, &recordings, |specs| {
                let (spec, _) = merge_seccomp(specs)?;
                let empty = spec.syscalls.is_empty();
                Some((spec, empty))
            })
            .await
        }
        RecordingKind::SelinuxProfile => {
            merge_kind::<crate::api::SelinuxProfile>(&ctx, &r, &recordings, |specs| {
                let models: Vec<spo_selinux::model::SelinuxProfile> = specs
                    .iter()
                    .map(|s| spo_selinux::model::SelinuxProfile {
                        metadata: spo_core::ObjectMeta::default(),
                        version: spo_core::Version::V1,
                        spec: (*s).clone(),
                    })
                    .collect();
                let m = spo_selinux::record::merge(&models)?;
                let empty = m.spec.allow.is_empty();
                Some((m.spec, empty))
            })
            .await
        }
        RecordingKind::AppArmorProfile => {
            merge_kind::<crate::api::AppArmorProfile>(&ctx, &r, &recordings, |specs| {
                let models: Vec<spo_apparmor::AppArmorProfile> = specs
                    .iter()
                    .map(|s| spo_apparmor::AppArmorProfile {
                        version: spo_core::Version::V1,
                        metadata: spo_core::ObjectMeta::default(),
                        spec: (*s).clone(),
                    })
                    .collect();
                let m = spo_apparmor::merge(&models).ok()?;
                let empty = m.spec.abstract_.is_none();
                Some((m.spec, empty))
            })
            .await
        }
        _ => Ok(Action::await_change()),
    }
}

/// What a profile kind needs for merging: its spec type and how to disable a spec.
pub trait Mergeable:
    kube::Resource<DynamicType = (), Scope = kube::core::ClusterResourceScope>
    + Clone
    + std::fmt::Debug
    + serde::de::DeserializeOwned
    + Serialize
    + Send
    + Sync
    + 'static
{
    /// The spec type.
    type Spec: Clone;
    /// The spec.
    fn spec(&self) -> &Self::Spec;
    /// A new object.
    fn build(name: &str, spec: Self::Spec) -> Self;
    /// Marks the spec disabled (RC-18).
    fn disable(spec: &mut Self::Spec);
    /// The allowed syscalls, for kinds with a syscall coverage (RC-25).
    fn syscalls(_spec: &Self::Spec) -> Option<BTreeSet<String>> {
        None
    }
}

/// The coverage annotation as read back.
#[derive(Debug, Clone, Default, serde::Deserialize)]
struct CoverageIn {
    total: usize,
    #[serde(default)]
    syscalls: BTreeMap<String, usize>,
}

/// Coverage over `partials`, added to the annotation an earlier merge wrote (RC-25).
pub fn combine_coverage(previous: Option<&str>, partials: &[BTreeSet<String>]) -> Coverage {
    let prev: CoverageIn = previous
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let mut syscalls = prev.syscalls;
    for set in partials {
        for n in set {
            *syscalls.entry(n.clone()).or_default() += 1;
        }
    }
    Coverage {
        version: "v1",
        total: prev.total + partials.len(),
        syscalls,
    }
}

fn coverage_of<K: Mergeable>(existing: Option<&K>, group: &[&K]) -> Option<Coverage> {
    let sets: Vec<BTreeSet<String>> = group
        .iter()
        .map(|p| K::syscalls(p.spec()))
        .collect::<Option<_>>()?;
    let prev = existing.and_then(|e| {
        e.meta()
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_COVERAGE).cloned())
    });
    Some(combine_coverage(prev.as_deref(), &sets))
}

impl Mergeable for SeccompProfile {
    type Spec = SeccompSpec;
    fn spec(&self) -> &SeccompSpec {
        &self.spec
    }
    fn build(name: &str, spec: SeccompSpec) -> Self {
        SeccompProfile::new(name, spec)
    }
    fn disable(spec: &mut SeccompSpec) {
        spec.state = Some(ProfileState::Disabled);
    }
    fn syscalls(spec: &SeccompSpec) -> Option<BTreeSet<String>> {
        Some(allowed(spec))
    }
}

impl Mergeable for crate::api::SelinuxProfile {
    type Spec = spo_selinux::model::SelinuxProfileSpec;
    fn spec(&self) -> &Self::Spec {
        &self.spec
    }
    fn build(name: &str, spec: Self::Spec) -> Self {
        crate::api::SelinuxProfile::new(name, spec)
    }
    fn disable(spec: &mut Self::Spec) {
        spec.state = spo_selinux::model::State::Disabled;
    }
}

impl Mergeable for crate::api::AppArmorProfile {
    type Spec = spo_apparmor::AppArmorProfileSpec;
    fn spec(&self) -> &Self::Spec {
        &self.spec
    }
    fn build(name: &str, spec: Self::Spec) -> Self {
        crate::api::AppArmorProfile::new(name, spec)
    }
    fn disable(spec: &mut Self::Spec) {
        spec.state = Some(spo_apparmor::model::State::Disabled);
    }
}

/// A merged spec and whether it is empty.
type Merged<S> = Option<(S, bool)>;

async fn merge_kind<K: Mergeable>(
    ctx: &Ctx,
    r: &ProfileRecording,
    recordings: &Api<ProfileRecording>,
    merge: impl Fn(&[&K::Spec]) -> Merged<K::Spec>,
) -> Result<Action, MergeError> {
    let ns = r.namespace().unwrap_or_default();
    let name = r.name_any();
    let profiles: Api<K> = Api::all(ctx.client.clone());
    let list = profiles
        .list(&ListParams::default().labels(&partial_selector(&name, &ns)))
        .await
        .context("listing partial profiles")
        .map_err(MergeError)?;
    let live: Vec<&K> = list
        .items
        .iter()
        .filter(|p| p.meta().deletion_timestamp.is_none())
        .collect();
    if live.is_empty() {
        if list.items.is_empty() {
            // Merged before (a merged profile exists) or nothing to merge at all.
            let merged = profiles
                .list(&ListParams::default().labels(&format!(
                    "{LABEL_RECORDING_ID}={name},{LABEL_RECORDING_NAMESPACE}={ns},!spo.x-k8s.io/partial"
                )))
                .await
                .map(|l| !l.items.is_empty())
                .unwrap_or(false);
            if !merged {
                publish(
                    ctx,
                    r,
                    EventType::Warning,
                    "NoPartialProfiles",
                    "no partial profiles to merge".into(),
                );
            }
            release(recordings, r).await.map_err(MergeError)?;
            tracing::info!(recording = %name, namespace = %ns, "merge done, finalizer released");
            return Ok(Action::await_change());
        }
        // Partials still finishing their deletion on the nodes (step 5).
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let mut groups: BTreeMap<String, Vec<&K>> = BTreeMap::new();
    for p in &live {
        let ctr = p
            .labels()
            .get(LABEL_CONTAINER_ID)
            .cloned()
            .unwrap_or_default();
        groups.entry(ctr).or_default().push(*p);
    }
    for (ctr, group) in groups {
        // Partials that arrive after a first merge (pods outliving the recording's deletion)
        // are merged onto the merged profile, never instead of it.
        let merged_name = profile_name(&name, &ctr, None);
        let existing = profiles
            .get_opt(&merged_name)
            .await
            .context("reading the merged profile")
            .map_err(MergeError)?
            .filter(|p| {
                let l = p.labels();
                l.get(LABEL_RECORDING_ID) == Some(&name)
                    && l.get(LABEL_RECORDING_NAMESPACE) == Some(&ns)
                    && !l.contains_key("spo.x-k8s.io/partial")
            });
        let mut specs: Vec<&K::Spec> = existing.iter().map(|e| e.spec()).collect();
        specs.extend(group.iter().map(|p| p.spec()));
        let Some((mut spec, empty)) = merge(&specs) else {
            continue;
        };
        let coverage = coverage_of::<K>(existing.as_ref(), &group);
        if empty {
            publish(
                ctx,
                r,
                EventType::Warning,
                "MergedEmptyProfile",
                format!("container {ctr}: the merged profile is empty"),
            );
        }
        if r.spec.disable_profile_after_recording {
            K::disable(&mut spec);
        }
        let mut merged = K::build(&merged_name, spec);
        let mut labels = BTreeMap::new();
        labels.insert(LABEL_RECORDING_ID.to_string(), name.clone());
        labels.insert(LABEL_CONTAINER_ID.to_string(), ctr.clone());
        labels.insert(LABEL_RECORDING_NAMESPACE.to_string(), ns.clone());
        merged.meta_mut().labels = Some(labels);
        if let Some(cov) = &coverage {
            let cov = serde_json::to_string(cov)
                .context("coverage annotation")
                .map_err(MergeError)?;
            merged.meta_mut().annotations = Some([(ANNOTATION_COVERAGE.to_string(), cov)].into());
        }
        if let Err(e) = profiles
            .patch(
                &merged_name,
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(&merged),
            )
            .await
        {
            publish(
                ctx,
                r,
                EventType::Warning,
                "CannotCreateUpdateMergedProfile",
                format!("{merged_name}: {e}"),
            );
            return Err(MergeError(e.into()));
        }
        tracing::info!(profile = %merged_name, partials = group.len(), "merged profile written");
    }
    for p in &live {
        let n = p.name_any();
        match profiles.delete(&n, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(MergeError(crate::Error::step(format!("deleting {n}"), e))),
        }
    }
    Ok(Action::requeue(Duration::from_secs(1)))
}

/// Runs the merger until the stream ends.
pub async fn run() -> crate::Result<()> {
    let client = Client::try_default()
        .await
        .context("connecting to the API server")?;
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        events: Recorder::new(
            client.clone(),
            Reporter {
                controller: "spo-merger".into(),
                instance: None,
            },
        ),
    });
    tracing::info!("recording merger starting");
    Controller::new(
        Api::<ProfileRecording>::all(client),
        watcher::Config::default(),
    )
    .run(
        reconcile,
        |_, e, _| {
            tracing::warn!(error = %e, "merge failed; retrying");
            Action::requeue(Duration::from_secs(2))
        },
        ctx,
    )
    .for_each(|_| async {})
    .await;
    Ok(())
}

/// True for recordings the merger acts on.
pub fn merges(strategy: MergeStrategy) -> bool {
    strategy == MergeStrategy::Containers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(names: &[&str]) -> SeccompSpec {
        let mut s = SeccompSpec::new(SeccompAction::Errno);
        s.architectures = vec![spo_core::Arch::X86_64];
        s.syscalls = vec![Syscall::new(names.iter().copied(), SeccompAction::Allow)];
        s
    }

    // covers: RC-24, RC-25
    #[test]
    fn rc_24_rc_25_union_and_coverage() {
        let (a, b, c) = (
            spec(&["read", "write"]),
            spec(&["write", "read", "mknod"]),
            spec(&["read", "write"]),
        );
        let (m, cov) = merge_seccomp(&[&a, &b, &c]).unwrap();
        assert_eq!(m.syscalls.len(), 1);
        assert_eq!(m.syscalls[0].names, ["mknod", "read", "write"]);
        assert_eq!(m.default_action, SeccompAction::Errno);
        assert_eq!(m.state, None);
        assert_eq!(
            serde_json::to_string(&cov).unwrap(),
            r#"{"version":"v1","total":3,"syscalls":{"mknod":1,"read":3,"write":3}}"#
        );
        assert!(merge_seccomp(&[]).is_none());
    }

    // covers: RC-25 (late partials add to an earlier merge's coverage)
    #[test]
    fn rc_25_coverage_adds_to_an_earlier_merge() {
        let set = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let first = combine_coverage(None, &[set(&["read", "write"]), set(&["read"])]);
        let text = serde_json::to_string(&first).unwrap();
        assert_eq!(
            text,
            r#"{"version":"v1","total":2,"syscalls":{"read":2,"write":1}}"#
        );
        let second = combine_coverage(Some(&text), &[set(&["read", "mknod"])]);
        assert_eq!(
            serde_json::to_string(&second).unwrap(),
            r#"{"version":"v1","total":3,"syscalls":{"mknod":1,"read":3,"write":1}}"#
        );
    }

    // covers: RC-18 (merged profiles of disabled recordings are disabled)
    #[test]
    fn rc_18_disabled_partial_makes_disabled_merge() {
        let mut a = spec(&["read"]);
        a.state = Some(ProfileState::Disabled);
        let (m, _) = merge_seccomp(&[&a, &spec(&["close"])]).unwrap();
        assert_eq!(m.state, Some(ProfileState::Disabled));
    }

    // covers: weak point 12 (the namespace label, not a namespace filter)
    #[test]
    fn partial_selector_names_recording_and_namespace() {
        assert_eq!(
            partial_selector("rec", "ns"),
            "spo.x-k8s.io/recording-id=rec,spo.x-k8s.io/recording-namespace=ns,spo.x-k8s.io/partial=true"
        );
    }
}
