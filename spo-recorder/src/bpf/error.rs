//! Errors of the eBPF recorder.

use std::path::PathBuf;

/// A typed error source kept as it is (no flattening to text).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why recording with eBPF failed. Each variant names what is missing or what failed, so a
/// user can act on it (RC-36: a clear error when the kernel lacks BTF or BPF).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BpfError {
    /// The crate was built without the `bpf` feature.
    #[error(
        "the eBPF recorder is not built in (spo-recorder was compiled without the `bpf` feature)"
    )]
    FeatureDisabled,
    /// Loading BPF needs root (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN).
    #[error(
        "eBPF recording needs root (CAP_BPF and CAP_PERFMON or CAP_SYS_ADMIN); run it with sudo"
    )]
    NotPrivileged,
    /// The kernel exposes no BTF, so the CO-RE relocations cannot be resolved.
    #[error("the kernel has no BTF ({path} is missing): eBPF recording needs a kernel built with CONFIG_DEBUG_INFO_BTF=y")]
    NoBtf {
        /// The BTF file looked for.
        path: PathBuf,
    },
    /// The kernel BTF could not be parsed.
    #[error("cannot read the kernel BTF at {path}: {reason}")]
    BadBtf {
        /// The BTF file.
        path: PathBuf,
        /// Parser message.
        reason: String,
    },
    /// The kernel refused to load or attach a BPF object/program (BPF disabled, verifier
    /// rejection, missing tracepoint…).
    #[error("the kernel refused the eBPF recorder ({what})")]
    Kernel {
        /// The step: "load object", "load program sys_enter", "attach raw tracepoint sys_enter"…
        what: String,
        /// The loader's error (its own source chain ends in the OS error).
        #[source]
        source: BoxError,
    },
    /// A map could not be read or written.
    #[error("eBPF map `{map}`")]
    Map {
        /// Map name.
        map: &'static str,
        /// The loader's error.
        #[source]
        source: BoxError,
    },
    /// cgroup v2 is not mounted; it is how the recorder follows a process tree.
    #[error("cgroup v2 is not mounted (no `cgroup2` entry in /proc/self/mountinfo): the recorder follows the target's process tree with a cgroup v2; mount one, e.g. `mount -t cgroup2 none /sys/fs/cgroup/unified`")]
    NoCgroup2,
    /// A cgroup operation failed.
    #[error("cgroup {path}: {action}")]
    Cgroup {
        /// The cgroup directory or file.
        path: PathBuf,
        /// What was attempted.
        action: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The process to record does not exist or cannot be inspected.
    #[error("process {pid}: {reason}")]
    Process {
        /// The PID.
        pid: u32,
        /// What went wrong.
        reason: String,
    },
    /// Too many recordings at once.
    #[error("too many concurrent recordings (at most {max})")]
    TooManyTargets {
        /// The limit.
        max: usize,
    },
    /// The start-up self-test did not observe the syscall its helper made (RC-36).
    #[error("eBPF recorder self-test failed: {reason}")]
    SelfTest {
        /// What was expected and what was seen.
        reason: String,
    },
    /// Another I/O failure.
    #[error("{action}")]
    Io {
        /// What was attempted.
        action: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::BpfError;

    // Issue 9: BpfError flattened its sources into strings.
    #[test]
    fn kernel_and_map_errors_keep_their_typed_source() {
        let e = BpfError::Kernel {
            what: "load object".into(),
            source: Box::new(std::io::Error::from_raw_os_error(libc::EPERM)),
        };
        let src = std::error::Error::source(&e).unwrap();
        let io = src.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.raw_os_error(), Some(libc::EPERM));
        assert_eq!(
            e.to_string(),
            "the kernel refused the eBPF recorder (load object)"
        );
    }
}
