//! The admission webhooks through a real kube-apiserver (scripts/kube-up.sh): registered by
//! `clientConfig.url` to 127.0.0.1 with the test CA, exercised with kubectl and kube-rs.
//! One test function: the scenarios share one cluster and run in order.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{json, Value};
mod common;
use common::{free_port, kube_bin, repo, Kube};

/// The binary under test; `SPO_OPERATOR_BIN` points at a release build for measurements.
fn exe() -> String {
    std::env::var("SPO_OPERATOR_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_spo-operator").into())
}

struct Cluster {
    /// The API server (stopped after the webhook, when the field drops).
    kube: Kube,
    webhook: Option<Child>,
    port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- webhook log ---\n{}",
                std::fs::read_to_string(self.kube.dir.path().join("webhook.log"))
                    .unwrap_or_default()
            );
        }
        self.stop_webhook();
    }
}

impl Cluster {
    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        self.kube.kubectl_stdin(args, stdin)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.kubectl(args, None);
        assert!(ok, "kubectl {args:?} failed: {err}");
        out
    }

    fn apply(&self, yaml: &str) -> (bool, String) {
        let (ok, out, err) = self.kubectl(&["apply", "-f", "-"], Some(yaml));
        (ok, format!("{out}{err}"))
    }

    fn get(&self, what: &[&str]) -> Value {
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.ok(&args)).expect("json")
    }

    fn start_webhook(&mut self) {
        let d = self.kube.dir.path();
        let certs = d.join("certs");
        let log = std::fs::File::create(d.join("webhook.log")).expect("log");
        let child = Command::new(exe())
            .args([
                "webhook",
                "--bind",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
            ])
            .args(["--profile-wait-ms", "1500"])
            .arg("--tls-cert-file")
            .arg(certs.join("wh.crt"))
            .arg("--tls-key-file")
            .arg(certs.join("wh.key"))
            .env("KUBECONFIG", &self.kube.kubeconfig)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("webhook starts");
        self.webhook = Some(child);
        wait("webhook ready", || {
            let log = std::fs::read_to_string(d.join("webhook.log")).unwrap_or_default();
            log.contains("pod webhooks ready").then_some(())
        });
    }

    fn stop_webhook(&mut self) {
        if let Some(mut c) = self.webhook.take() {
            // SIGTERM: the graceful path.
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(15) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start() -> Option<Cluster> {
    let bin = kube_bin();
    if !bin.join("kube-apiserver").exists() || !bin.join("etcd").exists() {
        eprintln!(
            "SKIP webhook e2e: no test-cluster binaries in {} (run scripts/kube-build.sh; `make test` does)",
            bin.display()
        );
        return None;
    }
    let mut c = Cluster {
        kube: Kube::up("spo-wh-", false),
        webhook: None,
        port: free_port(),
    };
    let crds = repo().join("deploy/crds");
    c.ok(&["apply", "--server-side", "-k", crds.to_str().expect("utf8")]);
    c.ok(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=60s",
        "crd",
        "--all",
    ]);
    let certs = c.kube.dir.path().join("certs");
    let st = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "cd {0} && openssl req -newkey rsa:2048 -nodes -subj /CN=spo-webhook -keyout wh.key -out wh.csr 2>/dev/null \
             && printf 'subjectAltName=IP:127.0.0.1\\n' > wh.cnf \
             && openssl x509 -req -in wh.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile wh.cnf -out wh.crt 2>/dev/null",
            certs.display()
        ))
        .status()
        .expect("openssl");
    assert!(st.success());
    c.start_webhook();
    let out = Command::new(exe())
        .args(["webhook", "--print-configurations"])
        .arg(format!("https://127.0.0.1:{}", c.port))
        .arg("--ca-file")
        .arg(certs.join("ca.crt"))
        .arg("--with-exec-metadata")
        .output()
        .expect("print configurations");
    assert!(out.status.success());
    let (ok, msg) = c.apply(&String::from_utf8_lossy(&out.stdout));
    assert!(ok, "{msg}");
    Some(c)
}

fn installed_profile(c: &Cluster, name: &str) {
    let (ok, msg) = c.apply(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata: {{name: {name}}}\nspec: {{defaultAction: SCMP_ACT_LOG}}\n"
    ));
    assert!(ok, "{msg}");
    // Play the manager: the profile is installed (no daemon runs here).
    let status = json!({"status": {"status": "Installed", "localhostProfile": format!("operator/{name}.json")}});
    c.ok(&[
        "patch",
        "seccompprofile",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        &status.to_string(),
    ]);
}

