//! # spo-recorder
//!
//! Will own (issues: eBPF recorder, log-based recording): event sources (audit/syslog lines,
//! eBPF raw tracepoints compiled from C), pid/cgroup → container attribution, and aggregation
//! of events into seccomp, SELinux and AppArmor profiles.
#![deny(missing_docs)]

pub mod audit;
pub mod bpf;
pub mod enricher;
pub mod logrecord;
