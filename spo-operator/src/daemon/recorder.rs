//! The node recorder (`spo-operator daemon --with-recording`, recording.md §3): pure parts.
//!
//! Which containers of which pods to record (the annotations of §2 that the recording webhook
//! sets), the names and labels of the produced profiles (§3.1, fixing weak point 5), the
//! seccomp spec from recorded syscalls (§3.2, sorted: weak point 7) and the state kept on disk
//! so that a daemon restart resumes every recording (weak point 6). The thin parts (cgroups,
//! eBPF, API writes) are in `recorder_run.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use spo_core::recording::{MergeStrategy, Recorder as RecorderKind, RecordingKind};

use crate::api::names::{fit, MAX_NAME};

/// Annotation prefix: seccomp recorded from audit logs.
pub const PREFIX_TRACE_LOGS: &str = "io.containers.trace-logs/";
/// Annotation prefix: seccomp recorded with eBPF.
pub const PREFIX_TRACE_BPF: &str = "io.containers.trace-bpf/";
/// Annotation prefix: AppArmor recorded with eBPF.
pub const PREFIX_TRACE_BPF_APPARMOR: &str = "io.containers.trace-bpf-apparmor/";
/// Annotation prefix: SELinux AVCs from audit logs.
pub const PREFIX_TRACE_AVCS: &str = "io.containers.trace-avcs/";

/// Label: the recording a profile came from.
pub const LABEL_RECORDING_ID: &str = "spo.x-k8s.io/recording-id";
/// Label: the container a profile came from.
pub const LABEL_CONTAINER_ID: &str = "spo.x-k8s.io/container-id";
/// Label: the recording's namespace (1.0+; fixes weak point 12).
pub const LABEL_RECORDING_NAMESPACE: &str = "spo.x-k8s.io/recording-namespace";
/// Label: a partial profile waiting to be merged.
pub const LABEL_PARTIAL: &str = "spo.x-k8s.io/partial";
/// Finalizer on a recording while partial profiles of it exist.
pub const FINALIZER_UNMERGED: &str = "spo.x-k8s.io/has-unmerged-profiles";
/// Annotation on merged seccomp profiles (RC-25).
pub const ANNOTATION_COVERAGE: &str = "spo.x-k8s.io/syscall-coverage";

/// Errors of the pure recorder parts.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// An annotation value does not have the `<recording>_<container>_<nonce>_<ts>` form.
    #[error("annotation {key}: value {value:?} is not <recording>_<container>_<nonce>_<unix seconds> (§3.1)")]
    Annotation {
        /// The annotation key.
        key: String,
        /// Its value.
        value: String,
    },
    /// The recording name is not a DNS-1123 label.
    #[error("annotation {key}: recording name {name:?} is not a DNS-1123 label")]
    NotDnsLabel {
        /// The annotation key.
        key: String,
        /// The recording name.
        name: String,
    },
}

/// One annotated container of a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotated {
    /// The container's name (from the annotation key).
    pub container: String,
    /// The recording's name (first part of the value).
    pub recording: String,
    /// The full annotation value (the record id).
    pub record_id: String,
    /// Recorder and kind implied by the prefix.
    pub recorder: RecorderKind,
    /// What is produced.
    pub kind: RecordingKind,
}

/// True when `s` is a DNS-1123 label.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Parses the recording annotations of a pod (§3): log-type annotations take precedence
/// over bpf-type ones for the same container. Bad values are returned as errors next to the
/// good ones (one bad annotation does not stop the others).
pub fn parse_annotations(
    annotations: &BTreeMap<String, String>,
) -> (Vec<Annotated>, Vec<PlanError>) {
    let mut by_container: BTreeMap<String, Annotated> = BTreeMap::new();
    let mut errors = Vec::new();
    // Order: bpf first, log types afterwards so they overwrite (precedence).
    let prefixes = [
        (
            PREFIX_TRACE_BPF_APPARMOR,
            RecorderKind::Bpf,
            RecordingKind::AppArmorProfile,
        ),
        (
            PREFIX_TRACE_BPF,
            RecorderKind::Bpf,
            RecordingKind::SeccompProfile,
        ),
        (
            PREFIX_TRACE_AVCS,
            RecorderKind::Logs,
            RecordingKind::SelinuxProfile,
        ),
        (
            PREFIX_TRACE_LOGS,
            RecorderKind::Logs,
            RecordingKind::SeccompProfile,
        ),
    ];
    for (prefix, recorder, kind) in prefixes {
        for (key, value) in annotations {
            let Some(container) = key.strip_prefix(prefix) else {
                continue;
            };
            let parts: Vec<&str> = value.split('_').collect();
            if parts.len() != 4 || parts.iter().any(|p| p.is_empty()) {
                errors.push(PlanError::Annotation {
                    key: key.clone(),
                    value: value.clone(),
                });
                continue;
            }
            if !is_dns_label(parts[0]) {
                errors.push(PlanError::NotDnsLabel {
                    key: key.clone(),
                    name: parts[0].to_string(),
                });
                continue;
            }
            by_container.insert(
                container.to_string(),
                Annotated {
                    container: container.to_string(),
                    recording: parts[0].to_string(),
                    record_id: value.clone(),
                    recorder,
                    kind,
                },
            );
        }
    }
    (by_container.into_values().collect(), errors)
}

