//! `spoc record --type apparmor|raw-apparmor|all` with the real eBPF recorder (root; CI runs
//! as root). AppArmor data comes from raw tracepoints, so no BPF LSM is needed.
//! Spec: spoc.md CLI-06, CLI-07; recording.md RC-21.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

fn spoc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spoc"));
    for v in ["SUDO_UID", "SUDO_GID", "SUDO_USER", "SUDO_COMMAND"] {
        c.env_remove(v);
    }
    c
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

/// spo-recorder/tests/programs/exerciser.c, built once into its own directory (so it can be
/// found through PATH).
fn exerciser() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../spo-recorder/tests/programs/exerciser.c");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("aa-bin");
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("spoc-aa-exerciser");
        let tmp = dir.join(format!("build-{}", std::process::id()));
        let st = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args(["-O2", "-pthread", "-o"])
            .arg(&tmp)
            .arg(&src)
            .status()
            .expect("a C compiler (cc) to build the test program");
        assert!(st.success());
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::rename(&tmp, &out).unwrap();
        out
    })
    .clone()
}

/// A fresh directory with a fixed name (no digit runs the recorder would turn into `*`).
fn work_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("aa-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for f in ["read", "openat2", "opath"] {
        std::fs::write(d.join(f), b"x").unwrap();
    }
    d
}

