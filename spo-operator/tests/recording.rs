//! Profile recording in the cluster, end to end (recording.md §3, §5): a real kube-apiserver
//! (scripts/kube-up.sh), the daemon with `--with-recording` (eBPF) and the manager (merger)
//! as processes, and the test playing kubelet and container runtime: real processes
//! (tests/programs/rec-exerciser.c) in cgroups named as containerd names them
//! (`…/cri-containerd-<64 hex>.scope`), Pod objects with `spec.nodeName` whose status is
//! patched with those container IDs, the recording annotations set as the recording webhook
//! sets them. One test function: the scenarios share one cluster.
//!
//! The daemon and the manager run under their own service accounts (`spod`,
//! `security-profiles-operator`) with exactly the RBAC of `deploy/base/rbac.yaml`: real
//! tokens from the TokenRequest API against an apiserver with `--authorization-mode=RBAC`,
//! so every scenario also proves that RBAC suffices for recording and merging.
//!
//! Needs root, cgroup v2 and kernel BTF (the eBPF recorder); skips with the reason otherwise.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
mod common;
use common::{free_port, kube_bin, repo, Kube};

const NODE: &str = "rec-node";
const NS: &str = "rec";

fn cgroup2_mount() -> Option<PathBuf> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mi.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        if !right.starts_with("cgroup2 ") {
            return None;
        }
        left.split_whitespace().nth(4).map(PathBuf::from)
    })
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// A "container": a cgroup as containerd names it and the exerciser running in it.
struct Ctr {
    id: String,
    scope: PathBuf,
    dir: PathBuf,
    child: Child,
}

struct Cluster {
    /// The API server (stopped after the processes below, when the field drops).
    kube: Kube,
    cg_root: PathBuf,
    daemon: Option<Child>,
    manager: Option<Child>,
    ctrs: Vec<Ctr>,
    health: u16,
    services: Vec<Child>,
}

fn rmdir_tree(p: &Path) {
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                rmdir_tree(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(p);
}

impl std::ops::Deref for Cluster {
    type Target = Kube;
    fn deref(&self) -> &Kube {
        &self.kube
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let keep = std::env::temp_dir().join("spo-recording-last-failure");
            let _ = std::fs::create_dir_all(&keep);
            for f in ["daemon.log", "daemon2.log", "manager.log", "apiserver.log"] {
                let _ = std::fs::copy(self.kube.dir.path().join(f), keep.join(f));
            }
            eprintln!("logs of the failed run kept in {}", keep.display());
        }
        for c in &mut self.ctrs {
            let _ = c.child.kill();
            let _ = c.child.wait();
        }
        for p in self.services.iter_mut().chain(
            [self.daemon.as_mut(), self.manager.as_mut()]
                .into_iter()
                .flatten(),
        ) {
            let _ = p.kill();
            let _ = p.wait();
        }
        rmdir_tree(&self.cg_root);
    }
}

impl Cluster {
    fn create(&self, yaml: &str) -> Value {
        let f = self.kube.dir.path().join("m.yaml");
        std::fs::write(&f, yaml).expect("write manifest");
        let out = self.ok(&["create", "-f", f.to_str().expect("utf8"), "-o", "json"]);
        serde_json::from_str(&out).expect("json")
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for f in ["daemon.log", "daemon2.log", "manager.log"] {
            let t = std::fs::read_to_string(self.kube.dir.path().join(f)).unwrap_or_default();
            let lines: Vec<&str> = t.lines().collect();
            s.push_str(&format!(
                "--- {f} ---\n{}\n",
                lines[lines.len().saturating_sub(30)..].join("\n")
            ));
        }
        s
    }

    fn start_daemon(&mut self, log: &str) -> u32 {
        let exe = env!("CARGO_BIN_EXE_spo-operator");
        let child = Command::new(exe)
            .args([
                "daemon",
                "--health-addr",
                &format!("127.0.0.1:{}", self.health),
            ])
            .args(["--with-recording", "true", "--recording-state"])
            .arg(self.kube.dir.path().join("recorder-state.json"))
            .arg("--recording-cgroup-root")
            .arg(&self.cg_root)
            .arg("--recording-audit-log")
            .arg(self.kube.dir.path().join("audit.log"))
            .env("KUBECONFIG", self.kube.dir.path().join("spod.kubeconfig"))
            .env("NODE_NAME", NODE)
            .env("KUBELET_DIR", self.kube.dir.path().join("kubelet"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.kube.dir.path().join(log)).expect("log"))
            .spawn()
            .expect("daemon starts");
        let pid = child.id();
        self.daemon = Some(child);
        pid
    }

    /// Creates a cgroup named as containerd names a container's and runs the exerciser in it.
    fn container(&mut self, pod_slice: &str, n: usize, extra: u32) -> usize {
        let id: String = (0..4)
            .map(|i| format!("{:016x}", rand_u64() ^ ((n as u64) << 40) ^ i))
            .collect();
        let scope = self
            .cg_root
            .join("kubepods.slice/kubepods-besteffort.slice")
            .join(format!("kubepods-besteffort-pod{pod_slice}.slice"))
            .join(format!("cri-containerd-{id}.scope"));
        std::fs::create_dir_all(&scope).expect("container cgroup");
        let dir = self.kube.dir.path().join(format!("ctr-{n}"));
        std::fs::create_dir_all(&dir).expect("ctr dir");
        let child = Command::new(exerciser())
            .arg(&dir)
            .arg(extra.to_string())
            .spawn()
            .expect("exerciser starts");
        std::fs::write(scope.join("cgroup.procs"), child.id().to_string())
            .expect("moving the exerciser into its container cgroup");
        self.ctrs.push(Ctr {
            id,
            scope,
            dir,
            child,
        });
        self.ctrs.len() - 1
    }

    /// Plays kubelet: reports the container running with its ID.
    fn report_running(&self, pod: &str, ctr: usize) {
        let patch = serde_json::json!({"status": {"phase": "Running", "hostIP": "127.0.0.1",
            "containerStatuses": [{"name": "ctr", "containerID":
                format!("containerd://{}", self.ctrs[ctr].id), "image": "busybox",
                "imageID": "", "ready": true, "restartCount": 0,
                "state": {"running": {}}}]}});
        self.ok(&[
            "patch",
            "pod",
            pod,
            "-n",
            NS,
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch.to_string(),
        ]);
    }
}

