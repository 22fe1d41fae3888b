//! The node recorder's thin parts: the pod watch of this node, container cgroups, the eBPF
//! recorder of spo-recorder, the state file and the profile writes (recording.md §3).
//!
//! Every 250 ms the recorder compares the pods of its node with its state:
//! * an annotated container (`io.containers.trace-bpf/<ctr>`, or
//!   `io.containers.trace-bpf-apparmor/<ctr>` for an AppArmorProfile) with a container ID in
//!   the pod's status becomes an entry — whatever the pod's phase when first seen (weak point 6: pods
//!   already running are recorded from then on);
//! * the container's cgroup (`…/cri-containerd-<id>.scope` and the other runtimes' forms) gets
//!   a nested `spo-record-*` cgroup the container's processes move into; the eBPF program
//!   records by cgroup ancestry, so every later fork is covered. Recording starts once the
//!   runtime has reported the container started, i.e. after its init process exec'd the
//!   entrypoint: runtime-init activity is never recorded (RC-38);
//! * the syscalls recorded so far are flushed into the entry and the state is written
//!   atomically to disk: a restarted daemon reloads it and re-attaches (nothing lost);
//! * when the pod is gone or `Succeeded`, the recording stops and the profile is written
//!   with server-side apply (create or overwrite), then the entry is forgotten.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Context as _;
use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::Store;
use kube::{Client, Resource, ResourceExt};
use spo_core::recording::{Recorder as RecorderKind, RecordingKind};
use spo_recorder::bpf::cgroup::{cgroup2_mount_from, RecordCgroup};
use spo_recorder::bpf::TargetId;

use super::health::Health;
use super::recorder::{
    container_id, find_container_cgroup, instance_suffix, is_partial, merge_avcs,
    parse_annotations, profile_labels, profile_name, seccomp_spec, Entry, PodIdentity, State,
    FINALIZER_UNMERGED,
};
use super::DaemonOptions;
use crate::api::{ProfileRecording, SeccompProfile};
use crate::metrics::Metrics;

/// Field manager of the recorder's writes.
pub const MANAGER: &str = "spo-recorder";

/// A container being recorded right now.
struct Live {
    target: TargetId,
    cgroup: RecordCgroup,
    scope: PathBuf,
}

/// The recorder task.
struct Node {
    client: Client,
    events: Recorder,
    state_path: PathBuf,
    state: State,
    bpf: Option<spo_recorder::bpf::Recorder>,
    logs: Option<crate::enrichers::SharedEnricher>,
    mount: PathBuf,
    search_root: PathBuf,
    live: HashMap<String, Live>,
    warned: HashSet<String>,
    arch: spo_core::Arch,
    metrics: std::sync::Arc<Metrics>,
    node_name: String,
    /// The log enricher's counters at the last tick (their growth goes to the metrics).
    enricher_seen: spo_recorder::enricher::EnricherStats,
}

