//! The log enricher (spec §4): audit lines → attributed, filtered, counted, aggregated and
//! printed events.
//!
//! | Module | Job | Spec |
//! |---|---|---|
//! | [`attribution`] | PID → container ID via `/proc/<pid>/cgroup`, bounded cache | RC-29 |
//! | [`resolver`] | container ID → namespace/pod/container ([`ContainerResolver`]) | §4.3 |
//! | [`backlog`] | lines of not-yet-attributable PIDs, replayed later | RC-30 |
//! | [`output`] | structured `audit` lines, text or JSON | RC-31..RC-33 |
//! | [`metrics`] | prometheus-client counters | RC-31..RC-33 |
//! | [`filter`] | `logEnricherFilters` / `jsonEnricherFilters` rules | RC-34 |
//! | [`aggregate`] | syscall / AVC sets per record profile | §4.4 |
//! | [`json`] | the JSON enricher | RC-41..RC-44 |

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use spo_core::events::AuditEvent;

use crate::audit::{parse_line, Event, Parsed};

pub mod aggregate;
pub mod attribution;
pub mod backlog;
pub mod filter;
pub mod json;
pub mod metrics;
pub mod output;
pub mod resolver;
pub mod syscalls;

pub use aggregate::Aggregator;
pub use attribution::{Attribution, Attributor, AttributorOptions};
pub use backlog::{Backlog, BacklogOptions};
pub use filter::{FieldValue, FilterRecord, Filters};
pub use metrics::EnricherMetrics;
pub use output::{trace_event, write_event, OutputFormat, OutputOptions};
pub use resolver::{ContainerInfo, ContainerResolver, NoResolver, StaticResolver};
pub use syscalls::SyscallNames;

/// What to do with events of processes that are not (yet) attributable to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unattributed {
    /// Emit them at once with empty container fields (`spoc enrich`).
    Emit,
    /// Drop them (counted) (`spoc enrich --containers-only`).
    Skip,
    /// Keep them per PID and replay them when the PID becomes attributable (the operator's
    /// log enricher, RC-30).
    Backlog,
}

/// Enricher settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EnricherOptions {
    /// Node name written into every event.
    pub node: String,
    /// Attribution cache and /proc root.
    pub attribution: AttributorOptions,
    /// Backlog limits.
    pub backlog: BacklogOptions,
    /// Policy for unattributed events.
    pub unattributed: Unattributed,
    /// Filter rules (RC-34).
    pub filters: Filters,
}

impl EnricherOptions {
    /// Sets [`EnricherOptions::node`].
    #[must_use]
    pub fn with_node(mut self, node: String) -> Self {
        self.node = node;
        self
    }

    /// Sets [`EnricherOptions::attribution`].
    #[must_use]
    pub fn with_attribution(mut self, attribution: AttributorOptions) -> Self {
        self.attribution = attribution;
        self
    }

    /// Sets [`EnricherOptions::backlog`].
    #[must_use]
    pub fn with_backlog(mut self, backlog: BacklogOptions) -> Self {
        self.backlog = backlog;
        self
    }

    /// Sets [`EnricherOptions::unattributed`].
    #[must_use]
    pub fn with_unattributed(mut self, unattributed: Unattributed) -> Self {
        self.unattributed = unattributed;
        self
    }

    /// Sets [`EnricherOptions::filters`].
    #[must_use]
    pub fn with_filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
    }
}

impl Default for EnricherOptions {
    fn default() -> Self {
        EnricherOptions {
            node: String::new(),
            attribution: AttributorOptions::default(),
            backlog: BacklogOptions::default(),
            unattributed: Unattributed::Backlog,
            filters: Filters::default(),
        }
    }
}

