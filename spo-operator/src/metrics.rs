//! SPO metrics with the exact names of `operator.md` §7 (`security_profiles_operator_*`),
//! served as Prometheus text at `/metrics-spod`.
//!
//! Recording adds (all counters, in-process: the recorder and the log enricher run in the
//! daemon process, so no gRPC metrics socket is needed):
//! * `seccomp_profile_bpf_total{node,mount_namespace,profile}` (RC-40): a container process
//!   the eBPF recorder maps to a profile (moved into the container's recording cgroup;
//!   processes it forks later are covered by the cgroup and not counted one by one);
//! * `seccomp_profile_audit_total`, `selinux_profile_audit_total`,
//!   `apparmor_profile_audit_total`, `apparmor_profile_denial_total` (RC-31..RC-33) from
//!   the log enricher;
//! * `enricher_events_total{enricher,event}`: the log enricher's line counters (`lines`,
//!   `seccomp`, `avc`, `apparmor`, `ignored`, `malformed`, `unknown_syscall`, `filtered`,
//!   `emitted`, `emitted_unattributed`, `skipped_unattributed`, `backlogged`, `replayed`);
//! * `bpf_recorder_events_total{event}`: `recordings_started`, `recordings_stopped`,
//!   `dropped` (syscalls lost), `invalid_syscall_numbers`, `apparmor_dropped` (paths lost),
//!   `apparmor_relative_paths` (relative opens not recorded), `profiles_written`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// `operation` label of the profile counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabel {
    /// `update` or `delete`.
    pub operation: String,
}

/// `reason` label of the error counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// The event reason, e.g. `ProfileNotAllowed`.
    pub reason: String,
}

/// Labels of `seccomp_profile_bpf_total` (RC-40).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BpfLabels {
    /// Node name.
    pub node: String,
    /// Mount namespace inode of the process.
    pub mount_namespace: String,
    /// Profile the process is recorded into.
    pub profile: String,
}

/// Labels of `enricher_events_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EnricherEventLabels {
    /// `log` (the daemon's in-process log enricher).
    pub enricher: String,
    /// The counter (`lines`, `emitted`, `backlogged`, …).
    pub event: String,
}

/// Labels of `bpf_recorder_events_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabel {
    /// The counter (`recordings_started`, `dropped`, …).
    pub event: String,
}

