//! The manager's cluster-dependent modes on a real API server (no kubelet, no controllers
//! needed): what it does when OpenShift's ClusterOperator exists (OP-07), when
//! Prometheus-operator's ServiceMonitor kind exists or not (OP-38), with cert-manager's kinds
//! (OP-39) or its own CA, and how it picks the selinuxd image from the manager node's OS image
//! (OP-40). The manager runs as its service account, with deploy/'s RBAC. One test function:
//! one cluster, in order.
//!
//! OP-41 (CRD conversion at `/convert`) is covered by `tests/e2e.rs`
//! (`operator_end_to_end_on_a_real_api_server`: the API server converts through the webhook)
//! and `tests/webhook.rs`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
mod common;
use common::{kube_bin, repo, Kube};

const NS: &str = "security-profiles-operator";
const NODE: &str = "manager-node";

struct Cluster {
    /// The API server (stopped after the manager, when the field drops).
    kube: Kube,
    manager: Option<Child>,
}

impl std::ops::Deref for Cluster {
    type Target = Kube;
    fn deref(&self) -> &Kube {
        &self.kube
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_manager();
    }
}

impl Cluster {
    fn apply_json(&self, v: &Value) {
        let (ok, _, err) = self
            .kube
            .kubectl_stdin(&["apply", "-f", "-"], Some(&v.to_string()));
        assert!(ok, "apply {v}: {err}");
    }

