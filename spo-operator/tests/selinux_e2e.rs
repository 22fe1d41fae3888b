//! SELinux end-to-end on a real kube-apiserver + etcd (tests/common): the daemon installs
//! SelinuxProfiles and RawSelinuxProfiles with the real `semodule` into a policy store under
//! a temporary root (`semodule -p ROOT -s spo`), which `semodule -l` lists, and removes them
//! again; the store not being ready holds everything back (SE-20); reloads are batched
//! (SE-23); a second node's daemon runs with RawSelinuxProfiles switched off (SE-27); the
//! manager aggregates status and usage, and its workload annotator keeps a SelinuxProfile
//! used by a pod installed (SE-30); metrics on /metrics-spod (SE-31).
//! One test function: the scenarios share one cluster and run in order.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
mod common;
use common::{free_port, kube_bin, repo, Kube};

const NODE_A: &str = "se-node-a";
const NODE_B: &str = "se-node-b";
const STORE: &str = "spo";

/// One daemon: its node, policy root, CIL directory, health port and log.
struct Daemon {
    node: &'static str,
    root: PathBuf,
    dir: PathBuf,
    health: u16,
    log: PathBuf,
}

struct Cluster {
    kube: Kube,
    a: Daemon,
    b: Daemon,
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
        if std::thread::panicking() {
            let keep = std::env::temp_dir().join("spo-selinux-e2e-last-failure");
            let _ = std::fs::create_dir_all(&keep);
            for f in ["daemon-a.log", "daemon-b.log", "manager.log"] {
                let _ = std::fs::copy(self.kube.dir.path().join(f), keep.join(f));
            }
            eprintln!("logs of the failed run kept in {}", keep.display());
        }
        for p in &mut self.procs {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

fn semodule(root: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("semodule")
        .arg("-p")
        .arg(root)
        .args(["-s", STORE])
        .args(args)
        .output()
        .expect("semodule runs (Debian package policycoreutils; `make deps` installs it)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The modules in the store under `root`.
fn modules(root: &Path) -> Vec<String> {
    let (ok, out, err) = semodule(root, &["-l"]);
    assert!(ok, "semodule -l: {err}");
    out.lines().map(|l| l.trim().to_string()).collect()
}

/// The node bootstrap (`selinux.md` §7): the store's directories and the base policy with
/// its `container` template, committed without a reload.
fn bootstrap_store(root: &Path, base: &Path) {
    std::fs::create_dir_all(root.join("etc/selinux")).expect("etc/selinux");
    std::fs::create_dir_all(root.join("var/lib/selinux")).expect("var/lib/selinux");
    let (ok, _, err) = semodule(root, &["-N", "-i", base.to_str().expect("utf8")]);
    assert!(ok, "installing the base policy: {err}");
}

impl Cluster {
    fn apply_yaml(&self, name: &str, yaml: &str) {
        let f = self.kube.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&f, yaml).expect("write manifest");
        self.ok(&["apply", "-f", f.to_str().expect("utf8")]);
    }

    fn log(&self, d: &Daemon) -> String {
        std::fs::read_to_string(&d.log).unwrap_or_default()
    }

    fn wait_for<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            if start.elapsed() > Duration::from_secs(90) {
                let warn: Vec<String> = self
                    .log(&self.a)
                    .lines()
                    .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                    .map(str::to_owned)
                    .collect();
                panic!(
                    "timed out waiting for {what}\n--- daemon A warnings ---\n{}",
                    warn[warn.len().saturating_sub(20)..].join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// This node's status of `profile`, if it exists.
    fn node_status(&self, profile: &str, node: &str) -> Option<String> {
        let v = self.get(&["spns", &format!("{profile}-{node}")])?;
        Some(v["status"]["status"].as_str().unwrap_or("").to_string())
    }

    fn events(&self, object: &str) -> Vec<(String, String, String)> {
        let v = self
            .get(&[
                "events",
                "-n",
                "default",
                "--field-selector",
                &format!("involvedObject.name={object}"),
            ])
            .unwrap_or(Value::Null);
        v["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|e| {
                        let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
                        (s("type"), s("reason"), s("message"))
                    })
                    .collect()
            })
            .unwrap_or_default()
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

/// The value of one counter line in a Prometheus text exposition (0 when absent).
fn counter(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

fn spawn_daemon(kube: &Kube, d: &Daemon, raw: bool) -> Child {
    Command::new(env!("CARGO_BIN_EXE_spo-operator"))
        .args([
            "daemon",
            "--health-addr",
            &format!("127.0.0.1:{}", d.health),
        ])
        .args(["--with-seccomp", "false", "--with-selinux", "true"])
        .args(["--with-raw-selinux", if raw { "true" } else { "false" }])
        .arg("--selinux-root")
        .arg(&d.root)
        .args(["--selinux-store", STORE])
        .arg("--selinux-dir")
        .arg(&d.dir)
        .env("KUBECONFIG", &kube.kubeconfig)
        .env("NODE_NAME", d.node)
        .env(
            "KUBELET_DIR",
            kube.dir.path().join(format!("kubelet-{}", d.node)),
        )
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&d.log).expect("log file"))
        .spawn()
        .expect("daemon starts")
}

fn start() -> Option<Cluster> {
    let bin = kube_bin();
    if !bin.join("kube-apiserver").exists() || !bin.join("etcd").exists() {
        eprintln!(
            "SKIP selinux_e2e: no test-cluster binaries in {} (run scripts/kube-build.sh; `make test` does)",
            bin.display()
        );
        return None;
    }
    let kube = Kube::up("spo-selinux-e2e-", false);
    let daemon = |node: &'static str, tag: &str| Daemon {
        node,
        root: kube.dir.path().join(format!("root-{tag}")),
        dir: kube.dir.path().join(format!("selinux.d-{tag}")),
        health: free_port(),
        log: kube.dir.path().join(format!("daemon-{tag}.log")),
    };
    let (a, b) = (daemon(NODE_A, "a"), daemon(NODE_B, "b"));
    let c = Cluster {
        kube,
        a,
        b,
        procs: Vec::new(),
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
    c.ok(&["create", "namespace", "security-profiles-operator"]);
    // The daemons' SPOD: one more system template, one more denied type (selinux.md §2).
    c.apply_yaml("spod", SPOD);
    Some(c)
}

const SPOD: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SecurityProfilesOperatorDaemon
metadata:
  name: spod
  namespace: security-profiles-operator
spec:
  selinux:
    options:
      allowedSystemProfiles: [container, net_container]
      deniedTypes: [container_file_t]
";

// Inherits a system template the SPOD allows (only `container` by default).
const NET: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SelinuxProfile
metadata:
  name: net-policy
spec:
  inherit:
  - name: net_container
  allow:
    http_port_t:
      tcp_socket: [name_bind]
";

// Uses a type the SPOD denies.
const DENIED: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SelinuxProfile
metadata:
  name: denied
spec:
  allow:
    container_file_t:
      file: [read]
";

const NGINX: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1alpha2
kind: SelinuxProfile
metadata:
  name: nginx-secure
spec:
  inherit:
  - kind: System
    name: container
  allow:
    '@self':
      tcp_socket: [listen]
    http_cache_port_t:
      tcp_socket: [name_bind]
";

const RAW: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1alpha2
kind: RawSelinuxProfile
metadata:
  name: raw-web
spec:
  policy: |
    (blockinherit container)
    (allow process http_port_t ( tcp_socket ( name_bind )))
";

// A raw policy the webhook would refuse (no webhook runs here): the daemon checks it too.
const RAW_BAD: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1alpha2
kind: RawSelinuxProfile
metadata:
  name: raw-bad
spec:
  policy: |
    (blockinherit container)
    (typepermissive process)
";

// Valid for the translator, refused by semodule: the type does not exist in the policy.
const UNKNOWN_TYPE: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1alpha2
kind: SelinuxProfile
metadata:
  name: unknown-type
spec:
  allow:
    no_such_t:
      file: [read]
";

// covers: SE-04, SE-16, SE-19, SE-20, SE-21, SE-28, SE-22, SE-23, SE-24, SE-25, SE-27, SE-30, SE-31
#[test]
fn selinux_profiles_installed_with_real_semodule_on_a_real_api_server() {
    let have = Command::new("semodule").arg("-h").output().is_ok();
    assert!(
        have,
        "semodule must be installed (Debian package policycoreutils; `make deps` installs it)"
    );
    let Some(mut c) = start() else { return };
    // The test base policy, with `net_container` as udica ships it: its rules in an
    // `optional`, no `(blockinherit container)` of its own. The translation inherits both templates
    // (selinux.md §3 example 5); the fixture's variant would declare `process` twice.
    let fixture = repo().join("spo-selinux/tests/fixtures/test-base-policy.cil");
    let text = std::fs::read_to_string(&fixture).expect("test base policy");
    let udica_like = text.replace(
        "(block net_container\n    (blockinherit container)\n    \
         (allow process port_type (tcp_socket (name_bind name_connect)))\n)",
        "(block net_container\n    (optional net_container_optional\n        \
         (allow process port_type (tcp_socket (name_bind name_connect)))))",
    );
    assert_ne!(text, udica_like, "the fixture's net_container changed");
    let base = c.kube.dir.path().join("test-base-policy.cil");
    std::fs::write(&base, udica_like).expect("write base");

    // Node B's store is bootstrapped from the start; node A's root does not exist yet.
    bootstrap_store(&c.b.root, &base);
    let exe = env!("CARGO_BIN_EXE_spo-operator");
    let da = spawn_daemon(&c, &c.a, true);
    c.procs.push(da);
    let db = spawn_daemon(&c, &c.b, false);
    c.procs.push(db);
    let manager = Command::new(exe)
        // Aggregation only: no SPOD controller, so no webhook configurations pointing at an
        // in-cluster service that does not exist here.
        .args([
            "manager",
            "--node-report-timeout",
            "30",
            "--leader-elect",
            "false",
        ])
        .args(["--with-spod-controller", "false"])
        .env("KUBECONFIG", &c.kube.kubeconfig)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(c.kube.dir.path().join("manager.log")).expect("log"))
        .spawn()
        .expect("manager starts");
    c.procs.push(manager);

    // --- SE-20: node A's store is not ready: the profile is held back — finalizer added,
    // but no node status, no CIL file, no module — while node B installs it.
    c.apply_yaml("nginx", NGINX);
    c.wait_for("node B Installed", || {
        (c.node_status("nginx-secure", NODE_B)? == "Installed").then_some(())
    });
    assert!(modules(&c.b.root).contains(&"nginx-secure".to_string()));
    c.wait_for("node A reports the store not ready", || {
        c.log(&c.a)
            .contains("SELinux policy store not ready")
            .then_some(())
    });
    assert_eq!(c.node_status("nginx-secure", NODE_A), None, "SE-20");
    assert!(!c.a.dir.join("nginx-secure.cil").exists(), "SE-20");
    let fins = c.get(&["selinuxprofile", "nginx-secure"]).expect("profile")["metadata"]
        ["finalizers"]
        .clone();
    assert!(
        fins.as_array()
            .is_some_and(|f| f.iter().any(|f| f == &format!("{NODE_A}-deleted"))),
        "{fins}"
    );

    // --- SE-19: once the store exists, the module is written (0600) and installed for real.
    let started = Instant::now();
    bootstrap_store(&c.a.root, &base);
    c.wait_for("node A Installed", || {
        (c.node_status("nginx-secure", NODE_A)? == "Installed").then_some(())
    });
    let cil = c.a.dir.join("nginx-secure.cil");
    let text = std::fs::read_to_string(&cil).expect("CIL file");
    assert_eq!(
        text,
        "(block nginx-secure\n(blockinherit container)\n\
         (allow process nginx-secure.process ( tcp_socket ( listen )))\n\
         (allow process http_cache_port_t ( tcp_socket ( name_bind )))\n)\n"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cil).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "SE-21");
    }
    let mods = modules(&c.a.root);
    assert!(mods.contains(&"nginx-secure".to_string()), "{mods:?}");
    // SE-28: the recording type came with the store's readiness, on both nodes.
    assert!(mods.contains(&"selinuxrecording".to_string()), "{mods:?}");
    assert!(modules(&c.b.root).contains(&"selinuxrecording".to_string()));
    let p = c.wait_for("profile status Installed", || {
        let v = c.get(&["selinuxprofile", "nginx-secure"])?;
        (v["status"]["status"] == "Installed").then_some(v)
    });
    assert_eq!(p["status"]["usage"], "nginx-secure.process");
    assert!(c
        .events("nginx-secure")
        .iter()
        .any(|(t, r, _)| t == "Normal" && r == "SavedSelinuxPolicy"));

