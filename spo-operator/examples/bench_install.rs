//! Measures the daemon against a running cluster (`make cluster-up`): N SeccompProfiles
//! created at once → per-profile latency to the file on disk (p50/p99/max), time until every
//! file exists and every node status is Installed, time to delete them all, and the daemon's
//! peak RSS and idle CPU. Env: KUBECONFIG, SPO_KUBELET_DIR, SPO_DAEMON_PID.
//! Usage: cargo run --release -p spo-operator --example bench_install -- [N] [--keep]

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use futures::{stream, StreamExt};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::Client;
use spo_operator::api::{SeccompProfile, SecurityProfileNodeStatus};

fn proc_field(pid: &str, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .map(|l| l.trim_start_matches(key).trim().to_string())
        .unwrap_or_else(|| "?".into())
}

fn cpu_ticks(pid: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0)
}

fn pct(v: &[f64], p: f64) -> f64 {
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let keep = args.iter().any(|a| a == "--keep");
    let dir = PathBuf::from(std::env::var("SPO_KUBELET_DIR")?).join("seccomp/operator");
    let pid = std::env::var("SPO_DAEMON_PID").unwrap_or_default();
    let client = Client::try_default().await?;
    let api: Api<SeccompProfile> = Api::all(client.clone());
    let spns: Api<SecurityProfileNodeStatus> = Api::all(client);
    let run = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_secs()
        % 100000;
    let names: Vec<String> = (0..n).map(|i| format!("bench-{run}-{i}")).collect();
    let mut spec = spo_seccomp::SeccompSpec::new(spo_seccomp::Action::Errno);
    spec.syscalls.push(spo_seccomp::Syscall::new(
        ["read", "write", "exit_group", "futex"],
        spo_seccomp::Action::Allow,
    ));
    let start = Instant::now();
    let sent: Vec<(String, SystemTime)> = stream::iter(names.clone())
        .map(|name| {
            let api = api.clone();
            let p = SeccompProfile::new(&name, spec.clone());
            async move {
                let t = SystemTime::now();
                api.create(&PostParams::default(), &p)
                    .await
                    .map(|_| (name, t))
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let created = start.elapsed();
    let mut lat = Vec::new();
    let mut pending = sent.clone();
    while !pending.is_empty() {
        pending.retain(
            |(name, t)| match std::fs::metadata(dir.join(format!("{name}.json"))) {
                Ok(m) => {
                    let mt = m.modified().unwrap_or(*t);
                    lat.push(mt.duration_since(*t).unwrap_or_default().as_secs_f64() * 1000.0);
                    false
                }
                Err(_) => true,
            },
        );
        if start.elapsed() > Duration::from_secs(300) {
            anyhow::bail!("{} files still missing after 300 s", pending.len());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_files = start.elapsed();
    loop {
        let l = spns
            .list(&ListParams::default().labels("spo.x-k8s.io/profile-state=Installed"))
            .await?;
        let done = l
            .items
            .iter()
            .filter(|s| {
                s.metadata
                    .name
                    .as_deref()
                    .is_some_and(|x| x.starts_with(&format!("bench-{run}-")))
            })
            .count();
        if done == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_installed = start.elapsed();
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "profiles: {n} (all created in {:.0} ms)",
        created.as_secs_f64() * 1000.0
    );
    println!(
        "create → file: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat[lat.len() - 1]
    );
    println!(
        "all files written: {:.0} ms; all node statuses Installed: {:.0} ms",
        all_files.as_secs_f64() * 1000.0,
        all_installed.as_secs_f64() * 1000.0
    );
    if !pid.is_empty() {
        println!(
            "daemon RSS now {}, peak {}",
            proc_field(&pid, "VmRSS:"),
            proc_field(&pid, "VmHWM:")
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = cpu_ticks(&pid);
        tokio::time::sleep(Duration::from_secs(10)).await;
        println!(
            "daemon CPU over 10 s idle: {} ticks (1 tick = 10 ms)",
            cpu_ticks(&pid) - before
        );
    }
    if keep {
        return Ok(());
    }
    let del = Instant::now();
    stream::iter(names.clone())
        .map(|name| {
            let api = api.clone();
            async move {
                api.delete(&name, &DeleteParams::default())
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    loop {
        let gone = names
            .iter()
            .all(|n| !dir.join(format!("{n}.json")).exists());
        let left = api
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .filter(|p| {
                p.metadata
                    .name
                    .as_deref()
                    .is_some_and(|x| x.starts_with(&format!("bench-{run}-")))
            })
            .count();
        if gone && left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "delete all → files and objects gone: {:.0} ms",
        del.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