/// Counters of an [`Enricher`]; the per-kind counts match what a log holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnricherStats {
    /// Lines seen.
    pub lines: u64,
    /// Seccomp records.
    pub seccomp: u64,
    /// SELinux AVC records.
    pub avc: u64,
    /// AppArmor records.
    pub apparmor: u64,
    /// Lines that are no handled record.
    pub ignored: u64,
    /// Handled record types that could not be read.
    pub malformed: u64,
    /// Seccomp records whose syscall number is unknown on their architecture (dropped).
    pub unknown_syscall: u64,
    /// Events dropped by a filter rule.
    pub filtered: u64,
    /// Events emitted.
    pub emitted: u64,
    /// Events emitted without a container.
    pub emitted_unattributed: u64,
    /// Events skipped because unattributed ([`Unattributed::Skip`]).
    pub skipped_unattributed: u64,
    /// Events put into the backlog.
    pub backlogged: u64,
    /// Backlogged events replayed.
    pub replayed: u64,
}

/// One enriched event, as handed to the output.
#[derive(Debug, Clone, Copy)]
pub struct Enriched<'e> {
    /// Node name.
    pub node: &'e str,
    /// The record.
    pub event: &'e Event<'e>,
    /// Seccomp: the syscall name on the record's architecture.
    pub syscall_name: Option<&'e str>,
    /// The container ID, when attributed.
    pub container_id: Option<&'e str>,
    /// The container's identity, when the resolver knows it.
    pub info: Option<&'e ContainerInfo>,
}

impl FilterRecord for Enriched<'_> {
    fn get(&self, path: &[String]) -> Option<FieldValue<'_>> {
        let [key] = path else { return None };
        let info = self.info;
        let s = FieldValue::Str;
        let ctr = |f: fn(&ContainerInfo) -> &str| s(info.map(f).unwrap_or_default());
        let common = match key.as_str() {
            "node" => Some(s(self.node)),
            "namespace" => Some(ctr(|i| &i.namespace)),
            "pod" => Some(ctr(|i| &i.pod)),
            "container" => Some(ctr(|i| &i.container)),
            "containerid" => Some(s(self.container_id.unwrap_or_default())),
            "type" => Some(s(match self.event {
                AuditEvent::Seccomp(_) => "seccomp",
                AuditEvent::Avc(_) => "selinux",
                AuditEvent::AppArmor(_) => "apparmor",
                _ => "unknown",
            })),
            _ => None,
        };
        if common.is_some() {
            return common;
        }
        match (self.event, key.as_str()) {
            (AuditEvent::Seccomp(e), "executable") => Some(s(&e.exe)),
            (AuditEvent::Seccomp(e), "pid") => Some(FieldValue::Int(i64::from(e.pid))),
            (AuditEvent::Seccomp(e), "syscallid") => {
                i64::try_from(e.syscall).ok().map(FieldValue::Int)
            }
            (AuditEvent::Seccomp(_), "syscallname") => {
                Some(s(self.syscall_name.unwrap_or_default()))
            }
            (AuditEvent::Avc(_), "profile") => Some(s(info
                .and_then(|i| i.record_profile.as_deref())
                .unwrap_or_default())),
            (AuditEvent::Avc(e), "scontext") => Some(s(&e.scontext)),
            (AuditEvent::Avc(e), "tcontext") => Some(s(&e.tcontext)),
            (AuditEvent::Avc(e), "tclass") => Some(s(&e.tclass)),
            (AuditEvent::AppArmor(e), "executable") => Some(s(&e.comm)),
            (AuditEvent::AppArmor(e), "pid") => Some(FieldValue::Int(i64::from(e.pid))),
            (AuditEvent::AppArmor(e), "apparmor") => Some(s(&e.apparmor)),
            (AuditEvent::AppArmor(e), "operation") => Some(s(&e.operation)),
            (AuditEvent::AppArmor(e), "profile") => Some(s(&e.profile)),
            (AuditEvent::AppArmor(e), "name") => Some(s(&e.name)),
            (AuditEvent::AppArmor(e), "extra_info") => Some(s(&e.extra)),
            _ => None,
        }
    }
}

/// A resolver answer cache entry.
struct Resolved {
    info: Option<Arc<ContainerInfo>>,
    at: Instant,
}

/// The log enricher: feed it lines, get [`Enriched`] events.
pub struct Enricher<R> {
    opts: EnricherOptions,
    attributor: Attributor,
    resolver: R,
    resolved: HashMap<Arc<str>, Resolved>,
    backlog: Backlog,
    names: SyscallNames,
    metrics: Option<EnricherMetrics>,
    aggregate: Aggregator,
    stats: EnricherStats,
    lines_since_expire: u32,
}