fn rand_u64() -> u64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    n.wrapping_mul(6364136223846793005) ^ u64::from(std::process::id())
}

fn exerciser() -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/rec-exerciser.c");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("spo-rec-exerciser");
    let st = Command::new("cc")
        .args(["-O1", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("cc runs");
    assert!(st.success(), "compiling {}", src.display());
    out
}

fn wait_for<T>(what: &str, c: &Cluster, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > Duration::from_secs(60) {
            panic!("timed out waiting for {what}\n{}", c.logs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start() -> Option<Cluster> {
    let bin = kube_bin();
    if !bin.join("kube-apiserver").exists() || !bin.join("etcd").exists() {
        eprintln!(
            "SKIP recording e2e: no test-cluster binaries in {}",
            bin.display()
        );
        return None;
    }
    if !is_root() {
        eprintln!("SKIP recording e2e: the eBPF recorder and cgroups need root");
        return None;
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("SKIP recording e2e: the kernel has no BTF (/sys/kernel/btf/vmlinux)");
        return None;
    }
    let Some(mount) = cgroup2_mount() else {
        eprintln!("SKIP recording e2e: no cgroup v2 mount");
        return None;
    };
    let cg_root = mount.join(format!("spo-rectest-{}", std::process::id()));
    let mut c = Cluster {
        kube: Kube::up("spo-rec-", false),
        cg_root,
        daemon: None,
        manager: None,
        ctrs: Vec::new(),
        health: free_port(),
        services: Vec::new(),
    };
    std::fs::create_dir_all(&c.cg_root).expect("test cgroup root");
    std::fs::write(c.kube.dir.path().join("audit.log"), b"").expect("audit log");
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
    // Least privilege as deployed: the service accounts and roles of deploy/base/rbac.yaml.
    c.ok(&["create", "namespace", "security-profiles-operator"]);
    let rbac = repo().join("deploy/base/rbac.yaml");
    c.ok(&["apply", "-f", rbac.to_str().expect("utf8")]);
    for sa in ["spod", "security-profiles-operator"] {
        sa_kubeconfig(&c, sa);
    }
    c.start_daemon("daemon.log");
    let manager = Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        // Aggregation and the merger only: this cluster has no operator namespace for the
        // leader Lease or the SPOD.
        .args([
            "manager",
            "--node-report-timeout",
            "30",
            "--leader-elect",
            "false",
            "--with-spod-controller",
            "false",
        ])
        .env(
            "KUBECONFIG",
            c.kube
                .dir
                .path()
                .join("security-profiles-operator.kubeconfig"),
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(c.kube.dir.path().join("manager.log")).expect("log"))
        .spawn()
        .expect("manager starts");
    c.manager = Some(manager);
    Some(c)
}

/// Writes `<sa>.kubeconfig`: the admin kubeconfig with a TokenRequest token of service
/// account `security-profiles-operator/<sa>` instead of the admin token.
fn sa_kubeconfig(c: &Cluster, sa: &str) {
    let token = c
        .ok(&[
            "create",
            "token",
            sa,
            "-n",
            "security-profiles-operator",
            "--duration=2h",
        ])
        .trim()
        .to_string();
    assert!(!token.is_empty(), "token of {sa}");
    let admin = std::fs::read_to_string(&c.kube.kubeconfig).expect("admin kubeconfig");
    assert!(admin.contains("{token: admin-token}"), "{admin}");
    let kc = admin.replace("{token: admin-token}", &format!("{{token: \"{token}\"}}"));
    std::fs::write(c.kube.dir.path().join(format!("{sa}.kubeconfig")), kc).expect("kubeconfig");
    // The token really is that service account's, restricted by RBAC.
    let (ok, _, err) = c.kubectl(&[
        "--kubeconfig",
        c.kube
            .dir
            .path()
            .join(format!("{sa}.kubeconfig"))
            .to_str()
            .expect("utf8"),
        "get",
        "secrets",
        "-A",
    ]);
    assert!(
        !ok && err.contains("forbidden"),
        "{sa} must not read secrets: {err}"
    );
}

fn pod_yaml(name: Option<&str>, generate: Option<&str>, app: &str, annotation: &str) -> String {
    pod_yaml_with(
        name,
        generate,
        app,
        "io.containers.trace-bpf/ctr",
        annotation,
    )
}

fn pod_yaml_with(
    name: Option<&str>,
    generate: Option<&str>,
    app: &str,
    key: &str,
    annotation: &str,
) -> String {
    let meta = match (name, generate) {
        (Some(n), _) => format!("name: {n}"),
        (None, Some(g)) => format!("generateName: {g}"),
        _ => unreachable!(),
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  {meta}\n  namespace: {NS}\n  labels: {{app: {app}}}\n  annotations:\n    {key}: {annotation}\nspec:\n  nodeName: {NODE}\n  containers:\n  - name: ctr\n    image: busybox\n"
    )
}

fn names_of(profile: &Value) -> Vec<String> {
    profile["spec"]["syscalls"][0]["names"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn in_cgroup_of_daemon(pid: u32, daemon: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .is_ok_and(|s| s.contains(&format!("/spo-record-{daemon}-")))
}

fn touch(p: &Path) {
    std::fs::write(p, b"").expect("touch");
}

// covers: RC-14 (own node, pods recorded whatever their phase when first seen — weak point 6),
// RC-15, RC-16, RC-17, RC-19, RC-22, RC-23, RC-24, RC-25, RC-38, weak points 5, 6, 7, 12
#[test]
fn recording_in_the_cluster_bpf_restart_and_merge() {
    let Some(mut c) = start() else {
        return;
    };
    c.ok(&["create", "namespace", NS]);
    c.ok(&["label", "namespace", NS, "spo.x-k8s.io/enable-recording="]);
    c.create(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {{name: single, namespace: {NS}}}\nspec: {{kind: SeccompProfile, recorder: Bpf, podSelector: {{matchLabels: {{app: single}}}}}}\n"
    ));
    c.create(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {{name: merged, namespace: {NS}}}\nspec: {{kind: SeccompProfile, recorder: Bpf, mergeStrategy: Containers, podSelector: {{matchLabels: {{app: web}}}}}}\n"
    ));

    // One plain pod and three replicas (generateName), each a container of its own.
    let mut pods = Vec::new();
    let a = c.container("single", 0, 0);
    c.create(&pod_yaml(
        Some("single"),
        None,
        "single",
        "single_ctr_abcde_1700000000",
    ));
    c.report_running("single", a);
    pods.push(("single".to_string(), a));
    for i in 1..=3u32 {
        let k = c.container(&format!("web{i}"), i as usize, i);
        let pod = c.create(&pod_yaml(
            None,
            Some("web-"),
            "web",
            "merged_ctr_fghij_1700000000",
        ));
        let name = pod["metadata"]["name"].as_str().expect("name").to_string();
        c.report_running(&name, k);
        pods.push((name, k));
    }
    let daemon = c.daemon.as_ref().expect("daemon").id();
    for (pod, k) in &pods {
        let pid = c.ctrs[*k].child.id();
        wait_for(&format!("the recorder to attach to {pod}"), &c, || {
            in_cgroup_of_daemon(pid, daemon).then_some(())
        });
    }
    for ctr in &c.ctrs {
        touch(&ctr.dir.join("go1"));
    }
    for k in 0..c.ctrs.len() {
        let done = c.ctrs[k].dir.join("done1");
        wait_for("phase 1", &c, || done.exists().then_some(()));
    }

    // Daemon restart mid-recording (weak point 6): phase 1 must survive.
    let old = c.daemon.take().expect("daemon");
    let st = Command::new("kill")
        .args(["-TERM", &old.id().to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    let mut old = old;
    let status = old.wait().expect("daemon exits");
    assert!(status.success(), "daemon exit on SIGTERM: {status:?}");
    let state = std::fs::read_to_string(c.kube.dir.path().join("recorder-state.json"))
        .expect("state file written");
    assert!(
        state.contains("getppid"),
        "phase 1 flushed to disk: {state}"
    );
    let daemon = c.start_daemon("daemon2.log");
    for (pod, k) in &pods {
        let pid = c.ctrs[*k].child.id();
        wait_for(
            &format!("the restarted recorder to resume {pod}"),
            &c,
            || in_cgroup_of_daemon(pid, daemon).then_some(()),
        );
    }
    for ctr in &c.ctrs {
        touch(&ctr.dir.join("go2"));
    }
    for k in 0..c.ctrs.len() {
        let done = c.ctrs[k].dir.join("done2");
        wait_for("phase 2", &c, || done.exists().then_some(()));
        touch(&c.ctrs[k].dir.join("stop"));
    }
    for ctr in &mut c.ctrs {
        assert!(ctr.child.wait().expect("exerciser").success());
    }

    // The single pod's container restarts: a new container ID in the status; what the first
    // instance made is kept and the new instance is followed.
    let restarted = c.container("single-restart", 50, 3);
    c.report_running("single", restarted);
    let pid = c.ctrs[restarted].child.id();
    wait_for("the recorder to follow the restarted container", &c, || {
        in_cgroup_of_daemon(pid, daemon).then_some(())
    });
    for f in ["go1", "go2", "stop"] {
        touch(&c.ctrs[restarted].dir.join(f));
    }
    assert!(c.ctrs[restarted].child.wait().expect("exerciser").success());

    // Pod deletion (grace 0: no kubelet to confirm) → profiles.
    let deleted = Instant::now();
    c.ok(&[
        "delete",
        "pod",
        "single",
        "-n",
        NS,
        "--grace-period=0",
        "--force",
    ]);
    let single = wait_for("SeccompProfile single-ctr", &c, || {
        c.get(&["seccompprofile", "single-ctr"])
    });
    eprintln!(
        "figure: pod deletion → profile object: {:?}",
        deleted.elapsed()
    );
    let names = names_of(&single);
    for want in [
        "getppid",
        "sched_getscheduler",
        "getpriority",
        "times",
        "sysinfo",
    ] {
        assert!(
            names.contains(&want.to_string()),
            "{want} missing: {names:?}"
        );
    }
    assert!(
        names.contains(&"getitimer".to_string()),
        "the restarted instance's getitimer: {names:?}"
    );
    for not in ["getresuid", "getresgid"] {
        assert!(
            !names.contains(&not.to_string()),
            "{not} was not made: {names:?}"
        );
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "sorted and unique (weak point 7)");
    assert_eq!(single["spec"]["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(single["spec"]["syscalls"][0]["action"], "SCMP_ACT_ALLOW");
    let labels = &single["metadata"]["labels"];
    assert_eq!(labels["spo.x-k8s.io/recording-id"], "single");
    assert_eq!(labels["spo.x-k8s.io/container-id"], "ctr");
    assert_eq!(labels["spo.x-k8s.io/recording-namespace"], NS);
    assert!(labels.get("spo.x-k8s.io/partial").is_none());
    // The recording cgroup is gone with the recording.
    let scope = c.ctrs[a].scope.clone();
    wait_for("the recording cgroup to be removed", &c, || {
        let left = std::fs::read_dir(&scope)
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("spo-record"))
            })
            .unwrap_or(false);
        (!left).then_some(())
    });

    // Three replicas → three partial profiles named by the generateName suffix.
    // Two replicas deleted, the third one Succeeded (RC-15: both end a recording).
    for (pod, _) in &pods[1..3] {
        c.ok(&[
            "delete",
            "pod",
            pod,
            "-n",
            NS,
            "--grace-period=0",
            "--force",
        ]);
    }
    c.ok(&[
        "patch",
        "pod",
        &pods[3].0,
        "-n",
        NS,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Succeeded"}}"#,
    ]);
    let mut partials = Vec::new();
    for (pod, _) in &pods[1..] {
        let name = format!("merged-ctr-{}", pod.trim_start_matches("web-"));
        let p = wait_for(&format!("partial {name}"), &c, || {
            c.get(&["seccompprofile", &name])
        });
        assert_eq!(p["metadata"]["labels"]["spo.x-k8s.io/partial"], "true");
        partials.push(name);
    }
    let rec = c
        .get(&["profilerecording", "merged", "-n", NS])
        .expect("recording");
    assert!(
        rec["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == "spo.x-k8s.io/has-unmerged-profiles")),
        "finalizer: {rec}"
    );

    // Deleting the recording merges (RC-23..RC-25) and lets it go.
    c.ok(&[
        "delete",
        "profilerecording",
        "merged",
        "-n",
        NS,
        "--wait=false",
    ]);
    let merged = wait_for("merged profile merged-ctr", &c, || {
        c.get(&["seccompprofile", "merged-ctr"])
    });
    let names = names_of(&merged);
    for want in [
        "getppid",
        "sched_getscheduler",
        "times",
        "sysinfo",
        "getresuid",
        "getresgid",
        "getitimer",
    ] {
        assert!(
            names.contains(&want.to_string()),
            "{want} missing: {names:?}"
        );
    }
    let cov: Value = serde_json::from_str(
        merged["metadata"]["annotations"]["spo.x-k8s.io/syscall-coverage"]
            .as_str()
            .expect("coverage annotation"),
    )
    .expect("coverage json");
    assert_eq!(cov["version"], "v1");
    assert_eq!(cov["total"], 3);
    assert_eq!(cov["syscalls"]["getresuid"], 1);
    assert_eq!(cov["syscalls"]["getppid"], 3);
    assert!(merged["metadata"]["labels"]
        .get("spo.x-k8s.io/partial")
        .is_none());
    for name in &partials {
        wait_for(&format!("partial {name} deleted"), &c, || {
            c.get(&["seccompprofile", name]).is_none().then_some(())
        });
    }
    wait_for("the recording to go away", &c, || {
        c.get(&["profilerecording", "merged", "-n", NS])
            .is_none()
            .then_some(())
    });

    selinux_from_avcs(&mut c);
    seccomp_from_logs(&mut c);
    no_partial_profiles(&c);
    apparmor_from_bpf(&mut c);
    metrics_scraped(&c);
    with_the_webhook(&mut c);
    // deploy/base/rbac.yaml sufficed: no request of the daemon or the manager was refused.
    for f in ["daemon.log", "daemon2.log", "manager.log"] {
        let log = std::fs::read_to_string(c.kube.dir.path().join(f)).unwrap_or_default();
        assert!(
            !log.to_lowercase().contains("forbidden"),
            "{f}: a request was refused by RBAC:\n{log}"
        );
    }
}

/// Starts `spo-operator webhook` on a free port with a certificate of the test CA and
/// registers its configurations, as tests/webhook_e2e.rs does.
fn start_webhook(c: &mut Cluster) {
    let d = c.kube.dir.path().to_path_buf();
    let certs = d.join("certs");
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
    assert!(st.success(), "webhook certificate");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        .args([
            "webhook",
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .arg("--tls-cert-file")
        .arg(certs.join("wh.crt"))
        .arg("--tls-key-file")
        .arg(certs.join("wh.key"))
        .env("KUBECONFIG", &c.kube.kubeconfig)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.join("webhook.log")).expect("log"))
        .spawn()
        .expect("webhook starts");
    c.services.push(child);
    wait_for("the webhook to be ready", c, || {
        std::fs::read_to_string(d.join("webhook.log"))
            .ok()
            .filter(|l| l.contains("pod webhooks ready"))
    });
    let out = Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        .args(["webhook", "--print-configurations"])
        .arg(format!("https://127.0.0.1:{port}"))
        .arg("--ca-file")
        .arg(certs.join("ca.crt"))
        .output()
        .expect("print configurations");
    assert!(out.status.success());
    let f = d.join("webhooks.yaml");
    std::fs::write(&f, &out.stdout).expect("write");
    c.ok(&["apply", "-f", f.to_str().expect("utf8")]);
}

fn pod_without_annotations(generate: &str, app: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: {generate}\n  namespace: {NS}\n  labels: {{app: {app}}}\nspec:\n  nodeName: {NODE}\n  containers:\n  - name: ctr\n    image: busybox\n"
    )
}

// covers: RC-05, RC-09 with the daemon's trace profile (weak point 1), RC-23, RC-24, RC-25 —
// together with the real recording webhook (#14): the manager's `log-enricher-trace` object
// is installed by the daemon where the webhook's injected path points; pods created without
// annotations are annotated by the webhook, recorded by the daemon, merged by the manager.
fn with_the_webhook(c: &mut Cluster) {
    start_webhook(c);

    // The trace profile exactly as the manager's SPOD controller creates it.
    let trace = spo_operator::manager::desired::log_enricher_trace();
    let f = c.kube.dir.path().join("trace.json");
    std::fs::write(&f, trace.to_string()).expect("write");
    c.ok(&["apply", "-f", f.to_str().expect("utf8")]);
    let local = wait_for("log-enricher-trace installed", c, || {
        let p = c.get(&["seccompprofile", "log-enricher-trace"])?;
        p["status"]["localhostProfile"].as_str().map(str::to_string)
    });
    let file = c.kube.dir.path().join("kubelet/seccomp").join(&local);
    let installed = wait_for("the trace profile file", c, || {
        std::fs::read_to_string(&file).ok()
    });
    let v: Value = serde_json::from_str(&installed).expect("installed JSON");
    assert_eq!(v["defaultAction"], "SCMP_ACT_LOG", "{installed}");

    // A Logs recording: the webhook injects the path of that installed file.
    c.create(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {{name: traced, namespace: {NS}}}\nspec: {{kind: SeccompProfile, recorder: Logs, podSelector: {{matchLabels: {{app: traced}}}}}}\n"
    ));
    let pod = c.create(&pod_without_annotations("traced-", "traced"));
    let sp = &pod["spec"]["containers"][0]["securityContext"]["seccompProfile"];
    assert_eq!(sp["type"], "Localhost", "{pod}");
    assert_eq!(sp["localhostProfile"], local.as_str(), "{pod}");
    let injected = c
        .kube
        .dir
        .path()
        .join("kubelet/seccomp")
        .join(sp["localhostProfile"].as_str().expect("path"));
    assert!(injected.is_file(), "{} is installed", injected.display());
    assert!(
        pod["metadata"]["annotations"]["io.containers.trace-logs/ctr"]
            .as_str()
            .is_some_and(|a| a.starts_with("traced_ctr_"))
    );
    let name = pod["metadata"]["name"].as_str().expect("name").to_string();
    c.ok(&[
        "delete",
        "pod",
        &name,
        "-n",
        NS,
        "--grace-period=0",
        "--force",
    ]);

    // A Bpf recording with Containers merge: two replicas annotated by the webhook alone.
    c.create(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {{name: joint, namespace: {NS}}}\nspec: {{kind: SeccompProfile, recorder: Bpf, mergeStrategy: Containers, podSelector: {{matchLabels: {{app: joint}}}}}}\n"
    ));
    let mut pods = Vec::new();
    for i in 1..=2u32 {
        let pod = c.create(&pod_without_annotations("joint-", "joint"));
        let ann = pod["metadata"]["annotations"]["io.containers.trace-bpf/ctr"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let parts: Vec<&str> = ann.split('_').collect();
        assert!(
            parts.len() == 4 && parts[0] == "joint" && parts[1] == "ctr" && parts[2].len() == 5,
            "annotation set by the webhook: {pod}"
        );
        let name = pod["metadata"]["name"].as_str().expect("name").to_string();
        let k = c.container(&format!("joint{i}"), 60 + i as usize, i);
        c.report_running(&name, k);
        pods.push((name, k));
    }
    let daemon = c.daemon.as_ref().expect("daemon").id();
    for (pod, k) in &pods {
        let pid = c.ctrs[*k].child.id();
        wait_for(&format!("the recorder to attach to {pod}"), c, || {
            in_cgroup_of_daemon(pid, daemon).then_some(())
        });
    }
    for (_, k) in &pods {
        let dir = c.ctrs[*k].dir.clone();
        for (go, done) in [("go1", "done1"), ("go2", "done2")] {
            touch(&dir.join(go));
            wait_for(done, c, || dir.join(done).exists().then_some(()));
        }
        touch(&dir.join("stop"));
        assert!(c.ctrs[*k].child.wait().expect("exerciser").success());
    }
    for (pod, _) in &pods {
        c.ok(&[
            "delete",
            "pod",
            pod,
            "-n",
            NS,
            "--grace-period=0",
            "--force",
        ]);
        let partial = format!("joint-ctr-{}", pod.trim_start_matches("joint-"));
        wait_for(&format!("partial {partial}"), c, || {
            c.get(&["seccompprofile", &partial])
        });
    }
    c.ok(&[
        "delete",
        "profilerecording",
        "joint",
        "-n",
        NS,
        "--wait=false",
    ]);
    let merged = wait_for("merged profile joint-ctr", c, || {
        c.get(&["seccompprofile", "joint-ctr"])
    });
    let names = names_of(&merged);
    for want in ["getppid", "times", "sysinfo", "getresuid", "getresgid"] {
        assert!(names.contains(&want.to_string()), "{want}: {names:?}");
    }
    let cov: Value = serde_json::from_str(
        merged["metadata"]["annotations"]["spo.x-k8s.io/syscall-coverage"]
            .as_str()
            .expect("coverage"),
    )
    .expect("coverage json");
    assert_eq!(cov["total"], 2, "{cov}");
    assert_eq!(cov["syscalls"]["getresuid"], 1, "{cov}");
    wait_for("the joint recording to go away", c, || {
        c.get(&["profilerecording", "joint", "-n", NS])
            .is_none()
            .then_some(())
    });
}

/// GET `path` from the daemon's health/metrics listener.
fn scrape(port: u16, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics listener");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("response");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out
}

/// The value of the sample line starting with `prefix` (labels included).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

// covers: RC-40 (`seccomp_profile_bpf_total{node,mount_namespace,profile}`), RC-31 (the
// enricher's `seccomp_profile_audit_total`), the enricher and recorder counters — scraped
// from the running daemon's `/metrics-spod`.
fn metrics_scraped(c: &Cluster) {
    let text = scrape(c.health, "/metrics-spod");
    let mntns = std::fs::read_link("/proc/self/ns/mnt")
        .expect("mntns")
        .to_string_lossy()
        .trim_start_matches("mnt:[")
        .trim_end_matches(']')
        .to_string();
    let p = "security_profiles_operator_";
    let bpf = format!(
        "{p}seccomp_profile_bpf_total{{node=\"{NODE}\",mount_namespace=\"{mntns}\",profile=\"aa-ctr\"}}"
    );
    assert!(
        sample(&text, &bpf).is_some_and(|v| v >= 1.0),
        "{bpf}\n{text}"
    );
    // The restarted daemon re-mapped the single pod's restarted container too.
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{p}seccomp_profile_bpf_total"))
                && l.contains("profile=\"single-ctr\"")),
        "{text}"
    );
    let audit = format!(
        "{p}seccomp_profile_audit_total{{node=\"{NODE}\",namespace=\"{NS}\",pod=\"db-1\",container=\"ctr\",syscall=\"getpid\"}}"
    );
    assert_eq!(sample(&text, &audit), Some(1.0), "{audit}\n{text}");
    let ev = |e: &str| {
        sample(
            &text,
            &format!("{p}enricher_events_total{{enricher=\"log\",event=\"{e}\"}}"),
        )
        .unwrap_or(0.0)
    };
    assert!(ev("lines") >= 4.0, "{text}");
    assert!(ev("seccomp") >= 4.0, "{text}");
    let rec = |e: &str| {
        sample(
            &text,
            &format!("{p}bpf_recorder_events_total{{event=\"{e}\"}}"),
        )
        .unwrap_or(0.0)
    };
    assert!(rec("recordings_started") >= 2.0, "{text}");
    assert!(rec("profiles_written") >= 3.0, "{text}");
    assert_eq!(rec("dropped"), 0.0, "{text}");
}

// covers: RC-21 (AppArmor recorded with eBPF raw tracepoints, no BPF LSM), RC-06
// (`io.containers.trace-bpf-apparmor/` annotation), RC-17, RC-18
fn apparmor_from_bpf(c: &mut Cluster) {
    c.create(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {{name: aa, namespace: {NS}}}\nspec: {{kind: AppArmorProfile, recorder: Bpf, disableProfileAfterRecording: true, podSelector: {{matchLabels: {{app: aa}}}}}}\n"
    ));
    let k = c.container("aa", 30, 4);
    std::fs::write(c.ctrs[k].dir.join("aa-read"), b"x").expect("aa-read");
    c.create(&pod_yaml_with(
        Some("aa"),
        None,
        "aa",
        "io.containers.trace-bpf-apparmor/ctr",
        "aa_ctr_klmno_1700000000",
    ));
    c.report_running("aa", k);
    let daemon = c.daemon.as_ref().expect("daemon").id();
    let pid = c.ctrs[k].child.id();
    wait_for("the recorder to attach to the AppArmor pod", c, || {
        in_cgroup_of_daemon(pid, daemon).then_some(())
    });
    let dir = c.ctrs[k].dir.clone();
    for (go, done) in [("go1", "done1"), ("go2", "done2")] {
        touch(&dir.join(go));
        wait_for(done, c, || dir.join(done).exists().then_some(()));
    }
    touch(&dir.join("stop"));
    assert!(c.ctrs[k].child.wait().expect("exerciser").success());
    c.ok(&[
        "delete",
        "pod",
        "aa",
        "-n",
        NS,
        "--grace-period=0",
        "--force",
    ]);
    let p = wait_for("AppArmorProfile aa-ctr", c, || {
        c.get(&["apparmorprofile", "aa-ctr"])
    });
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let a = &p["spec"]["abstract"];
    let d = dir.display();
    let ro = strings(&a["filesystem"]["readOnlyPaths"]);
    let wo = strings(&a["filesystem"]["writeOnlyPaths"]);
    let rw = strings(&a["filesystem"]["readWritePaths"]);
    assert!(ro.contains(&format!("{d}/aa-read")), "{p}");
    assert!(rw.contains(&format!("{d}/aa-rw")), "{p}");
    for f in ["done1", "done2"] {
        assert!(wo.contains(&format!("{d}/{f}")), "{f}: {p}");
    }
    assert_eq!(
        strings(&a["executable"]["allowedExecutables"]),
        ["/usr/bin/true"],
        "only what ran after the recorder attached: {p}"
    );
    assert_eq!(a["network"]["allowedProtocols"]["allowTcp"], true, "{p}");
    assert_eq!(a["network"]["allowedProtocols"]["allowUdp"], false, "{p}");
    let caps = strings(&a["capability"]["allowedCapabilities"]);
    assert!(caps.contains(&"sys_nice".to_string()), "{p}");
    assert_eq!(p["spec"]["state"], "Disabled", "RC-18: {p}");
    let labels = &p["metadata"]["labels"];
    assert_eq!(labels["spo.x-k8s.io/recording-id"], "aa");
    assert_eq!(labels["spo.x-k8s.io/container-id"], "ctr");
    assert_eq!(labels["spo.x-k8s.io/recording-namespace"], NS);
}

// covers: RC-16 (StatefulSet ordinal, weak point 5), RC-18, RC-19 (Logs), RC-28 (type=SECCOMP and type=1326 forms), weak point 7 (sorted)
fn seccomp_from_logs(c: &mut Cluster) {
    c.create(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {{name: logsec, namespace: {NS}}}\nspec: {{kind: SeccompProfile, recorder: Logs, disableProfileAfterRecording: true, podSelector: {{matchLabels: {{app: logsec}}}}}}\n"
    ));
    let k = c.container("logsec", 10, 0);
    // A StatefulSet replica (no generateName): named by its ordinal (weak point 5).
    c.create(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: db-1\n  namespace: {NS}\n  labels: {{app: logsec}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: 6f1d3a52-0000-4000-8000-000000000001}}]\n  annotations:\n    io.containers.trace-logs/ctr: logsec_ctr_pqrst_1700000000\nspec:\n  nodeName: {NODE}\n  containers:\n  - name: ctr\n    image: busybox\n"
    ));
    c.report_running("db-1", k);
    let pid = c.ctrs[k].child.id();
    let line = |id: u32, sc: u32| {
        format!(
            "type=SECCOMP msg=audit(1666691796.000:{id}): auid=4294967295 uid=0 gid=0 ses=4294967295 pid={pid} comm=\"x\" exe=\"/bin/x\" sig=0 arch=c000003e syscall={sc} compat=0 ip=0x7f62dce3d4c7 code=0x7ffc0000\n"
        )
    };
    // write(1), read(0), getpid(39), read again; one in the kernel-log form.
    let text = format!(
        "{}{}{}audit: type=1326 audit(1666691796.004:2004): auid=4294967295 uid=0 gid=0 ses=4294967295 pid={pid} comm=\"sh\" exe=\"/bin/busybox\" sig=0 arch=c000003e syscall=0 compat=0 ip=0x7fce771ae923 code=0x7ffc0000\n",
        line(2001, 1),
        line(2002, 0),
        line(2003, 39)
    );
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(c.kube.dir.path().join("audit.log"))
        .expect("audit log");
    f.write_all(text.as_bytes()).expect("append");
    drop(f);
    let state = c.kube.dir.path().join("recorder-state.json");
    wait_for("the seccomp lines to be attributed", c, || {
        std::fs::read_to_string(&state)
            .ok()
            .filter(|s| s.contains("logsec") && s.contains("getpid"))
    });
    c.ok(&[
        "delete",
        "pod",
        "db-1",
        "-n",
        NS,
        "--grace-period=0",
        "--force",
    ]);
    let p = wait_for("SeccompProfile logsec-ctr-1", c, || {
        c.get(&["seccompprofile", "logsec-ctr-1"])
    });
    assert_eq!(names_of(&p), ["getpid", "read", "write"], "{p}");
    assert_eq!(p["spec"]["defaultAction"], "SCMP_ACT_ERRNO");
    // RC-18: disableProfileAfterRecording.
    assert_eq!(p["spec"]["state"], "Disabled", "{p}");
    wait_for("event ProfileCreated", c, || {
        let ev = c.get(&["events", "-n", NS])?;
        ev["items"]
            .as_array()?
            .iter()
            .any(|e| {
                e["reason"] == "ProfileCreated"
                    && (e["regarding"]["name"] == "logsec-ctr-1"
                        || e["involvedObject"]["name"] == "logsec-ctr-1")
            })
            .then_some(())
    });
}