    // --- RawSelinuxProfile (SE-24): wrapped in `(block raw-web`, installed on node A; node B
    // runs with RawSelinuxProfiles off (SE-27): no finalizer, no status, no module there.
    c.apply_yaml("raw", RAW);
    c.wait_for("raw Installed on A", || {
        (c.node_status("raw-web", NODE_A)? == "Installed").then_some(())
    });
    let raw_cil = std::fs::read_to_string(c.a.dir.join("raw-web.cil")).expect("raw CIL");
    assert!(
        raw_cil.starts_with("(block raw-web\n    (blockinherit container)\n"),
        "{raw_cil}"
    );
    assert!(modules(&c.a.root).contains(&"raw-web".to_string()));
    let raw = c.wait_for("raw profile status", || {
        let v = c.get(&["rawselinuxprofile", "raw-web"])?;
        (v["status"]["status"] == "Installed").then_some(v)
    });
    assert_eq!(raw["status"]["usage"], "raw-web.process");
    assert_eq!(c.node_status("raw-web", NODE_B), None, "SE-27");
    // A profile disabled after it was installed leaves the node's policy store (its module
    // is removed, the node status says Disabled); it stays disabled until its deletion below.
    let (ok, _, err) = c.kube.kubectl(&[
        "patch",
        "rawselinuxprofile",
        "raw-web",
        "--type=merge",
        "-p",
        r#"{"spec":{"state":"Disabled"}}"#,
    ]);
    assert!(ok, "{err}");
    c.wait_for("raw Disabled on A", || {
        (c.node_status("raw-web", NODE_A)? == "Disabled").then_some(())
    });
    assert!(!c.a.dir.join("raw-web.cil").exists());
    assert!(!modules(&c.a.root).contains(&"raw-web".to_string()));
    assert!(
        !modules(&c.b.root).contains(&"raw-web".to_string()),
        "SE-27"
    );
    let raw_fins = raw["metadata"]["finalizers"].to_string();
    assert!(!raw_fins.contains(NODE_B), "SE-27: {raw_fins}");
    assert!(c.log(&c.b).contains("RawSelinuxProfile support is off"));
    let hb = http_get(c.b.health, "/healthz");
    assert!(
        hb.contains("[+]selinux ok") && !hb.contains("selinux-raw"),
        "{hb}"
    );

