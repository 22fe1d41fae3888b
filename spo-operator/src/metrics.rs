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
//!
//! Standalone node services (the DaemonSet's `log-enricher`, `json-enricher` and
//! `bpf-recorder` containers) keep these counters in their own process and serve their
//! registry over a unix socket in a volume shared with the daemon container
//! (`/var/run/spo-metrics/<service>.sock`, [`crate::metrics_server::serve_unix`]); the daemon's
//! `/metrics-spod` ([`Metrics::encode_spod`]) fetches every socket of that directory at scrape
//! time and merges the texts ([`merge_expositions`]): one `# HELP`/`# TYPE` per family,
//! counters of the same series summed, a dead socket skipped and counted in
//! `metrics_source_errors_total{source}`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

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
    /// `log` (the daemon's in-process log enricher), `log-enricher` / `json-enricher` (the
    /// standalone containers).
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

/// Labels of `metrics_source_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    /// The source: the socket file's name without `.sock` (e.g. `log-enricher`).
    pub source: String,
}

/// Where the daemon looks for the standalone services' metrics sockets, unless
/// `SPO_METRICS_DIR` says otherwise (the DaemonSet's `spo-metrics-volume` emptyDir).
pub const DEFAULT_METRICS_DIR: &str = "/var/run/spo-metrics";

/// How long `/metrics-spod` waits for one source.
pub const SOURCE_TIMEOUT: Duration = Duration::from_secs(1);

/// The daemon's counters.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    source_errors: Family<SourceLabel, Counter>,
    collect_dir: Option<PathBuf>,
    failing: Mutex<HashSet<String>>,
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
        let source_errors = Family::<SourceLabel, Counter>::default();
        registry.register(
            m("metrics_source_errors"),
            "Counter about metrics sources (standalone enrichers' sockets) that could not be read.",
            source_errors.clone(),
        );
        let enricher = spo_recorder::enricher::EnricherMetrics::register(
            registry.sub_registry_with_prefix("security_profiles_operator"),
        );
        let collect_dir = Some(
            std::env::var_os("SPO_METRICS_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_METRICS_DIR)),
        );
        Metrics {
            registry,
            source_errors,
            collect_dir,
            failing: Mutex::default(),
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

    /// Collect the standalone services' sockets (`*.sock`) of `dir` into
    /// [`Metrics::encode_spod`]; `None`: this registry only. [`Metrics::new`] uses
    /// `SPO_METRICS_DIR`, else [`DEFAULT_METRICS_DIR`].
    pub fn with_collect_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.collect_dir = dir;
        self
    }

    /// The body of the daemon's `/metrics-spod`: this registry merged with the registries the
    /// standalone services serve on the sockets of the collect directory, each fetched now with
    /// [`SOURCE_TIMEOUT`]. A source that fails is skipped, counted in
    /// `metrics_source_errors_total{source}` and logged (warning when it starts failing);
    /// the scrape itself never fails.
    pub async fn encode_spod(&self) -> String {
        let sources = match &self.collect_dir {
            Some(dir) => socket_sources(dir),
            None => Vec::new(),
        };
        let fetched = futures::future::join_all(
            sources
                .iter()
                .map(|(_, path)| crate::metrics_server::fetch_unix(path, SOURCE_TIMEOUT)),
        )
        .await;
        let mut texts = Vec::with_capacity(fetched.len() + 1);
        let mut failed = Vec::new();
        for ((name, _), r) in sources.iter().zip(fetched) {
            match r {
                Ok(t) => texts.push(t),
                Err(e) => failed.push((name.clone(), e)),
            }
        }
        if let Ok(mut failing) = self.failing.lock() {
            for (name, _) in &sources {
                if !failed.iter().any(|(n, _)| n == name) && failing.remove(name) {
                    tracing::info!(source = %name, "metrics source answers again");
                }
            }
            for (name, e) in &failed {
                if failing.insert(name.clone()) {
                    tracing::warn!(source = %name, error = %e, "metrics source skipped");
                } else {
                    tracing::debug!(source = %name, error = %e, "metrics source skipped");
                }
            }
        }
        for (name, _) in &failed {
            self.source_errors
                .get_or_create(&SourceLabel {
                    source: name.clone(),
                })
                .inc();
        }
        texts.insert(0, self.encode());
        merge_expositions(&texts)
    }

    /// Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The metrics sockets of `dir`: `(source, path)` for every socket file `<source>.sock`,
/// sorted; a missing directory has none.
pub fn socket_sources(dir: &Path) -> Vec<(String, PathBuf)> {
    use std::os::unix::fs::FileTypeExt as _;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_socket()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.strip_suffix(".sock")?.to_string();
            Some((name, e.path()))
        })
        .collect();
    out.sort();
    out
}

