//! The node daemon on a real kube-apiserver + etcd, beyond the walkthrough of e2e.rs:
//! `oci://` base profiles pulled from a real `docker-registry` on 127.0.0.1 (pushed and signed
//! with spo-oci's library), the failure reason when a pull fails, SPOD-controlled signature
//! verification, `RESTRICT_TO_NAMESPACE`, node status objects, v1beta1 ↔ v1 values and the
//! served versions. One test function: the scenarios share one cluster and run in order.
//! When it fails, the daemon's and the API server's log tails are printed and the whole
//! directory is kept (its path is printed).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
mod common;
use common::registry::Registry as TestRegistry;
use common::{free_port, kube_bin, Kube};

const NODE: &str = "daemon-node";

struct Cluster {
    kube: Kube,
    kubelet: PathBuf,
    health: u16,
    daemon: Option<Child>,
}

impl std::ops::Deref for Cluster {
    type Target = Kube;
    fn deref(&self) -> &Kube {
        &self.kube
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        if std::thread::panicking() {
            for f in ["daemon.log", "apiserver.log"] {
                let text =
                    std::fs::read_to_string(self.kube.dir.path().join(f)).unwrap_or_default();
                eprintln!("--- {f} (tail) ---\n{}", common::tail(&text, 40));
            }
            let kept = common::keep_dir(&self.kube.dir, "spo-daemon-test-failure");
            eprintln!("logs of the failed run kept in {}", kept.display());
        }
    }
}

impl Cluster {
    fn apply_yaml(&self, yaml: &str) {
        let f = self
            .kube
            .dir
            .path()
            .join(format!("m-{}.yaml", common::nanos()));
        std::fs::write(&f, yaml).expect("write manifest");
        self.ok(&["apply", "-f", f.to_str().expect("utf8")]);
    }

    fn file(&self, name: &str) -> PathBuf {
        self.kubelet.join("seccomp/operator").join(name)
    }

    fn node_status(&self, profile: &str) -> Option<String> {
        let v = self.get(&["spns", &format!("{profile}-{NODE}")])?;
        v["status"]["status"].as_str().map(str::to_owned)
    }

    fn wait_for<T>(&self, what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn event(&self, reason: &str, object: &str) -> Option<Value> {
        let v = self.get(&[
            "events",
            "-n",
            "default",
            "--field-selector",
            &format!("reason={reason}"),
        ])?;
        v["items"]
            .as_array()?
            .iter()
            .rev()
            .find(|e| e["involvedObject"]["name"] == object)
            .cloned()
    }
}

fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

fn base_profile(name: &str, syscalls: &str) -> String {
    format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n\
         metadata:\n  name: {name}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  \
         - action: SCMP_ACT_ALLOW\n    names: [{syscalls}]\n"
    )
}

/// Pushes `signed` (signed with `key`) and `unsigned` base profiles for the host platform.
fn push_bases(addr: &str, key: &spo_oci::sign::SigningKey) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let registry = spo_oci::Registry::new(
        spo_oci::RegistryOptions::default()
            .with_plain_http(true)
            .with_retries(0),
    )
    .expect("registry client");
    rt.block_on(async {
        for (repo, syscalls, sign) in [
            ("bases/runtime:v1", "futex, nanosleep, exit_group", true),
            ("bases/unsigned:v1", "uname", false),
        ] {
            let r = spo_oci::registry::parse_reference(&format!("{addr}/{repo}")).expect("ref");
            let layers = [spo_oci::layout::Layer {
                platform: spo_oci::Platform::host(),
                data: base_profile(repo.split([':', '/']).nth(1).expect("name"), syscalls)
                    .into_bytes(),
            }];
            let digest = registry
                .push_artifact(&r, &layers, &[], "2026-01-01T00:00:00Z")
                .await
                .expect("push");
            if sign {
                registry.sign_digest(&r, &digest, key).await.expect("sign");
            }
        }
    });
}

