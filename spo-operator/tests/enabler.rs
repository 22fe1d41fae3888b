//! `spo-operator non-root-enabler` on a temporary host root (ARCH-07, ARCH-09) and, on a
//! real kube-apiserver, with the node label that moves the kubelet directory (OP-36,
//! ARCH-08). AppArmor cannot be active on this kernel, so `--apparmor` runs with
//! `--apparmor-offline`: each profile is rendered and compiled by the real
//! `apparmor_parser -Q -K` (as the daemon's offline path does) and written, not loaded.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{kube_bin, Kube};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spo-profiles")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn have_parser() -> bool {
    ["/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"]
        .iter()
        .any(|p| Path::new(p).exists())
}

/// A bundled-profiles directory laid out like a ConfigMap mount: files in a `..<time>`
/// directory, `..data` pointing at it, one symlink per key.
fn configmap_mount(dir: &Path, files: &[(&str, &[u8])]) {
    let data = dir.join("..2026_01_01_00_00_00.000000000");
    std::fs::create_dir_all(&data).expect("mkdir");
    for (name, body) in files {
        std::fs::write(data.join(name), body).expect("write");
    }
    std::os::unix::fs::symlink(data.file_name().expect("name"), dir.join("..data"))
        .expect("..data");
    for (name, _) in files {
        std::os::unix::fs::symlink(Path::new("..data").join(name), dir.join(name))
            .expect("key link");
    }
}

struct Layout {
    _tmp: tempfile::TempDir,
    host: PathBuf,
    operator_root: PathBuf,
    profiles: PathBuf,
    apparmor_dir: PathBuf,
}

fn layout(with_apparmor: bool) -> Layout {
    let tmp = tempfile::tempdir().expect("tempdir");
    let host = tmp.path().join("host");
    let profiles = tmp.path().join("opt-spo-profiles");
    std::fs::create_dir_all(&host).expect("host");
    std::fs::create_dir_all(&profiles).expect("profiles");
    let spo = std::fs::read(fixtures().join("spo-apparmor.yaml")).expect("fixture");
    let bpf = std::fs::read(fixtures().join("bpfrecorder-apparmor.yaml")).expect("fixture");
    let mut files: Vec<(&str, &[u8])> = vec![
        (
            "bpf-recorder.json",
            br#"{"defaultAction":"SCMP_ACT_ERRNO"}"#,
        ),
        (
            "security-profiles-operator.json",
            br#"{"defaultAction":"SCMP_ACT_LOG"}"#,
        ),
    ];
    if with_apparmor {
        files.push(("spo-apparmor.yaml", &spo));
        files.push(("bpfrecorder-apparmor.yaml", &bpf));
    }
    configmap_mount(&profiles, &files);
    Layout {
        operator_root: tmp.path().join("var/lib/security-profiles-operator"),
        apparmor_dir: tmp.path().join("etc/apparmor.d"),
        host,
        profiles,
        _tmp: tmp,
    }
}

fn enabler(l: &Layout, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spo-operator"));
    cmd.arg("non-root-enabler")
        .arg("--runtime=containerd")
        .arg("--host-root")
        .arg(&l.host)
        .arg("--operator-root")
        .arg(&l.operator_root)
        .arg("--profiles-dir")
        .arg(&l.profiles)
        .arg("--apparmor-dir")
        .arg(&l.apparmor_dir)
        .args(extra)
        .env_remove("NODE_NAME")
        .env_remove("KUBECONFIG")
        .env("KUBELET_DIR", "/var/lib/kubelet");
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("enabler runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "non-root-enabler failed: {text}");
    text
}

// covers: ARCH-07, ARCH-09
#[test]
fn enabler_prepares_the_node_and_compiles_its_apparmor_profiles() {
    let apparmor = have_parser();
    if !apparmor {
        eprintln!("SKIP the --apparmor part: apparmor_parser missing (`make deps` installs it)");
    }
    let l = layout(apparmor);
    let extra: &[&str] = if apparmor {
        &["--apparmor", "true", "--apparmor-offline", "true"]
    } else {
        &[]
    };
    run_ok(&mut enabler(&l, extra));

    // <host-root><kubelet>/seccomp, the operator root (0744, 65535:65535) and the link.
    let seccomp = l.host.join("var/lib/kubelet/seccomp");
    assert!(seccomp.is_dir(), "{} missing", seccomp.display());
    let meta = std::fs::symlink_metadata(&l.operator_root).expect("operator root");
    assert!(meta.is_dir());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o744,
        "operator root mode"
    );
    if is_root() {
        assert_eq!(
            (meta.uid(), meta.gid()),
            (65535, 65535),
            "operator root owner"
        );
    }
    let link = seccomp.join("operator");
    assert_eq!(
        std::fs::read_link(&link).expect("operator link"),
        l.operator_root
    );
    let cfg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(l.operator_root.join("kubelet-config.json")).expect("config"),
    )
    .expect("json");
    assert_eq!(cfg["kubeletDir"], "/var/lib/kubelet");

    // The bundled files are copied (the ConfigMap's `..` entries are not), mode 0644.
    let mut copied: Vec<String> = std::fs::read_dir(&seccomp)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "operator")
        .collect();
    copied.sort();
    let mut want = vec!["bpf-recorder.json", "security-profiles-operator.json"];
    if apparmor {
        want.extend(["bpfrecorder-apparmor.yaml", "spo-apparmor.yaml"]);
        want.sort();
    }
    assert_eq!(copied, want);
    assert_eq!(
        std::fs::read_to_string(seccomp.join("bpf-recorder.json")).expect("copy"),
        r#"{"defaultAction":"SCMP_ACT_ERRNO"}"#
    );
    let mode = std::fs::metadata(seccomp.join("bpf-recorder.json"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);

    // ARCH-09: both of the operator's AppArmor profiles, compiled by apparmor_parser and
    // written under the policy directory.
    if apparmor {
        for name in ["spo-apparmor", "bpfrecorder-apparmor"] {
            let policy =
                std::fs::read_to_string(l.apparmor_dir.join(name)).expect("policy written");
            assert!(policy.contains(&format!("profile {name}")), "{policy}");
            assert!(policy.contains("/security-profiles-operator"), "{policy}");
        }
    }

    // Idempotent: a second run succeeds and keeps the link.
    run_ok(&mut enabler(&l, extra));
    assert_eq!(
        std::fs::read_link(&link).expect("link"),
        l.operator_root,
        "second run changed the link"
    );
}

