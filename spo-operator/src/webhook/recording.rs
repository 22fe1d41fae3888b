//! The recording webhook (RC-04..RC-13) as a pure function over a typed Pod, with the intended
//! behaviour for upstream's weak points 1–3:
//! 1. the seccomp `Logs` recording injects the trace profile's real `status.localhostProfile`
//!    (handed in by the caller), not a hard-coded namespaced path;
//! 2. the "changed" flag accumulates over recordings, so two matching recordings both apply;
//! 3. the pod's real name is known at admission (the server assigns it from `generateName`
//!    when empty, see [`ensure_name`]), so DELETE removes exactly what CREATE added, and the
//!    finalizer goes only when no recorded pod remains.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, SELinuxOptions, SeccompProfile};
use spo_core::recording::{ProfileRecordingSpec, Recorder, RecordingKind};

use super::binding::{pod_labels, selector_matches};

/// Finalizer a recording holds while recorded pods exist (RC-13).
pub const FINALIZER: &str = "active-seccomp-profile-recording-lock";
/// SELinux type forced by a `Logs` SELinux recording (RC-10).
pub const SELINUX_RECORDING_TYPE: &str = "selinuxrecording.process";
/// The trace profile used by log-based seccomp recording; its `status.localhostProfile` is
/// injected (weak point 1).
pub const TRACE_PROFILE: &str = "log-enricher-trace";
/// Where the daemon writes the trace profile since 0.9, used until its status is known.
pub const TRACE_PROFILE_DEFAULT_PATH: &str = "operator/log-enricher-trace.json";

/// The annotation prefix of a kind/recorder pair (RC-06); `None` for unsupported pairs.
pub fn annotation_prefix(kind: RecordingKind, recorder: Recorder) -> Option<&'static str> {
    match (kind, recorder) {
        (RecordingKind::SeccompProfile, Recorder::Logs) => Some("io.containers.trace-logs/"),
        (RecordingKind::SeccompProfile, Recorder::Bpf) => Some("io.containers.trace-bpf/"),
        (RecordingKind::AppArmorProfile, Recorder::Bpf) => {
            Some("io.containers.trace-bpf-apparmor/")
        }
        (RecordingKind::SelinuxProfile, Recorder::Logs) => Some("io.containers.trace-avcs/"),
        _ => None,
    }
}

/// A ProfileRecording of the pod's namespace.
#[derive(Debug, Clone)]
pub struct Recording {
    /// Its name.
    pub name: String,
    /// Its spec.
    pub spec: ProfileRecordingSpec,
}

/// A Warning event for a recording (RC-11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The recording.
    pub recording: String,
    /// `SecurityContextAlreadySet`, `PrivilegedContainer` or `NameNotDNSLabel`.
    pub reason: &'static str,
    /// Human-readable note.
    pub message: String,
}

/// What the mutation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Recordings whose selector matched the pod (to get the pod in `activeWorkloads`).
    pub matched: Vec<String>,
    /// Events to emit.
    pub events: Vec<Event>,
}