fn start(registry_key: &std::path::Path) -> Option<Cluster> {
    let bin = kube_bin();
    if !bin.join("kube-apiserver").exists() || !bin.join("etcd").exists() {
        eprintln!(
            "SKIP daemon tests: no test-cluster binaries in {} (run scripts/kube-build.sh; `make test` does)",
            bin.display()
        );
        return None;
    }
    let kube = Kube::up("spo-daemon-", false);
    let kubelet = kube.dir.path().join("kubelet");
    let mut c = Cluster {
        kube,
        kubelet,
        health: free_port(),
        daemon: None,
    };
    let crds = common::repo().join("deploy/crds");
    c.ok(&["apply", "--server-side", "-k", crds.to_str().expect("utf8")]);
    c.ok(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=60s",
        "crd",
        "--all",
    ]);
    for ns in ["security-profiles-operator", "watched", "unwatched"] {
        c.ok(&["create", "namespace", ns]);
    }
    let log = std::fs::File::create(c.kube.dir.path().join("daemon.log")).expect("log");
    let daemon = Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        .args([
            "daemon",
            "--health-addr",
            &format!("127.0.0.1:{}", c.health),
            "--oci-plain-http",
            "true",
        ])
        .arg("--oci-verify-key")
        .arg(registry_key)
        .env("KUBECONFIG", &c.kube.kubeconfig)
        .env("NODE_NAME", NODE)
        .env("KUBELET_DIR", &c.kubelet)
        .env("RESTRICT_TO_NAMESPACE", "watched")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("daemon starts");
    c.daemon = Some(daemon);
    Some(c)
}