    // --- The SPOD's options reach the daemon (SE-04, SE-16): an extra allowed template is
    // inherited and installed for real; a type the SPOD denies is refused before semodule.
    c.apply_yaml("net", NET);
    c.apply_yaml("denied", DENIED);
    c.wait_for("net-policy Installed on A", || {
        (c.node_status("net-policy", NODE_A)? == "Installed").then_some(())
    });
    let net_cil = std::fs::read_to_string(c.a.dir.join("net-policy.cil")).expect("net CIL");
    assert!(
        net_cil.contains("(blockinherit net_container)"),
        "{net_cil}"
    );
    assert!(modules(&c.a.root).contains(&"net-policy".to_string()));
    c.wait_for("denied Error on A", || {
        (c.node_status("denied", NODE_A)? == "Error").then_some(())
    });
    assert!(!c.a.dir.join("denied.cil").exists());
    let ev = c.wait_for("deny-list event", || {
        c.events("denied")
            .into_iter()
            .find(|(t, r, _)| t == "Warning" && r == "CannotSaveSelinuxPolicy")
    });
    assert!(ev.2.contains("container_file_t"), "{ev:?}");

    // --- SE-25: a restricted directive is refused by the daemon: Error, with the reason.
    c.apply_yaml("raw-bad", RAW_BAD);
    c.wait_for("raw-bad Error", || {
        (c.node_status("raw-bad", NODE_A)? == "Error").then_some(())
    });
    assert!(!c.a.dir.join("raw-bad.cil").exists());
    assert!(!modules(&c.a.root).contains(&"raw-bad".to_string()));
    let ev = c.wait_for("validation event", || {
        c.events("raw-bad")
            .into_iter()
            .find(|(t, r, _)| t == "Warning" && r == "CannotSaveSelinuxPolicy")
    });
    assert!(
        ev.2.contains("Profile failed validation on se-node-a") && ev.2.contains("typepermissive"),
        "{ev:?}"
    );

