//! `spoc record` end to end with the real eBPF recorder (root; CI runs as root), and the
//! round trip `spoc record` → `spoc run`. Spec: spoc.md CLI-02..CLI-05, CLI-08..CLI-11.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

fn spoc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spoc"));
    // Tests must not depend on whether the developer runs them under sudo.
    for v in ["SUDO_UID", "SUDO_GID", "SUDO_USER", "SUDO_COMMAND"] {
        c.env_remove(v);
    }
    c
}

fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn require_root() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "spoc record tests need root (CI runs them as root)"
    );
}

/// The recorder's test program (spo-recorder/tests/programs/exerciser.c), built once.
fn exerciser() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../spo-recorder/tests/programs/exerciser.c");
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("spoc-exerciser");
        let st = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args(["-O2", "-pthread", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("a C compiler (cc) to build the test program");
        assert!(st.success());
        // Readable and executable for the unprivileged user of the sudo test.
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
        out
    })
    .clone()
}

fn names_of(profile: &str) -> Vec<String> {
    let v: serde_json::Value = parse_profile(profile);
    v["spec"]["syscalls"][0]["names"]
        .as_array()
        .map(|a| a.iter().map(|n| n.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// YAML → JSON value via spoc's own `convert` would hide bugs; parse the simple YAML we
/// write (`    - name` list items under `names:`) directly.
fn parse_profile(profile: &str) -> serde_json::Value {
    let mut names = Vec::new();
    let mut arches = Vec::new();
    let mut section = "";
    for line in profile.lines() {
        let t = line.trim();
        if t.starts_with("architectures:") {
            section = "arch";
        } else if t.starts_with("- names:") || t == "names:" {
            section = "names";
        } else if let Some(item) = t.strip_prefix("- ") {
            match section {
                "arch" => arches.push(item.to_string()),
                "names" => names.push(item.to_string()),
                _ => {}
            }
        } else if !t.is_empty() {
            section = "";
        }
    }
    serde_json::json!({"spec": {"architectures": arches, "syscalls": [{"names": names}]}})
}

fn record(dir: &Path, extra: &[&str], cmd: &[&str]) -> (Output, String) {
    require_root();
    let out_file = dir.join("p.yaml");
    let out = run(spoc()
        .arg("record")
        .arg("-o")
        .arg(&out_file)
        .args(extra)
        .arg("--")
        .args(cmd));
    let profile = std::fs::read_to_string(&out_file).unwrap_or_default();
    (out, profile)
}

// covers: CLI-02, CLI-03, CLI-04 — a SeccompProfile named after the command, ERRNO default,
// native arch, one sorted ALLOW list, base syscalls added.
#[test]
fn cli_02_03_04_record_writes_a_sorted_profile_with_base_syscalls() {
    let dir = tempfile::tempdir().unwrap();
    let ex = exerciser();
    let (out, profile) = record(dir.path(), &[], &[ex.to_str().unwrap(), "main-only"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(profile.starts_with(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata:\n  name: spoc-exerciser\n"
    ), "{profile}");
    assert!(profile.contains("defaultAction: SCMP_ACT_ERRNO"));
    assert!(profile.contains("action: SCMP_ACT_ALLOW"));
    let names = names_of(&profile);
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted);
    assert!(names.contains(&"times".to_string()));
    // `chown` is a base syscall the program never makes.
    assert!(names.contains(&"chown".to_string()));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("dropped events: 0"), "{stderr}");
}

// covers: CLI-04 — `-n` adds nothing, `-b` replaces the list; unknown names are refused.
#[test]
fn cli_04_base_syscalls_can_be_replaced_or_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let ex = exerciser();
    let cmd = [ex.to_str().unwrap(), "main-only"];
    let (_, none) = record(dir.path(), &["-n"], &cmd);
    assert!(!names_of(&none).contains(&"chown".to_string()));
    let (_, custom) = record(dir.path(), &["-b", "chown", "-b", "mknodat"], &cmd);
    let custom = names_of(&custom);
    assert!(custom.contains(&"chown".to_string()) && custom.contains(&"mknodat".to_string()));
    assert!(!custom.contains(&"pivot_root".to_string()));
    let (out, _) = record(dir.path(), &["-b", "no_such_call"], &cmd);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no_such_call"));
}

// covers: CLI-05 — raw seccomp JSON, 2-space indent.
#[test]
fn cli_05_raw_seccomp_is_indented_json() {
    let dir = tempfile::tempdir().unwrap();
    let (out, json) = record(dir.path(), &["-t", "raw-seccomp", "-n"], &["/bin/true"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(v["architectures"][0], "SCMP_ARCH_X86_64");
    assert!(json.contains("\n  \"syscalls\": ["), "{json}");
}

/// Records `cmd` (with the default base syscalls, as a user would: a recording holds what
/// that one run did, and timing-dependent calls such as a contended `futex` may differ
/// between runs), then runs it under the profile: it must succeed.
fn round_trip(cmd: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (out, profile) = record(dir.path(), &[], cmd);
    assert!(
        out.status.success(),
        "record {cmd:?}: {}",
        text(&out.stderr)
    );
    assert!(!profile.is_empty());
    let run_out = run(spoc()
        .args(["run", "--no-audit", "-p"])
        .arg(dir.path().join("p.yaml"))
        .arg("--")
        .args(cmd));
    assert!(
        run_out.status.success(),
        "spoc run {cmd:?} under its recorded profile: {}\n{profile}",
        text(&run_out.stderr)
    );
}

// covers: CLI-08 — everything the process tree needs is recorded: the profile runs it.
#[test]
fn round_trip_exerciser_with_threads_forks_exec_and_compat_calls() {
    let ex = exerciser();
    round_trip(&[ex.to_str().unwrap()]);
}

#[test]
fn round_trip_ls() {
    round_trip(&["ls", "-la", "/"]);
}

#[test]
fn round_trip_shell_pipeline() {
    round_trip(&[
        "sh",
        "-c",
        "ls / | sort | head -3 | wc -l; echo hi | tr a-z A-Z",
    ]);
}

#[test]
fn round_trip_python_threads() {
    if Command::new("python3").arg("-c").arg("0").status().is_err() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    round_trip(&[
        "python3",
        "-c",
        "import json, threading\nt = [threading.Thread(target=lambda i=i: json.dumps([i]*3)) for i in range(4)]\n[x.start() for x in t]\n[x.join() for x in t]\nprint('ok')",
    ]);
}

// A syscall the recorded run never made is denied afterwards: the profile is not just "all".
#[test]
fn recorded_profile_denies_what_was_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let ex = exerciser();
    let (out, _) = record(dir.path(), &["-n"], &[ex.to_str().unwrap(), "main-only"]);
    assert!(out.status.success());
    let run_out = run(spoc()
        .args(["run", "--no-audit", "-p"])
        .arg(dir.path().join("p.yaml"))
        .arg("--")
        .arg(&ex)); // full: thread, fork, exec need more
    assert!(!run_out.status.success());
}

// covers: CLI-09 — under sudo the command runs as the invoking user, or as root with
// --privileged.
#[test]
fn cli_09_sudo_user_runs_the_command_unless_privileged() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out_file = dir.path().join("p.yaml");
    let as_user = run(spoc()
        .env("SUDO_UID", "65534")
        .env("SUDO_GID", "65534")
        .env("SUDO_USER", "nobody")
        .arg("record")
        .arg("-o")
        .arg(&out_file)
        .args(["--", "sh", "-c", "test \"$(id -u)\" = 65534"]));
    assert!(as_user.status.success(), "{}", text(&as_user.stderr));
    assert!(std::fs::read_to_string(&out_file)
        .unwrap()
        .contains("getuid"));
    let privileged = run(spoc()
        .env("SUDO_UID", "65534")
        .env("SUDO_GID", "65534")
        .env("SUDO_USER", "nobody")
        .arg("record")
        .arg("--privileged")
        .arg("-o")
        .arg(&out_file)
        .args(["--", "sh", "-c", "test \"$(id -u)\" = 0"]));
    assert!(privileged.status.success(), "{}", text(&privileged.stderr));
}

/// True when a direct child of `pid` runs the program `comm`.
fn has_child_named(pid: u32, comm: &str) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.filter_map(Result::ok).any(|t| {
        std::fs::read_to_string(t.path().join("children"))
            .unwrap_or_default()
            .split_whitespace()
            .any(|c| {
                std::fs::read_to_string(format!("/proc/{c}/comm"))
                    .is_ok_and(|n| n.trim_end() == comm)
            })
    })
}

// covers: CLI-10 — Ctrl-C stops the command and the profile is still written; the command's
// fate is reported in the exit code.
#[test]
fn cli_10_interrupt_stops_the_command_and_writes_the_profile() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("p.yaml");
    let child = spoc()
        .arg("record")
        .arg("-o")
        .arg(&out_file)
        .args(["--", "sleep", "30"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt only once the command runs (loading the recorder takes longer on a busy
    // machine), and give it a moment to enter its sleep.
    let started = std::time::Instant::now();
    while !has_child_named(child.id(), "sleep") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "spoc record did not start the command"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t0 = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let profile = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        profile.contains("clock_nanosleep") || profile.contains("nanosleep"),
        "{profile}"
    );
}

// The command's exit status is spoc's, not swallowed.
#[test]
fn exit_status_of_the_command_is_passed_through() {
    let dir = tempfile::tempdir().unwrap();
    let (out, profile) = record(dir.path(), &[], &["sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    assert!(!profile.is_empty(), "the profile is written anyway");
    assert!(text(&out.stderr).contains("status 7"));
}

// `--pid`: record a running process tree until it exits.
#[test]
fn pid_mode_records_a_running_tree_until_it_exits() {
    use std::io::BufRead;
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("p.yaml");
    let mut target = Command::new(exerciser())
        .arg("wait")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(target.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid = target.id();
    let rec = spoc()
        .args(["record", "-n", "--pid", &pid.to_string(), "-o"])
        .arg(&out_file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until spoc has moved the process into its recording cgroup.
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap()
        .contains("spo-record")
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "spoc did not move the process into its recording cgroup"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(pid as i32, libc::SIGUSR1) };
    let status = target.wait().unwrap();
    let out = rec.wait_with_output().unwrap();
    assert!(status.success(), "{status}; spoc: {}", text(&out.stderr));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let names = names_of(&std::fs::read_to_string(&out_file).unwrap());
    for n in ["times", "getrusage", "sysfs", "sched_rr_get_interval"] {
        assert!(names.contains(&n.to_string()), "{n}: {names:?}");
    }
}