impl<R> std::fmt::Debug for Enricher<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// How long a resolver's "unknown" is trusted (containers appear in the API shortly after
/// their processes start).
const NEGATIVE_RESOLVE_TTL: Duration = Duration::from_secs(1);
/// How long a resolver's answer is trusted (upstream: 1 h, 1000 entries).
const RESOLVE_TTL: Duration = Duration::from_secs(3600);
const RESOLVE_MAX: usize = 1000;

impl<R: ContainerResolver> Enricher<R> {
    /// A new enricher; `metrics` when the caller registered [`EnricherMetrics`].
    pub fn new(opts: EnricherOptions, resolver: R, metrics: Option<EnricherMetrics>) -> Self {
        Enricher {
            attributor: Attributor::new(opts.attribution.clone()),
            backlog: Backlog::new(opts.backlog),
            opts,
            resolver,
            resolved: HashMap::new(),
            names: SyscallNames::new(),
            metrics,
            aggregate: Aggregator::new(),
            stats: EnricherStats::default(),
            lines_since_expire: 0,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> EnricherStats {
        self.stats
    }

    /// The backlog (RC-30).
    pub fn backlog(&self) -> &Backlog {
        &self.backlog
    }

    /// The attributor (cache statistics).
    pub fn attributor(&self) -> &Attributor {
        &self.attributor
    }

    /// Syscall and AVC sets per record profile.
    pub fn aggregate(&self) -> &Aggregator {
        &self.aggregate
    }

    /// Mutable access to the sets (to reset them after collection).
    pub fn aggregate_mut(&mut self) -> &mut Aggregator {
        &mut self.aggregate
    }

    /// Processes one line at `now`, calling `sink` for every event it releases (the line's
    /// own, and backlogged ones of the same PID replayed before it).
    pub fn process_line(&mut self, line: &[u8], now: Instant, sink: &mut dyn FnMut(&Enriched<'_>)) {
        self.stats.lines += 1;
        self.lines_since_expire += 1;
        if self.lines_since_expire >= 65_536 {
            self.lines_since_expire = 0;
            self.backlog.expire(now);
        }
        match parse_line(line) {
            Parsed::Ignored => self.stats.ignored += 1,
            Parsed::Malformed(m) => {
                self.stats.malformed += 1;
                tracing::debug!(reason = %m, "malformed audit line");
            }
            Parsed::Event(ev) => {
                match &ev {
                    AuditEvent::Seccomp(_) => self.stats.seccomp += 1,
                    AuditEvent::Avc(_) => self.stats.avc += 1,
                    AuditEvent::AppArmor(_) => self.stats.apparmor += 1,
                    _ => {}
                }
                self.handle(&ev, now, sink);
            }
        }
    }

    fn resolve(&mut self, id: &Arc<str>, now: Instant) -> Option<Arc<ContainerInfo>> {
        if let Some(r) = self.resolved.get(id) {
            let ttl = if r.info.is_some() {
                RESOLVE_TTL
            } else {
                NEGATIVE_RESOLVE_TTL
            };
            if now.saturating_duration_since(r.at) < ttl {
                return r.info.clone();
            }
        }
        let info = self.resolver.resolve(id);
        if self.resolved.len() >= RESOLVE_MAX {
            self.resolved
                .retain(|_, r| now.saturating_duration_since(r.at) < NEGATIVE_RESOLVE_TTL);
            if self.resolved.len() >= RESOLVE_MAX {
                self.resolved.clear();
            }
        }
        self.resolved.insert(
            Arc::clone(id),
            Resolved {
                info: info.clone(),
                at: now,
            },
        );
        info
    }

    fn handle(&mut self, ev: &Event<'_>, now: Instant, sink: &mut dyn FnMut(&Enriched<'_>)) {
        let pid = ev.pid();
        let (id, info) = match self.attributor.lookup(pid, now) {
            Attribution::Container(id) => {
                let info = self.resolve(&id, now);
                (Some(id), info)
            }
            Attribution::Host | Attribution::Unknown => (None, None),
        };
        let complete = id.is_some() && info.is_some();
        if !complete {
            match self.opts.unattributed {
                Unattributed::Backlog => {
                    self.backlog.push(pid, ev.to_owned_event(), now);
                    self.stats.backlogged += 1;
                    return;
                }
                Unattributed::Skip if id.is_none() => {
                    self.stats.skipped_unattributed += 1;
                    return;
                }
                _ => {}
            }
        }
        if complete && self.backlog.has(pid) {
            for old in self.backlog.take(pid) {
                self.stats.replayed += 1;
                let borrowed = borrow_event(&old);
                self.emit(&borrowed, id.as_deref(), info.as_deref(), sink);
            }
        }
        self.emit(ev, id.as_deref(), info.as_deref(), sink);
    }

    fn emit(
        &mut self,
        ev: &Event<'_>,
        id: Option<&str>,
        info: Option<&ContainerInfo>,
        sink: &mut dyn FnMut(&Enriched<'_>),
    ) {
        let syscall_name = match ev {
            AuditEvent::Seccomp(s) => match self.names.name(s.audit_arch, s.syscall) {
                Some(n) => Some(n),
                None => {
                    self.stats.unknown_syscall += 1;
                    return;
                }
            },
            _ => None,
        };
        let enriched = Enriched {
            node: &self.opts.node,
            event: ev,
            syscall_name,
            container_id: id,
            info,
        };
        if !self.opts.filters.is_empty() && !self.opts.filters.allows(&enriched) {
            self.stats.filtered += 1;
            tracing::debug!(pid = ev.pid(), "audit line dropped by a filter rule");
            return;
        }
        if let Some(info) = info {
            if let Some(m) = &self.metrics {
                count(m, &self.opts.node, info, &enriched);
            }
            if let Some(profile) = info.record_profile.as_deref() {
                match ev {
                    AuditEvent::Seccomp(_) => {
                        if let Some(n) = syscall_name {
                            self.aggregate.add_syscall(profile, n);
                        }
                    }
                    AuditEvent::Avc(a) => self.aggregate.add_avc(profile, a),
                    _ => {}
                }
            }
        }
        self.stats.emitted += 1;
        if id.is_none() {
            self.stats.emitted_unattributed += 1;
        }
        sink(&enriched);
    }
}

fn count(m: &EnricherMetrics, node: &str, info: &ContainerInfo, e: &Enriched<'_>) {
    match e.event {
        AuditEvent::Seccomp(_) => {
            m.seccomp_audit
                .get_or_create(&metrics::SeccompLabels {
                    node: node.to_string(),
                    namespace: info.namespace.clone(),
                    pod: info.pod.clone(),
                    container: info.container.clone(),
                    syscall: e.syscall_name.unwrap_or_default().to_string(),
                })
                .inc();
        }
        AuditEvent::Avc(a) => {
            m.selinux_audit
                .get_or_create(&metrics::SelinuxLabels {
                    node: node.to_string(),
                    namespace: info.namespace.clone(),
                    pod: info.pod.clone(),
                    container: info.container.clone(),
                    scontext: a.scontext.to_string(),
                    tcontext: a.tcontext.to_string(),
                })
                .inc();
        }
        AuditEvent::AppArmor(a) => {
            m.apparmor_audit
                .get_or_create(&metrics::AppArmorLabels {
                    node: node.to_string(),
                    namespace: info.namespace.clone(),
                    pod: info.pod.clone(),
                    container: info.container.clone(),
                    profile: a.profile.to_string(),
                    operation: a.operation.to_string(),
                    apparmor: a.apparmor.to_string(),
                })
                .inc();
            if a.apparmor == "DENIED" {
                m.apparmor_denial
                    .get_or_create(&metrics::DenialLabels {
                        profile: a.profile.to_string(),
                        operation: a.operation.to_string(),
                    })
                    .inc();
            }
        }
        _ => {}
    }
}

/// A borrowed view of an owned event (for backlog replay through the same path).
pub fn borrow_event(e: &AuditEvent) -> Event<'_> {
    e.to_borrowed_event()
}
