//! Load generator for the admission webhook: sends N AdmissionReviews at R per second over a
//! few keep-alive TLS connections (HTTP/1.1, as the API server does) straight to a running
//! `spo-operator webhook`, and reports round-trip latency (p50/p99/max), the server's own
//! handling time from its `/metrics` histogram, and the server's peak RSS (VmHWM).
//! Usage: cargo run --release -p spo-operator --example webhook_load -- \
//!   --url https://127.0.0.1:9443 --ca CA.crt [--path /validate-profile] [--n 2000] [--rate 200]
//!   [--conns 4] [--pid WEBHOOK_PID] [--namespace NS]
//! `--path` picks the review: `/validate-profile` (a SeccompProfile of 40 syscalls),
//! `/mutate-v1-exec-metadata` (a pods/exec request) or `/mutate-v1-pod-binding` (a pod
//! CREATE in `--namespace`, dry-run so no status is written).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio_rustls::rustls;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn review(path: &str, i: usize, ns: &str) -> serde_json::Value {
    let names: Vec<&str> = vec![
        "read",
        "write",
        "open",
        "openat",
        "close",
        "fstat",
        "lseek",
        "mmap",
        "mprotect",
        "munmap",
        "brk",
        "rt_sigaction",
        "rt_sigprocmask",
        "ioctl",
        "pread64",
        "pwrite64",
        "readv",
        "writev",
        "access",
        "pipe",
        "select",
        "sched_yield",
        "mremap",
        "msync",
        "mincore",
        "madvise",
        "dup",
        "dup2",
        "nanosleep",
        "getpid",
        "socket",
        "connect",
        "accept",
        "sendto",
        "recvfrom",
        "bind",
        "listen",
        "clone",
        "execve",
        "exit_group",
    ];
    let (kind, req) = match path {
        "/mutate-v1-exec-metadata" => (
            json!({"group": "", "version": "v1", "kind": "PodExecOptions"}),
            json!({"subResource": "exec", "operation": "CONNECT", "namespace": ns, "name": "target",
                "object": {"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh", "-c", "id"], "container": "c"}}),
        ),
        "/mutate-v1-pod-binding" => (
            json!({"group": "", "version": "v1", "kind": "Pod"}),
            json!({"operation": "CREATE", "namespace": ns, "name": format!("load-{i}"), "dryRun": true,
                "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("load-{i}"), "namespace": ns, "labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1.19"}, {"name": "d", "image": "other"}]}}}),
        ),
        _ => (
            json!({"group": "security-profiles-operator.x-k8s.io", "version": "v1", "kind": "SeccompProfile"}),
            json!({"operation": "CREATE", "name": format!("p{i}"),
                "object": {"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "SeccompProfile",
                    "metadata": {"name": format!("p{i}")},
                    "spec": {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                        "syscalls": [{"action": "SCMP_ACT_ALLOW", "names": names}]}}}),
        ),
    };
    let mut req = req;
    req["uid"] = json!(format!("load-{i}"));
    req["kind"] = kind;
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req})
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let url = arg(&args, "--url", "https://127.0.0.1:9443");
    let ca = arg(&args, "--ca", "");
    let path = arg(&args, "--path", "/validate-profile");
    let n: usize = arg(&args, "--n", "2000").parse()?;
    let rate: f64 = arg(&args, "--rate", "200").parse()?;
    let conns: usize = arg(&args, "--conns", "4").parse()?;
    let ns = arg(&args, "--namespace", "bound");
    let pid = arg(&args, "--pid", "");
    let hostport = url.trim_start_matches("https://").to_string();

    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&ca).with_context(|| format!("reading --ca {ca}"))?;
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c?)?;
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let host = hostport
        .split(':')
        .next()
        .unwrap_or("127.0.0.1")
        .to_string();

    let mut senders = Vec::new();
    for _ in 0..conns {
        let tcp = tokio::net::TcpStream::connect(&hostport).await?;
        tcp.set_nodelay(true)?;
        let name = rustls::pki_types::ServerName::try_from(host.clone())?;
        let tls = connector.connect(name, tcp).await?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(tls)).await?;
        tokio::spawn(conn);
        senders.push(Arc::new(tokio::sync::Mutex::new(sender)));
    }
    let bodies: Vec<Bytes> = (0..n)
        .map(|i| Bytes::from(review(&path, i, &ns).to_string()))
        .collect();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (i, body) in bodies.into_iter().enumerate() {
        tokio::time::sleep_until((start + interval * i as u32).into()).await;
        let sender = senders[i % conns].clone();
        let path = path.clone();
        let host = hostport.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = sender.lock().await;
            let t = Instant::now();
            let req = hyper::Request::post(path)
                .header("host", host)
                .header("content-type", "application/json")
                .body(Full::new(body))?;
            let resp = s.send_request(req).await?;
            let ok = resp.status().is_success();
            let bytes = resp.into_body().collect().await?.to_bytes();
            let v: serde_json::Value = serde_json::from_slice(&bytes)?;
            anyhow::ensure!(ok && v["response"]["uid"].is_string(), "bad answer: {v}");
            Ok::<_, anyhow::Error>((t.elapsed(), v["response"]["allowed"] == true))
        }));
    }
    let mut lat = Vec::with_capacity(n);
    let mut allowed = 0usize;
    for t in tasks {
        let (d, a) = t.await??;
        lat.push(d);
        allowed += usize::from(a);
    }
    let wall = start.elapsed();
    lat.sort();
    println!(
        "{n} reviews to {path} at {rate}/s over {conns} connections in {:.2?}: allowed {allowed}",
        wall
    );
    println!(
        "round trip: p50 {:.3?}  p99 {:.3?}  max {:.3?}",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat[lat.len() - 1]
    );
    // The server's own view: cumulative buckets of its handling-time histogram.
    let mut s = senders[0].lock().await;
    let resp = s
        .send_request(
            hyper::Request::get("/metrics")
                .header("host", hostport.clone())
                .body(Full::new(Bytes::new()))?,
        )
        .await?;
    let text = String::from_utf8_lossy(&resp.into_body().collect().await?.to_bytes()).into_owned();
    let mut total = 0f64;
    let mut buckets = Vec::new();
    for l in text.lines() {
        if !l.contains(&format!("path=\"{path}\"")) {
            continue;
        }
        if l.starts_with("spo_webhook_review_duration_seconds_count") {
            total = l.rsplit(' ').next().unwrap_or("0").parse().unwrap_or(0.0);
        }
        if l.starts_with("spo_webhook_review_duration_seconds_bucket") {
            let le = l
                .split("le=\"")
                .nth(1)
                .and_then(|x| x.split('"').next())
                .unwrap_or("");
            let c: f64 = l.rsplit(' ').next().unwrap_or("0").parse().unwrap_or(0.0);
            buckets.push((le.to_string(), c));
        }
    }
    let p99 = buckets
        .iter()
        .find(|(_, c)| total > 0.0 && *c / total >= 0.99)
        .map(|(le, _)| le.clone())
        .unwrap_or_default();
    println!("in server: {total} reviews on this path; p99 ≤ {p99} s (histogram bucket)");
    for (le, c) in &buckets {
        println!("  le {le:>8}: {c}");
    }
    if !pid.is_empty() {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        for key in ["VmHWM:", "VmRSS:"] {
            if let Some(l) = status.lines().find(|l| l.starts_with(key)) {
                println!("webhook {l}");
            }
        }
    }
    Ok(())
}