    fn apply_fixture(&self, name: &str) {
        let f = repo()
            .join("spo-operator/tests/fixtures/manager")
            .join(name);
        self.ok(&["apply", "-f", f.to_str().expect("utf8")]);
        self.ok(&[
            "wait",
            "--for",
            "condition=established",
            "--timeout=60s",
            "-f",
            f.to_str().expect("utf8"),
        ]);
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.kube.dir.path().join("manager.log")).unwrap_or_default()
    }

    fn wait<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            if start.elapsed() > Duration::from_secs(90) {
                let log = self.log();
                let lines: Vec<&str> = log.lines().collect();
                panic!(
                    "timed out waiting for {what}\n--- manager log (tail) ---\n{}",
                    lines[lines.len().saturating_sub(30)..].join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn ds(&self) -> Option<Value> {
        self.get(&["ds", "spod", "-n", NS])
    }

    /// The image of the DaemonSet's `selinuxd` container, or None without one.
    fn selinuxd(&self) -> Option<String> {
        let ds = self.ds()?;
        ds["spec"]["template"]["spec"]["containers"]
            .as_array()?
            .iter()
            .find(|c| c["name"] == "selinuxd")
            .and_then(|c| c["image"].as_str())
            .map(str::to_owned)
    }

    fn patch_spod(&self, patch: &str) {
        self.ok(&[
            "-n",
            NS,
            "patch",
            "spod",
            "spod",
            "--type=merge",
            "-p",
            patch,
        ]);
    }

    /// Waits until the DaemonSet's selinuxd image is `want` (None: no selinuxd container).
    /// Each try changes `verbosity` so the manager reconciles whatever else changed
    /// (a ClusterOperator, a node's OS image, a CRD are not watched).
    fn wait_selinuxd(&self, what: &str, want: Option<&str>) {
        let mut v = 0;
        self.wait(what, || {
            if self.selinuxd().as_deref() == want {
                return Some(());
            }
            v = 1 - v;
            self.patch_spod(&format!(r#"{{"spec":{{"verbosity":{v}}}}}"#));
            std::thread::sleep(Duration::from_millis(400));
            None
        });
    }

    fn start_manager(&mut self, extra_env: &[(&str, &str)]) {
        self.stop_manager();
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.kube.dir.path().join("manager.log"))
            .expect("log");
        // The manager runs as its service account: deploy/'s RBAC is all it gets.
        let kc = std::fs::read_to_string(&self.kube.kubeconfig).expect("kubeconfig");
        let kc = kc.replace(
            "user: {token: admin-token}",
            &format!("user: {{token: admin-token, as: \"system:serviceaccount:{NS}:security-profiles-operator\"}}"),
        );
        assert!(kc.contains("as: "), "kubeconfig user entry rewritten");
        let manager_kc = self.kube.dir.path().join("manager.kubeconfig");
        std::fs::write(&manager_kc, kc).expect("write kubeconfig");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_spo-operator"));
        cmd.args([
            "manager",
            "--image",
            "registry.local/spo:test",
            "--webhook-url",
            "https://127.0.0.1:1",
            "--leader-elect=false",
        ])
        .env("KUBECONFIG", &manager_kc)
        .env("OPERATOR_NAMESPACE", NS)
        .env("NODE_NAME", NODE)
        .env("RELATED_IMAGE_SELINUXD", "registry.local/selinuxd:fallback")
        .env("RELATED_IMAGE_SELINUXD_EL9", "registry.local/selinuxd:el9")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(f);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        self.manager = Some(cmd.spawn().expect("manager starts"));
    }

    fn stop_manager(&mut self) {
        if let Some(mut m) = self.manager.take() {
            let _ = m.kill();
            let _ = m.wait();
        }
    }

    /// The node the manager runs on, with `os_image` as its `status.nodeInfo.osImage`.
    fn set_node_os(&self, os_image: &str) {
        if self.get(&["node", NODE]).is_none() {
            self.apply_json(&json!({"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": NODE, "labels": {"kubernetes.io/os": "linux"}}}));
        }
        let info = json!({"status": {"nodeInfo": {
            "osImage": os_image, "machineID": "m", "systemUUID": "s", "bootID": "b",
            "kernelVersion": "6.1.0", "containerRuntimeVersion": "cri-o://1.30",
            "kubeletVersion": "v1.20.2", "kubeProxyVersion": "v1.20.2",
            "operatingSystem": "linux", "architecture": "amd64"}}});
        self.ok(&[
            "patch",
            "node",
            NODE,
            "--subresource=status",
            "--type=merge",
            "-p",
            &info.to_string(),
        ]);
    }
}

fn start() -> Option<Cluster> {
    let bin = kube_bin();
    for b in ["kube-apiserver", "etcd"] {
        if !bin.join(b).exists() {
            eprintln!(
                "SKIP manager modes test: no {b} in {} (run scripts/kube-build.sh; `make test` does)",
                bin.display()
            );
            return None;
        }
    }
    let c = Cluster {
        kube: Kube::up("spo-manager-modes-", false),
        manager: None,
    };
    let f = repo().join("deploy/operator.yaml");
    let args = ["apply", "-f", f.to_str().expect("utf8")];
    if !c.kubectl(&args).0 {
        // The CRDs of a first apply must be established before the custom objects go in.
        c.ok(&[
            "wait",
            "--for",
            "condition=established",
            "--timeout=60s",
            "crd",
            "--all",
        ]);
        c.ok(&args);
    }
    Some(c)
}

// covers: OP-07, OP-38, OP-39, OP-40, VER-04 (the typed flat fields)
#[test]
fn manager_modes_openshift_monitoring_cert_manager_selinuxd_image() {
    let Some(mut c) = start() else { return };
    c.set_node_os("Red Hat Enterprise Linux CoreOS 9.4 (Plow)");
    // OP-40: the operator's ConfigMap maps OS images to the variables holding the image.
    c.apply_json(&json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "security-profiles-operator-profile", "namespace": NS},
        "data": {"selinuxd-image-mapping.json":
            r#"[{"regex": "Red Hat Enterprise Linux CoreOS 9", "imageFromVar": "RELATED_IMAGE_SELINUXD_EL9"}]"#}}));
    c.start_manager(&[]);
    c.wait("spod DaemonSet", || c.ds());

    // Not OpenShift: SELinux is off by default.
    assert_eq!(c.selinuxd(), None, "OP-07: no SELinux off OpenShift");

    // OP-38: without the ServiceMonitor kind the monitor is skipped, silently: the SPOD
    // reconciles (metrics Service there, no Warning Event, no failed reconcile).
    c.wait("metrics Service", || c.get(&["svc", "metrics", "-n", NS]));
    c.patch_spod(r#"{"spec":{"verbosity":1}}"#);
    c.wait("DaemonSet with verbosity 1", || {
        let ds = c.ds()?;
        ds.to_string()
            .contains(r#"{"name":"SPO_VERBOSITY","value":"1"}"#)
            .then_some(())
    });
    let events = c.ok(&["get", "events", "-n", NS, "-o", "json"]);
    assert!(
        !events.contains("\"Warning\""),
        "OP-38: no Warning without the ServiceMonitor kind: {events}"
    );
    assert!(
        !c.log().contains("SPOD reconcile failed"),
        "OP-38: no failed reconcile:\n{}",
        c.log()
    );
    // ... and created once the kind exists (on the next reconcile).
    c.apply_fixture("servicemonitor-crd.yaml");
    let mut v = 0;
    let sm = c.wait("ServiceMonitor after its CRD appears", || {
        if let Some(sm) = c.get(&[
            "servicemonitor",
            "security-profiles-operator-monitor",
            "-n",
            NS,
        ]) {
            return Some(sm);
        }
        v = 1 - v;
        c.patch_spod(&format!(r#"{{"spec":{{"verbosity":{v}}}}}"#));
        std::thread::sleep(Duration::from_millis(400));
        None
    });
    assert_eq!(sm["spec"]["endpoints"][0]["path"], "/metrics", "OP-38");

    // OP-39, default: the manager's own CA, no cert-manager objects; the CA is injected.
    for s in ["webhook-server-cert", "metrics-server-cert"] {
        let sec = c.wait(s, || c.get(&["secret", s, "-n", NS]));
        assert!(sec["data"]["tls.crt"].is_string(), "{s} has a certificate");
        assert!(sec["data"]["ca.crt"].is_string(), "{s} has the CA");
    }
    let mwc = c.wait("mutating configuration", || {
        c.get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])
    });
    assert!(
        mwc["webhooks"][0]["clientConfig"]["caBundle"].is_string(),
        "own CA injected"
    );
    assert!(
        mwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"].is_null(),
        "OP-39: no cert-manager annotation with the own CA"
    );

    // VER-04: the flat fields are typed in the v1 schema: a wrong type is refused, naming it.
    let (ok, _, err) = c.kubectl(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=merge",
        "-p",
        r#"{"spec":{"enableSelinux":"yes"}}"#,
    ]);
    assert!(!ok, "a string for the boolean enableSelinux is refused");
    assert!(err.contains("spec.enableSelinux"), "{err}");

    // OP-07: OpenShift (ClusterOperator `openshift-apiserver`) → SELinux on, unset in the
    // SPOD; OP-40: selinuxd's image from the mapping by the node's OS image.
    c.apply_fixture("openshift.yaml");
    c.apply_json(
        &json!({"apiVersion": "config.openshift.io/v1", "kind": "ClusterOperator",
        "metadata": {"name": "openshift-apiserver"}}),
    );
    c.wait_selinuxd(
        "selinuxd on OpenShift, image by the mapping",
        Some("registry.local/selinuxd:el9"),
    );
    let ds = c.ds().expect("ds");
    assert_eq!(
        ds["spec"]["template"]["metadata"]["annotations"]["openshift.io/scc"],
        "privileged"
    );
    // The other OpenShift-mode objects: the service CA's serving-certificate annotations.
    let svc = c.get(&["svc", "metrics", "-n", NS]).expect("metrics svc");
    assert_eq!(
        svc["metadata"]["annotations"]["service.beta.openshift.io/serving-cert-secret-name"],
        "metrics-server-cert",
        "OP-07 metrics Service on OpenShift"
    );
    let wsvc = c.wait("webhook Service with the service-CA annotation", || {
        let s = c.get(&["svc", "webhook-service", "-n", NS])?;
        (s["metadata"]["annotations"]["service.beta.openshift.io/serving-cert-secret-name"]
            == "webhook-server-cert")
            .then_some(s)
    });
    assert_eq!(wsvc["spec"]["ports"][0]["targetPort"], 9443);
    // Explicitly false wins (flat 0.10 name, folded by the manager).
    c.patch_spod(r#"{"spec":{"enableSelinux":false}}"#);
    c.wait_selinuxd("no selinuxd when explicitly false", None);
    let spod = c.get(&["spod", "spod", "-n", NS]).expect("spod");
    assert_eq!(spod["spec"]["selinux"]["enable"], false, "folded");
    assert!(spod["spec"]["enableSelinux"].is_null(), "rewritten");

    // OP-40: an OS image no rule matches → RELATED_IMAGE_SELINUXD.
    c.patch_spod(r#"{"spec":{"selinux":{"enable":true}}}"#);
    c.wait_selinuxd("selinuxd back", Some("registry.local/selinuxd:el9"));
    c.set_node_os("Debian GNU/Linux 13 (trixie)");
    c.wait_selinuxd(
        "fallback selinuxd image",
        Some("registry.local/selinuxd:fallback"),
    );

    // OP-39: cert-manager mode without cert-manager's kinds: the manager falls back to its
    // own CA (the webhooks keep a CA bundle, no cert-manager annotation) and says so in a
    // Warning Event.
    c.start_manager(&[("SPO_CERT_PROVIDER", "cert-manager")]);
    let mut v = 0;
    let ev = c.wait("CertManagerMissing event", || {
        let ev = c.ok(&["get", "events", "-n", NS, "-o", "json"]);
        if ev.contains("CertManagerMissing") {
            return Some(ev);
        }
        v = 1 - v;
        c.patch_spod(&format!(r#"{{"spec":{{"verbosity":{v}}}}}"#));
        std::thread::sleep(Duration::from_millis(400));
        None
    });
    let events: Value = serde_json::from_str(&ev).expect("events json");
    let note = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["reason"] == "CertManagerMissing")
        .map(|e| {
            e["message"]
                .as_str()
                .or(e["note"].as_str())
                .unwrap_or("")
                .to_string()
        })
        .expect("the event");
    assert!(note.contains("own CA"), "OP-39: the Event says so: {note}");
    let mwc = c.wait("configurations keep the own CA", || {
        let m = c.get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])?;
        (m["webhooks"][0]["clientConfig"]["caBundle"].is_string()).then_some(m)
    });
    assert!(
        mwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"].is_null(),
        "OP-39: no cert-manager annotation without cert-manager"
    );
    assert!(
        c.get(&["secret", "webhook-server-cert", "-n", NS])
            .is_some(),
        "own serving certificate"
    );

    // OP-39: cert-manager mode with cert-manager's kinds installed: Issuer
    // `selfsigned-issuer`, Certificates `metrics-cert` and `webhook-cert`, and the
    // configurations ask cert-manager's CA injector for the CA.
    c.apply_fixture("cert-manager-crds.yaml");
    c.start_manager(&[("SPO_CERT_PROVIDER", "cert-manager")]);
    let mut v = 0;
    let issuer = c.wait("Issuer selfsigned-issuer", || {
        if let Some(i) = c.get(&["issuer", "selfsigned-issuer", "-n", NS]) {
            return Some(i);
        }
        v = 1 - v;
        c.patch_spod(&format!(r#"{{"spec":{{"verbosity":{v}}}}}"#));
        std::thread::sleep(Duration::from_millis(400));
        None
    });
    assert_eq!(issuer["spec"]["selfSigned"], json!({}), "OP-39");
    let wc = c
        .get(&["certificate", "webhook-cert", "-n", NS])
        .expect("OP-39 Certificate webhook-cert");
    assert_eq!(wc["spec"]["secretName"], "webhook-server-cert");
    assert_eq!(wc["spec"]["issuerRef"]["name"], "selfsigned-issuer");
    assert!(wc["spec"]["dnsNames"]
        .to_string()
        .contains(&format!("webhook-service.{NS}.svc")));
    let mc = c
        .get(&["certificate", "metrics-cert", "-n", NS])
        .expect("OP-39 Certificate metrics-cert");
    assert_eq!(mc["spec"]["secretName"], "metrics-server-cert");
    let mwc = c.wait("configuration annotated for cert-manager", || {
        let m = c.get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])?;
        (m["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
            == format!("{NS}/webhook-cert"))
        .then_some(m)
    });
    assert_eq!(mwc["webhooks"][0]["name"], "binding.spo.io");
}
