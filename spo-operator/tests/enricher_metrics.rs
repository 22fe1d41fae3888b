//! The standalone node services' counters on the daemon's `/metrics-spod` in the shipped
//! layout (`operator.md` §7, issue #15 item 3): a real kube-apiserver, the real
//! `spo-operator daemon` (its `/metrics-spod` on 127.0.0.1) and the real
//! `spo-operator log-enricher` as separate processes sharing only a directory, as the
//! DaemonSet's containers share the `spo-metrics-volume` emptyDir. The enricher tails a
//! fixture audit log; its counters are scraped through the daemon. A dead and a hung socket
//! are skipped and counted; the scrape never fails.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{free_port, kube_bin, repo, Kube};

const NODE: &str = "metrics-node";
const P: &str = "security_profiles_operator_";

struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// GET `path` from the daemon's health/metrics listener; `None` until it answers 200.
fn scrape(port: u16, path: &str) -> Option<String> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.1 200").then_some(out)
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn wait_for<T>(what: &str, dir: &Path, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let log = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap_or_default();
            panic!(
                "timed out waiting for {what}\n--- daemon ---\n{}\n--- log-enricher ---\n{}",
                log("daemon.log"),
                log("log-enricher.log")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

// covers: operator.md §7 (enricher counters on /metrics-spod), RC-30 (log enricher counters)
#[test]
fn standalone_log_enricher_counters_reach_metrics_spod() {
    let bin = kube_bin();
    if !bin.join("kube-apiserver").exists() || !bin.join("etcd").exists() {
        eprintln!(
            "SKIP enricher metrics: no test-cluster binaries in {}",
            bin.display()
        );
        return;
    }
    let kube = Kube::up("spo-emet-", false);
    let dir = kube.dir.path().to_path_buf();
    let crds = repo().join("deploy/crds");
    kube.ok(&["apply", "--server-side", "-k", crds.to_str().expect("utf8")]);
    kube.ok(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=60s",
        "crd",
        "--all",
    ]);
    let shared = dir.join("spo-metrics");
    std::fs::create_dir_all(&shared).expect("shared dir");
    let audit = dir.join("audit.log");
    std::fs::write(&audit, b"").expect("audit log");
    let exe = env!("CARGO_BIN_EXE_spo-operator");
    let log = |n: &str| std::fs::File::create(dir.join(n)).expect("log file");
    let mut procs = Procs(Vec::new());
    let enricher = Command::new(exe)
        .arg("log-enricher")
        .arg("--audit-log")
        .arg(&audit)
        .arg("--metrics-socket")
        .arg(shared.join("log-enricher.sock"))
        .env("KUBECONFIG", &kube.kubeconfig)
        .env("NODE_NAME", NODE)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log("log-enricher.log"))
        .spawn()
        .expect("log-enricher starts");
    procs.0.push(enricher);
    let health = free_port();
    // The DaemonSet's metrics port too (OP-16 insecure mode here; TLS is the manager test's).
    let metrics_port = free_port();
    let daemon = Command::new(exe)
        .args([
            "daemon",
            "--health-addr",
            &format!("127.0.0.1:{health}"),
            "--metrics-addr",
            &format!("127.0.0.1:{metrics_port}"),
            "--with-insecure-metrics-access=true",
        ])
        .env("KUBECONFIG", &kube.kubeconfig)
        .env("NODE_NAME", NODE)
        .env("KUBELET_DIR", dir.join("kubelet"))
        .env("SPO_METRICS_DIR", &shared)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log("daemon.log"))
        .spawn()
        .expect("daemon starts");
    procs.0.push(daemon);
    wait_for("the log enricher to start", &dir, || {
        std::fs::read_to_string(dir.join("log-enricher.log"))
            .ok()
            .filter(|l| l.contains("enricher started") && l.contains("metrics served"))
    });
    let lines_series =
        format!("{P}enricher_events_total{{enricher=\"log-enricher\",event=\"lines\"}}");
    let text = wait_for("the daemon's /metrics-spod", &dir, || {
        scrape(health, "/metrics-spod")
    });
    assert_eq!(
        sample(&text, &lines_series),
        None,
        "nothing read yet:\n{text}"
    );

    // The fixture: two seccomp records and one AVC of this (non-container) process.
    let fixture = std::fs::read_to_string(
        repo().join("spo-operator/tests/fixtures/audit/enricher-metrics.log"),
    )
    .expect("fixture")
    .replace("PID", &std::process::id().to_string());
    {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&audit)
            .expect("audit log");
        f.write_all(fixture.as_bytes()).expect("append");
    }
    let text = wait_for("the enricher's counters on /metrics-spod", &dir, || {
        scrape(health, "/metrics-spod").filter(|t| sample(t, &lines_series) == Some(3.0))
    });
    let seccomp =
        format!("{P}enricher_events_total{{enricher=\"log-enricher\",event=\"seccomp\"}}");
    let avc = format!("{P}enricher_events_total{{enricher=\"log-enricher\",event=\"avc\"}}");
    assert_eq!(sample(&text, &seccomp), Some(2.0), "{text}");
    assert_eq!(sample(&text, &avc), Some(1.0), "{text}");
    // covers: OP-16, OP-37 — the same merged counters on the daemon's metrics listener.
    let on_metrics_port = wait_for("the counters on --metrics-addr", &dir, || {
        scrape(metrics_port, "/metrics-spod").filter(|t| sample(t, &lines_series) == Some(3.0))
    });
    assert_eq!(
        sample(&on_metrics_port, &seccomp),
        Some(2.0),
        "{on_metrics_port}"
    );
    // No family is declared twice in the merged text (the unit test in metrics.rs merges
    // two texts that both declare the same families).
    let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    let unique: std::collections::HashSet<&&str> = types.iter().collect();
    assert_eq!(types.len(), unique.len(), "{text}");
    assert!(
        types.contains(&format!("# TYPE {P}enricher_events counter").as_str()),
        "{text}"
    );
    assert_eq!(text.lines().filter(|l| *l == "# EOF").count(), 1, "{text}");
    assert_eq!(
        sample(
            &text,
            &format!("{P}metrics_source_errors_total{{source=\"log-enricher\"}}")
        ),
        None,
        "{text}"
    );

    // A source that accepts but never answers (timeout) and a dead one (its process killed,
    // the socket file left behind) are skipped and counted; the scrape still succeeds.
    let _hung = std::os::unix::net::UnixListener::bind(shared.join("hung.sock")).expect("bind");
    let mut enricher = procs.0.remove(0);
    enricher.kill().expect("kill the log enricher");
    let _ = enricher.wait();
    assert!(
        shared.join("log-enricher.sock").exists(),
        "stale socket stays"
    );
    let text = scrape(health, "/metrics-spod").expect("the scrape succeeds");
    for src in ["hung", "log-enricher"] {
        assert_eq!(
            sample(
                &text,
                &format!("{P}metrics_source_errors_total{{source=\"{src}\"}}")
            ),
            Some(1.0),
            "{src}\n{text}"
        );
    }
    assert_eq!(sample(&text, &lines_series), None, "{text}");
    let daemon_log = std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default();
    assert!(
        daemon_log.contains("metrics source skipped"),
        "{daemon_log}"
    );
}
