//! What the operator's cluster tests share: the workspace root, free ports, and a real
//! kube-apiserver + etcd (scripts/kube-up.sh) with kubectl bound to its kubeconfig, stopped
//! by PID (scripts/kube-down.sh) when the guard goes — also when an assertion fails.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub mod registry;

/// The workspace root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Where `make kube-bin` (scripts/kube-build.sh) puts the test cluster's binaries.
pub fn kube_bin() -> PathBuf {
    PathBuf::from(
        std::env::var("SPO_KUBE_BIN").unwrap_or_else(|_| "/var/cache/spo-kube/bin".into()),
    )
}

/// A test cluster in its own temporary directory, on free ports.
pub struct Kube {
    /// Logs, certificates, kubeconfig and whatever the test writes.
    pub dir: tempfile::TempDir,
    /// The admin kubeconfig kube-up.sh wrote.
    pub kubeconfig: PathBuf,
}

impl Drop for Kube {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A failed test keeps the cluster's logs (the directory itself goes below).
            let kept = keep_dir(&self.dir, "spo-kube-failure");
            eprintln!("test cluster logs kept in {}", kept.display());
        }
        let _ = Command::new("bash")
            .arg(repo().join("scripts/kube-down.sh"))
            .arg(self.dir.path())
            .status();
    }
}

impl Kube {
    /// Starts etcd + kube-apiserver (and, with `with_controllers`, the controller-manager
    /// and scheduler). Panics, naming the log directory, when kube-up.sh fails.
    pub fn up(prefix: &str, with_controllers: bool) -> Kube {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .expect("tempdir");
        let mut cmd = Command::new("bash");
        cmd.arg(repo().join("scripts/kube-up.sh"))
            .arg(dir.path())
            .env("SPO_KUBE_BIN", kube_bin())
            .env("API_PORT", free_port().to_string())
            .env("ETCD_PORT", free_port().to_string())
            .env("ETCD_PEER_PORT", free_port().to_string());
        if !with_controllers {
            cmd.env("WITH_KCM", "0").env("WITH_SCHEDULER", "0");
        }
        let st = cmd.status().expect("kube-up.sh runs");
        let k = Kube {
            kubeconfig: dir.path().join("kubeconfig"),
            dir,
        };
        assert!(
            st.success(),
            "kube-up.sh failed; logs in {}",
            k.dir.path().display()
        );
        k
    }

    /// Runs kubectl against this cluster: (success, stdout, stderr).
    pub fn kubectl(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .output()
            .expect("kubectl runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs kubectl against this cluster with `stdin` on its standard input (e.g.
    /// `apply -f -`): (success, stdout, stderr).
    pub fn kubectl_stdin(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        if let (Some(s), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(s.as_bytes()).expect("write kubectl's stdin");
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().expect("kubectl");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// kubectl that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.kubectl(args);
        assert!(ok, "kubectl {args:?} failed: {err}");
        out
    }

    /// `kubectl get WHAT -o json`, or None when it fails.
    pub fn get(&self, what: &[&str]) -> Option<Value> {
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["-o", "json"]);
        let (ok, out, _) = self.kubectl(&args);
        if !ok {
            return None;
        }
        serde_json::from_str(&out).ok()
    }
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Nanoseconds since the epoch (unique enough for file names within one test).
pub fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Copies the logs (`*.log`) and the kubeconfig of a test directory that is about to be
/// removed into `<tmp>/<name>-<pid>`, which stays; returns that path.
pub fn keep_dir(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    let keep = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&keep);
    if let Ok(entries) = std::fs::read_dir(dir.path()) {
        for e in entries.flatten() {
            let p = e.path();
            let wanted = p.extension().is_some_and(|x| x == "log")
                || p.file_name().is_some_and(|f| f == "kubeconfig");
            if wanted && p.is_file() {
                if let Some(f) = p.file_name() {
                    let _ = std::fs::copy(&p, keep.join(f));
                }
            }
        }
    }
    keep
}