fn file_names(body: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(body).expect("installed JSON");
    let mut names: Vec<String> = v["syscalls"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["names"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

// covers: SC-17, SC-18, SC-19, ARCH-13, OP-42, SC-43, VER-10
#[test]
fn daemon_on_a_real_api_server() {
    let Some(registry) = TestRegistry::start() else {
        eprintln!("SKIP daemon tests: docker-registry missing (`make deps` installs it)");
        return;
    };
    let keydir = tempfile::tempdir().expect("tempdir");
    let key = spo_oci::sign::generate_key().expect("key");
    let pubkey = keydir.path().join("cosign.pub");
    std::fs::write(
        &pubkey,
        spo_oci::sign::public_key_pem(key.verifying_key()).expect("pem"),
    )
    .expect("write key");
    push_bases(&registry.addr, &key);
    let Some(c) = start(&pubkey) else { return };
    let addr = &registry.addr;

    // --- SC-17: an oci:// base pulled from the registry, signature checked with the key
    // (SC-18), merged under the profile's own syscalls.
    c.apply_yaml(&format!(
        "\
apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SeccompProfile
metadata: {{name: oci-child}}
spec:
  defaultAction: SCMP_ACT_ERRNO
  baseProfileName: oci://{addr}/bases/runtime:v1
  syscalls: [{{action: SCMP_ACT_ALLOW, names: [read, write]}}]
"
    ));
    let body = c.wait_for("oci-child file", 60, || {
        std::fs::read_to_string(c.file("oci-child.json")).ok()
    });
    assert_eq!(
        file_names(&body),
        ["exit_group", "futex", "nanosleep", "read", "write"],
        "{body}"
    );
    c.wait_for("oci-child Installed", 30, || {
        (c.node_status("oci-child").as_deref() == Some("Installed")).then_some(())
    });

    // --- SC-19: a reference that does not exist → CannotPullSeccompProfile (event and
    // metric) naming the reference; node status Error; no file.
    let missing = format!("oci://{addr}/bases/missing:v1");
    c.apply_yaml(&format!(
        "\
apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SeccompProfile
metadata: {{name: oci-missing}}
spec: {{defaultAction: SCMP_ACT_ERRNO, baseProfileName: \"{missing}\"}}
"
    ));
    let ev = c.wait_for("CannotPullSeccompProfile event", 60, || {
        c.event("CannotPullSeccompProfile", "oci-missing")
    });
    let msg = ev["message"].as_str().unwrap_or_default().to_string();
    assert_eq!(ev["type"], "Warning");
    assert!(
        msg.contains(&missing) && msg.contains("not found"),
        "the message names the reference and why: {msg}"
    );
    c.wait_for("oci-missing Error", 30, || {
        (c.node_status("oci-missing").as_deref() == Some("Error")).then_some(())
    });
    assert!(!c.file("oci-missing.json").exists());
    let m = http_get(c.health, "/metrics-spod");
    assert!(
        m.contains(
            "security_profiles_operator_seccomp_profile_error_total{reason=\"CannotPullSeccompProfile\"}"
        ),
        "{m}"
    );

    // --- SC-18: an unsigned base is refused while verification is on …
    c.apply_yaml(&format!(
        "\
apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SeccompProfile
metadata: {{name: oci-unsigned}}
spec: {{defaultAction: SCMP_ACT_ERRNO, baseProfileName: \"oci://{addr}/bases/unsigned:v1\"}}
"
    ));
    let ev = c.wait_for("unsigned base refused", 60, || {
        c.event("CannotPullSeccompProfile", "oci-unsigned")
    });
    assert!(
        ev["message"]
            .as_str()
            .unwrap_or_default()
            .contains("signature"),
        "{ev}"
    );
    assert!(!c.file("oci-unsigned.json").exists());
    // … and installed once the SPOD turns verification off (SC-19: the retry after 10 s).
    c.apply_yaml(
        "\
apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SecurityProfilesOperatorDaemon
metadata: {name: spod, namespace: security-profiles-operator}
spec:
  security: {disableOciArtifactSignatureVerification: true}
",
    );
    let body = c.wait_for("oci-unsigned file after the SPOD change", 60, || {
        std::fs::read_to_string(c.file("oci-unsigned.json")).ok()
    });
    assert_eq!(file_names(&body), ["uname"], "{body}");
    c.wait_for("oci-unsigned Installed", 30, || {
        (c.node_status("oci-unsigned").as_deref() == Some("Installed")).then_some(())
    });

    // --- OP-42: the node status object of (profile, node): name, owner, labels, and a
    // profile-state label that mirrors the status.
    let spns = c
        .get(&["spns", &format!("oci-child-{NODE}")])
        .expect("node status");
    let labels = &spns["metadata"]["labels"];
    assert_eq!(
        labels["spo.x-k8s.io/profile-id"],
        "SeccompProfile-oci-child"
    );
    assert_eq!(labels["spo.x-k8s.io/node-name"], NODE);
    assert_eq!(labels["spo.x-k8s.io/profile-kind"], "SeccompProfile");
    assert_eq!(
        labels["spo.x-k8s.io/profile-state"],
        spns["status"]["status"]
    );
    let owner = &spns["metadata"]["ownerReferences"][0];
    let sp = c.get(&["sp", "oci-child"]).expect("profile");
    assert_eq!(owner["kind"], "SeccompProfile");
    assert_eq!(owner["name"], "oci-child");
    assert_eq!(owner["uid"], sp["metadata"]["uid"]);
    assert_eq!(owner["controller"], true);
    let errored = c
        .get(&["spns", &format!("oci-missing-{NODE}")])
        .expect("node status");
    assert_eq!(
        errored["metadata"]["labels"]["spo.x-k8s.io/profile-state"],
        "Error"
    );

    // --- ARCH-13: with RESTRICT_TO_NAMESPACE=watched the daemon sees pods of `watched` (and
    // of the operator namespace), not of `unwatched`: a profile used only by a pod in
    // `unwatched` is deleted at once, one used by a pod in `watched` waits for its pod.
    c.apply_yaml(&format!(
        "\
apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SeccompProfile
metadata: {{name: used-watched}}
spec: {{defaultAction: SCMP_ACT_LOG}}
---
apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SeccompProfile
metadata: {{name: used-unwatched}}
spec: {{defaultAction: SCMP_ACT_LOG}}
---
apiVersion: v1
kind: Pod
metadata: {{name: user, namespace: watched}}
spec:
  nodeName: {NODE}
  containers:
  - name: c
    image: busybox
    securityContext:
      seccompProfile: {{type: Localhost, localhostProfile: operator/used-watched.json}}
---
apiVersion: v1
kind: Pod
metadata: {{name: user, namespace: unwatched}}
spec:
  nodeName: {NODE}
  containers:
  - name: c
    image: busybox
    securityContext:
      seccompProfile: {{type: Localhost, localhostProfile: operator/used-unwatched.json}}
"
    ));
    for n in ["used-watched", "used-unwatched"] {
        c.wait_for(&format!("{n} Installed"), 60, || {
            (c.node_status(n).as_deref() == Some("Installed")).then_some(())
        });
    }
    c.ok(&[
        "delete",
        "sp",
        "used-watched",
        "used-unwatched",
        "--wait=false",
    ]);
    c.wait_for("used-unwatched deleted", 60, || {
        c.get(&["sp", "used-unwatched"]).is_none().then_some(())
    });
    assert!(!c.file("used-unwatched.json").exists());
    c.wait_for("used-watched Terminating", 60, || {
        (c.node_status("used-watched").as_deref() == Some("Terminating")).then_some(())
    });
    assert!(
        c.file("used-watched.json").exists(),
        "file of a used profile removed"
    );
    assert!(
        c.get(&["sp", "used-watched"]).is_some(),
        "used profile deleted"
    );
    c.ok(&[
        "delete",
        "pod",
        "user",
        "-n",
        "watched",
        "--grace-period=0",
        "--force",
    ]);
    c.wait_for("used-watched deleted after its pod", 60, || {
        c.get(&["sp", "used-watched"]).is_none().then_some(())
    });
    assert!(!c.file("used-watched.json").exists());
    let log = std::fs::read_to_string(c.kube.dir.path().join("daemon.log")).unwrap_or_default();
    assert!(log.contains("restricted to namespaces"), "{log}");

    // --- SC-43: an object written through v1beta1 reads back through v1 with identical
    // values, and the other way round.
    let spec = "{defaultAction: SCMP_ACT_ERRNO, architectures: [SCMP_ARCH_X86_64], \
                syscalls: [{action: SCMP_ACT_ERRNO, errnoRet: 38, names: [mkdir, rmdir]}, \
                {action: SCMP_ACT_ALLOW, names: [read], args: [{index: 0, value: 1, op: SCMP_CMP_EQ}]}]}";
    for (write, read, name) in [("v1beta1", "v1", "conv-a"), ("v1", "v1beta1", "conv-b")] {
        c.apply_yaml(&format!(
            "apiVersion: security-profiles-operator.x-k8s.io/{write}\nkind: SeccompProfile\n\
             metadata: {{name: {name}}}\nspec: {spec}\n"
        ));
        let w = c
            .get(&[
                &format!("seccompprofiles.{write}.security-profiles-operator.x-k8s.io"),
                name,
            ])
            .expect("written version");
        let r = c
            .get(&[
                &format!("seccompprofiles.{read}.security-profiles-operator.x-k8s.io"),
                name,
            ])
            .expect("other version");
        assert_eq!(
            r["apiVersion"],
            format!("security-profiles-operator.x-k8s.io/{read}")
        );
        assert_eq!(
            w["spec"], r["spec"],
            "SC-43: {name} differs between versions"
        );
        assert_eq!(r["spec"]["syscalls"][0]["errnoRet"], 38);
    }

    // --- VER-10: every version of every CRD is served and none is marked deprecated.
    let crds = c.get(&["crd"]).expect("crds");
    let mut seen = 0;
    for crd in crds["items"].as_array().expect("items") {
        let name = crd["metadata"]["name"].as_str().unwrap_or_default();
        if !name.ends_with("security-profiles-operator.x-k8s.io") {
            continue;
        }
        for v in crd["spec"]["versions"].as_array().expect("versions") {
            seen += 1;
            assert_eq!(v["served"], true, "{name} {} not served", v["name"]);
            assert!(
                v.get("deprecated").is_none_or(|d| d == false),
                "{name} {} marked deprecated",
                v["name"]
            );
        }
        if name.starts_with("seccompprofiles.") {
            let versions: Vec<&str> = crd["spec"]["versions"]
                .as_array()
                .expect("versions")
                .iter()
                .filter_map(|v| v["name"].as_str())
                .collect();
            assert!(
                versions.contains(&"v1beta1") && versions.contains(&"v1"),
                "{versions:?}"
            );
        }
    }
    assert!(seen >= 10, "only {seen} CRD versions found");
}