/// What identifies a pod for naming (§3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodIdentity {
    /// The pod's name.
    pub name: String,
    /// Its `generateName`, if any.
    pub generate_name: Option<String>,
    /// The name of its StatefulSet owner, if any.
    pub statefulset: Option<String>,
}

/// The suffix that tells instances of one recording apart: the pod name minus its
/// `generateName` (§3.1); for StatefulSet pods (no generateName) the ordinal, so replicas no
/// longer overwrite each other (weak point 5); for other pods without generateName (static
/// pods) the pod name when the profile is partial, so a partial never takes the merged name
/// (weak point 5's data loss).
pub fn instance_suffix(pod: &PodIdentity, partial: bool) -> Option<String> {
    if let Some(g) = pod.generate_name.as_deref().filter(|g| !g.is_empty()) {
        return pod
            .name
            .strip_prefix(g)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| Some(pod.name.clone()));
    }
    if let Some(sts) = &pod.statefulset {
        if let Some(ord) = pod.name.strip_prefix(&format!("{sts}-")) {
            return Some(ord.to_string());
        }
    }
    partial.then(|| pod.name.clone())
}

/// Name of a produced profile: `<recording>-<container>[-<suffix>]` (RC-16), at most 253
/// characters without collisions.
pub fn profile_name(recording: &str, container: &str, suffix: Option<&str>) -> String {
    let base = format!("{recording}-{container}");
    match suffix {
        Some(s) => fit(&base, &format!("-{s}"), MAX_NAME),
        None => fit(&base, "", MAX_NAME),
    }
}

/// Labels of a produced profile (RC-17).
pub fn profile_labels(
    recording: &str,
    container: &str,
    namespace: &str,
    partial: bool,
) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert(LABEL_RECORDING_ID.to_string(), recording.to_string());
    l.insert(LABEL_CONTAINER_ID.to_string(), container.to_string());
    l.insert(LABEL_RECORDING_NAMESPACE.to_string(), namespace.to_string());
    if partial {
        l.insert(LABEL_PARTIAL.to_string(), "true".to_string());
    }
    l
}

/// The 64-hex container id of a `containerStatuses[].containerID` (`containerd://<id>`,
/// `cri-o://<id>`, `docker://<id>`).
pub fn container_id(status_id: &str) -> Option<String> {
    let id = status_id.rsplit("://").next()?;
    (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_ascii_lowercase())
}

/// True when a cgroup directory name belongs to container `id` in one of the runtimes' forms:
/// `cri-containerd-<id>.scope`, `crio-<id>.scope`, `docker-<id>.scope` (systemd driver) or
/// `<id>` (cgroupfs driver).
pub fn cgroup_dir_matches(dir_name: &str, id: &str) -> bool {
    if dir_name == id {
        return true;
    }
    let Some(stem) = dir_name.strip_suffix(".scope") else {
        return false;
    };
    ["cri-containerd-", "crio-", "docker-", "libpod-"]
        .iter()
        .any(|p| stem.strip_prefix(p) == Some(id))
}

/// Finds the cgroup directory of container `id` under `root` (breadth-first, at most `depth`
/// levels; recorder-made `spo-record-*` directories are skipped).
pub fn find_container_cgroup(root: &Path, id: &str, depth: usize) -> Option<PathBuf> {
    let mut level = vec![root.to_path_buf()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for dir in level {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                if !e.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let name = e.file_name();
                let name = name.to_string_lossy();
                if cgroup_dir_matches(&name, id) {
                    return Some(e.path());
                }
                if !name.starts_with("spo-record") {
                    next.push(e.path());
                }
            }
        }
        level = next;
    }
    None
}