fn pod_yaml(ns: &str, name: &str, image: &str, labels: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{{labels}}}}}\nspec:\n  containers:\n  - {{name: c, image: \"{image}\", securityContext: {{seccompProfile: {{type: Unconfined}}}}}}\n  - {{name: d, image: other}}\n"
    )
}

// covers: OP-41 (the rest names its IDs per section)
#[test]
fn admission_webhooks_on_a_real_api_server() {
    let Some(mut c) = start() else { return };

    // --- validation at apply time (SE-25 and the spo-* validators) --------------------------
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: bad}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - {action: SCMP_ACT_ALLOW, names: [read, opne]}\n",
    );
    assert!(!ok, "unknown syscall refused");
    assert!(msg.contains("spec.syscalls[0].names[1]"), "{msg}");
    assert!(msg.contains("profile-validation.spo.io"), "{msg}");
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata: {name: bad2}\nspec: {defaultAction: SCMP_ACT_SOMETIMES}\n",
    );
    assert!(!ok && msg.contains("spec.defaultAction"), "{msg}");
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1alpha2\nkind: RawSelinuxProfile\nmetadata: {name: raw}\nspec:\n  policy: |\n    (allow process self (file (read)))\n    ( typepermissive process)\n",
    );
    assert!(!ok && msg.contains("spec.policy"), "{msg}");
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nmetadata: {name: aa}\nspec:\n  abstract:\n    filesystem:\n      readOnlyPaths: [\"/etc/** r,\\n  /** rwx\"]\n",
    );
    assert!(!ok && msg.contains("readOnlyPaths[0]"), "{msg}");
    // The same through AdmissionReview v1beta1, as upstream registers its webhooks.
    c.ok(&[
        "patch",
        "validatingwebhookconfiguration",
        "spo-validating-webhook-configuration",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/webhooks/1/admissionReviewVersions","value":["v1beta1"]}]"#,
    ]);
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: bad3}\nspec: {defaultAction: SCMP_ACT_ERRNO, syscalls: [{action: SCMP_ACT_ALLOW, names: [opne]}]}\n",
    );
    assert!(
        !ok && msg.contains("spec.syscalls[0].names[0]"),
        "v1beta1: {msg}"
    );
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: RawSelinuxProfile\nmetadata: {name: raw-ok}\nspec: {policy: \"(allow process typepermissive (file (read)))\"}\n",
    );
    assert!(ok, "valid raw policy admitted: {msg}");

    // --- ProfileBinding (OP-28, OP-30, OP-31, OP-32, OP-34) --------------------------------
    c.ok(&["create", "namespace", "bound"]);
    c.ok(&[
        "label",
        "namespace",
        "bound",
        "spo.x-k8s.io/enable-binding=",
    ]);
    installed_profile(&c, "prof");
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileBinding\nmetadata: {name: missing, namespace: bound}\nspec:\n  profileRef: {kind: SeccompProfile, name: does-not-exist}\n  image: \"nginx:1.19\"\n---\napiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileBinding\nmetadata: {name: b, namespace: bound}\nspec:\n  profileRef: {kind: SeccompProfile, name: prof}\n  image: \"nginx:1.19\"\n  podSelector: {matchLabels: {app: web}}\n",
    );
    assert!(ok, "{msg}");
    std::thread::sleep(Duration::from_millis(500)); // the webhook's watch sees the bindings
    let (ok, msg) = c.apply(&pod_yaml("bound", "web", "nginx:1.19", "app: web"));
    assert!(ok, "{msg}");
    let pod = c.get(&["pod", "web", "-n", "bound"]);
    assert_eq!(
        pod["spec"]["containers"][0]["securityContext"]["seccompProfile"],
        json!({"type": "Localhost", "localhostProfile": "operator/prof.json"}),
        "OP-28: Unconfined overridden"
    );
    assert!(
        pod["spec"]["containers"][1]["securityContext"].is_null(),
        "OP-34"
    );
    let (ok, msg) = c.apply(&pod_yaml("bound", "db", "nginx:1.19", "app: db"));
    assert!(ok, "{msg}");
    let pod = c.get(&["pod", "db", "-n", "bound"]);
    assert_eq!(
        pod["spec"]["containers"][0]["securityContext"]["seccompProfile"]["type"], "Unconfined",
        "OP-32: selector does not match"
    );
    let b = c.get(&["profilebinding", "b", "-n", "bound"]);
    assert_eq!(
        b["status"]["activeWorkloads"],
        json!(["bound/web"]),
        "OP-31"
    );
    assert_eq!(b["metadata"]["finalizers"], json!(["active-workload-lock"]));
    c.ok(&["delete", "pod", "web", "db", "-n", "bound"]);
    let b = c.get(&["profilebinding", "b", "-n", "bound"]);
    assert!(
        b["status"]["activeWorkloads"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{b}"
    );
    assert!(b["metadata"]["finalizers"].is_null(), "{b}");

    // OP-33: a RawSelinuxProfile is never bindable (the binding is skipped, the pod admitted).
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileBinding\nmetadata: {name: raw, namespace: bound}\nspec:\n  profileRef: {kind: RawSelinuxProfile, name: raw-ok}\n  image: \"raw:1\"\n",
    );
    assert!(ok, "{msg}");
    std::thread::sleep(Duration::from_millis(300));
    let (ok, msg) = c.apply(&pod_yaml("bound", "raw", "raw:1", "x: z"));
    assert!(ok, "{msg}");
    let pod = c.get(&["pod", "raw", "-n", "bound"]);
    assert_eq!(
        pod["spec"]["containers"][0]["securityContext"]["seccompProfile"]["type"],
        "Unconfined"
    );
    assert!(pod["spec"]["containers"][0]["securityContext"]["seLinuxOptions"].is_null());
    c.ok(&["delete", "pod", "raw", "-n", "bound"]);
    c.ok(&["delete", "profilebinding", "raw", "-n", "bound"]);

    // --- a profile without status yet: the webhook waits (bounded) and then binds it -------
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: late}\nspec: {defaultAction: SCMP_ACT_LOG}\n---\napiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileBinding\nmetadata: {name: late, namespace: bound}\nspec:\n  profileRef: {kind: SeccompProfile, name: late}\n  image: \"late:1\"\n",
    );
    assert!(ok, "{msg}");
    std::thread::sleep(Duration::from_millis(500));
    let kc = c.kube.kubeconfig.clone();
    let installer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let st = Command::new("kubectl")
            .args([
                "patch",
                "seccompprofile",
                "late",
                "--subresource=status",
                "--type=merge",
                "-p",
            ])
            .arg(r#"{"status":{"status":"Installed","localhostProfile":"operator/late.json"}}"#)
            .env("KUBECONFIG", kc)
            .status()
            .expect("kubectl");
        assert!(st.success());
    });
    let (ok, msg) = c.apply(&pod_yaml("bound", "late", "late:1", "x: z"));
    installer.join().expect("installer");
    assert!(ok, "{msg}");
    let pod = c.get(&["pod", "late", "-n", "bound"]);
    assert_eq!(
        pod["spec"]["containers"][0]["securityContext"]["seccompProfile"]["localhostProfile"],
        "operator/late.json",
        "bound once the status appeared"
    );
    c.ok(&["delete", "pod", "late", "-n", "bound"]);
    // Still no status after the wait (--profile-wait-ms 1500): refused with the reason.
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: never}\nspec: {defaultAction: SCMP_ACT_LOG}\n---\napiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileBinding\nmetadata: {name: never, namespace: bound}\nspec:\n  profileRef: {kind: SeccompProfile, name: never}\n  image: \"never:1\"\n",
    );
    assert!(ok, "{msg}");
    std::thread::sleep(Duration::from_millis(500));
    let (ok, msg) = c.apply(&pod_yaml("bound", "never", "never:1", "x: z"));
    assert!(!ok && msg.contains("has no status yet"), "{msg}");
    c.ok(&["delete", "profilebinding", "never", "late", "-n", "bound"]);

    // --- 200 concurrent pod creations with generateName, through kube-rs -------------------
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    std::env::set_var("KUBECONFIG", &c.kube.kubeconfig);
    c.ok(&["create", "namespace", "plain"]);
    let (names, t_bound, t_plain) = rt.block_on(async {
        let client = kube::Client::try_default().await.expect("client");
        let create = |ns: &'static str| {
            let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
            async move {
                let start = Instant::now();
                let futs = (0..200).map(|_| {
                    let pods = pods.clone();
                    async move {
                        let p: Pod = serde_json::from_value(
                            json!({"metadata": {"generateName": "w-", "labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "c", "image": "nginx:1.19"}]}}),
                        )
                        .expect("pod");
                        pods.create(&PostParams::default(), &p).await
                    }
                });
                let res = futures::future::join_all(futs).await;
                let names: BTreeSet<String> = res
                    .into_iter()
                    .map(|r| {
                        let p = r.expect("pod created");
                        assert_eq!(
                            p.spec
                                .as_ref()
                                .and_then(|s| s.containers[0].security_context.as_ref())
                                .and_then(|s| s.seccomp_profile.as_ref())
                                .map(|s| ns == "plain"
                                    || s.localhost_profile.as_deref()
                                        == Some("operator/prof.json")),
                            if ns == "plain" { None } else { Some(true) }
                        );
                        format!("{ns}/{}", p.metadata.name.expect("name"))
                    })
                    .collect();
                (names, start.elapsed())
            }
        };
        let (plain, t_plain) = create("plain").await;
        assert_eq!(plain.len(), 200);
        let (names, t_bound) = create("bound").await;
        (names, t_bound, t_plain)
    });
    eprintln!(
        "PERF 200 concurrent pod creations: with binding webhook {t_bound:?}, without {t_plain:?}"
    );
    assert_eq!(names.len(), 200);
    let b = c.get(&["profilebinding", "b", "-n", "bound"]);
    let active: BTreeSet<String> =
        serde_json::from_value(b["status"]["activeWorkloads"].clone()).expect("list");
    assert_eq!(
        active, names,
        "OP-31: exactly the 200 real pod names, none lost"
    );
    rt.block_on(async {
        let client = kube::Client::try_default().await.expect("client");
        let pods: Api<Pod> = Api::namespaced(client, "bound");
        let futs = names.iter().map(|n| {
            let pods = pods.clone();
            let n = n.trim_start_matches("bound/").to_string();
            async move { pods.delete(&n, &DeleteParams::default()).await }
        });
        for r in futures::future::join_all(futs).await {
            r.expect("deleted");
        }
    });
    let b = c.get(&["profilebinding", "b", "-n", "bound"]);
    assert!(
        b["status"]["activeWorkloads"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "emptied"
    );
    assert!(b["metadata"]["finalizers"].is_null(), "finalizer removed");

    // --- recording (RC-04, RC-05, RC-09, RC-13; weak points 1 and 3) ------------------------
    c.ok(&["create", "namespace", "rec"]);
    c.ok(&[
        "label",
        "namespace",
        "rec",
        "spo.x-k8s.io/enable-recording=",
    ]);
    installed_profile(&c, "log-enricher-trace");
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {name: r, namespace: rec}\nspec: {kind: SeccompProfile, recorder: Logs, podSelector: {matchLabels: {app: web}}}\n",
    );
    assert!(ok, "{msg}");
    std::thread::sleep(Duration::from_millis(500));
    let out = c.kubectl(
        &["create", "-f", "-", "-o", "json"],
        Some("apiVersion: v1\nkind: Pod\nmetadata: {generateName: rec-, namespace: rec, labels: {app: web}}\nspec: {containers: [{name: app, image: x}]}\n"),
    );
    assert!(out.0, "{}", out.2);
    let pod: Value = serde_json::from_str(&out.1).expect("json");
    let name = pod["metadata"]["name"].as_str().expect("name").to_string();
    let ann = pod["metadata"]["annotations"]["io.containers.trace-logs/app"]
        .as_str()
        .expect("RC-05 annotation");
    assert!(ann.starts_with("r_app_"), "{ann}");
    assert_eq!(
        pod["spec"]["containers"][0]["securityContext"]["seccompProfile"]["localhostProfile"],
        "operator/log-enricher-trace.json",
        "RC-09 with the trace profile's real status.localhostProfile (weak point 1)"
    );
    let (ok, _, _) = c.kubectl(&["create", "-f", "-"], Some("apiVersion: v1\nkind: Pod\nmetadata: {name: op, namespace: rec, labels: {app: web, name: security-profiles-operator}}\nspec: {containers: [{name: app, image: x}]}\n"));
    assert!(ok);
    let op = c.get(&["pod", "op", "-n", "rec"]);
    assert!(
        op["metadata"]["annotations"].is_null(),
        "RC-04: operator pods excluded"
    );
    let r = c.get(&["profilerecording", "r", "-n", "rec"]);
    assert_eq!(
        r["status"]["activeWorkloads"],
        json!([name]),
        "RC-13, real generated name"
    );
    assert_eq!(
        r["metadata"]["finalizers"],
        json!(["active-seccomp-profile-recording-lock"])
    );
    // RC-11: a privileged container under a Logs recording gets a Warning event.
    let (ok, _, err) = c.kubectl(&["create", "-f", "-"], Some("apiVersion: v1\nkind: Pod\nmetadata: {name: priv, namespace: rec, labels: {app: web}}\nspec: {containers: [{name: app, image: x, securityContext: {privileged: true}}]}\n"));
    assert!(ok, "{err}");
    wait("PrivilegedContainer event", || {
        let (_, out, _) = c.kubectl(&["get", "events", "-n", "rec", "-o", "json"], None);
        out.contains("PrivilegedContainer").then_some(())
    });
    c.ok(&["delete", "pod", "priv", "-n", "rec"]);
    c.ok(&["delete", "pod", &name, "-n", "rec"]);
    let r = c.get(&["profilerecording", "r", "-n", "rec"]);
    assert!(
        r["status"]["activeWorkloads"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{r}"
    );
    assert!(
        r["metadata"]["finalizers"].is_null(),
        "weak point 3: no leak, finalizer gone"
    );

    // --- exec metadata through the API server (OP-26) --------------------------------------
    let (ok, msg) = c.apply(&pod_yaml("default", "target", "x", "a: b"));
    assert!(ok, "{msg}");
    c.ok(&[
        "patch",
        "pod",
        "target",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running"}}"#,
    ]);
    let _ = c.kubectl(&["exec", "target", "-c", "c", "--", "id"], None);
    let metrics = String::from_utf8_lossy(
        &Command::new("curl")
            .args(["-sk", &format!("https://127.0.0.1:{}/metrics", c.port)])
            .output()
            .expect("curl")
            .stdout,
    )
    .into_owned();
    assert!(
        metrics.contains("path=\"/mutate-v1-exec-metadata\""),
        "the pods/exec review reached the webhook:\n{metrics}"
    );

    // --- kubectl-debug node pods (OP-27) through the API server -----------------------------
    let (ok, msg) = c.apply(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: node-debugger-n1, namespace: default, labels: {app.kubernetes.io/managed-by: kubectl-debug}}\nspec: {containers: [{name: debugger, image: busybox}]}\n",
    );
    assert!(ok, "{msg}");
    let dbg = c.get(&["pod", "node-debugger-n1"]);
    let env = &dbg["spec"]["containers"][0]["env"][0];
    assert_eq!(env["name"], "SPO_EXEC_REQUEST_UID", "{dbg}");
    assert!(
        env["value"].as_str().is_some_and(|v| v.len() >= 32),
        "the request UID: {env}"
    );

    // --- OP-41: CRD conversion served at /convert, through the API server --------------------
    let ca = std::fs::read(c.kube.dir.path().join("certs/ca.crt")).expect("ca");
    let ca_b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(ca)
    };
    let conv = json!({"spec": {"conversion": {"strategy": "Webhook", "webhook": {
        "conversionReviewVersions": ["v1"],
        "clientConfig": {"url": format!("https://127.0.0.1:{}/convert", c.port), "caBundle": ca_b64}}}}});
    c.ok(&[
        "patch",
        "crd",
        "profilerecordings.security-profiles-operator.x-k8s.io",
        "--type=merge",
        "-p",
        &conv.to_string(),
    ]);
    let (ok, msg) = c.apply(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {name: conv, namespace: default}\nspec: {kind: SeccompProfile, recorder: Bpf, podSelector: {matchLabels: {app: conv}}}\n",
    );
    assert!(ok, "{msg}");
    let legacy = wait("the v1alpha1 view, converted by the webhook", || {
        let (ok, out, _) = c.kubectl(
            &[
                "get",
                "profilerecordings.v1alpha1.security-profiles-operator.x-k8s.io",
                "conv",
                "-o",
                "json",
            ],
            None,
        );
        let v: Value = serde_json::from_str(&out).ok()?;
        (ok && v["spec"]["recorder"] == "bpf").then_some(v)
    });
    assert_eq!(
        legacy["apiVersion"],
        "security-profiles-operator.x-k8s.io/v1alpha1"
    );

    // --- failure behaviour: the webhook down with Fail blocks only selected namespaces -----
    c.stop_webhook();
    let (ok, msg) = c.apply(&pod_yaml("bound", "blocked", "nginx:1.19", "app: web"));
    assert!(
        !ok,
        "binding namespace blocked while the webhook is down: {msg}"
    );
    let (ok, msg) = c.apply(&pod_yaml("plain", "free", "nginx:1.19", "app: web"));
    assert!(ok, "other namespaces unaffected: {msg}");
    let (ok, msg) = c.apply(&pod_yaml(
        "bound",
        "operator",
        "x",
        "name: security-profiles-operator-webhook",
    ));
    assert!(
        ok,
        "the operator's own pods are excluded by the objectSelector: {msg}"
    );
}