/// The daemon's counters.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    bpf_total: Family<BpfLabels, Counter>,
    enricher_events: Family<EnricherEventLabels, Counter>,
    recorder_events: Family<EventLabel, Counter>,
    enricher: spo_recorder::enricher::EnricherMetrics,
    seccomp_total: Family<OperationLabel, Counter>,
    seccomp_errors: Family<ReasonLabel, Counter>,
    selinux_total: Family<OperationLabel, Counter>,
    selinux_errors: Family<ReasonLabel, Counter>,
    apparmor_total: Family<OperationLabel, Counter>,
    apparmor_errors: Family<ReasonLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every counter registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let m = |name: &str| format!("security_profiles_operator_{name}");
        let seccomp_total = Family::<OperationLabel, Counter>::default();
        let seccomp_errors = Family::<ReasonLabel, Counter>::default();
        let selinux_total = Family::<OperationLabel, Counter>::default();
        let selinux_errors = Family::<ReasonLabel, Counter>::default();
        let apparmor_total = Family::<OperationLabel, Counter>::default();
        let apparmor_errors = Family::<ReasonLabel, Counter>::default();
        registry.register(
            m("seccomp_profile"),
            "Counter about seccomp profile operations.",
            seccomp_total.clone(),
        );
        registry.register(
            m("seccomp_profile_error"),
            "Counter about seccomp profile errors.",
            seccomp_errors.clone(),
        );
        registry.register(
            m("selinux_profile"),
            "Counter about selinux profile operations.",
            selinux_total.clone(),
        );
        registry.register(
            m("selinux_profile_error"),
            "Counter about selinux profile errors.",
            selinux_errors.clone(),
        );
        registry.register(
            m("apparmor_profile"),
            "Counter about apparmor profile operations.",
            apparmor_total.clone(),
        );
        registry.register(
            m("apparmor_profile_error"),
            "Counter about apparmor profile errors.",
            apparmor_errors.clone(),
        );
        let bpf_total = Family::<BpfLabels, Counter>::default();
        let enricher_events = Family::<EnricherEventLabels, Counter>::default();
        let recorder_events = Family::<EventLabel, Counter>::default();
        registry.register(
            m("seccomp_profile_bpf"),
            "Counter about container processes the eBPF recorder maps to a profile.",
            bpf_total.clone(),
        );
        registry.register(
            m("enricher_events"),
            "Counter about lines and events of the log enricher.",
            enricher_events.clone(),
        );
        registry.register(
            m("bpf_recorder_events"),
            "Counter about recordings and losses of the eBPF recorder.",
            recorder_events.clone(),
        );
        let enricher = spo_recorder::enricher::EnricherMetrics::register(
            registry.sub_registry_with_prefix("security_profiles_operator"),
        );
        Metrics {
            registry,
            bpf_total,
            enricher_events,
            recorder_events,
            enricher,
            seccomp_total,
            seccomp_errors,
            selinux_total,
            selinux_errors,
            apparmor_total,
            apparmor_errors,
        }
    }

    /// `seccomp_profile_total{operation}` += 1.
    pub fn seccomp_op(&self, operation: &str) {
        self.seccomp_total
            .get_or_create(&OperationLabel {
                operation: operation.into(),
            })
            .inc();
    }

    /// `seccomp_profile_error_total{reason}` += 1.
    pub fn seccomp_error(&self, reason: &str) {
        self.seccomp_errors
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// `selinux_profile_total{operation}` += 1.
    pub fn selinux_op(&self, operation: &str) {
        self.selinux_total
            .get_or_create(&OperationLabel {
                operation: operation.into(),
            })
            .inc();
    }

    /// `selinux_profile_error_total{reason}` += 1.
    pub fn selinux_error(&self, reason: &str) {
        self.selinux_errors
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// `apparmor_profile_total{operation}` += 1.
    pub fn apparmor_op(&self, operation: &str) {
        self.apparmor_total
            .get_or_create(&OperationLabel {
                operation: operation.into(),
            })
            .inc();
    }

    /// `apparmor_profile_error_total{reason}` += 1.
    pub fn apparmor_error(&self, reason: &str) {
        self.apparmor_errors
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// `seccomp_profile_bpf_total{node,mount_namespace,profile}` += 1 (RC-40).
    pub fn bpf_process(&self, node: &str, mount_namespace: &str, profile: &str) {
        self.bpf_total
            .get_or_create(&BpfLabels {
                node: node.into(),
                mount_namespace: mount_namespace.into(),
                profile: profile.into(),
            })
            .inc();
    }

    /// `enricher_events_total{enricher,event}` += `n`.
    pub fn enricher_event(&self, enricher: &str, event: &str, n: u64) {
        if n > 0 {
            self.enricher_events
                .get_or_create(&EnricherEventLabels {
                    enricher: enricher.into(),
                    event: event.into(),
                })
                .inc_by(n);
        }
    }

    /// Adds the growth of a log enricher's counters since `before` (RC-30, RC-31..RC-34).
    pub fn enricher_stats(
        &self,
        enricher: &str,
        before: &spo_recorder::enricher::EnricherStats,
        now: &spo_recorder::enricher::EnricherStats,
    ) {
        let pairs = [
            ("lines", before.lines, now.lines),
            ("seccomp", before.seccomp, now.seccomp),
            ("avc", before.avc, now.avc),
            ("apparmor", before.apparmor, now.apparmor),
            ("ignored", before.ignored, now.ignored),
            ("malformed", before.malformed, now.malformed),
            (
                "unknown_syscall",
                before.unknown_syscall,
                now.unknown_syscall,
            ),
            ("filtered", before.filtered, now.filtered),
            ("emitted", before.emitted, now.emitted),
            (
                "emitted_unattributed",
                before.emitted_unattributed,
                now.emitted_unattributed,
            ),
            (
                "skipped_unattributed",
                before.skipped_unattributed,
                now.skipped_unattributed,
            ),
            ("backlogged", before.backlogged, now.backlogged),
            ("replayed", before.replayed, now.replayed),
        ];
        for (event, b, n) in pairs {
            self.enricher_event(enricher, event, n.saturating_sub(b));
        }
    }

    /// `bpf_recorder_events_total{event}` += `n`.
    pub fn recorder_event(&self, event: &str, n: u64) {
        if n > 0 {
            self.recorder_events
                .get_or_create(&EventLabel {
                    event: event.into(),
                })
                .inc_by(n);
        }
    }

    /// The audit counters (`*_profile_audit_total`, `apparmor_profile_denial_total`) for a
    /// log enricher of this process; clones share the counters.
    pub fn enricher_metrics(&self) -> spo_recorder::enricher::EnricherMetrics {
        self.enricher.clone()
    }

    /// Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: SC-42 (metric names)
    #[test]
    fn metric_names_match_upstream() {
        let m = Metrics::new();
        m.seccomp_op("update");
        m.seccomp_error("ProfileNotAllowed");
        let text = m.encode();
        assert!(
            text.contains(
                "security_profiles_operator_seccomp_profile_total{operation=\"update\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("security_profiles_operator_seccomp_profile_error_total{reason=\"ProfileNotAllowed\"} 1"), "{text}");
    }

    // covers: RC-40 (name and labels), enricher and recorder counters
    #[test]
    fn rc_40_recording_metric_names() {
        let m = Metrics::new();
        m.bpf_process("n1", "4026532000", "rec-ctr");
        m.bpf_process("n1", "4026532000", "rec-ctr");
        let before = spo_recorder::enricher::EnricherStats::default();
        let now = spo_recorder::enricher::EnricherStats {
            lines: 5,
            backlogged: 2,
            ..Default::default()
        };
        m.enricher_stats("log", &before, &now);
        m.recorder_event("dropped", 0);
        m.recorder_event("recordings_started", 1);
        m.enricher_metrics()
            .seccomp_audit
            .get_or_create(&spo_recorder::enricher::metrics::SeccompLabels {
                node: "n1".into(),
                namespace: "ns".into(),
                pod: "p".into(),
                container: "c".into(),
                syscall: "read".into(),
            })
            .inc();
        let text = m.encode();
        for want in [
            "security_profiles_operator_seccomp_profile_bpf_total{node=\"n1\",mount_namespace=\"4026532000\",profile=\"rec-ctr\"} 2",
            "security_profiles_operator_enricher_events_total{enricher=\"log\",event=\"lines\"} 5",
            "security_profiles_operator_enricher_events_total{enricher=\"log\",event=\"backlogged\"} 2",
            "security_profiles_operator_bpf_recorder_events_total{event=\"recordings_started\"} 1",
            "security_profiles_operator_seccomp_profile_audit_total{node=\"n1\",namespace=\"ns\",pod=\"p\",container=\"c\",syscall=\"read\"} 1",
        ] {
            assert!(text.contains(want), "{want}\n{text}");
        }
        assert!(
            !text.contains("event=\"dropped\""),
            "zero adds nothing: {text}"
        );
        assert!(!text.contains("event=\"seccomp\""), "{text}");
    }
}