/// `4026531840` from `/proc/<pid>/ns/mnt` (`mnt:[4026531840]`), or `unknown`.
fn mount_namespace(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/mnt"))
        .ok()
        .and_then(|l| {
            let l = l.to_string_lossy().into_owned();
            l.strip_prefix("mnt:[")
                .and_then(|r| r.strip_suffix(']'))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into())
}

fn pid_list(dir: &Path) -> Vec<u32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// PIDs of the container's scope that are not in our cgroup yet: in the scope itself or in a
/// `spo-record-*` cgroup a previous daemon left behind (those are removed once empty).
fn stray_pids(scope: &Path, ours: &Path) -> Vec<u32> {
    let mut pids = pid_list(scope);
    if let Ok(rd) = std::fs::read_dir(scope) {
        for e in rd.flatten() {
            let p = e.path();
            if p == ours || !e.file_name().to_string_lossy().starts_with("spo-record") {
                continue;
            }
            let left = pid_list(&p);
            if left.is_empty() {
                let _ = std::fs::remove_dir(&p);
            }
            pids.extend(left);
        }
    }
    pids
}

fn pod_identity(pod: &Pod) -> PodIdentity {
    PodIdentity {
        name: pod.name_any(),
        generate_name: pod.metadata.generate_name.clone(),
        statefulset: pod
            .owner_references()
            .iter()
            .find(|o| o.kind == "StatefulSet")
            .map(|o| o.name.clone()),
    }
}

fn container_ids(pod: &Pod) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(st) = &pod.status {
        for cs in st
            .init_container_statuses
            .iter()
            .flatten()
            .chain(st.container_statuses.iter().flatten())
        {
            if let Some(id) = cs.container_id.as_deref().and_then(container_id) {
                out.insert(cs.name.clone(), id);
            }
        }
    }
    out
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

impl Node {
    fn publish(&self, reference: ObjectReference, ev: Event) {
        let events = self.events.clone();
        tokio::spawn(async move {
            if let Err(e) = events.publish(&ev, &reference).await {
                tracing::warn!(error = %e, "cannot publish event");
            }
        });
    }

    fn event(type_: EventType, reason: &str, note: String) -> Event {
        Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: "Record".into(),
            secondary: None,
        }
    }

    /// Adds entries for annotated containers not tracked yet.
    async fn track(&mut self, pods: &[std::sync::Arc<Pod>]) -> bool {
        let mut dirty = false;
        let mut restarted = Vec::new();
        for pod in pods {
            let ph = phase(pod);
            if ph == "Succeeded" || ph == "Failed" || pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let annotations: BTreeMap<String, String> = pod.annotations().clone();
            let (wanted, errors) = parse_annotations(&annotations);
            let uid = pod.uid().unwrap_or_default();
            if !errors.is_empty() && self.warned.insert(uid.clone()) {
                for e in &errors {
                    tracing::warn!(pod = %pod.name_any(), error = %e, "recording annotation");
                    self.publish(
                        pod.object_ref(&()),
                        Self::event(EventType::Warning, "AnnotationParsing", e.to_string()),
                    );
                }
            }
            let ids = container_ids(pod);
            let ns = pod.namespace().unwrap_or_default();
            for a in wanted {
                let key = format!("{uid}/{}", a.container);
                if let Some(e) = self.state.entries.get_mut(&key) {
                    // A restarted container has a new ID: keep what was recorded, follow
                    // the new instance.
                    if let Some(cid) = ids.get(&a.container).filter(|c| **c != e.container_id) {
                        tracing::info!(pod = %e.pod, container = %e.container,
                            "container restarted; following the new instance");
                        e.container_id = cid.clone();
                        restarted.push(key);
                        dirty = true;
                    }
                    continue;
                }
                let supported = match (a.recorder, a.kind) {
                    (RecorderKind::Bpf, RecordingKind::SeccompProfile)
                    | (RecorderKind::Bpf, RecordingKind::AppArmorProfile) => self.bpf.is_some(),
                    (RecorderKind::Logs, RecordingKind::SeccompProfile)
                    | (RecorderKind::Logs, RecordingKind::SelinuxProfile) => self.logs.is_some(),
                    _ => false,
                };
                if !supported {
                    if self.warned.insert(key.clone()) {
                        tracing::warn!(pod = %pod.name_any(), container = %a.container,
                            recorder = ?a.recorder, kind = ?a.kind,
                            "this recorder is not enabled on the node (or the kind is not \
                             recorded yet); container not recorded");
                    }
                    continue;
                }
                let Some(cid) = ids.get(&a.container) else {
                    continue; // not started yet
                };
                let recordings: Api<ProfileRecording> = Api::namespaced(self.client.clone(), &ns);
                let rec = match recordings.get_opt(&a.recording).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(error = %e, recording = %a.recording, "reading the recording");
                        continue;
                    }
                };
                let partial = is_partial(rec.as_ref().map(|r| r.spec.merge_strategy));
                let disabled = rec
                    .as_ref()
                    .is_some_and(|r| r.spec.disable_profile_after_recording);
                let suffix = instance_suffix(&pod_identity(pod), partial);
                let entry = Entry {
                    namespace: ns.clone(),
                    pod: pod.name_any(),
                    pod_uid: uid.clone(),
                    container: a.container.clone(),
                    container_id: cid.clone(),
                    recording: a.recording.clone(),
                    record_id: a.record_id.clone(),
                    kind: a.kind,
                    profile: profile_name(&a.recording, &a.container, suffix.as_deref()),
                    partial,
                    disabled,
                    recorder: a.recorder,
                    syscalls: BTreeSet::new(),
                    avcs: Vec::new(),
                    apparmor: Default::default(),
                };
                tracing::info!(pod = %entry.pod, container = %entry.container,
                    profile = %entry.profile, "recording container");
                self.publish(
                    pod.object_ref(&()),
                    Self::event(
                        EventType::Normal,
                        "ProfileRecording",
                        format!(
                            "recording container {} into profile {}",
                            entry.container, entry.profile
                        ),
                    ),
                );
                self.state.entries.insert(key, entry);
                dirty = true;
            }
        }
        for key in restarted {
            self.detach(&key);
        }
        dirty
    }

    /// Stops the eBPF recording of an entry, keeping what it recorded in the entry.
    fn detach(&mut self, key: &str) {
        if let (Some(live), Some(bpf)) = (self.live.remove(key), self.bpf.as_mut()) {
            match bpf.stop(live.target) {
                Ok(r) => {
                    let m = &self.metrics;
                    m.recorder_event("recordings_stopped", 1);
                    m.recorder_event("dropped", r.dropped);
                    m.recorder_event("invalid_syscall_numbers", r.invalid_numbers);
                    m.recorder_event("apparmor_dropped", r.apparmor.dropped);
                    m.recorder_event("apparmor_relative_paths", r.apparmor.relative_paths);
                    if let Some(e) = self.state.entries.get_mut(key) {
                        e.syscalls.extend(r.names(self.arch).all());
                        e.apparmor.add(&r.apparmor);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "stopping the eBPF recording"),
            }
        }
    }

    /// Attaches to containers not recorded yet, moves new processes in, flushes syscalls.
    fn follow(&mut self, key: &str) -> bool {
        let Some(entry) = self.state.entries.get(key) else {
            return false;
        };
        if entry.recorder == RecorderKind::Logs {
            return self.flush_logs(key, false);
        }
        let Some(bpf) = self.bpf.as_mut() else {
            return false;
        };
        if !self.live.contains_key(key) {
            if entry.kind == RecordingKind::AppArmorProfile {
                if let Err(e) = bpf.enable_apparmor() {
                    tracing::warn!(error = %e, "enabling AppArmor recording");
                    return false;
                }
            }
            let Some(scope) = find_container_cgroup(&self.search_root, &entry.container_id, 12)
            else {
                return false;
            };
            let rel = scope
                .strip_prefix(&self.mount)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let cgroup = match RecordCgroup::create(&self.mount, &rel, "spo-record") {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "creating the recording cgroup");
                    return false;
                }
            };
            let target = match bpf.start(&[&cgroup]) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "starting the eBPF recording");
                    return false;
                }
            };
            tracing::info!(container = %entry.container, scope = %scope.display(), "attached");
            self.metrics.recorder_event("recordings_started", 1);
            self.live.insert(
                key.to_string(),
                Live {
                    target,
                    cgroup,
                    scope,
                },
            );
        }
        let Some(live) = self.live.get(key) else {
            return false;
        };
        for pid in stray_pids(&live.scope, live.cgroup.dir()) {
            match live.cgroup.add_process(pid) {
                // RC-40: a container process mapped to the profile.
                Ok(()) => {
                    self.metrics
                        .bpf_process(&self.node_name, &mount_namespace(pid), &entry.profile)
                }
                Err(e) => tracing::debug!(pid, error = %e, "moving into the recording cgroup"),
            }
        }
        let rec = match bpf.snapshot(live.target) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "reading the recording");
                return false;
            }
        };
        let Some(entry) = self.state.entries.get_mut(key) else {
            return false;
        };
        let before = entry.syscalls.len();
        entry.syscalls.extend(rec.names(self.arch).all());
        let aa_changed = entry.apparmor.add(&rec.apparmor);
        entry.syscalls.len() != before || aa_changed
    }

    /// Stops a recording and writes its profile; true when the entry can be forgotten.
    async fn collect(&mut self, key: &str) -> bool {
        self.flush_logs(key, true);
        self.detach(key);
        let Some(entry) = self.state.entries.get(key).cloned() else {
            return true;
        };
        let nothing = match entry.kind {
            RecordingKind::AppArmorProfile => entry.apparmor.is_empty(),
            _ => entry.syscalls.is_empty() && entry.avcs.is_empty(),
        };
        if nothing {
            // RC-22: nothing recorded, nothing created.
            tracing::info!(profile = %entry.profile, "recorded profile not found: nothing observed");
            return true;
        }
        let written = match entry.kind {
            RecordingKind::SelinuxProfile => self.write_selinux(&entry).await,
            RecordingKind::AppArmorProfile => self.write_apparmor(&entry).await,
            _ => self.write_profile(&entry).await,
        };
        match written {
            Ok(mut r) => {
                self.metrics.recorder_event("profiles_written", 1);
                tracing::info!(profile = %entry.profile, syscalls = entry.syscalls.len(),
                    avcs = entry.avcs.len(), "profile written");
                r.namespace.get_or_insert_with(|| entry.namespace.clone());
                self.publish(
                    r,
                    Self::event(
                        EventType::Normal,
                        "ProfileCreated",
                        format!("recorded from {}/{}", entry.namespace, entry.pod),
                    ),
                );
                true
            }
            Err(e) => {
                tracing::warn!(profile = %entry.profile, error = %format!("{e:#}"), "CannotCreateProfile");
                false
            }
        }
    }

    /// Moves what the log enricher holds for the entry's record id into the entry; `reset`
    /// forgets it there (collection).
    fn flush_logs(&mut self, key: &str, reset: bool) -> bool {
        let (Some(logs), Some(entry)) = (self.logs.as_ref(), self.state.entries.get_mut(key))
        else {
            return false;
        };
        if entry.recorder != RecorderKind::Logs {
            return false;
        }
        let Ok(mut e) = logs.lock() else {
            return false;
        };
        let agg = e.aggregate_mut();
        let mut changed = false;
        if let Some(names) = agg.syscalls(&entry.record_id) {
            let before = entry.syscalls.len();
            entry.syscalls.extend(names);
            changed |= entry.syscalls.len() != before;
        }
        if let Some(avcs) = agg.avcs(&entry.record_id) {
            changed |= merge_avcs(&mut entry.avcs, avcs);
        }
        if reset {
            agg.reset_syscalls(&entry.record_id);
            agg.reset_avcs(&entry.record_id);
        }
        changed
    }

    async fn write_selinux(&self, e: &Entry) -> crate::Result<ObjectReference> {
        if e.partial {
            self.hold_recording(e).await?;
        }
        let meta = spo_core::ObjectMeta {
            name: e.profile.clone(),
            ..Default::default()
        };
        let (built, skipped) = spo_selinux::record::profile_from_avcs(meta, e.avcs.iter());
        if !skipped.is_empty() {
            tracing::warn!(profile = %e.profile, skipped = %skipped, "AVCs left out");
        }
        let mut spec = built.spec;
        if e.disabled {
            spec.state = spo_selinux::model::State::Disabled;
        }
        self.apply_recorded(e, crate::api::SelinuxProfile::new(&e.profile, spec))
            .await
    }

    async fn write_profile(&self, e: &Entry) -> crate::Result<ObjectReference> {
        if e.partial {
            self.hold_recording(e).await?;
        }
        let spec = seccomp_spec(&e.syscalls, self.arch, e.disabled);
        self.apply_recorded(e, SeccompProfile::new(&e.profile, spec))
            .await
    }

    async fn write_apparmor(&self, e: &Entry) -> crate::Result<ObjectReference> {
        if e.partial {
            self.hold_recording(e).await?;
        }
        let spec = e.apparmor.spec(&e.profile, e.disabled);
        self.apply_recorded(e, crate::api::AppArmorProfile::new(&e.profile, spec))
            .await
    }

    /// Labels a recorded profile of any kind (recording, container, namespace, partial) and
    /// writes it by server-side apply.
    async fn apply_recorded<K>(&self, e: &Entry, mut p: K) -> crate::Result<ObjectReference>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::ClusterResourceScope>
            + serde::Serialize
            + serde::de::DeserializeOwned
            + Clone
            + std::fmt::Debug,
    {
        p.meta_mut().labels = Some(profile_labels(
            &e.recording,
            &e.container,
            &e.namespace,
            e.partial,
        ));
        let api: Api<K> = Api::all(self.client.clone());
        api.patch(
            &e.profile,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&p),
        )
        .await
        .map(|p| p.object_ref(&()))
        .with_context(|| format!("applying {} {}", K::kind(&()), e.profile))
    }

    /// Adds `has-unmerged-profiles` to the recording before a partial profile is written.
    async fn hold_recording(&self, e: &Entry) -> crate::Result<()> {
        let api: Api<ProfileRecording> = Api::namespaced(self.client.clone(), &e.namespace);
        for _ in 0..5 {
            let Some(r) = api.get_opt(&e.recording).await? else {
                return Ok(());
            };
            if r.metadata.deletion_timestamp.is_some()
                || r.finalizers().iter().any(|f| f == FINALIZER_UNMERGED)
            {
                return Ok(());
            }
            let mut fins = r.finalizers().to_vec();
            fins.push(FINALIZER_UNMERGED.to_string());
            let patch = serde_json::json!({"metadata": {
                "finalizers": fins, "resourceVersion": r.resource_version()}});
            match api
                .patch(&e.recording, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => return Ok(()),
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(crate::Error::Config(format!(
            "conflicts adding the finalizer to recording {}",
            e.recording
        )))
    }

    /// Adds the growth of the log enricher's counters to the metrics.
    fn enricher_metrics(&mut self) {
        let Some(now) = self
            .logs
            .as_ref()
            .and_then(|l| l.lock().ok().map(|e| e.stats()))
        else {
            return;
        };
        self.metrics
            .enricher_stats("log", &self.enricher_seen, &now);
        self.enricher_seen = now;
    }

    async fn tick(&mut self, store: &Store<Pod>) -> crate::Result<()> {
        self.enricher_metrics();
        let pods = store.state();
        let mut dirty = self.track(&pods).await;
        let by_uid: HashMap<String, &Pod> = pods
            .iter()
            .filter_map(|p| p.uid().map(|u| (u, p.as_ref())))
            .collect();
        let keys: Vec<String> = self.state.entries.keys().cloned().collect();
        for key in keys {
            let Some(uid) = self.state.entries.get(&key).map(|e| e.pod_uid.clone()) else {
                continue;
            };
            let done = match by_uid.get(&uid) {
                None => true,
                Some(p) => phase(p) == "Succeeded",
            };
            if done {
                if self.collect(&key).await {
                    self.state.entries.remove(&key);
                    dirty = true;
                }
            } else if self.follow(&key) {
                dirty = true;
            }
        }
        if dirty {
            self.state
                .save(&self.state_path)
                .context("writing the recorder state")?;
        }
        Ok(())
    }
}

/// Runs the node recorder until the process ends (state flushed on SIGTERM).
pub async fn run(
    client: Client,
    opts: DaemonOptions,
    events: Recorder,
    health: Health,
    metrics: std::sync::Arc<Metrics>,
) -> crate::Result<()> {
    let mut state = State::load(&opts.recording_state)?;
    state.version = 1;
    let bpf = if opts.recording_bpf {
        match spo_recorder::bpf::Recorder::new() {
            Ok(r) => {
                health.set("recorder", Ok(()));
                Some(r)
            }
            Err(e) => {
                health.set("recorder", Err(e.to_string()));
                return Err(crate::Error::step("loading the eBPF recorder", e));
            }
        }
    } else {
        None
    };
    let mount = cgroup2_mount_from(Path::new("/proc/self/mountinfo"))
        .context("finding the cgroup v2 mount")?;
    let search_root = opts
        .recording_cgroup_root
        .clone()
        .unwrap_or_else(|| mount.clone());
    let store = crate::enrichers::node_pods_with(
        client.clone(),
        crate::enrichers::pod_watch_config(&opts.node_name, opts.recording_memory_optimized),
    )
    .await?;
    let logs = match &opts.recording_audit_log {
        Some(p) => Some(crate::enrichers::spawn_log_source(
            p,
            &opts.node_name,
            store.clone(),
            false,
            Some(metrics.enricher_metrics()),
        )?),
        None => None,
    };
    tracing::info!(
        entries = state.entries.len(),
        state = %opts.recording_state.display(),
        "node recorder started"
    );
    let mut node = Node {
        client,
        events,
        state_path: opts.recording_state.clone(),
        state,
        bpf,
        logs,
        mount,
        search_root,
        live: HashMap::new(),
        warned: HashSet::new(),
        arch: spo_core::Arch::native(),
        node_name: opts.node_name.clone(),
        metrics,
        enricher_seen: Default::default(),
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let mut every = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = every.tick() => {
                if let Err(e) = node.tick(&store).await {
                    tracing::warn!(error = %format!("{e:#}"), "recorder");
                }
            }
            _ = term.recv() => {
                // Flush what the kernel holds, put the processes back, exit.
                let keys: Vec<String> = node.live.keys().cloned().collect();
                for k in keys {
                    node.follow(&k);
                }
                node.state.save(&node.state_path).context("writing the recorder state")?;
                if let Some(bpf) = node.bpf.as_mut() {
                    for (_, l) in node.live.drain() {
                        let _ = bpf.stop(l.target);
                    }
                }
                tracing::info!("recorder state saved; exiting on SIGTERM");
                std::process::exit(0);
            }
        }
    }
}
