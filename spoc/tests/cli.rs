//! The spoc binary end to end: exit codes, output files, and real programs under profiles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{spoc, text, write, NoPrintkLimit};

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const HEADER: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n";

fn profile(name: &str, spec: &str) -> String {
    format!("{HEADER}metadata:\n  name: {name}\nspec:\n{spec}")
}

/// Syscalls /bin/sh, /bin/true and coreutils need on this machine, plus the base 83.
const RUNNABLE: &str = "  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [access, arch_prctl, brk, close, execve, exit_group, fcntl, fstat, futex, getrandom, getuid, getgid, geteuid, getegid, getpid, getppid, ioctl, lseek, mmap, mprotect, munmap, newfstatat, openat, pread64, prlimit64, read, rseq, rt_sigaction, rt_sigprocmask, rt_sigreturn, set_robust_list, set_tid_address, statfs, write, wait4, clone, clone3, dup2, fstatfs, getcwd, uname, sysinfo, getdents64, readlink, faccessat2, statx, vfork]\n";

// covers: CLI-01
#[test]
fn cli_01_version_text_and_json() {
    let out = spoc(&["version"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).starts_with("spoc "),
        "{}",
        text(&out.stdout)
    );
    let out = spoc(&["version", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        v["libseccompVersion"].as_str().map(|s| s.starts_with("2.")),
        Some(true)
    );
}

#[test]
fn completions_are_generated() {
    let out = spoc(&["completions", "bash"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("spoc"));
}

#[test]
fn validate_exit_codes_and_all_violations() {
    let tmp = tempfile::tempdir().unwrap();
    let ok = write(
        tmp.path(),
        "ok.yaml",
        &profile("ok", "  defaultAction: SCMP_ACT_LOG\n"),
    );
    let out = spoc(&["validate", ok.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let bad = write(
        tmp.path(),
        "bad.yaml",
        &profile("Bad_Name", "  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [read, raed]\n"),
    );
    let out = spoc(&["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("metadata.name"), "{stdout}");
    assert!(
        stdout.contains("spec.syscalls[0].names[1]: unknown syscall \"raed\""),
        "{stdout}"
    );
    // JSON report.
    let out = spoc(&[
        "validate",
        "--output",
        "json",
        bad.to_str().unwrap(),
        ok.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["valid"], false);
    assert_eq!(v[0]["violations"].as_array().unwrap().len(), 2);
    assert_eq!(v[1]["valid"], true);
    // Unreadable and unparseable input: exit 2.
    assert_eq!(
        spoc(&["validate", "/nonexistent/x.yaml"]).status.code(),
        Some(2)
    );
    let broken = write(tmp.path(), "broken.yaml", "kind: [\n");
    let out = spoc(&["validate", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("line 2, column 1: invalid YAML"),
        "{}",
        text(&out.stderr)
    );
    // A decode error names its field and exits 1.
    let typo = write(
        tmp.path(),
        "typo.yaml",
        &profile("t", "  defaultAction: SCMP_ACT_DENY\n"),
    );
    let out = spoc(&["validate", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("spec.defaultAction"),
        "{}",
        text(&out.stdout)
    );
}

// covers: SC-37, SC-38
#[test]
fn validate_with_allowed_syscalls() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(
        tmp.path(),
        "p.yaml",
        &profile("p", "  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [read, mkdir]\n"),
    );
    let out = spoc(&[
        "validate",
        "--allowed-syscalls",
        "read,write",
        p.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("syscall not allowed: mkdir"),
        "{}",
        text(&out.stdout)
    );
    let out = spoc(&[
        "validate",
        "--allowed-syscalls",
        "read,mkdir",
        p.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

// covers: SC-21, SC-22
#[test]
fn validate_reports_base_profile_cycles() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a.yaml",
        &profile(
            "a",
            "  baseProfileName: b\n  defaultAction: SCMP_ACT_ERRNO\n",
        ),
    );
    let b = write(
        tmp.path(),
        "b.yaml",
        &profile(
            "b",
            "  baseProfileName: a\n  defaultAction: SCMP_ACT_ERRNO\n",
        ),
    );
    let out = spoc(&["validate", b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("base profile cycle: b → a → b"),
        "{}",
        text(&out.stdout)
    );
}

// covers: CLI-14
#[test]
fn cli_14_convert_yaml_to_json_and_back() {
    let tmp = tempfile::tempdir().unwrap();
    let src = write(
        tmp.path(),
        "demo.yaml",
        &profile("demo", "  defaultAction: SCMP_ACT_ERRNO\n  architectures: [SCMP_ARCH_X86_64]\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [read, write]\n"),
    );
    let out = spoc(&["convert", src.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let json = text(&out.stdout);
    assert!(
        json.starts_with("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\""),
        "{json}"
    );
    let raw = tmp.path().join("demo.json");
    let out = spoc(&[
        "convert",
        src.to_str().unwrap(),
        "-o",
        raw.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(
        std::fs::metadata(&raw).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(std::fs::read_to_string(&raw).unwrap(), json);
    // Raw JSON back to a manifest named after the file.
    let out = spoc(&["convert", raw.to_str().unwrap()]);
    let yaml = text(&out.stdout);
    assert!(
        yaml.contains("kind: SeccompProfile") && yaml.contains("name: demo"),
        "{yaml}"
    );
    let back = tmp.path().join("back.yaml");
    std::fs::write(&back, &yaml).unwrap();
    let again = spoc(&["convert", back.to_str().unwrap()]);
    assert_eq!(text(&again.stdout), json);
}

#[test]
fn convert_multi_document_streams() {
    let tmp = tempfile::tempdir().unwrap();
    let src = write(
        tmp.path(),
        "two.yaml",
        &format!(
            "{}---\n{}",
            profile("one", "  defaultAction: SCMP_ACT_LOG\n"),
            profile("two", "  defaultAction: SCMP_ACT_ERRNO\n")
        ),
    );
    let out = spoc(&[
        "convert",
        src.to_str().unwrap(),
        "-o",
        tmp.path().join("x.json").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("give -o a directory"),
        "{}",
        text(&out.stderr)
    );
    let dir = tmp.path().join("out/");
    let out = spoc(&[
        "convert",
        src.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(std::fs::read_to_string(dir.join("one.json"))
        .unwrap()
        .contains("SCMP_ACT_LOG"));
    assert!(std::fs::read_to_string(dir.join("two.json"))
        .unwrap()
        .contains("SCMP_ACT_ERRNO"));
    let other = write(tmp.path(), "sel.yaml", "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileBinding\nmetadata: {name: b}\n");
    let out = spoc(&["convert", other.to_str().unwrap()]);
    assert!(
        text(&out.stderr).contains("cannot convert ProfileBinding to raw profile"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn convert_resolve_merges_base_profiles() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.yaml", &profile("base", "  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [read]\n"));
    let d = write(tmp.path(), "d.yaml", &profile("d", "  baseProfileName: base\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [write]\n"));
    let out = spoc(&["convert", "--resolve", d.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["syscalls"][0]["names"][0], "read");
    assert_eq!(v["syscalls"][1]["names"][0], "write");
}

// covers: CLI-15, CLI-16
#[test]
fn cli_15_cli_16_merge_and_check() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write(tmp.path(), "a.yaml", &profile("a", "  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [read, write]\n"));
    let b = write(tmp.path(), "b.yaml", &profile("b", "  defaultAction: SCMP_ACT_LOG\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [write, close]\n"));
    let out_file = tmp.path().join("merged.yaml");
    let out = spoc(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let merged = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(
        std::fs::metadata(&out_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        merged.contains("name: a") && merged.contains("SCMP_ACT_ERRNO"),
        "{merged}"
    );
    for n in ["close", "read", "write"] {
        assert!(merged.contains(&format!("- {n}")), "{merged}");
    }
    let out = spoc(&["merge", "--check", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Base profile needs an update."));
    assert!(text(&out.stderr).contains("- close"));
    let out = spoc(&[
        "merge",
        "--check",
        out_file.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(text(&out.stderr).contains("Base profile is up-to-date."));
    let rec = write(tmp.path(), "rec.yaml", "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: ProfileRecording\nmetadata: {name: r}\n");
    let out = spoc(&["merge", a.to_str().unwrap(), rec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot merge SeccompProfile with ProfileRecording"));
}

// covers: CLI-12, CLI-13
#[test]
fn cli_12_cli_13_run_passes_status_through_and_names_denials() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "run.yaml", &profile("run", RUNNABLE));
    let p = p.to_str().unwrap();
    let out = spoc(&["run", "-p", p, "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = spoc(&["run", "-p", p, "--", "/bin/sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let target = tmp.path().join("newdir");
    let out = run_mkdir(&[], Path::new(p), &target);
    assert_eq!(out.status.code(), Some(1));
    assert!(!target.exists());
    let err = text(&out.stderr);
    assert!(err.contains("Operation not permitted"), "{err}");
    // Without the profile the same command works: the denial came from the filter.
    assert!(Command::new("/bin/mkdir")
        .arg(&target)
        .status()
        .unwrap()
        .success());
}

// covers: CLI-12 — spoc run names the syscalls the profile denied, from the audit records.
#[test]
fn cli_12_run_reports_denied_syscalls_from_audit_records() {
    if !(Path::new("/dev/kmsg").exists() && unsafe_is_root()) {
        eprintln!("SKIP: reading /dev/kmsg needs root");
        return;
    }
    let _guard = NoPrintkLimit::new();
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "run.yaml", &profile("run", RUNNABLE));
    let target = tmp.path().join("newdir");
    let out = run_mkdir(&[], &p, &target);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("spoc: seccomp: mkdir (83) → SCMP_ACT_ERRNO"),
        "{err}"
    );
    // --no-audit turns the report off.
    let out = run_mkdir(&["--no-audit"], &p, &target);
    assert!(
        !text(&out.stderr).contains("spoc: seccomp:"),
        "{}",
        text(&out.stderr)
    );
}

/// `spoc run [extra…] -p profile -- /bin/mkdir target`.
fn run_mkdir(extra: &[&str], profile: &Path, target: &Path) -> Output {
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.extend(["-p", profile.to_str().unwrap(), "--", "/bin/mkdir"]);
    args.push(target.to_str().unwrap());
    spoc(&args)
}

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn run_reports_a_kill_and_exits_128_plus_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(
        tmp.path(),
        "kill.json",
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#,
    );
    let target = tmp.path().join("k");
    let out = run_mkdir(&[], &p, &target);
    assert_eq!(out.status.code(), Some(128 + 31), "{out:?}");
    assert!(
        text(&out.stderr).contains("killed by SIGSYS"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn run_resolves_base_profiles_and_rejects_invalid_ones() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.yaml", &profile("base", RUNNABLE));
    let d = write(
        tmp.path(),
        "d.yaml",
        &profile(
            "d",
            "  baseProfileName: base\n  defaultAction: SCMP_ACT_ERRNO\n",
        ),
    );
    let out = spoc(&["run", "-p", d.to_str().unwrap(), "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let missing = write(
        tmp.path(),
        "m.yaml",
        &profile(
            "m",
            "  baseProfileName: nope\n  defaultAction: SCMP_ACT_ERRNO\n",
        ),
    );
    let out = spoc(&["run", "-p", missing.to_str().unwrap(), "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("base profile \"nope\" not found"),
        "{}",
        text(&out.stderr)
    );
    let bad = write(tmp.path(), "bad.yaml", &profile("bad", "  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_NOTIFY\n    names: [read]\n"));
    let out = spoc(&["run", "-p", bad.to_str().unwrap(), "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("listenerPath"),
        "{}",
        text(&out.stderr)
    );
}