/// One metric family while merging.
struct MergedFamily {
    /// `# HELP`, `# TYPE`, `# UNIT` lines of the first source that had them.
    meta: Vec<String>,
    /// The `# TYPE` of the family (`counter`, `gauge`, …), empty when untyped.
    kind: String,
    /// Series (name and labels) in first-seen order.
    order: Vec<String>,
    /// Series → value text.
    values: HashMap<String, String>,
}

/// Splits a sample line into its series (name and label set) and its value; `None` for a
/// line that is not a sample. Label values may hold spaces, `}` and escaped quotes.
fn split_sample(line: &str) -> Option<(&str, &str)> {
    let end = match line.find(['{', ' ']) {
        Some(i) if line.as_bytes()[i] == b'{' => {
            let mut in_str = false;
            let mut esc = false;
            let mut close = None;
            for (j, c) in line[i..].char_indices() {
                match c {
                    _ if esc => esc = false,
                    '\\' if in_str => esc = true,
                    '"' => in_str = !in_str,
                    '}' if !in_str => {
                        close = Some(i + j + 1);
                        break;
                    }
                    _ => {}
                }
            }
            close?
        }
        Some(i) => i,
        None => return None,
    };
    let value = line[end..].split_whitespace().next()?;
    Some((&line[..end], value))
}

/// The family a sample named `series` belongs to, given the current `# TYPE`d family.
fn family_of<'a>(series: &'a str, current: Option<&'a str>) -> &'a str {
    let name = series.split('{').next().unwrap_or(series);
    match current {
        Some(f) if name.starts_with(f) => f,
        _ => name,
    }
}