/// `spoc record -t TYPE -o OUT -- <exerciser as CMD> apparmor DIR`, PATH searching a missing
/// directory first.
fn record(t: &str, cmd: &str, dir: &Path, out: &Path) -> Output {
    require_root();
    let bin_dir = exerciser().parent().unwrap().to_path_buf();
    spoc()
        .args(["record", "-t", t, "-o"])
        .arg(out)
        .arg("--")
        .arg(cmd)
        .arg("apparmor")
        .arg(dir)
        .env(
            "PATH",
            format!("/nonexistent-spo-path:{}:/usr/bin:/bin", bin_dir.display()),
        )
        .output()
        .unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn check_apparmor_doc(doc: &Value, dir: &Path) {
    let d = dir.to_str().unwrap();
    assert_eq!(doc["kind"], "AppArmorProfile", "{doc:#}");
    assert_eq!(doc["metadata"]["name"], "spoc-aa-exerciser");
    let a = &doc["spec"]["abstract"];
    let ro = strings(&a["filesystem"]["readOnlyPaths"]);
    let wo = strings(&a["filesystem"]["writeOnlyPaths"]);
    let rw = strings(&a["filesystem"]["readWritePaths"]);
    for p in ["read", "openat2"] {
        assert!(ro.contains(&format!("{d}/{p}")), "{p} read-only: {a:#}");
    }
    assert!(wo.contains(&format!("{d}/write")), "{a:#}");
    assert!(rw.contains(&format!("{d}/rw")), "{a:#}");
    assert!(
        !ro.iter()
            .chain(&wo)
            .chain(&rw)
            .any(|p| p.ends_with("/opath")),
        "O_PATH is no access: {a:#}"
    );
    let exe = strings(&a["executable"]["allowedExecutables"]);
    assert!(
        exe.contains(&exerciser().to_str().unwrap().to_string()),
        "{exe:?}"
    );
    // `true` is found as /usr/bin/true through PATH; spoc resolves symlinks for AppArmor.
    let true_bin = std::fs::canonicalize("/usr/bin/true").unwrap();
    assert!(
        exe.contains(&true_bin.to_string_lossy().into_owned()),
        "{exe:?}"
    );
    assert!(
        !exe.iter().any(|p| p.starts_with("/nonexistent-spo-path")),
        "failed PATH candidates are not executables: {exe:?}"
    );
    let libs = strings(&a["executable"]["allowedLibraries"]);
    // libc lives under a known library prefix on Debian and is left to abstractions/base.
    assert!(!libs.iter().any(|p| p.contains("libc.so")), "{libs:?}");
    let net = &a["network"];
    assert_eq!(net["allowedProtocols"]["allowTcp"], true, "{net:#}");
    assert_eq!(net["allowedProtocols"]["allowUdp"], true, "{net:#}");
    assert_eq!(net["allowRaw"], false, "{net:#}");
    let caps = strings(&a["capability"]["allowedCapabilities"]);
    for c in ["sys_chroot", "sys_nice"] {
        assert!(caps.contains(&c.to_string()), "{c} in {caps:?}");
    }
}

// covers: CLI-06, RC-21 — `--type apparmor` writes an AppArmorProfile with the paths (by
// intent), executables, sockets and capabilities the program really used.
#[test]
fn cli_06_record_apparmor_profile() {
    let dir = work_dir("cli06");
    let out = dir.join("profile.yaml");
    let o = record("apparmor", exerciser().to_str().unwrap(), &dir, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("spoc: AppArmor:"),
        "{}",
        text(&o.stderr)
    );
    let yaml = std::fs::read_to_string(&out).unwrap();
    let docs = spo_core::parse_stream(&yaml).unwrap();
    assert_eq!(docs.len(), 1, "{yaml}");
    check_apparmor_doc(&docs[0].value, &dir);
}

// covers: CLI-06 — `--type raw-apparmor` writes policy text named after the absolute path
// of the program found through PATH (not the cwd, upstream weak point 5), which
// apparmor_parser accepts.
#[test]
fn cli_06_record_raw_apparmor_named_after_the_program_path() {
    let dir = work_dir("cli06raw");
    let out = dir.join("profile.apparmor");
    let o = record("raw-apparmor", "spoc-aa-exerciser", &dir, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let policy = std::fs::read_to_string(&out).unwrap();
    let header = format!(
        "\nprofile {} flags=(enforce,attach_disconnected,mediate_deleted) {{\n",
        exerciser().display()
    );
    assert!(policy.contains(&header), "{policy}");
    assert!(
        policy.contains(&format!("{}/rw rw", dir.display())),
        "{policy}"
    );
    assert!(policy.contains("capability sys_chroot,"), "{policy}");
    assert!(
        policy.contains("network inet stream") || policy.contains("network tcp"),
        "{policy}"
    );
    if Path::new("/usr/sbin/apparmor_parser").is_file() {
        let st = Command::new("/usr/sbin/apparmor_parser")
            .args(["--skip-kernel-load", "--skip-cache", "-Q"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "apparmor_parser: {}\n{policy}",
            text(&st.stderr)
        );
    } else {
        eprintln!("SKIP part: apparmor_parser is not installed");
    }
}

// covers: CLI-07 — `--type all` writes the AppArmor YAML, `---`, then the seccomp YAML of
// the same recording.
#[test]
fn cli_07_record_all_writes_apparmor_then_seccomp() {
    let dir = work_dir("cli07");
    let out = dir.join("all.yaml");
    let o = record("all", exerciser().to_str().unwrap(), &dir, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(yaml.contains("\n---\n"), "{yaml}");
    let docs = spo_core::parse_stream(&yaml).unwrap();
    assert_eq!(docs.len(), 2, "{yaml}");
    check_apparmor_doc(&docs[0].value, &dir);
    assert_eq!(docs[1].value["kind"], "SeccompProfile");
    let names = strings(&docs[1].value["spec"]["syscalls"][0]["names"]);
    for n in ["openat2", "socket", "setpriority", "chroot", "execve"] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
}

// covers: CLI-06 — paths are resolved through symlinks for AppArmor (it mediates resolved
// paths): a program run through a symlink is allowed under its real path.
#[test]
fn cli_06_apparmor_paths_are_resolved_through_symlinks() {
    let dir = work_dir("cli06link");
    let link = dir.join("linked-exerciser");
    std::os::unix::fs::symlink(exerciser(), &link).unwrap();
    let out = dir.join("p.yaml");
    let o = record("apparmor", link.to_str().unwrap(), &dir, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let docs = spo_core::parse_stream(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let exe = strings(&docs[0].value["spec"]["abstract"]["executable"]["allowedExecutables"]);
    assert!(
        exe.contains(&exerciser().to_str().unwrap().to_string()),
        "the real path: {exe:?}"
    );
    assert!(
        !exe.iter().any(|p| p.ends_with("/linked-exerciser")),
        "{exe:?}"
    );
}

// covers: CLI-06 — the audit-log recorder cannot produce AppArmor data and says so.
#[test]
fn cli_06_apparmor_types_need_the_bpf_recorder() {
    let dir = work_dir("cli06logs");
    let o = spoc()
        .args(["record", "--recorder", "logs", "-t", "apparmor", "-o"])
        .arg(dir.join("x.yaml"))
        .args(["--", "true"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("needs the eBPF recorder (--recorder bpf)"),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir.join("x.yaml").exists());
}