/// The seccomp spec of a recorded container (RC-19): `SCMP_ACT_ERRNO` default, the node's
/// architecture, one ALLOW rule with the syscalls sorted and unique; disabled when the
/// recording says so (RC-18).
pub fn seccomp_spec(
    syscalls: &BTreeSet<String>,
    arch: spo_core::Arch,
    disabled: bool,
) -> spo_seccomp::SeccompSpec {
    let mut spec = spo_seccomp::SeccompSpec::new(spo_seccomp::Action::Errno);
    spec.architectures = vec![arch];
    spec.syscalls = vec![spo_seccomp::Syscall::new(
        syscalls.iter().cloned(),
        spo_seccomp::Action::Allow,
    )];
    if disabled {
        spec.state = Some(spo_seccomp::ProfileState::Disabled);
    }
    spec
}

/// One container being recorded, as kept on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Namespace of the pod (and the recording).
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Pod UID (a recreated pod of the same name is a new recording).
    pub pod_uid: String,
    /// Container name.
    pub container: String,
    /// 64-hex container id.
    pub container_id: String,
    /// The recording's name.
    pub recording: String,
    /// The annotation value.
    pub record_id: String,
    /// What is produced.
    pub kind: RecordingKind,
    /// Name of the profile to write.
    pub profile: String,
    /// Partial (merge `Containers`) profile.
    pub partial: bool,
    /// Produce a disabled profile.
    pub disabled: bool,
    /// The data source.
    #[serde(default = "default_recorder")]
    pub recorder: RecorderKind,
    /// Syscalls recorded so far (flushed from the kernel maps or the log enricher).
    #[serde(default)]
    pub syscalls: BTreeSet<String>,
    /// SELinux AVCs recorded so far (log recorder): `(scontext, tcontext, tclass)` → perms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub avcs: Vec<spo_core::events::AvcEvent>,
    /// AppArmor data recorded so far (eBPF recorder, AppArmorProfile recordings).
    #[serde(default, skip_serializing_if = "AppArmorData::is_empty")]
    pub apparmor: AppArmorData,
}

/// What the eBPF recorder saw for an AppArmor recording, as kept in the state file
/// (`spo_recorder::bpf::AppArmorRecorded` without its counters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppArmorData {
    /// Absolute path → `AA_READ | AA_WRITE | AA_EXEC` flags.
    #[serde(default)]
    pub files: BTreeMap<String, u64>,
    /// Bit `n` = capability `n` was checked.
    #[serde(default)]
    pub capabilities: u64,
    /// `AA_SOCK_*` flags.
    #[serde(default)]
    pub sockets: u64,
}

impl AppArmorData {
    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.capabilities == 0 && self.sockets == 0
    }

    /// Adds a snapshot of the recorder; true when something new was added.
    pub fn add(&mut self, r: &spo_recorder::bpf::AppArmorRecorded) -> bool {
        let before = self.clone();
        for (p, f) in &r.files {
            *self.files.entry(p.clone()).or_default() |= f;
        }
        self.capabilities |= r.capabilities;
        self.sockets |= r.sockets;
        *self != before
    }

    /// The AppArmorProfile spec of the recording (RC-21): `spec.abstract` built by
    /// `spo_apparmor::record`, `state: Disabled` when asked (RC-18).
    pub fn spec(&self, name: &str, disabled: bool) -> spo_apparmor::AppArmorProfileSpec {
        let rec = spo_recorder::bpf::AppArmorRecorded {
            files: self.files.clone(),
            capabilities: self.capabilities,
            sockets: self.sockets,
            ..Default::default()
        };
        let profile = spo_apparmor::profile_from_observations(
            name,
            &rec.observations(),
            &spo_apparmor::RecordOptions::default(),
        );
        let mut spec = profile.spec;
        if disabled {
            spec.state = Some(spo_apparmor::model::State::Disabled);
        }
        spec
    }
}

fn default_recorder() -> RecorderKind {
    RecorderKind::Bpf
}

/// Adds `new` AVCs into `into` (one per scontext/tcontext/tclass, permissions unioned and
/// sorted); true when something was added.
pub fn merge_avcs(
    into: &mut Vec<spo_core::events::AvcEvent>,
    new: Vec<spo_core::events::AvcEvent>,
) -> bool {
    let mut changed = false;
    for n in new {
        match into.iter_mut().find(|a| {
            (&a.scontext, &a.tcontext, &a.tclass) == (&n.scontext, &n.tcontext, &n.tclass)
        }) {
            Some(a) => {
                for p in n.perms {
                    if !a.perms.contains(&p) {
                        a.perms.push(p);
                        a.perms.sort();
                        changed = true;
                    }
                }
            }
            None => {
                into.push(n);
                changed = true;
            }
        }
    }
    changed
}

