//! Helpers shared by the spoc CLI test binaries.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built spoc binary with `args`.
pub fn spoc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spoc"))
        .args(args)
        .output()
        .unwrap()
}

/// Bytes as text, lossily.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Writes `content` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Writes an executable script at `path` without this process ever holding it open for
/// writing: test threads fork concurrently, and a forked child that has not exec'd yet would
/// keep such a descriptor alive and make executing the script fail with ETXTBSY. The content
/// goes to a side file (never executed) and `cp` creates the executable.
pub fn write_executable(path: &Path, content: &str) {
    let side = path.with_extension("src");
    std::fs::write(&side, content).unwrap();
    let st = Command::new("cp").arg(&side).arg(path).status().unwrap();
    assert!(st.success(), "cp {} {}", side.display(), path.display());
    let st = Command::new("chmod")
        .arg("0755")
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

/// Serialises the tests that use the kernel's audit machinery (auditd, /dev/kmsg, the printk
/// rate limit) across test binaries: an exclusive lock held while the file lives.
pub fn audit_lock() -> std::fs::File {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/spo-auditd-test.lock")
        .unwrap();
    // SAFETY: flock on an owned, open descriptor.
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
    f
}

/// Turns the kernel's printk rate limit off (so every audit record reaches /dev/kmsg) while
/// holding [`audit_lock`]; the old value comes back on drop, also when a test fails.
pub struct NoPrintkLimit {
    old: String,
    _lock: std::fs::File,
}

impl NoPrintkLimit {
    const KNOB: &'static str = "/proc/sys/kernel/printk_ratelimit";

    /// Takes the lock and sets the limit to 0.
    pub fn new() -> Self {
        let lock = audit_lock();
        let old = std::fs::read_to_string(Self::KNOB).unwrap_or_else(|_| "5".into());
        let _ = std::fs::write(Self::KNOB, "0");
        NoPrintkLimit { old, _lock: lock }
    }
}

impl Drop for NoPrintkLimit {
    fn drop(&mut self) {
        let _ = std::fs::write(Self::KNOB, self.old.trim());
    }
}
