//! eBPF syscall recorder (feature `bpf`; recording.md §6, RC-36..RC-40).
//!
//! # How it works
//!
//! * `bpf/recorder.bpf.c` is one raw tracepoint program on `sys_enter`, compiled by clang in
//!   `build.rs` and loaded with aya against the kernel's BTF (CO-RE, `bpf/core.h`). It needs
//!   no RLIMIT_MEMLOCK change, no LSM, fentry or kprobe program.
//! * A *target* (a process and all its descendants: threads, forks, execs) is a cgroup v2
//!   created for the recording ([`Recorder::record_command`]) or cgroups nested under the
//!   ones a running tree is in ([`Recorder::record_process_tree`]). The kernel keeps the
//!   membership: children inherit the cgroup, nothing has to track forks, and an unrelated
//!   process can never be attributed to the target. The program matches
//!   `bpf_get_current_ancestor_cgroup_id(level)` against the target's cgroup ids, so
//!   sub-cgroups the target creates stay covered.
//! * Per syscall of a target it ORs the number into a 1024-bit bitmap keyed by (target, ABI,
//!   mount namespace): no event per syscall, nothing to drop. A 32-bit compat syscall of an
//!   x86_64 process is stored under the compat ABI and named with the x86 table. Syscalls
//!   that could not be stored (map full) are counted and reported ([`Recorded::dropped`]).
//! * The tracepoint is attached only while a target is recorded (reference-counted, RC-39)
//!   and a self-test runs at start (RC-36).
//!
//! # Example
//!
//! ```no_run
//! use spo_recorder::bpf::Recorder;
//! # fn main() -> Result<(), spo_recorder::bpf::BpfError> {
//! let mut recorder = Recorder::new()?; // load + self-test; needs root
//! let mut cmd = std::process::Command::new("ls");
//! let session = recorder.record_command(&mut cmd)?;
//! cmd.status().expect("ls runs");
//! let recorded = session.finish()?;
//! let names = recorded.names(spo_core::Arch::native());
//! assert!(names.all().contains("execve"));
//! # Ok(()) }
//! ```
//!
//! Without the `bpf` feature the same API exists and [`Recorder::new`] returns
//! [`BpfError::FeatureDisabled`]:
//!
//! ```
//! # #[cfg(not(feature = "bpf"))]
//! assert!(matches!(
//!     spo_recorder::bpf::Recorder::new(),
//!     Err(spo_recorder::bpf::BpfError::FeatureDisabled)
//! ));
//! ```

use std::path::PathBuf;

pub mod abi;
pub mod apparmor;
pub mod btf_min;
pub mod cgroup;
mod error;
pub mod recorded;
mod selftest;
mod session;

#[cfg(feature = "bpf")]
mod enabled;
#[cfg(feature = "bpf")]
pub use enabled::Recorder;

#[cfg(not(feature = "bpf"))]
mod disabled;
#[cfg(not(feature = "bpf"))]
pub use disabled::Recorder;

pub use abi::Abi;
pub use apparmor::AppArmorRecorded;
pub use error::BpfError;
pub use recorded::{Names, Recorded};
pub use selftest::SelfTest;
pub use session::Session;

/// True when the crate was built with the `bpf` feature.
pub const ENABLED: bool = cfg!(feature = "bpf");

/// A target being recorded (a slot in the kernel maps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TargetId(pub u32);

/// Where the recorder looks for what it needs (tests point these elsewhere to exercise the
/// failure paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Kernel BTF (`/sys/kernel/btf/vmlinux`).
    pub btf: PathBuf,
    /// Mount table used to find cgroup v2 (`/proc/self/mountinfo`).
    pub mountinfo: PathBuf,
    /// procfs (`/proc`).
    pub proc_root: PathBuf,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            btf: PathBuf::from("/sys/kernel/btf/vmlinux"),
            mountinfo: PathBuf::from("/proc/self/mountinfo"),
            proc_root: PathBuf::from("/proc"),
        }
    }
}
