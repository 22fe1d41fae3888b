//! A real program under `SCMP_ACT_LOG` with auditd running yields its syscalls (RC-28 on
//! real records, the ENRICHED format included). auditd is started and stopped here; a file
//! lock keeps tests of other binaries (spoc's) from fighting over it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use spo_recorder::audit::{TailOptions, Tailer};
use spo_recorder::logrecord::LogRecording;
use spo_seccomp::compile::compile;
use spo_seccomp::{Action, SeccompSpec};

const AUDIT_LOG: &str = "/var/log/audit/audit.log";

/// Holds the machine-wide auditd lock and the daemon; stops it on drop.
pub struct Auditd {
    child: Child,
    _lock: std::fs::File,
}

fn auditctl_pid() -> Option<u32> {
    let out = Command::new("auditctl").arg("-s").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("pid ").and_then(|p| p.trim().parse().ok()))
}

impl Auditd {
    /// Starts `auditd -n`, or returns `None` (with the reason printed) when it cannot run.
    pub fn start() -> Option<Auditd> {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP: auditd tests need root");
            return None;
        }
        if !Path::new("/usr/sbin/auditd").exists() {
            eprintln!("SKIP: auditd is not installed (apt-get install auditd)");
            return None;
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open("/tmp/spo-auditd-test.lock")
            .unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: flock on an owned, open descriptor.
        assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
        if let Some(p) = auditctl_pid().filter(|p| *p != 0) {
            eprintln!("SKIP: another auditd (pid {p}) is already running");
            return None;
        }
        std::fs::create_dir_all("/var/log/audit").unwrap();
        let child = Command::new("/usr/sbin/auditd")
            .arg("-n")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let a = Auditd { child, _lock: lock };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if auditctl_pid() == Some(a.child.id()) && Path::new(AUDIT_LOG).exists() {
                return Some(a);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("auditd did not register within 10 s");
    }
}

impl Drop for Auditd {
    fn drop(&mut self) {
        // SAFETY: signalling our own child by PID.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
        let _ = Command::new("auditctl").args(["-e", "0"]).output();
    }
}

#[test]
fn rc_28_real_program_under_scmp_act_log_with_auditd() {
    let Some(_auditd) = Auditd::start() else {
        return;
    };
    let mut tailer =
        Tailer::open(Path::new(AUDIT_LOG), TailOptions::new(Path::new(AUDIT_LOG))).unwrap();
    let mut spec = SeccompSpec::new(Action::Log);
    spec.architectures = vec![spo_core::Arch::native()];
    let filter = compile(&spec).unwrap();
    let mut cmd = Command::new("ls");
    cmd.arg("/").stdout(Stdio::null());
    filter.apply_to_command(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut rec = LogRecording::new(child.id(), None);
    assert!(child.wait().unwrap().success());
    let start = Instant::now();
    while !rec.root_exited && start.elapsed() < Duration::from_secs(10) {
        tailer.poll(&mut |l| rec.take_line(l)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        rec.root_exited,
        "no exit_group record; got {:?}",
        rec.syscalls()
    );
    for s in ["execve", "openat", "getdents64", "write", "exit_group"] {
        assert!(
            rec.syscalls().contains(s),
            "{s} missing from {:?}",
            rec.syscalls()
        );
    }
    assert_eq!(rec.unknown, 0);
}