/// Sets `metadata.name` from `generateName` plus five characters of the API server's alphabet
/// when the name is empty, so the bookkeeping records the name the pod will really have.
pub fn ensure_name(pod: &mut Pod, random: &mut dyn FnMut() -> String) -> Option<String> {
    let m = &mut pod.metadata;
    if m.name.as_deref().unwrap_or("").is_empty() {
        let prefix = m.generate_name.clone()?;
        m.name = Some(format!("{prefix}{}", random()));
    }
    m.name.clone()
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Applies the recordings to `pod` (CREATE/UPDATE). `old_annotations` are the pod's before an
/// UPDATE: an annotation the user did not touch keeps its value (a pod update does not restart
/// a recording); any other value is overwritten (RC-07). `nonce` gives 5 lowercase alnum
/// characters; `now` is the unix time; `trace_path` the trace profile's localhostProfile.
pub fn mutate_pod(
    pod: &mut Pod,
    recordings: &[Recording],
    old_annotations: Option<&BTreeMap<String, String>>,
    trace_path: &str,
    nonce: &mut dyn FnMut() -> String,
    now: i64,
) -> Outcome {
    let mut out = Outcome::default();
    let labels = pod_labels(pod);
    for r in recordings {
        let Some(prefix) = annotation_prefix(r.spec.kind, r.spec.recorder) else {
            tracing::info!(recording = %r.name, "unsupported kind/recorder combination, skipped");
            continue;
        };
        if selector_matches(&r.spec.pod_selector, &labels) != Some(true) {
            continue;
        }
        out.matched.push(r.name.clone());
        if !is_dns_label(&r.name) {
            out.events.push(Event {
                recording: r.name.clone(),
                reason: "NameNotDNSLabel",
                message: format!("recording name {:?} is not a DNS-1123 label", r.name),
            });
        }
        let Some(spec) = pod.spec.as_mut() else {
            continue;
        };
        let annotations = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
        let inits = spec.init_containers.iter_mut().flatten();
        for c in inits.chain(spec.containers.iter_mut()) {
            if !r.spec.containers.is_empty() && !r.spec.containers.contains(&c.name) {
                continue;
            }
            let key = format!("{prefix}{}", c.name);
            let current = annotations.get(&key);
            let kept = current.is_some() && old_annotations.and_then(|o| o.get(&key)) == current;
            if !kept {
                annotations.insert(key, format!("{}_{}_{}_{}", r.name, c.name, nonce(), now));
            }
            if r.spec.recorder != Recorder::Logs {
                continue; // RC-12
            }
            let sc = c.security_context.get_or_insert_with(Default::default);
            if sc.privileged == Some(true) {
                out.events.push(Event {
                    recording: r.name.clone(),
                    reason: "PrivilegedContainer",
                    message: format!(
                        "container {} is privileged: log-based recording cannot work there",
                        c.name
                    ),
                });
            }
            match r.spec.kind {
                RecordingKind::SeccompProfile => {
                    let want = SeccompProfile {
                        type_: "Localhost".into(),
                        localhost_profile: Some(trace_path.into()),
                    };
                    if sc.seccomp_profile.as_ref().is_some_and(|s| *s != want) {
                        out.events.push(Event {
                            recording: r.name.clone(),
                            reason: "SecurityContextAlreadySet",
                            message: format!(
                                "container {}: seccomp profile overwritten for recording",
                                c.name
                            ),
                        });
                    }
                    sc.seccomp_profile = Some(want);
                }
                RecordingKind::SelinuxProfile => {
                    let opts = sc
                        .se_linux_options
                        .get_or_insert_with(SELinuxOptions::default);
                    if opts
                        .type_
                        .as_deref()
                        .is_some_and(|t| t != SELINUX_RECORDING_TYPE)
                    {
                        out.events.push(Event {
                            recording: r.name.clone(),
                            reason: "SecurityContextAlreadySet",
                            message: format!(
                                "container {}: seLinuxOptions.type overwritten for recording",
                                c.name
                            ),
                        });
                    }
                    opts.type_ = Some(SELINUX_RECORDING_TYPE.into());
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(name: &str, spec: serde_json::Value) -> Recording {
        Recording {
            name: name.into(),
            spec: serde_json::from_value(spec).expect("spec"),
        }
    }

    fn pod() -> Pod {
        serde_json::from_value(json!({"metadata": {"generateName": "web-", "labels": {"app": "web"},
            "annotations": {"io.containers.trace-bpf/app": "spoofed"}},
            "spec": {"initContainers": [{"name": "init", "image": "i"}],
                     "containers": [{"name": "app", "image": "a"}, {"name": "side", "image": "s", "securityContext": {"privileged": true, "seLinuxOptions": {"user": "u", "type": "other_t"}}}]}}))
        .expect("pod")
    }

    fn run(p: &mut Pod, recs: &[Recording]) -> Outcome {
        mutate_pod(
            p,
            recs,
            None,
            "operator/log-enricher-trace.json",
            &mut || "abcde".into(),
            1700000000,
        )
    }

    // covers: RC-05, RC-06, RC-07, RC-08, RC-12
    #[test]
    fn bpf_recording_annotates_selected_containers_and_leaves_security_context() {
        let mut p = pod();
        let out = run(
            &mut p,
            &[rec(
                "rec",
                json!({"kind": "SeccompProfile", "recorder": "Bpf",
            "podSelector": {"matchLabels": {"app": "web"}}, "containers": ["app", "init"]}),
            )],
        );
        assert_eq!(out.matched, vec!["rec"]);
        let a = p.metadata.annotations.clone().expect("annotations");
        assert_eq!(
            a["io.containers.trace-bpf/app"], "rec_app_abcde_1700000000",
            "spoofed value overwritten"
        );
        assert_eq!(
            a["io.containers.trace-bpf/init"],
            "rec_init_abcde_1700000000"
        );
        assert!(!a.contains_key("io.containers.trace-bpf/side"));
        let s = p.spec.expect("spec");
        assert!(s.containers[0].security_context.is_none(), "RC-12");
    }

    // covers: RC-09, RC-10, RC-11, RC-06
    #[test]
    fn logs_recordings_force_contexts_emit_events_and_both_apply() {
        let mut p = pod();
        let out = run(
            &mut p,
            &[
                rec(
                    "Sec_Rec",
                    json!({"kind": "SeccompProfile", "recorder": "Logs", "podSelector": {}}),
                ),
                rec(
                    "se",
                    json!({"kind": "SelinuxProfile", "recorder": "Logs", "podSelector": {}, "containers": ["side"]}),
                ),
                rec(
                    "nomatch",
                    json!({"kind": "SeccompProfile", "recorder": "Logs", "podSelector": {"matchLabels": {"app": "db"}}}),
                ),
                rec(
                    "invalid",
                    json!({"kind": "AppArmorProfile", "recorder": "Logs", "podSelector": {}}),
                ),
            ],
        );
        assert_eq!(
            out.matched,
            vec!["Sec_Rec", "se"],
            "two recordings both apply (weak point 2)"
        );
        let a = p.metadata.annotations.clone().expect("annotations");
        assert!(a.contains_key("io.containers.trace-logs/app"));
        assert!(a.contains_key("io.containers.trace-avcs/side"));
        let s = p.spec.expect("spec");
        let app = s.containers[0].security_context.clone().expect("sc");
        assert_eq!(
            app.seccomp_profile.and_then(|x| x.localhost_profile),
            Some("operator/log-enricher-trace.json".into()),
            "weak point 1"
        );
        let side = s.containers[1].security_context.clone().expect("sc");
        let opts = side.se_linux_options.expect("selinux");
        assert_eq!(opts.type_.as_deref(), Some(SELINUX_RECORDING_TYPE));
        assert_eq!(opts.user.as_deref(), Some("u"), "other fields kept");
        let reasons: Vec<_> = out
            .events
            .iter()
            .map(|e| (e.recording.as_str(), e.reason))
            .collect();
        assert!(reasons.contains(&("Sec_Rec", "NameNotDNSLabel")));
        assert!(reasons.contains(&("Sec_Rec", "PrivilegedContainer")));
        assert!(reasons.contains(&("se", "SecurityContextAlreadySet")));
    }

    // covers: RC-13
    #[test]
    fn generate_name_pods_get_their_real_name_and_updates_keep_annotations() {
        let mut p = pod();
        assert_eq!(
            ensure_name(&mut p, &mut || "x7k2q".into()),
            Some("web-x7k2q".into())
        );
        assert_eq!(
            ensure_name(&mut p, &mut || "other".into()),
            Some("web-x7k2q".into())
        );
        let r = [rec(
            "rec",
            json!({"kind": "SeccompProfile", "recorder": "Bpf", "podSelector": {}}),
        )];
        run(&mut p, &r);
        let old = p.metadata.annotations.clone().expect("a");
        let out = mutate_pod(&mut p, &r, Some(&old), "x", &mut || "zzzzz".into(), 1);
        assert_eq!(out.matched, vec!["rec"]);
        assert_eq!(
            p.metadata.annotations.expect("a"),
            old,
            "an untouched annotation stays"
        );
    }
}
