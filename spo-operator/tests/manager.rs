//! The SPOD manager on a real API server + kube-controller-manager (DaemonSet controller) +
//! scheduler: fake Node objects make the DaemonSet controller create pods, the test plays
//! kubelet by marking them Ready, and the SPOD moves Pending → Creating → Running, then
//! Updating → Running on a change. The guides' `kubectl patch spod` commands with 0.10 field
//! names run verbatim and change the DaemonSet. One test function: one cluster, in order.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
mod common;
use common::{free_port, kube_bin, repo, Kube};

const NS: &str = "security-profiles-operator";
const NODES: [&str; 2] = ["node-a", "node-b"];

struct Cluster {
    /// The API server (stopped after the processes below, when the field drops).
    kube: Kube,
    procs: Vec<Child>,
}

impl std::ops::Deref for Cluster {
    type Target = Kube;
    fn deref(&self) -> &Kube {
        &self.kube
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for p in &mut self.procs {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

/// A process stopped by PID when the guard goes.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Cluster {
    fn apply(&self, v: &Value) {
        let f = self.kube.dir.path().join("obj.json");
        std::fs::write(&f, v.to_string()).expect("write");
        self.ok(&["apply", "-f", f.to_str().expect("utf8")]);
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.kube.dir.path().join(name)).unwrap_or_default()
    }

    fn wait<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            if start.elapsed() > Duration::from_secs(90) {
                let log = self.log("manager.log");
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

    fn spod(&self) -> Option<Value> {
        self.get(&["spod", "spod", "-n", NS])
    }

    fn state(&self) -> Option<String> {
        self.spod()?["status"]["state"].as_str().map(str::to_owned)
    }

    fn wait_state(&self, want: &str) -> Value {
        self.wait(&format!("SPOD state {want}"), || {
            let s = self.spod()?;
            (s["status"]["state"] == want).then_some(s)
        })
    }

    /// Plays kubelet: every spod pod of the current template is marked Running and Ready.
    fn make_pods_ready(&self) {
        let ds = self.ds().expect("ds");
        let want = ds["status"]["desiredNumberScheduled"].as_i64().unwrap_or(0);
        let pods = self.wait("spod pods of the current template", || {
            let ds = self.ds()?;
            if ds["status"]["observedGeneration"] != ds["metadata"]["generation"] {
                return None;
            }
            let list = self.get(&["pods", "-n", NS, "-l", "name=spod"])?;
            let items = list["items"].as_array()?.clone();
            // A kubelet confirms graceful deletions; without one the test does.
            for p in &items {
                if !p["metadata"]["deletionTimestamp"].is_null() {
                    let name = p["metadata"]["name"].as_str().unwrap_or_default();
                    let _ = self.kubectl(&[
                        "delete",
                        "pod",
                        name,
                        "-n",
                        NS,
                        "--grace-period=0",
                        "--force",
                    ]);
                }
            }
            let current: Vec<Value> = items
                .into_iter()
                .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                .collect();
            let n = ds["status"]["desiredNumberScheduled"].as_i64().unwrap_or(0);
            (n == want && n == NODES.len() as i64 && current.len() as i64 == n).then_some(current)
        });
        let status = json!({"status": {"phase": "Running", "conditions": [
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"},
            {"type": "ContainersReady", "status": "True"},
            {"type": "PodScheduled", "status": "True"}
        ]}})
        .to_string();
        for p in pods {
            let name = p["metadata"]["name"].as_str().expect("name");
            if p["status"]["phase"] == "Running" {
                continue;
            }
            self.ok(&[
                "patch",
                "pod",
                name,
                "-n",
                NS,
                "--subresource=status",
                "--type=merge",
                "-p",
                &status,
            ]);
        }
    }
}

fn container_names(ds: &Value) -> Vec<String> {
    ds["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn start() -> Option<Cluster> {
    let bin = kube_bin();
    for b in [
        "kube-apiserver",
        "etcd",
        "kube-controller-manager",
        "kube-scheduler",
    ] {
        if !bin.join(b).exists() {
            eprintln!(
                "SKIP manager test: no {b} in {} (run scripts/kube-build.sh; `make test` does)",
                bin.display()
            );
            return None;
        }
    }
    let c = Cluster {
        kube: Kube::up("spo-manager-", true),
        procs: Vec::new(),
    };
    // The documented install path: the single files, generated and committed.
    let gen = Command::new("bash")
        .arg(repo().join("scripts/gen-deploy.sh"))
        .env("GEN_CHECK", "1")
        .status()
        .expect("gen-deploy.sh runs");
    assert!(
        gen.success(),
        "deploy/*.yaml are stale: run scripts/gen-deploy.sh"
    );
    // As users install it (plain client-side apply), then the namespace-restricted variant
    // over it (server-side, taking over the changed fields).
    let plain: &[&str] = &["apply", "-f"];
    let ssa: &[&str] = &["apply", "--server-side", "--force-conflicts", "-f"];
    for (f, how) in [("operator.yaml", plain), ("namespace-operator.yaml", ssa)] {
        let path = repo().join("deploy").join(f);
        let mut args = how.to_vec();
        args.push(path.to_str().expect("utf8"));
        let (ok, _, err) = c.kubectl(&args);
        // The CRDs of a first apply must be established before the custom objects go in.
        if !ok {
            eprintln!("apply once more after: {err}");
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
    }
    // The manager creates and owns the spod DaemonSet (deploy/ ships none; a leftover goes).
    c.ok(&["delete", "ds", "spod", "-n", NS, "--ignore-not-found"]);
    Some(c)
}

fn start_manager(c: &mut Cluster, log: &str) {
    let f = std::fs::File::create(c.kube.dir.path().join(log)).expect("log");
    // The manager runs as its service account: deploy/'s RBAC is all it gets.
    let kc = std::fs::read_to_string(&c.kube.kubeconfig).expect("kubeconfig");
    let kc = kc.replace(
        "user: {token: admin-token}",
        &format!("user: {{token: admin-token, as: \"system:serviceaccount:{NS}:security-profiles-operator\"}}"),
    );
    assert!(kc.contains("as: "), "kubeconfig user entry rewritten");
    let manager_kc = c.kube.dir.path().join("manager.kubeconfig");
    std::fs::write(&manager_kc, kc).expect("write kubeconfig");
    let m = Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        .args([
            "manager",
            "--image",
            "registry.local/spo:test",
            "--webhook-url",
            "https://127.0.0.1:1",
            "--lease-duration",
            "6",
        ])
        .env("KUBECONFIG", &manager_kc)
        .env("OPERATOR_NAMESPACE", NS)
        .env("RESTRICT_TO_NAMESPACE", "team-a")
        .env("RELATED_IMAGE_SELINUXD", "registry.local/selinuxd:test")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(f)
        .spawn()
        .expect("manager starts");
    c.procs.push(m);
}

fn add_nodes(c: &Cluster) {
    for n in NODES {
        c.apply(&json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": n, "labels": {"kubernetes.io/os": "linux", "kubernetes.io/hostname": n}}}));
        c.ok(&[
            "patch",
            "node",
            n,
            "--type=merge",
            "-p",
            r#"{"spec":{"taints":[]}}"#,
        ]);
        let status = json!({"status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "test"}],
            "allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "capacity": {"cpu": "8", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
        }})
        .to_string();
        c.ok(&[
            "patch",
            "node",
            n,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status,
        ]);
    }
}

/// A predicate on the DaemonSet.
type Check = Box<dyn Fn(&Value) -> bool>;

fn args_of(c: &Value) -> String {
    c["args"].to_string()
}

// covers: OP-01, OP-02, OP-03, OP-04, OP-05, OP-06, OP-08, OP-09, OP-12, OP-15, OP-19, OP-20,
// SC-41, OP-16, OP-21, OP-22, OP-23, OP-25, OP-35, OP-37, ARCH-02, ARCH-11, VER-04 (deliverable 0: guides' flat patches)
#[test]
fn manager_reconciles_spod_on_a_real_api_server() {
    let Some(mut c) = start() else { return };
    add_nodes(&c);
    // Prometheus-operator's ServiceMonitor kind (a minimal CRD): the manager creates the
    // monitor only where the kind exists.
    c.apply(&json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "servicemonitors.monitoring.coreos.com"},
        "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
            "names": {"plural": "servicemonitors", "singular": "servicemonitor", "kind": "ServiceMonitor", "listKind": "ServiceMonitorList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}}));
    c.ok(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=60s",
        "crd",
        "servicemonitors.monitoring.coreos.com",
    ]);
    start_manager(&mut c, "manager.log");

    // OP-01: the default SPOD; OP-04: Creating once the DaemonSet exists.
    let ds = c.wait("spod DaemonSet", || c.ds());
    // OP-03: the operator Deployment's image (deploy/operator.yaml), not the --image fallback.
    let op = c
        .get(&["deploy", "security-profiles-operator", "-n", NS])
        .expect("operator Deployment");
    assert_eq!(
        ds["spec"]["template"]["spec"]["containers"][0]["image"],
        op["spec"]["template"]["spec"]["containers"][0]["image"],
        "OP-03"
    );
    assert_eq!(
        ds["metadata"]["ownerReferences"][0]["kind"],
        "SecurityProfilesOperatorDaemon"
    );
    let env = ds["spec"]["template"]["spec"]["containers"][0]["env"].to_string();
    assert!(
        env.contains("team-a"),
        "OP-35 RESTRICT_TO_NAMESPACE propagated: {env}"
    );
    let spod = c.spod().expect("OP-01 default SPOD");
    assert_eq!(
        spod["metadata"]["labels"]["app"],
        "security-profiles-operator"
    );
    c.wait("state Creating", || {
        (c.state().as_deref() == Some("Creating")).then_some(())
    });
    // Webhook configurations with the default webhooks (OP-23).
    let mwc = c.wait("mutating webhook configuration", || {
        c.get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])
    });
    assert_eq!(mwc["webhooks"].as_array().map(Vec::len), Some(2), "OP-23");
    assert!(c
        .get(&[
            "validatingwebhookconfiguration",
            "spo-validating-webhook-configuration"
        ])
        .is_some());
    assert!(
        c.get(&["svc", "metrics", "-n", NS]).is_some(),
        "OP-37 metrics Service"
    );

    // Play kubelet → Running with Ready/Available (OP-04, OP-05).
    c.make_pods_ready();
    let s = c.wait_state("Running");
    let cond = &s["status"]["conditions"][0];
    assert_eq!(
        (
            cond["type"].as_str(),
            cond["status"].as_str(),
            cond["reason"].as_str()
        ),
        (Some("Ready"), Some("True"), Some("Available")),
        "OP-05"
    );

    // ServiceMonitor over https with the token and the serving CA (OP-37).
    let sm = c.wait("ServiceMonitor", || {
        c.get(&[
            "servicemonitor",
            "security-profiles-operator-monitor",
            "-n",
            NS,
        ])
    });
    assert_eq!(sm["spec"]["endpoints"][1]["path"], "/metrics-spod");
    assert_eq!(sm["spec"]["endpoints"][0]["scheme"], "https");

    // Certificates without cert-manager: the CA and both serving certificates in Secrets, the
    // CA in the webhook configurations; a forced renewal changes the serving certificate and
    // keeps the CA (so clients keep trusting it).
    let secret_data = |name: &str, key: &str| -> Option<String> {
        let s = c.get(&["secret", name, "-n", NS])?;
        s["data"][key].as_str().map(str::to_owned)
    };
    let ca_b64 = c.wait("webhook-server-cert", || {
        secret_data("webhook-server-cert", "ca.crt")
    });
    assert!(secret_data("metrics-server-cert", "tls.key").is_some());
    let mwc = c
        .get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])
        .expect("mwc");
    c.wait("CA injected", || {
        let m = c.get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])?;
        (m["webhooks"][0]["clientConfig"]["caBundle"] == ca_b64.as_str()).then_some(())
    });
    let _ = mwc;
    let decode = |b: &str| {
        let out = Command::new("base64")
            .arg("-d")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("base64");
        use std::io::Write;
        out.stdin
            .as_ref()
            .expect("stdin")
            .write_all(b.as_bytes())
            .expect("write");
        String::from_utf8(out.wait_with_output().expect("base64").stdout).expect("utf8")
    };
    let verify = |cert_b64: &str| {
        let d = c.kube.dir.path();
        std::fs::write(d.join("ca.pem"), decode(&ca_b64)).expect("ca");
        std::fs::write(d.join("cert.pem"), decode(cert_b64)).expect("cert");
        let out = Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(d.join("ca.pem"))
            .arg(d.join("cert.pem"))
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "serving certificate verifies against the CA: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let old = secret_data("webhook-server-cert", "tls.crt").expect("tls.crt");
    verify(&old);
    c.ok(&[
        "annotate",
        "secret",
        "webhook-server-cert",
        "-n",
        NS,
        "spo.x-k8s.io/renew=true",
        "--overwrite",
    ]);
    let new = c.wait("renewed serving certificate", || {
        secret_data("webhook-server-cert", "tls.crt").filter(|n| *n != old)
    });
    verify(&new);
    assert_eq!(
        secret_data("webhook-server-cert", "ca.crt").as_deref(),
        Some(ca_b64.as_str()),
        "CA kept"
    );

    // A running webhook server (the `webhook` sub-command, files as the Secret mount gives
    // them) picks up a forced renewal of webhook-server-cert with no failed request.
    let whdir = c.kube.dir.path().join("webhook-certs");
    std::fs::create_dir_all(&whdir).expect("dir");
    let write_wh = || {
        for k in ["tls.crt", "tls.key"] {
            let v = secret_data("webhook-server-cert", k).expect("webhook cert");
            let tmp = whdir.join(format!(".{k}"));
            std::fs::write(&tmp, decode(&v)).expect("write");
            std::fs::rename(&tmp, whdir.join(k)).expect("rename");
        }
    };
    write_wh();
    let wport = free_port();
    let wh = Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        .args([
            "webhook",
            "--bind",
            "127.0.0.1",
            "--port",
            &wport.to_string(),
        ])
        .arg("--tls-cert-file")
        .arg(whdir.join("tls.crt"))
        .arg("--tls-key-file")
        .arg(whdir.join("tls.key"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("webhook server starts");
    let _wh = Kill(wh);
    let handshake = || -> bool {
        Command::new("curl")
            .args(["-s", "-o", "/dev/null", "--cacert"])
            .arg(c.kube.dir.path().join("ca.pem"))
            .arg(format!("https://localhost:{wport}/healthz"))
            .status()
            .is_ok_and(|s| s.success())
    };
    c.wait("webhook server up", || handshake().then_some(()));
    let served_cert = |port: u16| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "openssl s_client -connect 127.0.0.1:{port} </dev/null 2>/dev/null | openssl x509"
            ))
            .output()
            .expect("s_client");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let before = secret_data("webhook-server-cert", "tls.crt").expect("crt");
    c.ok(&[
        "annotate",
        "secret",
        "webhook-server-cert",
        "-n",
        NS,
        "spo.x-k8s.io/renew=true",
        "--overwrite",
    ]);
    c.wait("second renewal", || {
        secret_data("webhook-server-cert", "tls.crt").filter(|n| *n != before)
    });
    assert!(handshake(), "old certificate still served and trusted");
    write_wh();
    let want = decode(&secret_data("webhook-server-cert", "tls.crt").expect("crt"))
        .trim()
        .to_string();
    c.wait("webhook server serves the renewed certificate", || {
        assert!(handshake(), "no failed request during the rotation");
        (served_cert(wport) == want).then_some(())
    });

    // Metrics over TLS with TokenReview + SubjectAccessReview (OP-37, ARCH-11): the serving
    // certificate of metrics-server-cert as a mounted Secret would give it.
    let certs = c.kube.dir.path().join("metrics-certs");
    std::fs::create_dir_all(&certs).expect("dir");
    let write_certs = || {
        for k in ["tls.crt", "tls.key"] {
            let v = secret_data("metrics-server-cert", k).expect("metrics cert");
            let tmp = certs.join(format!(".{k}"));
            std::fs::write(&tmp, decode(&v)).expect("write");
            std::fs::rename(&tmp, certs.join(k)).expect("rename");
        }
    };
    write_certs();
    let (mport, hport) = (free_port(), free_port());
    let f = std::fs::File::create(c.kube.dir.path().join("metrics.log")).expect("log");
    let metrics = Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        .args([
            "manager",
            "--leader-elect=false",
            "--with-spod-controller=false",
        ])
        .arg("--metrics-addr")
        .arg(format!("127.0.0.1:{mport}"))
        .arg("--metrics-cert-dir")
        .arg(&certs)
        .arg("--health-addr")
        .arg(format!("127.0.0.1:{hport}"))
        .env("KUBECONFIG", c.kube.dir.path().join("manager.kubeconfig"))
        .env("OPERATOR_NAMESPACE", NS)
        .stdout(Stdio::null())
        .stderr(f)
        .spawn()
        .expect("metrics server starts");
    let _metrics = Kill(metrics);
    let curl = |path: &str, token: Option<&str>| -> String {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(c.kube.dir.path().join("ca.pem"))
            .arg(format!("https://localhost:{mport}{path}"));
        if let Some(t) = token {
            cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        String::from_utf8_lossy(&cmd.output().expect("curl").stdout).into_owned()
    };
    c.wait("metrics server up", || {
        (curl("/healthz", None) == "200").then_some(())
    });
    assert_eq!(curl("/metrics-spod", None), "401", "anonymous refused");
    let health = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://127.0.0.1:{hport}/readyz"))
        .output()
        .expect("curl");
    assert_eq!(
        String::from_utf8_lossy(&health.stdout),
        "200",
        "manager readiness"
    );
    c.ok(&["create", "serviceaccount", "default", "-n", NS]);
    c.ok(&["create", "serviceaccount", "nobody", "-n", NS]);
    let token = c
        .ok(&["create", "token", "default", "-n", NS])
        .trim()
        .to_string();
    let other = c
        .ok(&["create", "token", "nobody", "-n", NS])
        .trim()
        .to_string();
    assert_eq!(
        curl("/metrics-spod", Some(&token)),
        "200",
        "spo-metrics-client allowed"
    );
    assert_eq!(curl("/metrics", Some(&token)), "200");
    assert_eq!(
        curl("/metrics-spod", Some(&other)),
        "403",
        "unbound SA forbidden"
    );
    assert_eq!(curl("/metrics-spod", Some("garbage")), "401");
    // Rotation: a renewed certificate is served after the files change, no request fails.
    let old = secret_data("metrics-server-cert", "tls.crt").expect("crt");
    c.ok(&[
        "annotate",
        "secret",
        "metrics-server-cert",
        "-n",
        NS,
        "spo.x-k8s.io/renew=true",
        "--overwrite",
    ]);
    c.wait("renewed metrics certificate", || {
        secret_data("metrics-server-cert", "tls.crt").filter(|n| *n != old)
    });
    assert_eq!(
        curl("/metrics-spod", Some(&token)),
        "200",
        "old certificate still served"
    );
    write_certs();
    assert_eq!(
        curl("/metrics-spod", Some(&token)),
        "200",
        "new certificate served"
    );
    let served = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect 127.0.0.1:{mport} </dev/null 2>/dev/null | openssl x509"
        ))
        .output()
        .expect("s_client");
    assert_eq!(
        String::from_utf8_lossy(&served.stdout).trim(),
        decode(&secret_data("metrics-server-cert", "tls.crt").expect("crt")).trim(),
        "the server reloaded the renewed certificate"
    );

    // Deliverable 0: the guides' command, verbatim, with the 0.10 flat name.
    let t0 = Instant::now();
    c.ok(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=merge",
        "-p",
        r#"{"spec":{"enableLogEnricher":true}}"#,
    ]);
    let ds = c.wait("log-enricher in the DaemonSet", || {
        let ds = c.ds()?;
        container_names(&ds)
            .contains(&"log-enricher".to_string())
            .then_some(ds)
    });
    eprintln!("SPOD change reached the DaemonSet in {:?}", t0.elapsed());
    assert_eq!(ds["spec"]["template"]["spec"]["hostPID"], true, "OP-09");
    let trace = c.wait("log-enricher-trace profile", || {
        c.get(&["sp", "log-enricher-trace"])
    });
    assert_eq!(trace["spec"]["defaultAction"], "SCMP_ACT_LOG", "SC-41");
    let spod = c.spod().expect("spod");
    assert_eq!(
        spod["spec"]["enricher"]["enableLogEnricher"], true,
        "folded"
    );
    assert!(
        spod["spec"].get("enableLogEnricher").is_none(),
        "flat field removed"
    );
    let st = c.state();
    assert!(
        matches!(st.as_deref(), Some("Updating") | Some("Running")),
        "OP-04 {st:?}"
    );
    let events = c.ok(&["get", "events", "-n", NS, "-o", "json"]);
    assert!(
        events.contains("DeprecatedFieldsRewritten"),
        "Event for the rewrite"
    );
    // Spec change → Updating → (pods of the new template ready) → Running.
    c.wait_state("Updating");
    c.make_pods_ready();
    c.wait_state("Running");

    // The other guide commands, each checked on the DaemonSet.
    c.apply(
        &json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "my-priority-class"}, "value": 1000}),
    );
    let cases: Vec<(&str, Check)> = vec![
        (
            r#"{"spec":{"enableMemoryOptimization":true}}"#,
            Box::new(|ds| {
                args_of(&ds["spec"]["template"]["spec"]["containers"][0])
                    .contains("--with-mem-optim=true")
            }),
        ),
        (
            r#"{"spec":{"priorityClassName":"my-priority-class"}}"#,
            Box::new(|ds| {
                ds["spec"]["template"]["spec"]["priorityClassName"] == "my-priority-class"
            }),
        ),
        (
            r#"{"spec":{"verbosity":1}}"#,
            Box::new(|ds| {
                ds["spec"]["template"]["spec"]["containers"][0]["env"]
                    .to_string()
                    .contains(r#""name":"SPO_VERBOSITY","value":"1""#)
            }),
        ),
        (
            r#"{"spec":{"selinuxTypeTag":"spc_custom_t"}}"#,
            Box::new(|ds| {
                ds["spec"]["template"]["spec"]["containers"][0]["securityContext"]["seLinuxOptions"]
                    ["type"]
                    == "spc_custom_t"
            }),
        ),
        (
            r#"{"spec":{"hostProcVolumePath":"/proc/host"}}"#,
            Box::new(|ds| {
                ds["spec"]["template"]["spec"]["volumes"]
                    .to_string()
                    .contains("/proc/host")
            }),
        ),
        (
            r#"{"spec":{"enableProfiling":true}}"#,
            Box::new(|ds| {
                ds["spec"]["template"]["spec"]["containers"][0]["env"]
                    .to_string()
                    .contains("SPO_PROFILING_PORT")
            }),
        ),
        (
            r#"{"spec":{"enableJsonEnricher":true,"jsonEnricherOptions":{"auditLogIntervalSeconds":30,"auditLogPath":"/tmp/audit.log"}}}"#,
            Box::new(|ds| {
                let je = ds["spec"]["template"]["spec"]["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|c| c["name"] == "json-enricher")
                    .cloned()
                    .unwrap_or_default();
                args_of(&je).contains("--audit-log-interval-seconds=30")
                    && args_of(&je).contains("--audit-log-path=/tmp/audit.log")
            }),
        ),
        (
            r#"{"spec":{"enableBpfRecorder":true}}"#,
            Box::new(|ds| container_names(ds).contains(&"bpf-recorder".to_string())),
        ),
        (
            r#"{"spec":{"enableSelinux":true}}"#,
            Box::new(|ds| {
                container_names(ds).contains(&"selinuxd".to_string())
                    && args_of(&ds["spec"]["template"]["spec"]["containers"][0])
                        .contains("--with-selinux=true")
            }),
        ),
    ];
    for (patch, check) in &cases {
        c.ok(&[
            "-n",
            NS,
            "patch",
            "spod",
            "spod",
            "--type=merge",
            "-p",
            patch,
        ]);
        c.wait(&format!("DaemonSet after {patch}"), || {
            c.ds().filter(|ds| check(ds)).map(|_| ())
        });
    }
    // OP-16: insecure metrics switch the daemon flag and the ServiceMonitor to http.
    c.ok(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=merge",
        "-p",
        r#"{"spec":{"enableInsecureMetricsAccess":true}}"#,
    ]);
    c.wait("insecure metrics", || {
        let sm = c.get(&[
            "servicemonitor",
            "security-profiles-operator-monitor",
            "-n",
            NS,
        ])?;
        let ds = c.ds()?;
        (sm["spec"]["endpoints"][0]["scheme"] == "http"
            && args_of(&ds["spec"]["template"]["spec"]["containers"][0])
                .contains("--with-insecure-metrics-access=true"))
        .then_some(())
    });
    // OP-17: a bad value is refused by the typed schema (pattern ^/proc(/.*)?$), naming the
    // field; an unknown field is pruned, not stored (no spec-level preserve-unknown-fields).
    let (ok, _, err) = c.kubectl(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=merge",
        "-p",
        r#"{"spec":{"hostProcVolumePath":"/etc"}}"#,
    ]);
    assert!(!ok, "OP-17: hostProcVolumePath /etc refused");
    assert!(err.contains("spec.hostProcVolumePath"), "{err}");
    c.ok(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=merge",
        "-p",
        r#"{"spec":{"noSuchField":1,"scheduling":{"noSuchEither":true}}}"#,
    ]);
    let spod = c.get(&["spod", "spod", "-n", NS]).expect("spod");
    assert!(spod["spec"].get("noSuchField").is_none(), "pruned: {spod}");
    assert!(
        spod["spec"]["scheduling"].get("noSuchEither").is_none(),
        "pruned: {spod}"
    );
    c.ok(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=merge",
        "-p",
        r#"{"spec":{"hostProcVolumePath":"/proc/host"}}"#,
    ]);
    // allowedSyscalls: folded into security.allowedSyscalls, which the daemons read.
    c.ok(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=merge",
        "-p",
        r#"{"spec":{"allowedSyscalls":["exit","exit_group","futex","nanosleep"]}}"#,
    ]);
    c.wait("allowedSyscalls folded", || {
        let s = c.spod()?;
        (s["spec"]["security"]["allowedSyscalls"]
            == json!(["exit", "exit_group", "futex", "nanosleep"])
            && s["spec"].get("allowedSyscalls").is_none())
        .then_some(())
    });
    // The JSON enricher brings the exec webhooks (OP-24).
    let mwc = c.wait("exec webhooks", || {
        let m = c.get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])?;
        (m["webhooks"].as_array()?.len() == 4).then_some(m)
    });
    assert_eq!(mwc["webhooks"][2]["name"], "execmetadata.spo.io");

    // webhookOptions (OP-25), guides' flat name; removing it restores the default.
    c.ok(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=merge",
        "-p",
        r#"{"spec":{"webhookOptions":[{"name":"binding.spo.io","failurePolicy":"Ignore"}]}}"#,
    ]);
    c.wait("webhookOptions applied", || {
        let m = c.get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])?;
        (m["webhooks"][0]["failurePolicy"] == "Ignore"
            && m["webhooks"][1]["failurePolicy"] == "Fail")
            .then_some(())
    });
    c.ok(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/webhook/options"}]"#,
    ]);
    c.wait("defaults restored", || {
        let m = c.get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])?;
        (m["webhooks"][0]["failurePolicy"] == "Fail").then_some(())
    });
    // Static mode: the manager's configurations vanish (OP-22).
    c.ok(&[
        "-n",
        NS,
        "patch",
        "spod",
        "spod",
        "--type=merge",
        "-p",
        r#"{"spec":{"staticWebhookConfig":true}}"#,
    ]);
    c.wait("webhook configurations gone", || {
        c.get(&[
            "mutatingwebhookconfiguration",
            "spo-mutating-webhook-configuration",
        ])
        .is_none()
        .then_some(())
    });

    // OP-02: a SPOD elsewhere is ignored.
    c.ok(&["create", "namespace", "other"]);
    c.apply(
        &json!({"apiVersion": "security-profiles-operator.x-k8s.io/v1",
        "kind": "SecurityProfilesOperatorDaemon",
        "metadata": {"name": "spod", "namespace": "other"}, "spec": {}}),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(c.get(&["ds", "spod", "-n", "other"]).is_none(), "OP-02");
    let other = c.get(&["spod", "spod", "-n", "other"]).expect("other spod");
    assert!(other["status"]["state"].is_null(), "OP-02 untouched");

    // ARCH-02: the Lease with the upstream lock name, held by the running manager; a second
    // manager waits and does not reconcile.
    let lease = c
        .get(&["lease", "security-profiles-operator-lock", "-n", NS])
        .expect("ARCH-02 lease");
    let holder = lease["spec"]["holderIdentity"]
        .as_str()
        .expect("holder")
        .to_string();
    start_manager(&mut c, "manager2.log");
    std::thread::sleep(Duration::from_secs(3));
    let lease = c
        .get(&["lease", "security-profiles-operator-lock", "-n", NS])
        .expect("lease");
    assert_eq!(
        lease["spec"]["holderIdentity"],
        holder.as_str(),
        "ARCH-02 one leader"
    );
    assert!(!c.log("manager2.log").contains("became leader"), "ARCH-02");
    // The first manager stops: the second takes over after the lease expires.
    let mut first = c.procs.remove(0);
    // Figures for docs/src/performance.md (printed, never asserted).
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", first.id())).unwrap_or_default();
    if let Some(hwm) = status.lines().find(|l| l.starts_with("VmHWM")) {
        eprintln!("manager peak RSS after the whole scenario: {hwm}");
    }
    let _ = first.kill();
    let _ = first.wait();
    c.wait("second manager leads", || {
        c.log("manager2.log")
            .contains("became leader")
            .then_some(())
    });
}
