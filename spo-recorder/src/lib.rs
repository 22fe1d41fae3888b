//! # spo-recorder
//!
//! Recording profiles from what programs really do, and enriching audit records with who
//! made them.
//!
//! | Module | What it does | Spec |
//! |---|---|---|
//! | [`audit`] | zero-copy parser of seccomp, AVC and AppArmor audit lines (auditd, syslog, `/dev/kmsg` forms); a rotation-safe log tailer; a `/dev/kmsg` reader | RC-27, RC-28 |
//! | [`enricher`] | pid → container attribution from `/proc/<pid>/cgroup`, the per-pid backlog, the `ContainerResolver` trait, structured output lines, prometheus metrics, filter rules, per-container aggregation, and the JSON enricher | RC-29..RC-34, RC-41..RC-44 |
//! | [`logrecord`] | log-based recording of one process tree (running under `SCMP_ACT_LOG`) | CLI-02 with `--recorder logs` |
//! | [`process`] | a child watched through its pidfd (wait, signal) on rustix, for `spoc run` / `spoc record` | CLI-10, CLI-12 |
//! | [`bpf`] | the eBPF syscall recorder (feature `bpf`): a raw tracepoint compiled from C by clang, loaded with aya; cgroup v2 targets; per-(ABI, mount namespace) bitmaps; a self-test | RC-36, RC-37, RC-39, CLI-08 |
//!
//! Features:
//!
//! | Feature | Effect |
//! |---|---|
//! | `bpf` | builds `bpf/recorder.bpf.c` with clang (a clear build error names clang when it is missing) and enables [`bpf::Recorder`]; without it `bpf::Recorder::new` returns `BpfError::FeatureDisabled` |
//!
//! Recorded syscall sets become profiles through `spo_seccomp::record`; AVC sets through
//! spo-selinux, AppArmor observations through spo-apparmor.
#![deny(missing_docs)]

pub mod audit;
pub mod bpf;
pub mod enricher;
pub mod logrecord;
pub mod process;