    // --- SE-19: semodule refusing the module gives Error with its message in the event.
    c.apply_yaml("unknown", UNKNOWN_TYPE);
    c.wait_for("unknown-type Error", || {
        (c.node_status("unknown-type", NODE_A)? == "Error").then_some(())
    });
    let ev = c.wait_for("semodule failure event", || {
        c.events("unknown-type").into_iter().find(|(t, r, m)| {
            t == "Warning" && r == "CannotSaveSelinuxPolicy" && m.contains("Failed to save")
        })
    });
    assert!(ev.2.contains("Failed to resolve allow statement"), "{ev:?}");
    assert!(!modules(&c.a.root).contains(&"unknown-type".to_string()));

    // --- SE-30: a pod running with `nginx-secure.process` is an active workload; the profile
    // holds `in-use-by-active-pods`, and its deletion leaves the policy installed (Terminating)
    // until the pod is gone (upstream weak point 4).
    c.apply_yaml(
        "pod",
        "apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  nodeName: se-node-a
  containers:
  - name: c
    image: nginx
    securityContext:
      seLinuxOptions: {type: nginx-secure.process}
",
    );
    let p = c.wait_for("activeWorkloads", || {
        let v = c.get(&["selinuxprofile", "nginx-secure"])?;
        (v["status"]["activeWorkloads"] == serde_json::json!(["default/web"])).then_some(v)
    });
    assert!(
        p["metadata"]["finalizers"]
            .to_string()
            .contains("in-use-by-active-pods"),
        "{p}"
    );
    c.ok(&["delete", "selinuxprofile", "nginx-secure", "--wait=false"]);
    c.wait_for("Terminating on A", || {
        (c.node_status("nginx-secure", NODE_A)? == "Terminating").then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        modules(&c.a.root).contains(&"nginx-secure".to_string()),
        "SE-30: the policy stays while the pod uses it"
    );
    assert!(cil.exists());
    c.ok(&["delete", "pod", "web", "--grace-period=0", "--force"]);
    c.wait_for("profile gone", || {
        c.get(&["selinuxprofile", "nginx-secure"])
            .is_none()
            .then_some(())
    });

    // --- SE-22: deletion removes the modules from the store, the files and node statuses.
    // (nginx-secure is gone already, above.)
    for (kind, name) in [
        ("rawselinuxprofile", "raw-web"),
        ("rawselinuxprofile", "raw-bad"),
        ("selinuxprofile", "unknown-type"),
        ("selinuxprofile", "net-policy"),
        ("selinuxprofile", "denied"),
    ] {
        c.ok(&["delete", kind, name, "--timeout=60s"]);
    }
    let mods = modules(&c.a.root);
    assert!(
        !mods.contains(&"nginx-secure".to_string()) && !mods.contains(&"raw-web".to_string()),
        "{mods:?}"
    );
    assert!(
        mods.contains(&"test-base-policy".to_string()),
        "the base stays: {mods:?}"
    );
    assert!(!modules(&c.b.root).contains(&"nginx-secure".to_string()));
    assert!(!cil.exists() && !c.a.dir.join("raw-web.cil").exists());
    assert_eq!(c.node_status("nginx-secure", NODE_A), None);
    assert_eq!(c.node_status("raw-web", NODE_A), None);

    // --- SE-31: counters on /metrics-spod.
    let m = http_get(c.a.health, "/metrics-spod");
    let total = |op: &str| {
        counter(
            &m,
            &format!("security_profiles_operator_selinux_profile_total{{operation=\"{op}\"}}"),
        )
    };
    let errors = |reason: &str| {
        counter(
            &m,
            &format!(
                "security_profiles_operator_selinux_profile_error_total{{reason=\"{reason}\"}}"
            ),
        )
    };
    // nginx-secure, raw-web and net-policy were installed and removed on node A.
    assert_eq!(total("update"), 3, "{m}");
    assert_eq!(total("delete"), 3, "{m}");
    assert!(errors("CannotSaveSelinuxPolicy") >= 3, "{m}");
    let mb = http_get(c.b.health, "/metrics-spod");
    assert_eq!(
        counter(
            &mb,
            "security_profiles_operator_selinux_profile_total{operation=\"update\"}"
        ),
        2,
        "node B installed nginx-secure and net-policy: {mb}"
    );

    // --- SE-23: reloads of node A are batched: the first commit reloads at once; the later
    // installs and removals wait for one reload per 120 s window.
    let reloads = c.log(&c.a).matches("reloaded the SELinux policy").count();
    let windows = (started.elapsed().as_secs() / 120) as usize;
    assert!(
        reloads >= 1 && reloads <= 1 + windows,
        "{reloads} reloads in {:?}",
        started.elapsed()
    );
}

/// SE-27 across the manager → daemon boundary: SPOD `selinux.enableRawSelinuxProfiles`
/// becomes the daemon container's `--with-raw-selinux`, which the daemon's own flag parser
/// accepts and reads as the switch for the raw controller.
// covers: SE-27
#[test]
fn se_27_spod_raw_switch_reaches_the_daemon_flags() {
    use clap::Parser;
    use spo_operator::manager::config::{ManagerEnv, SpodConfig};

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: Cmd,
    }
    #[derive(clap::Subcommand)]
    enum Cmd {
        Daemon(spo_operator::daemon::DaemonOptions),
    }

    let env = ManagerEnv::from_lookup(|_| None);
    for (spec, want) in [
        (serde_json::json!({"selinux": {"enable": true}}), true),
        (
            serde_json::json!({"selinux": {"enable": true, "enableRawSelinuxProfiles": false}}),
            false,
        ),
    ] {
        let cfg = SpodConfig::from_spec("spod", &spec, &env).expect("SPOD config");
        let ds = spo_operator::manager::desired::daemonset::daemonset(&cfg, &env);
        let daemon = ds["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("containers")
            .iter()
            .find(|c| c["name"] == "security-profiles-operator")
            .expect("daemon container");
        let mut argv = vec!["spo-operator".to_string()];
        argv.extend(
            daemon["args"]
                .as_array()
                .expect("args")
                .iter()
                .map(|a| a.as_str().expect("string arg").to_string()),
        );
        argv.extend(["--node-name".into(), "n".into()]);
        let Cmd::Daemon(opts) = Cli::try_parse_from(&argv)
            .unwrap_or_else(|e| panic!("the daemon refuses {argv:?}: {e}"))
            .cmd;
        assert!(opts.with_selinux, "{argv:?}");
        assert_eq!(opts.with_raw_selinux, want, "{argv:?}");
    }
}
