//! Issue 9 ("a dependable SDK") end to end: runtime seccomp JSON from Docker, Podman and
//! upstream SPO; loss-free conversion; limits on hostile input; process behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{spoc, text, write};

use std::path::PathBuf;

fn real(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../spo-seccomp/tests/fixtures/real")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

const REAL: [&str; 6] = [
    "moby-default.json",
    "moby-default-old.json",
    "containers-common.json",
    "deploy_base_profiles_bpf-recorder.json",
    "deploy_base_profiles_security-profiles-operator.json",
    "profile-block-all.json",
];

// covers: SC-01, SC-02 (Docker, containers-common and SPO deploy profiles are accepted)
#[test]
fn real_runtime_profiles_validate() {
    for f in REAL {
        for arch in ["x86_64", "aarch64", "s390x"] {
            let out = spoc(&["validate", "--arch", arch, &real(f)]);
            assert_eq!(out.status.code(), Some(0), "{f} {arch}: {out:?}");
        }
    }
}

// covers: CLI-14
#[test]
fn convert_refuses_default_errno_ret_unless_lossy_and_output_always_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let out_file = tmp.path().join("cc.yaml");
    let o = out_file.to_str().unwrap();
    // containers-common: defaultErrnoRet 38 (ENOSYS) has no place in a SeccompProfile.
    let out = spoc(&["convert", &real("containers-common.json"), "-o", o]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        text(&out.stderr).contains("--lossy"),
        "{}",
        text(&out.stderr)
    );
    assert!(!out_file.exists());
    let out = spoc(&[
        "convert",
        "--lossy",
        &real("containers-common.json"),
        "-o",
        o,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(text(&out.stderr).contains("defaultErrnoRet 38 dropped"));
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(!written.contains("defaultErrnoRet"), "{written}");
    let out = spoc(&["validate", o]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // moby: defaultErrnoRet 1 is EPERM, what the ERRNO default returns anyway.
    let moby = tmp.path().join("moby.yaml");
    let out = spoc(&[
        "convert",
        "--arch",
        "arm64",
        &real("moby-default.json"),
        "-o",
        moby.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let written = std::fs::read_to_string(&moby).unwrap();
    assert!(
        written.contains("- SCMP_ARCH_AARCH64\n  - SCMP_ARCH_ARM\n"),
        "{written}"
    );
    assert!(!written.contains("arch_prctl"), "amd64-only rule kept");
    let out = spoc(&["validate", moby.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn caps_and_kernel_select_rules() {
    let names = |extra: &[&str]| -> String {
        let mut args = vec!["convert", "--arch", "amd64"];
        args.extend_from_slice(extra);
        if !extra.contains(&"--kernel") {
            args.extend(["--kernel", "6.1"]);
        }
        let f = real("moby-default.json");
        args.push(&f);
        let out = spoc(&args);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        text(&out.stdout)
    };
    assert!(!names(&[]).contains("- bpf\n"));
    assert!(names(&["--caps", "CAP_SYS_ADMIN"]).contains("- bpf\n"));
    assert!(!names(&["--kernel", "4.4"]).contains("process_vm_readv"));
}

// covers: CLI-12, CLI-15
#[test]
fn run_and_merge_accept_runtime_json() {
    let out = spoc(&[
        "run",
        "--no-audit",
        "-p",
        &real("moby-default.json"),
        "--",
        "/bin/true",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = spoc(&[
        "merge",
        &real("moby-default.json"),
        &real("deploy_base_profiles_security-profiles-operator.json"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(text(&out.stdout).contains("SCMP_ACT_ERRNO"), "{out:?}");
}

// Issue 9: 5,000 argument rules passed validate, then `spoc run` failed with EINVAL.
#[test]
fn validate_reports_filters_over_the_kernel_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rules = String::new();
    for i in 0..5000 {
        rules.push_str(&format!(
            "{{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{{\"index\":0,\"value\":{i},\"op\":\"SCMP_CMP_EQ\"}}]}},"
        ));
    }
    rules.pop();
    let f = write(
        tmp.path(),
        "big.json",
        &format!("{{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{rules}]}}"),
    );
    let out = spoc(&["validate", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("BPF instructions; the kernel loads at most 4096"),
        "{stdout}"
    );
}

#[test]
fn inputs_over_the_size_limit_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "p.json",
        &format!("{{\"defaultAction\":\"SCMP_ACT_LOG\"{}}}", " ".repeat(2000)),
    );
    let out = spoc(&["validate", "--max-input-size", "1K", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("input limit of 1024 bytes"));
    let out = spoc(&["validate", "--max-input-size", "4K", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

// Issue 9: 100,000 nested `[` took 105 s, nested flow maps over 120 s.
#[test]
fn deep_nesting_is_refused_with_its_position() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("brackets.json", "[".repeat(100_000)),
        ("maps.yaml", "{a: ".repeat(100_000)),
        ("seqs.yaml", "- ".repeat(100_000)),
        (
            "manifest.yaml",
            format!(
                "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n\
                 metadata: {{name: x}}\nspec: {}\n",
                "[".repeat(100_000)
            ),
        ),
    ] {
        let f = write(tmp.path(), name, &content);
        let out = spoc(&["validate", f.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");
        assert!(
            text(&out.stderr).contains("collections nest deeper than 64 levels"),
            "{name}: {}",
            text(&out.stderr)
        );
    }
}

// Issue 9: 100,000 argument rules made `spoc run` spin for minutes inside libseccomp.
#[test]
fn huge_argument_rule_sets_are_refused_before_compiling() {
    let tmp = tempfile::tempdir().unwrap();
    let rules: Vec<String> = (0..100_000)
        .map(|i| {
            format!(
                "{{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{{\"index\":0,\"value\":{i},\"op\":\"SCMP_CMP_EQ\"}}]}}"
            )
        })
        .collect();
    let f = write(
        tmp.path(),
        "args.json",
        &format!(
            "{{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{}]}}",
            rules.join(",")
        ),
    );
    let out = spoc(&["run", "-p", f.to_str().unwrap(), "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        text(&out.stderr).contains("at least 100001 BPF instructions"),
        "{}",
        text(&out.stderr)
    );
}

fn allow_all(dir: &std::path::Path) -> PathBuf {
    write(dir, "allow.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}")
}

// Issue 9: `spoc version | true` panicked with exit 101.
#[test]
fn a_closed_pipe_ends_spoc_quietly() {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::ExitStatusExt;
    let mut fds = [0; 2];
    // SAFETY: pipe fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are fresh and owned here.
    let (read, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    for args in [&["version"][..], &["completions", "bash"][..]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_spoc"))
            .args(args)
            .stdout(std::process::Stdio::from(write_end.try_clone().unwrap()))
            .output()
            .unwrap();
        assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{args:?} {out:?}");
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    }
}

// Issue 9: `spoc validate x >/dev/full` panicked with exit 101.
#[test]
fn write_errors_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let ok = allow_all(tmp.path());
    for args in [
        vec!["validate".to_string(), ok.display().to_string()],
        vec!["version".to_string()],
        vec!["convert".to_string(), ok.display().to_string()],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_spoc"))
            .args(&args)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?} {out:?}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("No space left on device"), "{err}");
    }
}

// Issue 9: exec failures exited 1; a denied execve was reported as SIGSEGV.
// covers: CLI-12
#[test]
fn run_exit_statuses_follow_the_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let allow = allow_all(tmp.path());
    let allow = allow.to_str().unwrap();
    let out = spoc(&["run", "--no-audit", "-p", allow, "--", "/nonexistent/cmd"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    assert!(text(&out.stderr).contains("command not found"));
    let not_exec = write(tmp.path(), "data.txt", "just text\n");
    let out = spoc(&[
        "run",
        "--no-audit",
        "-p",
        allow,
        "--",
        not_exec.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    let out = spoc(&[
        "run",
        "--no-audit",
        "-p",
        &real("profile-block-all.json"),
        "--",
        "/bin/true",
    ]);
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.contains("the profile denies execve") && err.contains("the command never started"),
        "{err}"
    );
    assert!(!err.contains("SIGSEGV"), "{err}");
    let out = spoc(&["run", "--no-audit", "-p", allow, "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
}

// Issue 9: SIGTERM to `spoc run` left the command running.
#[test]
fn run_forwards_termination_signals_to_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let allow = allow_all(tmp.path());
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
        let pidfile = tmp.path().join(format!("pid{sig}"));
        let script = format!("echo $$ > {}; exec sleep 30", pidfile.display());
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_spoc"))
            .args(["run", "--no-audit", "-p", allow.to_str().unwrap(), "--"])
            .args(["sh", "-c", &script])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let pid = loop {
            if let Some(p) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok())
            {
                break p;
            }
            assert!(start.elapsed().as_secs() < 10, "the command did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(child.id() as i32, sig) };
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(128 + sig), "{sig}: {out:?}");
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "{sig}: the command {pid} survived"
        );
    }
}

// Issue 9: `spoc record -o /missing/x.yaml` ran the whole workload, then lost the recording.
#[test]
fn record_checks_its_output_before_starting() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("ran");
    for recorder in ["bpf", "logs"] {
        let out = spoc(&[
            "record",
            "--recorder",
            recorder,
            "-o",
            "/nonexistent-dir/x.yaml",
            "--",
            "touch",
            marker.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{recorder}: {out:?}");
        assert!(
            text(&out.stderr).contains("cannot write to /nonexistent-dir/x.yaml"),
            "{}",
            text(&out.stderr)
        );
        assert!(!marker.exists(), "{recorder}: the workload ran");
    }
}

// Issue 9: several JSON documents on stdout came out as concatenated JSON.
// covers: CLI-14
#[test]
fn several_json_documents_are_one_array_or_json_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = |name: &str| {
        format!(
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n\
             metadata:\n  name: {name}\nspec:\n  defaultAction: SCMP_ACT_LOG\n"
        )
    };
    let f = write(
        tmp.path(),
        "two.yaml",
        &format!("{}---\n{}", doc("one"), doc("two")),
    );
    let f = f.to_str().unwrap();
    let out = spoc(&["convert", f]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
    let out = spoc(&["convert", "--output", "jsonl", f]);
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let out = spoc(&["validate", "--output", "jsonl", f]);
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["name"], "two");
}

#[test]
fn man_pages_come_from_the_clap_definitions() {
    let out = spoc(&["man", "run"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let page = text(&out.stdout);
    assert!(page.contains(".TH SPOC-RUN 1"), "{page}");
    assert!(page.contains("spoc run"), "{page}");
    let tmp = tempfile::tempdir().unwrap();
    let out = spoc(&["man", "--dir", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for verb in ["validate", "convert", "merge", "run", "record"] {
        assert!(tmp.path().join(format!("spoc-{verb}.1")).exists(), "{verb}");
    }
    assert_eq!(spoc(&["man", "nosuchverb"]).status.code(), Some(1));
}

// Issue 9: ProfileBinding / ProfileRecording / SPOD manifests were reported as invalid
// profiles. covers: OP-33, RC-02, OP-17
#[test]
fn other_spo_kinds_are_validated_against_their_own_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let g = "apiVersion: security-profiles-operator.x-k8s.io/v1\n";
    let good = write(
        tmp.path(),
        "good.yaml",
        &format!(
            "{g}kind: ProfileBinding\nmetadata: {{name: b}}\nspec:\n  profileRef: {{kind: SeccompProfile, name: p}}\n  image: nginx:1.19.1\n\
             ---\n{g}kind: ProfileRecording\nmetadata: {{name: r}}\nspec: {{kind: SeccompProfile, recorder: Logs, podSelector: {{matchLabels: {{app: a}}}}}}\n\
             ---\n{g}kind: SecurityProfilesOperatorDaemon\nmetadata: {{name: spod}}\nspec: {{selinux: {{enable: false}}, enricher: {{enableLogEnricher: false}}, enableAppArmor: false}}\n\
             ---\n{g}kind: SecurityProfileNodeStatus\nmetadata: {{name: p-node}}\nspec: {{nodeName: node}}\nstatus: {{status: Installed}}\n"
        ),
    );
    let out = spoc(&["validate", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(text(&out.stdout).matches(": valid").count(), 4);
    let bad = write(
        tmp.path(),
        "bad.yaml",
        &format!(
            "{g}kind: ProfileBinding\nmetadata: {{name: b}}\nspec:\n  profileRef: {{kind: RawSelinuxProfile, name: p}}\n  image: ''\n\
             ---\n{g}kind: ProfileRecording\nmetadata: {{name: r}}\nspec: {{kind: AppArmorProfile, recorder: Logs, podSelector: {{}}}}\n"
        ),
    );
    let out = spoc(&["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = text(&out.stdout);
    for want in ["spec.profileRef.kind", "spec.image", "spec.recorder"] {
        assert!(stdout.contains(want), "{want}: {stdout}");
    }
    assert!(!stdout.contains("cannot validate"), "{stdout}");
}
