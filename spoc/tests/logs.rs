//! `spoc enrich` and `spoc record --recorder logs` end to end (RC-27..RC-31, CLI-02/03 with
//! the logs recorder). Tests that need auditd or the kernel log take the machine-wide lock
//! shared with spo-recorder's tests.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spoc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spoc"))
}

fn generator() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spo-recorder/tests/fixtures/gen_audit_log.py")
}

#[test]
fn rc_28_enrich_generated_log_counts_match_the_summary() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("audit.log");
    let out = Command::new("python3")
        .arg(generator())
        .arg(&log)
        .arg("20000")
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = spoc()
        .args([
            "enrich",
            "--from-start",
            "--no-follow",
            "--output",
            "json",
            "--stats",
            "--node",
            "n1",
        ])
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).lines().last().unwrap()).unwrap();
    let c = &summary["counts"];
    for (k, s) in [
        ("seccomp", "seccomp"),
        ("avc", "avc"),
        ("apparmor", "apparmor"),
        ("other", "ignored"),
    ] {
        assert_eq!(stats[s], c[k], "{k}");
    }
    assert_eq!(stats["malformed"], 0);
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let events = c["seccomp"].as_u64().unwrap()
        + c["avc"].as_u64().unwrap()
        + c["apparmor"].as_u64().unwrap();
    assert_eq!(lines.len() as u64, events);
    // Unattributed processes are printed with empty container fields.
    assert!(lines
        .iter()
        .all(|l| l["node"] == "n1" && l["containerID"] == ""));
    // --containers-only prints none of them (no PID of the log is in a container here).
    let out = spoc()
        .args(["enrich", "--from-start", "--no-follow", "--containers-only"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn rc_31_enrich_text_output_and_missing_file() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("audit.log");
    std::fs::write(&log, "type=SECCOMP msg=audit(1625486870.273:187492): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=1847839 comm=\"redis-server\" exe=\"/usr/local/bin/redis-server\" sig=0 arch=c000003e syscall=232 compat=0 ip=0x7f0 code=0x7ffc0000\ngarbage line\n").unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = spoc()
        .args([
            "enrich",
            "--from-start",
            "--no-follow",
            "--node",
            "n1",
            "--proc-root",
        ])
        .arg(empty.path())
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "\"audit\" timestamp=\"1625486870.273:187492\" type=\"seccomp\" node=\"n1\" namespace=\"\" pod=\"\" container=\"\" executable=\"/usr/local/bin/redis-server\" pid=1847839 syscallID=232 syscallName=\"epoll_wait\" containerID=\"\"\n"
    );
    let out = spoc()
        .args(["enrich", "--no-follow"])
        .arg(d.path().join("missing.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = spoc()
        .args(["enrich", "--no-follow", "--filters", "[{"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn rc_27_enrich_follows_appended_lines() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("audit.log");
    std::fs::write(
        &log,
        "type=SECCOMP msg=audit(1.000:1): pid=1 exe=\"/old\" arch=c000003e syscall=0\n",
    )
    .unwrap();
    let out_path = d.path().join("out.txt");
    // Killed on drop: a following enricher left behind by a failed assertion would keep the
    // test harness's output pipe open forever.
    let child = KillOnDrop(
        spoc()
            .args(["enrich", "--output", "json"])
            .arg(&log)
            .stdout(std::fs::File::create(&out_path).unwrap())
            .spawn()
            .unwrap(),
    );
    // Append only once spoc has opened the log (it takes the length right after opening:
    // the pause covers that step on a busy machine).
    let start = Instant::now();
    while !has_open(child.0.id(), &log) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "spoc enrich did not open {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(
            b"type=SECCOMP msg=audit(2.000:2): pid=1 exe=\"/new\" arch=c000003e syscall=1\n",
        )
        .unwrap();
    }
    let start = Instant::now();
    let mut text = String::new();
    while start.elapsed() < Duration::from_secs(10) {
        text = std::fs::read_to_string(&out_path).unwrap();
        if text.contains("/new") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(child);
    // Started at the end: only the appended line.
    assert!(
        text.contains("\"executable\":\"/new\"") && !text.contains("/old"),
        "{text}"
    );
}

/// Machine-wide lock for tests touching auditd or kernel log settings.
fn auditd_pid() -> Option<u32> {
    let out = Command::new("auditctl").arg("-s").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("pid ").and_then(|p| p.trim().parse().ok()))
}

/// A child process killed (and reaped) when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Auditd(Child);

impl Drop for Auditd {
    fn drop(&mut self) {
        // SAFETY: signalling our own child by PID.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let _ = self.0.wait();
        let _ = Command::new("auditctl").args(["-e", "0"]).output();
    }
}

fn check_ls_profile(path: &Path) {
    let yaml = std::fs::read_to_string(path).unwrap();
    assert!(
        yaml.contains("kind: SeccompProfile") && yaml.contains("name: ls"),
        "{yaml}"
    );
    assert!(yaml.contains("defaultAction: SCMP_ACT_ERRNO"), "{yaml}");
    for s in ["execve", "getdents64", "openat", "exit_group"] {
        assert!(yaml.contains(&format!("- {s}\n")), "{s} missing:\n{yaml}");
    }
}

#[test]
fn cli_02_record_logs_with_auditd() {
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/sbin/auditd").exists() {
        eprintln!("SKIP: needs root and auditd");
        return;
    }
    let _lock = common::audit_lock();
    if auditd_pid().is_some_and(|p| p != 0) {
        eprintln!("SKIP: another auditd is running");
        return;
    }
    std::fs::create_dir_all("/var/log/audit").unwrap();
    let auditd = Auditd(
        Command::new("/usr/sbin/auditd")
            .arg("-n")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while auditd_pid() != Some(auditd.0.id()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "auditd did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let d = tempfile::tempdir().unwrap();
    let out_file = d.path().join("ls.yaml");
    record_ls_with_logs(&["--no-base-syscalls"], &out_file);
    check_ls_profile(&out_file);
    drop(auditd);
}

#[test]
fn cli_02_record_logs_from_kmsg_without_auditd() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIP: needs root");
        return;
    }
    let _guard = common::NoPrintkLimit::new();
    if auditd_pid().is_some_and(|p| p != 0) {
        eprintln!("SKIP: an auditd is running");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let out_file = d.path().join("ls.json");
    record_ls_with_logs(&["-t", "raw-seccomp"], &out_file);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let names: Vec<&str> = v["syscalls"][0]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"getdents64") && names.contains(&"execve"),
        "{names:?}"
    );
    // Base syscalls are added by default.
    assert!(names.len() >= 83, "{}", names.len());
}

/// `spoc record --recorder logs [options…] --privileged -o out_file -- ls /`, which must
/// succeed.
fn record_ls_with_logs(options: &[&str], out_file: &Path) {
    let out = spoc()
        .args(["record", "--recorder", "logs"])
        .args(options)
        .args(["--privileged", "-o"])
        .arg(out_file)
        .args(["--", "ls", "/"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// True when process `pid` has `path` open.
fn has_open(pid: u32, path: &Path) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.filter_map(Result::ok)
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == path))
    })
}
