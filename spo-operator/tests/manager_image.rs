//! `make image` (scripts/image.sh): the operator image without a base image, as an OCI
//! layout; pushed with skopeo to a real registry (Debian's docker-registry on 127.0.0.1) and
//! read back; the layer alone runs the binary (chroot: every shared library is inside).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// covers: ARCH-01 (one image, every sub-command), manager issue deliverable 5 (make image)
#[test]
fn image_builds_without_a_base_pushes_and_runs() {
    for t in ["skopeo", "docker-registry", "strip"] {
        if !have(t) {
            eprintln!("SKIP image test: {t} missing (make deps installs it)");
            return;
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("image");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let cfg = dir.path().join("registry.yml");
    std::fs::write(
        &cfg,
        format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\nlog:\n  accesslog:\n    disabled: true\n",
            dir.path().join("store").display()
        ),
    )
    .expect("cfg");
    let mut registry = Command::new("docker-registry")
        .arg("serve")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("registry starts");
    let target = format!("127.0.0.1:{port}/spo-operator:test");
    let start = Instant::now();
    while TcpListener::bind(("127.0.0.1", port)).is_ok()
        && start.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let st = Command::new("bash")
        .arg(repo().join("scripts/image.sh"))
        .env("SPO_OPERATOR_BIN", env!("CARGO_BIN_EXE_spo-operator"))
        .env("SPO_IMAGE_DIR", &out)
        .env("SPO_IMAGE_TAG", "test")
        .env("SPO_IMAGE_PUSH", &target)
        .status()
        .expect("image.sh runs");
    let inspect = Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            &format!("docker://{target}"),
        ])
        .output()
        .expect("skopeo inspect");
    let _ = registry.kill();
    let _ = registry.wait();
    assert!(st.success(), "image.sh failed");
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&inspect.stdout).expect("json");
    assert_eq!(
        v["Layers"].as_array().map(Vec::len),
        Some(1),
        "one layer, no base"
    );
    assert_eq!(v["Os"], "linux");
    // The layer alone runs the binary.
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).expect("index"))
            .expect("index json");
    let digest = |d: &serde_json::Value| {
        out.join("blobs/sha256")
            .join(d.as_str().expect("digest").trim_start_matches("sha256:"))
    };
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(digest(&index["manifests"][0]["digest"])).expect("m"),
    )
    .expect("manifest");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(digest(&manifest["config"]["digest"])).expect("c"))
            .expect("config");
    assert_eq!(config["config"]["Entrypoint"][0], "/usr/bin/spo-operator");
    assert_eq!(config["config"]["User"], "65535:65535");
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(&rootfs).expect("rootfs");
    let x = Command::new("tar")
        .arg("-xzf")
        .arg(digest(&manifest["layers"][0]["digest"]))
        .arg("-C")
        .arg(&rootfs)
        .status()
        .expect("tar");
    assert!(x.success());
    if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
    {
        eprintln!("SKIP running the image's binary: chroot needs root");
        return;
    }
    let run = Command::new("chroot")
        .arg(&rootfs)
        .args(["/usr/bin/spo-operator", "version"])
        .output()
        .expect("chroot");
    assert!(
        run.status.success(),
        "binary runs from the layer alone: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("spo-operator "));
}
