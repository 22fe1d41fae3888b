//! The start-up self-test (RC-36): attach, let a helper process in a throw-away cgroup make a
//! known syscall, check that it was recorded, detach.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::abi::Abi;
use super::cgroup::{cgroup_of, join_in_child, RecordCgroup};
use super::error::BpfError;
use super::Recorder;

/// What the self-test observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfTest {
    /// The syscall the helper made.
    pub syscall: &'static str,
    /// Its number.
    pub nr: u32,
    /// The helper's cgroup (removed afterwards).
    pub cgroup: PathBuf,
    /// How long the test took.
    pub elapsed: Duration,
}

/// The syscall the helper makes; spoc itself never calls it, so nothing else can set the bit.
const PROBE_NR: libc::c_long = libc::SYS_getppid;

impl Recorder {
    /// Runs the self-test. The tracepoint is attached for its duration only (unless other
    /// targets are being recorded).
    pub fn self_test(&mut self) -> Result<SelfTest, BpfError> {
        let t0 = Instant::now();
        let parent = cgroup_of(&self.opts.proc_root, std::process::id())?;
        let cg = RecordCgroup::create(&self.cgroup_mount, &parent, "spo-selftest")?;
        let fd = cg.procs_fd()?;
        // The self-test's own target must not consume a hold (see `hold_attached`).
        let held = self.is_held();
        let target = self.start(&[&cg])?;
        if held {
            self.hold_attached(true)?;
        }
        // SAFETY: the child only calls async-signal-safe functions (write, syscall, _exit).
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: async-signal-safe calls in the forked child, then _exit.
            unsafe {
                if join_in_child(&fd).is_err() {
                    libc::_exit(2);
                }
                libc::syscall(PROBE_NR);
                libc::_exit(0);
            }
        }
        if pid < 0 {
            let e = std::io::Error::last_os_error();
            let _ = self.stop(target);
            return Err(BpfError::Io {
                action: "forking the self-test helper".into(),
                source: e,
            });
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        let rec = self.stop(target)?;
        if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            return Err(BpfError::SelfTest {
                reason: format!(
                    "the helper process could not join {} (wait status {status:#x})",
                    cg.dir().display()
                ),
            });
        }
        let nr = PROBE_NR as u32;
        let seen = rec.numbers().get(&Abi::Native).cloned().unwrap_or_default();
        if !seen.contains(&nr) {
            return Err(BpfError::SelfTest {
                reason: format!(
                    "a helper in cgroup {} (id {}, level {}) called getppid ({nr}) but the \
                     recorder saw {:?}; the kernel may not run raw tracepoint programs or \
                     cgroup ids do not match (cgroup namespace?)",
                    cg.dir().display(),
                    cg.id(),
                    cg.level(),
                    seen
                ),
            });
        }
        let report = SelfTest {
            syscall: "getppid",
            nr,
            cgroup: cg.dir().to_path_buf(),
            elapsed: t0.elapsed(),
        };
        tracing::debug!(
            elapsed_us = report.elapsed.as_micros() as u64,
            "eBPF self-test passed"
        );
        Ok(report)
    }
}