impl Entry {
    /// Key of the entry: `<pod uid>/<container>`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.pod_uid, self.container)
    }
}

/// Everything the recorder tracks; written atomically after every change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// Entries by key.
    pub entries: BTreeMap<String, Entry>,
}

/// Errors reading or writing the state file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// I/O on the file.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a state document.
    #[error("{path}: not a recorder state file: {source}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

impl State {
    /// Reads the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<State, StateError> {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|source| StateError::Parse {
                path: path.to_path_buf(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                version: 1,
                ..State::default()
            }),
            Err(source) => Err(StateError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes the state atomically (temporary file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        use std::io::Write as _;
        let io = |source| StateError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("tmp");
        let body = serde_json::to_vec_pretty(self).map_err(|source| StateError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&body).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

/// Whether a recording produces partial profiles.
pub fn is_partial(strategy: Option<MergeStrategy>) -> bool {
    // A recording that no longer exists: partial (§3.1), the merger decides later.
    strategy.is_none_or(|s| s == MergeStrategy::Containers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // covers: RC-06, RC-14 (annotation parsing; log types take precedence)
    #[test]
    fn rc_06_annotations_parse_with_log_precedence() {
        let (got, errs) = parse_annotations(&ann(&[
            ("io.containers.trace-bpf/web", "rec_web_abcde_1700000000"),
            ("io.containers.trace-logs/web", "other_web_abcde_1700000000"),
            ("io.containers.trace-avcs/side", "sel_side_xyzab_1"),
            ("io.containers.trace-bpf/bad", "rec_bad_1"),
            ("io.containers.trace-bpf/e", ""),
            ("io.containers.trace-bpf/n", "Not_n_abcde_1"),
            ("unrelated", "x"),
        ]));
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].to_string().contains("trace-bpf/bad"));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].container, "side");
        assert_eq!(got[0].kind, RecordingKind::SelinuxProfile);
        assert_eq!(got[1].recording, "other");
        assert_eq!(got[1].recorder, RecorderKind::Logs);
    }

    // covers: RC-16 and weak point 5 (StatefulSet and static pods get distinct names)
    #[test]
    fn rc_16_profile_names() {
        let deploy = PodIdentity {
            name: "nginx-deploy-65bcbb956f-gmbrj".into(),
            generate_name: Some("nginx-deploy-65bcbb956f-".into()),
            statefulset: None,
        };
        let s = instance_suffix(&deploy, false);
        assert_eq!(
            profile_name("test-recording", "nginx-record", s.as_deref()),
            "test-recording-nginx-record-gmbrj"
        );
        let plain = PodIdentity {
            name: "nginx".into(),
            ..PodIdentity::default()
        };
        assert_eq!(instance_suffix(&plain, false), None);
        assert_eq!(profile_name("r", "c", None), "r-c");
        // A static pod with Containers merge: the partial never takes the merged name.
        assert_eq!(instance_suffix(&plain, true).as_deref(), Some("nginx"));
        let sts = PodIdentity {
            name: "web-2".into(),
            generate_name: None,
            statefulset: Some("web".into()),
        };
        assert_eq!(instance_suffix(&sts, false).as_deref(), Some("2"));
        let long = profile_name(&"r".repeat(200), &"c".repeat(60), Some("x"));
        assert!(long.len() <= 253 && long.ends_with("-x"), "{long}");
    }

    // covers: RC-17
    #[test]
    fn rc_17_labels() {
        let l = profile_labels("rec", "web", "ns", true);
        assert_eq!(l[LABEL_RECORDING_ID], "rec");
        assert_eq!(l[LABEL_CONTAINER_ID], "web");
        assert_eq!(l[LABEL_RECORDING_NAMESPACE], "ns");
        assert_eq!(l[LABEL_PARTIAL], "true");
        assert!(!profile_labels("rec", "web", "ns", false).contains_key(LABEL_PARTIAL));
    }

    // covers: RC-29 (container ids), cgroup path forms of the runtimes
    #[test]
    fn rc_29_container_ids_and_cgroup_forms() {
        let id = "a".repeat(64);
        assert_eq!(
            container_id(&format!("containerd://{id}")),
            Some(id.clone())
        );
        assert_eq!(
            container_id(&format!("cri-o://{}", "A".repeat(64))),
            Some(id.clone())
        );
        assert_eq!(container_id("containerd://abc"), None);
        assert!(cgroup_dir_matches(
            &format!("cri-containerd-{id}.scope"),
            &id
        ));
        assert!(cgroup_dir_matches(&format!("crio-{id}.scope"), &id));
        assert!(cgroup_dir_matches(&id, &id));
        assert!(!cgroup_dir_matches(&format!("crio-conmon-{id}.scope"), &id));
        let root = tempfile::tempdir().unwrap();
        let d = root
            .path()
            .join("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podx.slice")
            .join(format!("cri-containerd-{id}.scope"));
        std::fs::create_dir_all(&d).unwrap();
        assert_eq!(find_container_cgroup(root.path(), &id, 6), Some(d));
        assert_eq!(find_container_cgroup(root.path(), &"b".repeat(64), 6), None);
    }

    // covers: RC-19, RC-18, weak point 7 (sorted)
    #[test]
    fn rc_19_seccomp_spec_sorted_errno_arch() {
        let names: BTreeSet<String> = ["write", "read", "close"].map(String::from).into();
        let spec = seccomp_spec(&names, spo_core::Arch::X86_64, true);
        let v = serde_json::to_value(&spec).unwrap();
        assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(v["architectures"][0], "SCMP_ARCH_X86_64");
        assert_eq!(v["syscalls"][0]["action"], "SCMP_ACT_ALLOW");
        assert_eq!(
            v["syscalls"][0]["names"],
            serde_json::json!(["close", "read", "write"])
        );
        assert_eq!(v["state"], "Disabled");
    }

    // covers: RC-21, RC-18 — recorded AppArmor data becomes a sorted abstract; disabled state
    #[test]
    fn rc_21_apparmor_spec_from_recorded_data() {
        use spo_recorder::bpf::abi::{AA_EXEC, AA_READ, AA_SOCK_TCP, AA_WRITE};
        let d = AppArmorData {
            files: [
                ("/usr/bin/app".to_string(), AA_EXEC | AA_READ),
                ("/etc/app.conf".to_string(), AA_READ),
                ("/var/log/app.log".to_string(), AA_WRITE),
                ("/proc/1234/status".to_string(), AA_READ),
            ]
            .into(),
            capabilities: 1 << 10,
            sockets: AA_SOCK_TCP,
        };
        let spec = d.spec("r-c", true);
        assert_eq!(spec.state, Some(spo_apparmor::model::State::Disabled));
        let a = spec.abstract_.unwrap();
        assert_eq!(
            a.executable.unwrap().allowed_executables.unwrap(),
            ["/usr/bin/app"]
        );
        let fs = a.filesystem.unwrap();
        assert_eq!(
            fs.read_only_paths.unwrap(),
            ["/etc/app.conf", "/proc/@{pid}/status"]
        );
        assert_eq!(fs.write_only_paths.unwrap(), ["/var/log/app.log"]);
        assert_eq!(
            a.capability.unwrap().allowed_capabilities,
            ["net_bind_service"]
        );
        let net = a.network.unwrap();
        assert_eq!(net.allowed_protocols.unwrap().allow_tcp, Some(true));
        assert!(AppArmorData::default().is_empty());
    }

    // covers: weak point 6 (state on disk survives a restart)
    #[test]
    fn state_round_trips_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/state.json");
        let mut s = State::load(&p).unwrap();
        assert!(s.entries.is_empty());
        let e = Entry {
            namespace: "ns".into(),
            pod: "p".into(),
            pod_uid: "u".into(),
            container: "c".into(),
            container_id: "a".repeat(64),
            recording: "r".into(),
            record_id: "r_c_abcde_1".into(),
            kind: RecordingKind::SeccompProfile,
            profile: "r-c".into(),
            partial: false,
            disabled: false,
            recorder: RecorderKind::Bpf,
            syscalls: ["read".to_string()].into(),
            avcs: Vec::new(),
            apparmor: AppArmorData {
                files: [("/etc/hosts".to_string(), 1)].into(),
                capabilities: 1 << 10,
                sockets: 2,
            },
        };
        s.entries.insert(e.key(), e);
        s.save(&p).unwrap();
        assert_eq!(State::load(&p).unwrap(), s);
        std::fs::write(&p, "{").unwrap();
        let err = State::load(&p).unwrap_err().to_string();
        assert!(err.contains("state.json"), "{err}");
    }
}