// covers: RC-26 (NoPartialProfiles), weak point 12 (the recording is not stuck)
fn no_partial_profiles(c: &Cluster) {
    c.create(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {{name: empty, namespace: {NS}, finalizers: [spo.x-k8s.io/has-unmerged-profiles]}}\nspec: {{kind: SeccompProfile, recorder: Bpf, mergeStrategy: Containers, podSelector: {{matchLabels: {{app: none}}}}}}\n"
    ));
    c.ok(&[
        "delete",
        "profilerecording",
        "empty",
        "-n",
        NS,
        "--wait=false",
    ]);
    wait_for("the recording without partials to go away", c, || {
        c.get(&["profilerecording", "empty", "-n", NS])
            .is_none()
            .then_some(())
    });
    wait_for("event NoPartialProfiles", c, || {
        let ev = c.get(&["events", "-n", NS])?;
        ev["items"]
            .as_array()?
            .iter()
            .any(|e| {
                e["reason"] == "NoPartialProfiles"
                    && (e["regarding"]["name"] == "empty" || e["involvedObject"]["name"] == "empty")
            })
            .then_some(())
    });
}

// covers: RC-20, RC-23 (SELinux merge), RC-32, RC-41, RC-28 (USER_AVC ignored), RC-29, weak point 11 (container → pod from the
// node's pod watch), §3 Logs collection
fn selinux_from_avcs(c: &mut Cluster) {
    c.create(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {{name: sel, namespace: {NS}}}\nspec: {{kind: SelinuxProfile, recorder: Logs, mergeStrategy: Containers, podSelector: {{matchLabels: {{app: sel}}}}}}\n"
    ));
    let k = c.container("sel", 9, 0);
    c.create(&pod_yaml_with(
        Some("sel"),
        None,
        "sel",
        "io.containers.trace-avcs/ctr",
        "sel_ctr_klmno_1700000000",
    ));
    c.report_running("sel", k);
    let pid = c.ctrs[k].child.id();
    let me = std::process::id();
    // The node services on the same audit log.
    let audit = c.kube.dir.path().join("audit.log");
    for (cmd, extra) in [("log-enricher", None), ("json-enricher", Some("1"))] {
        let mut p = Command::new(env!("CARGO_BIN_EXE_spo-operator"));
        p.args([cmd, "--audit-log"]).arg(&audit);
        if let Some(i) = extra {
            p.args(["--interval", i]);
        }
        let child = p
            .env("KUBECONFIG", &c.kube.kubeconfig)
            .env("NODE_NAME", NODE)
            .env("RUST_LOG", "info")
            .stdout(
                std::fs::File::create(c.kube.dir.path().join(format!("{cmd}.out"))).expect("out"),
            )
            .stderr(
                std::fs::File::create(c.kube.dir.path().join(format!("{cmd}.log"))).expect("log"),
            )
            .spawn()
            .expect("node service starts");
        c.services.push(child);
        let log = c.kube.dir.path().join(format!("{cmd}.log"));
        wait_for(&format!("{cmd} to start"), c, || {
            std::fs::read_to_string(&log)
                .ok()
                .filter(|l| l.contains("enricher started"))
        });
    }
    let scon = "system_u:system_r:selinuxrecording.process:s0:c218,c875";
    let lines = format!(
        "type=AVC msg=audit(1666691794.882:1434): avc:  denied  {{ read write open }} for  pid={pid} comm=\"aide\" path=\"/x\" dev=\"sda\" ino=1 scontext={scon} tcontext=system_u:object_r:kubernetes_file_t:s0 tclass=file permissive=1\n\
         type=AVC msg=audit(1666691794.883:1435): avc:  denied  {{ getattr }} for  pid={pid} comm=\"aide\" scontext={scon} tcontext={scon} tclass=process permissive=1\n\
         type=AVC msg=audit(1666691794.884:1436): avc:  denied  {{ read }} for  pid={pid} comm=\"aide\" scontext={scon} tcontext=system_u:object_r:kubernetes_file_t:s0 tclass=file permissive=1\n\
         type=USER_AVC msg=audit(1666691794.885:1437): pid={pid} uid=0 msg='avc:  denied  {{ write }} for scontext={scon} tcontext=system_u:object_r:etc_t:s0 tclass=file'\n\
         type=AVC msg=audit(1666691794.886:1438): avc:  denied  {{ append }} for  pid={me} comm=\"host\" scontext={scon} tcontext=system_u:object_r:var_log_t:s0 tclass=file permissive=1\n\
         type=SECCOMP msg=audit(1666691795.000:1439): auid=4294967295 uid=0 gid=0 ses=4294967295 pid={pid} comm=\"x\" exe=\"/bin/x\" sig=0 arch=c000003e syscall=39 compat=0 ip=0x7f62dce3d4c7 code=0x7ffc0000\n"
    );
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(c.kube.dir.path().join("audit.log"))
        .expect("audit log");
    f.write_all(lines.as_bytes()).expect("append");
    drop(f);
    // The recorder flushes what it attributed into its state file.
    let state = c.kube.dir.path().join("recorder-state.json");
    wait_for("the AVCs to be attributed", c, || {
        std::fs::read_to_string(&state)
            .ok()
            .filter(|s| s.contains("kubernetes_file_t") && s.contains("getattr"))
    });
    // log-enricher: attributed `audit` lines (RC-32); json-enricher: one JSON line (RC-41).
    let log = c.kube.dir.path().join("log-enricher.log");
    let text = wait_for("the log enricher's audit line", c, || {
        std::fs::read_to_string(&log)
            .ok()
            .filter(|l| l.contains("kubernetes_file_t"))
    });
    let line = text
        .lines()
        .find(|l| l.contains("kubernetes_file_t"))
        .expect("line");
    assert!(
        line.contains("audit")
            && line.contains("pod=\"sel\"")
            && line.contains("container=\"ctr\""),
        "{line}"
    );
    assert!(!text.contains("etc_t"), "USER_AVC is not a record: {text}");
    let out = c.kube.dir.path().join("json-enricher.out");
    let json = wait_for("the json enricher's line", c, || {
        std::fs::read_to_string(&out).ok().filter(|l| !l.is_empty())
    });
    let v: Value = serde_json::from_str(json.lines().next().expect("line")).expect("json");
    assert_eq!(v["resource"]["pod"], "sel", "{v}");
    assert_eq!(v["resource"]["container"], "ctr", "{v}");
    assert_eq!(v["syscalls"], serde_json::json!(["getpid"]), "{v}");
    assert_eq!(v["version"], "spo/v1_alpha");
    c.ok(&[
        "delete",
        "pod",
        "sel",
        "-n",
        NS,
        "--grace-period=0",
        "--force",
    ]);
    // A pod without generateName under Containers merge: its partial never takes the merged
    // name (weak point 5).
    let partial = wait_for("partial SelinuxProfile sel-ctr-sel", c, || {
        c.get(&["selinuxprofile", "sel-ctr-sel"])
    });
    assert_eq!(
        partial["metadata"]["labels"]["spo.x-k8s.io/partial"],
        "true"
    );
    c.ok(&[
        "delete",
        "profilerecording",
        "sel",
        "-n",
        NS,
        "--wait=false",
    ]);
    let p = wait_for("SelinuxProfile sel-ctr", c, || {
        c.get(&["selinuxprofile", "sel-ctr"])
    });
    assert_eq!(
        p["spec"]["allow"],
        serde_json::json!({
            "@self": {"process": ["getattr"]},
            "kubernetes_file_t": {"file": ["open", "read", "write"]}
        }),
        "{p}"
    );
    let inherit = &p["spec"]["inherit"];
    assert!(
        inherit.is_null()
            || inherit == &serde_json::json!([{"kind": "System", "name": "container"}]),
        "{inherit}"
    );
    assert_eq!(p["metadata"]["labels"]["spo.x-k8s.io/recording-id"], "sel");
    assert_eq!(p["metadata"]["labels"]["spo.x-k8s.io/container-id"], "ctr");
    assert!(p["metadata"]["labels"]
        .get("spo.x-k8s.io/partial")
        .is_none());
    wait_for(
        "the SELinux partial deleted and the recording gone",
        c,
        || {
            (c.get(&["selinuxprofile", "sel-ctr-sel"]).is_none()
                && c.get(&["profilerecording", "sel", "-n", NS]).is_none())
            .then_some(())
        },
    );
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn loop_ns(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("loop-ns"))
        .expect("loop-ns")
        .trim()
        .parse()
        .expect("number")
}