/// Merges OpenMetrics/Prometheus text expositions into one: each family's `# HELP`/`# TYPE`
/// once (from the first text that has it), the samples of all texts under it; a series found
/// in several texts is summed for counters (the same counter kept by two processes) and kept
/// from the first text otherwise; a family whose type differs from the first text's is
/// skipped from the later text. One `# EOF` at the end when any input had one.
pub fn merge_expositions<S: AsRef<str>>(texts: &[S]) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut families: HashMap<String, MergedFamily> = HashMap::new();
    let mut eof = false;
    for text in texts {
        let mut current: Option<String> = None;
        let mut skip = false;
        for line in text.as_ref().lines() {
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            if line == "# EOF" {
                eof = true;
                continue;
            }
            if let Some(rest) = line.strip_prefix("# ") {
                let mut parts = rest.splitn(3, ' ');
                let (Some(kw), Some(name)) = (parts.next(), parts.next()) else {
                    continue;
                };
                if !matches!(kw, "HELP" | "TYPE" | "UNIT") {
                    continue;
                }
                let kind = if kw == "TYPE" {
                    parts.next().unwrap_or("").trim().to_string()
                } else {
                    String::new()
                };
                let fam = families.entry(name.to_string()).or_insert_with(|| {
                    order.push(name.to_string());
                    MergedFamily {
                        meta: Vec::new(),
                        kind: String::new(),
                        order: Vec::new(),
                        values: HashMap::new(),
                    }
                });
                if current.as_deref() != Some(name) {
                    current = Some(name.to_string());
                    skip = false;
                }
                if kw == "TYPE" {
                    if fam.kind.is_empty() && fam.order.is_empty() {
                        fam.kind = kind;
                    } else if fam.kind != kind {
                        tracing::debug!(
                            family = name,
                            "metric family with two types: the later one skipped"
                        );
                        skip = true;
                        continue;
                    }
                }
                let prefix = format!("# {kw} ");
                if !fam.meta.iter().any(|m| m.starts_with(&prefix)) {
                    fam.meta.push(line.to_string());
                }
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let Some((series, value)) = split_sample(line) else {
                continue;
            };
            let fname = family_of(series, current.as_deref()).to_string();
            if skip && current.as_deref() == Some(fname.as_str()) {
                continue;
            }
            let fam = families.entry(fname.clone()).or_insert_with(|| {
                order.push(fname.clone());
                MergedFamily {
                    meta: Vec::new(),
                    kind: String::new(),
                    order: Vec::new(),
                    values: HashMap::new(),
                }
            });
            match fam.values.get_mut(series) {
                None => {
                    fam.order.push(series.to_string());
                    fam.values.insert(series.to_string(), value.to_string());
                }
                Some(v) if fam.kind == "counter" && !series.contains("_created") => {
                    if let (Ok(a), Ok(b)) = (v.parse::<f64>(), value.parse::<f64>()) {
                        let sum = a + b;
                        *v = if sum.fract() == 0.0 && sum.abs() < 9.0e15 {
                            format!("{}", sum as i64)
                        } else {
                            format!("{sum}")
                        };
                    }
                }
                Some(_) => {}
            }
        }
    }
    let mut out = String::new();
    for name in &order {
        let Some(fam) = families.get(name) else {
            continue;
        };
        for m in &fam.meta {
            out.push_str(m);
            out.push('\n');
        }
        for series in &fam.order {
            if let Some(v) = fam.values.get(series) {
                out.push_str(series);
                out.push(' ');
                out.push_str(v);
                out.push('\n');
            }
        }
    }
    if eof {
        out.push_str("# EOF\n");
    }
    out
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

#[cfg(test)]
mod merge_tests {
    use super::*;

    // covers: operator.md §7 (audit/bpf counters of the standalone enrichers reach
    // /metrics-spod): one HELP/TYPE per family, samples of both texts, same series summed
    #[test]
    fn merge_keeps_one_type_line_and_sums_shared_series() {
        let daemon = Metrics::new().with_collect_dir(None);
        daemon.seccomp_op("update");
        daemon.enricher_event("log", "lines", 2);
        let enricher = Metrics::new().with_collect_dir(None);
        enricher.enricher_event("log-enricher", "lines", 3);
        enricher.enricher_event("log", "lines", 5);
        enricher
            .enricher_metrics()
            .seccomp_audit
            .get_or_create(&spo_recorder::enricher::metrics::SeccompLabels {
                node: "n1".into(),
                namespace: "ns".into(),
                pod: "p a}x".into(),
                container: "c".into(),
                syscall: "read".into(),
            })
            .inc();
        let merged = merge_expositions(&[daemon.encode(), enricher.encode()]);
        let p = "security_profiles_operator_";
        for fam in [
            "enricher_events",
            "seccomp_profile",
            "seccomp_profile_audit",
        ] {
            let ty = format!("# TYPE {p}{fam} counter");
            assert_eq!(
                merged.lines().filter(|l| *l == ty).count(),
                1,
                "{ty}\n{merged}"
            );
            let help = format!("# HELP {p}{fam} ");
            assert_eq!(
                merged.lines().filter(|l| l.starts_with(&help)).count(),
                1,
                "{merged}"
            );
        }
        for want in [
            format!("{p}seccomp_profile_total{{operation=\"update\"}} 1"),
            format!("{p}enricher_events_total{{enricher=\"log\",event=\"lines\"}} 7"),
            format!("{p}enricher_events_total{{enricher=\"log-enricher\",event=\"lines\"}} 3"),
            format!(
                "{p}seccomp_profile_audit_total{{node=\"n1\",namespace=\"ns\",pod=\"p a}}x\",container=\"c\",syscall=\"read\"}} 1"
            ),
        ] {
            assert_eq!(
                merged.lines().filter(|l| *l == want).count(),
                1,
                "{want}\n{merged}"
            );
        }
        // The samples sit under their family's TYPE line, and one EOF ends the text.
        let lines: Vec<&str> = merged.lines().collect();
        let ty = lines
            .iter()
            .position(|l| *l == format!("# TYPE {p}enricher_events counter"))
            .expect("type");
        assert!(
            lines[ty + 1].starts_with(&format!("{p}enricher_events_total")),
            "{merged}"
        );
        assert!(
            lines[ty + 2].starts_with(&format!("{p}enricher_events_total")),
            "{merged}"
        );
        assert_eq!(lines.iter().filter(|l| **l == "# EOF").count(), 1);
        assert_eq!(lines.last(), Some(&"# EOF"));
    }

    // A later text declaring another type for a family does not corrupt it; plain-text
    // (0.0.4) input without EOF merges, too.
    #[test]
    fn merge_skips_conflicting_family_and_handles_untyped() {
        let a = "# TYPE x counter\nx_total{a=\"1\"} 2\n# TYPE y gauge\ny 1\n";
        let b = "# TYPE x gauge\nx{a=\"1\"} 9\nz 4\n# TYPE y gauge\ny 3\n";
        let m = merge_expositions(&[a, b]);
        assert_eq!(
            m, "# TYPE x counter\nx_total{a=\"1\"} 2\n# TYPE y gauge\ny 1\nz 4\n",
            "{m}"
        );
    }

    #[test]
    fn socket_sources_lists_only_sockets() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("junk.sock"), b"").expect("file");
        let _l = std::os::unix::net::UnixListener::bind(dir.path().join("log-enricher.sock"))
            .expect("bind");
        let _m = std::os::unix::net::UnixListener::bind(dir.path().join("other")).expect("bind");
        let s = socket_sources(dir.path());
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].0, "log-enricher");
        assert!(socket_sources(&dir.path().join("missing")).is_empty());
    }
}