// covers: ARCH-07 (the owner change does not follow a symlink)
#[test]
fn enabler_does_not_chown_through_a_symlinked_operator_root() {
    if !is_root() {
        eprintln!("SKIP: changing owners needs root");
        return;
    }
    let l = layout(false);
    let elsewhere = l.host.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    std::fs::create_dir_all(l.operator_root.parent().expect("parent")).expect("mkdir");
    std::os::unix::fs::symlink(&elsewhere, &l.operator_root).expect("symlink");
    run_ok(&mut enabler(&l, &[]));
    let target = std::fs::metadata(&elsewhere).expect("stat");
    assert_eq!(target.uid(), 0, "the symlink's target was chowned");
    let link = std::fs::symlink_metadata(&l.operator_root).expect("lstat");
    assert_eq!(link.uid(), 65535, "the link itself is the operator's");
}

// covers: ARCH-09 (a broken bundled profile is an error naming its file)
#[test]
fn enabler_names_a_broken_apparmor_profile() {
    if !have_parser() {
        eprintln!("SKIP: apparmor_parser missing");
        return;
    }
    let l = layout(false);
    // Replace the mount with one whose spo-apparmor.yaml is not an AppArmorProfile.
    let l2 = Layout {
        profiles: l.profiles.parent().expect("parent").join("broken"),
        ..l
    };
    std::fs::create_dir_all(&l2.profiles).expect("mkdir");
    std::fs::write(
        l2.profiles.join("spo-apparmor.yaml"),
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\n\
         metadata: {name: spo-apparmor}\nspec: {abstract: {filesystem: {readOnlyPaths: 7}}}\n",
    )
    .expect("write");
    let out = enabler(&l2, &["--apparmor", "true", "--apparmor-offline", "true"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "broken profile accepted");
    assert!(err.contains("spo-apparmor.yaml"), "{err}");
}

// covers: OP-36, ARCH-08
#[test]
fn node_label_moves_the_kubelet_directory_on_a_real_api_server() {
    let bin = kube_bin();
    if !bin.join("kube-apiserver").exists() || !bin.join("etcd").exists() {
        eprintln!(
            "SKIP: no test-cluster binaries in {} (run scripts/kube-build.sh; `make test` does)",
            bin.display()
        );
        return;
    }
    let kube = Kube::up("spo-enabler-", false);
    let node = kube.dir.path().join("node.yaml");
    std::fs::write(
        &node,
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: custom-node\n  labels:\n    \
         kubelet.kubernetes.io/directory-location: var-data-kubelet\n---\n\
         apiVersion: v1\nkind: Node\nmetadata:\n  name: plain-node\n",
    )
    .expect("write");
    kube.ok(&["apply", "-f", node.to_str().expect("utf8")]);
    for (node_name, want) in [
        ("custom-node", "/var/data/kubelet"),
        ("plain-node", "/var/lib/kubelet"),
    ] {
        let l = layout(false);
        let mut cmd = enabler(&l, &[]);
        cmd.env("NODE_NAME", node_name)
            .env("KUBECONFIG", &kube.kubeconfig);
        run_ok(&mut cmd);
        let rel = want.trim_start_matches('/');
        assert!(
            l.host.join(rel).join("seccomp").is_dir(),
            "{node_name}: {want}/seccomp not created under the host root"
        );
        let cfg: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(l.operator_root.join("kubelet-config.json")).expect("config"),
        )
        .expect("json");
        assert_eq!(cfg["kubeletDir"], want, "{node_name}");
    }
}