/// The figures of docs/src/performance.md ("Recording in the cluster"): run with
/// `cargo test -p spo-operator --test recording -- --ignored --nocapture`. Prints, asserts
/// no timing.
#[test]
#[ignore = "figures for docs/src/performance.md; run by hand"]
fn recording_figures() {
    let Some(mut c) = start() else {
        return;
    };
    c.ok(&["create", "namespace", NS]);
    c.create(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {{name: fig, namespace: {NS}}}\nspec: {{kind: SeccompProfile, recorder: Bpf, podSelector: {{matchLabels: {{app: fig}}}}}}\n"
    ));
    let tmp = c.kube.dir.path().to_path_buf();
    let baseline_run = |round: usize| {
        let dir = tmp.join(format!("baseline-{round}"));
        std::fs::create_dir_all(&dir).expect("dir");
        touch(&dir.join("go1"));
        let mut b = Command::new(exerciser())
            .arg(&dir)
            .arg("9")
            .spawn()
            .expect("baseline");
        assert!(b.wait().expect("baseline").success());
        loop_ns(&dir)
    };
    // 50 containers recorded at once; containers 0..3 run the loop (one after the other,
    // alternating with unrecorded runs: the minimum of each is reported).
    let mut pods = Vec::new();
    for i in 0..50usize {
        let k = c.container(&format!("fig{i}"), 100 + i, if i < 3 { 9 } else { 0 });
        let name = format!("fig-{i}");
        c.create(&pod_yaml(
            Some(&name),
            None,
            "fig",
            &format!("fig_ctr{i}_abcde_1700000000").replace("ctr", "c"),
        ));
        c.report_running(&name, k);
        pods.push((name, k));
    }
    let daemon = c.daemon.as_ref().expect("daemon").id();
    for (pod, k) in &pods {
        let pid = c.ctrs[*k].child.id();
        wait_for(&format!("attach {pod}"), &c, || {
            in_cgroup_of_daemon(pid, daemon).then_some(())
        });
    }
    let (mut baseline, mut recorded) = (u64::MAX, u64::MAX);
    for round in 0..3 {
        baseline = baseline.min(baseline_run(round));
        touch(&c.ctrs[round].dir.join("go1"));
        assert!(c.ctrs[round].child.wait().expect("loop").success());
        recorded = recorded.min(loop_ns(&c.ctrs[round].dir));
    }
    for ctr in &c.ctrs[3..] {
        touch(&ctr.dir.join("go1"));
    }
    for k in 3..c.ctrs.len() {
        let done = c.ctrs[k].dir.join("done1");
        wait_for("phase 1", &c, || done.exists().then_some(()));
    }
    std::thread::sleep(Duration::from_secs(1));
    let rss = vm_hwm_kib(daemon);
    let t = Instant::now();
    c.ok(&[
        "delete",
        "pod",
        "fig-1",
        "-n",
        NS,
        "--grace-period=0",
        "--force",
    ]);
    wait_for("profile", &c, || c.get(&["seccompprofile", "fig-ctr"]));
    let latency = t.elapsed();
    eprintln!(
        "figures: loop of 2e6 getppid: baseline {:.1} ms, recorded {:.1} ms, ratio {:.2}x",
        baseline as f64 / 1e6,
        recorded as f64 / 1e6,
        recorded as f64 / baseline as f64
    );
    eprintln!(
        "figures: daemon peak RSS with 50 containers recorded: {} KiB",
        rss
    );
    eprintln!("figures: pod deletion -> SeccompProfile object: {latency:?}");
}
