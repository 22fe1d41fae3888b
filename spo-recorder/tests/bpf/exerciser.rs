//! Builds `tests/programs/exerciser.c` once per test binary, and the syscall lists it makes
//! (mirrors of the C source).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Made only by the main thread (x86_64 names).
pub const MAIN: &[&str] = &[
    "getpid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "gettid",
    "getpgrp",
    "getcwd",
    "uname",
    "umask",
    "times",
    "getpriority",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "getitimer",
    "getsid",
    "getresuid",
    "getresgid",
    "getgroups",
    "capget",
    "personality",
    "clock_getres",
    "sched_yield",
    "alarm",
    "dup",
    "fcntl",
    "lseek",
    "fstat",
    "close",
];
/// Made only by the second thread.
pub const THREAD: &[&str] = &[
    "get_robust_list",
    "getcpu",
    "sched_getparam",
    "ioprio_get",
    "getrusage",
    "mincore",
];
/// Made only by the forked grandchild.
pub const GRANDCHILD: &[&str] = &[
    "lgetxattr",
    "listxattr",
    "sysfs",
    "ustat",
    "timerfd_create",
    "eventfd2",
    "inotify_init1",
    "mq_getsetattr",
    "fanotify_init",
];
/// Made only after the grandchild re-executes itself.
pub const AFTER_EXEC: &[&str] = &[
    "sched_rr_get_interval",
    "getpgid",
    "sched_getattr",
    "pkey_free",
];

/// Path of the compiled exerciser.
pub fn exerciser() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/programs/exerciser.c");
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("spo-recorder-exerciser");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = Command::new(&cc)
            .args(["-O2", "-Wall", "-pthread", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {cc} to build the test program: {e}"));
        assert!(status.success(), "compiling {} failed", src.display());
        out
    })
    .clone()
}
