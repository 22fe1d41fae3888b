//! Enrichers as node services (recording.md §4, §6, §7) around spo-recorder:
//!
//! * [`PodResolver`]: an API-backed [`ContainerResolver`] fed by a watch of the pods of its
//!   own node — a container ID is looked up in that in-memory store, never by listing the
//!   node's pods per cache miss (weak point 11);
//! * [`spawn_log_source`]: the audit log tailed by spo-recorder's [`Enricher`] on a thread of
//!   its own; the node recorder reads the syscall and AVC sets per record id from it
//!   in-process (no gRPC socket: the data never leaves the process that writes the profiles);
//! * the `log-enricher` and `json-enricher` sub-commands ([`run_log_enricher`],
//!   [`run_json_enricher`]): the same pieces printing `audit` lines / JSON lines. The
//!   `bpf-recorder` sub-command is the node recorder alone (`daemon::recorder_run`), so the
//!   process holding CAP_BPF is not the one installing profiles (least privilege per process).
//!
//! Metrics: each service keeps its counters in its own registry and, with `--metrics-socket`,
//! serves them as OpenMetrics text over HTTP on a unix socket in the volume it shares with the
//! daemon container (`/var/run/spo-metrics/<service>.sock`); the daemon's `/metrics-spod`
//! fetches and merges every socket at scrape time ([`crate::metrics::Metrics::encode_spod`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Context as _;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Client, ResourceExt};
use spo_recorder::audit::tailer::{TailOptions, Tailer};
use spo_recorder::enricher::{
    trace_event, ContainerInfo, ContainerResolver, Enricher, EnricherOptions,
};

use crate::daemon::recorder::{container_id, PREFIX_TRACE_AVCS, PREFIX_TRACE_LOGS};
use crate::metrics::Metrics;

/// Container ID → pod identity from a pod store of this node.
#[derive(Clone)]
pub struct PodResolver {
    pods: Store<Pod>,
}

impl std::fmt::Debug for PodResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PodResolver").finish_non_exhaustive()
    }
}

impl PodResolver {
    /// A resolver over `pods`.
    pub fn new(pods: Store<Pod>) -> Self {
        PodResolver { pods }
    }
}

/// The identity of container `id` in `pod`, with the record id of a log recording (§4.3).
pub fn container_info(pod: &Pod, id: &str) -> Option<ContainerInfo> {
    let st = pod.status.as_ref()?;
    let cs = st
        .init_container_statuses
        .iter()
        .flatten()
        .chain(st.container_statuses.iter().flatten())
        .chain(st.ephemeral_container_statuses.iter().flatten())
        .find(|c| c.container_id.as_deref().and_then(container_id).as_deref() == Some(id))?;
    let ann = pod.annotations();
    let record_profile = ann
        .get(&format!("{PREFIX_TRACE_LOGS}{}", cs.name))
        .or_else(|| ann.get(&format!("{PREFIX_TRACE_AVCS}{}", cs.name)))
        .cloned();
    Some(ContainerInfo {
        namespace: pod.namespace().unwrap_or_default(),
        pod: pod.name_any(),
        container: cs.name.clone(),
        record_profile,
    })
}

impl ContainerResolver for PodResolver {
    fn resolve(&self, container_id: &str) -> Option<Arc<ContainerInfo>> {
        self.pods
            .state()
            .iter()
            .find_map(|p| container_info(p, container_id))
            .map(Arc::new)
    }
}

/// The shared enricher of a node.
pub type SharedEnricher = Arc<Mutex<Enricher<PodResolver>>>;

/// Label a pod needs to be seen by the recorder with memory optimisation on (RC-45).
pub const LABEL_ENABLE_RECORDING: &str = "spo.x-k8s.io/enable-recording";

/// The pod watch of a node: pods bound to `node`; with `memory_optimized` only those labelled
/// `spo.x-k8s.io/enable-recording=true` (RC-45).
pub fn pod_watch_config(node: &str, memory_optimized: bool) -> watcher::Config {
    let cfg = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
    if memory_optimized {
        cfg.labels(&format!("{LABEL_ENABLE_RECORDING}=true"))
    } else {
        cfg
    }
}

/// Starts the pod watch of `node`; the store is ready when this returns.
pub async fn node_pods(client: Client, node: &str) -> crate::Result<Store<Pod>> {
    node_pods_with(client, pod_watch_config(node, false)).await
}

/// Starts a pod watch with `cfg`; the store is ready when this returns.
pub async fn node_pods_with(client: Client, cfg: watcher::Config) -> crate::Result<Store<Pod>> {
    let pods: Api<Pod> = Api::all(client);
    let (store, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(pods, cfg))
        .touched_objects()
        .default_backoff();
    tokio::spawn(async move {
        futures::pin_mut!(stream);
        while stream.next().await.is_some() {}
    });
    store
        .wait_until_ready()
        .await
        .context("waiting for the pod watch")?;
    Ok(store)
}

/// Tails `path` on a thread of its own, feeding every line to a shared enricher; `print`
/// also logs each enriched event as an `audit` line (RC-31..RC-33); `metrics` counts the
/// audit records per container (`*_profile_audit_total`).
pub fn spawn_log_source(
    path: &Path,
    node: &str,
    pods: Store<Pod>,
    print: bool,
    metrics: Option<spo_recorder::enricher::EnricherMetrics>,
) -> crate::Result<SharedEnricher> {
    let opts = EnricherOptions::default().with_node(node.to_string());
    spawn_log_source_with(path, opts, pods, print, metrics)
}

/// [`spawn_log_source`] with the enricher's options (filters, backlog, …) given.
pub fn spawn_log_source_with(
    path: &Path,
    opts: EnricherOptions,
    pods: Store<Pod>,
    print: bool,
    metrics: Option<spo_recorder::enricher::EnricherMetrics>,
) -> crate::Result<SharedEnricher> {
    let enricher = Arc::new(Mutex::new(Enricher::new(
        opts,
        PodResolver::new(pods),
        metrics,
    )));
    let mut tailer = Tailer::open(path, TailOptions::new(path))
        .with_context(|| format!("opening {}", path.display()))?;
    let shared = enricher.clone();
    std::thread::Builder::new()
        .name("audit-tail".into())
        .spawn(move || loop {
            let n = {
                let Ok(mut e) = shared.lock() else {
                    return;
                };
                let r = tailer.poll(&mut |line| {
                    e.process_line(line, Instant::now(), &mut |ev| {
                        if print {
                            trace_event(ev);
                        }
                    })
                });
                match r {
                    Ok(n) => n,
                    Err(err) => {
                        tracing::warn!(error = %err, "reading the audit log");
                        0
                    }
                }
            };
            if n == 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .context("starting the audit reader")?;
    Ok(enricher)
}

/// Flags of `spo-operator log-enricher` (SPOD `enableLogEnricher`).
#[derive(Debug, Clone, clap::Args)]
pub struct LogEnricherOptions {
    /// This node's name.
    #[arg(long, env = "NODE_NAME")]
    pub node_name: String,
    /// The audit source (default: /var/log/audit/audit.log, else /var/log/syslog; RC-27).
    #[arg(long, env = "SPO_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    /// Serve this process's counters on this unix socket for the daemon's `/metrics-spod`
    /// (the DaemonSet: `/var/run/spo-metrics/log-enricher.sock`).
    #[arg(long, env = "SPO_METRICS_SOCKET")]
    pub metrics_socket: Option<PathBuf>,
    /// SPOD `logEnricherSource`: `auditd` reads the audit log; `bpf` (RC-35) is not
    /// implemented and falls back to the audit log with a warning.
    #[arg(long, default_value = "auditd", value_parser = ["auditd", "bpf"])]
    pub enricher_log_source: String,
    /// SPOD `logEnricherFilters`: JSON filter rules on the enriched records.
    #[arg(long)]
    pub enricher_filters_json: Option<String>,
}

fn audit_source(p: &Option<PathBuf>) -> PathBuf {
    p.clone()
        .unwrap_or_else(|| spo_recorder::audit::tailer::default_source(Path::new("/")))
}

/// `spo-operator log-enricher`: attributed `audit` lines of this node's containers.
pub async fn run_log_enricher(opts: LogEnricherOptions) -> crate::Result<()> {
    let client = Client::try_default()
        .await
        .context("connecting to the API server")?;
    let pods = node_pods(client, &opts.node_name).await?;
    let path = audit_source(&opts.audit_log);
    if opts.enricher_log_source == "bpf" {
        tracing::warn!("logEnricherSource Bpf is not implemented (RC-35): reading the audit log");
    }
    let filters = match opts.enricher_filters_json.as_deref().map(str::trim) {
        Some(j) if !j.is_empty() => spo_recorder::enricher::filter::Filters::parse(j)
            .with_context(|| format!("--enricher-filters-json {j:?}"))?,
        _ => Default::default(),
    };
    let eo = EnricherOptions::default()
        .with_node(opts.node_name.clone())
        .with_filters(filters);
    let metrics = Arc::new(Metrics::new().with_collect_dir(None));
    let enricher = spawn_log_source_with(&path, eo, pods, true, Some(metrics.enricher_metrics()))?;
    let socket = match &opts.metrics_socket {
        Some(sock) => {
            // The line counters are brought up to date when they are read.
            let seen = Arc::new(Mutex::new(spo_recorder::enricher::EnricherStats::default()));
            let m = metrics.clone();
            let render: crate::metrics_server::Render = Arc::new(move |p: &str| {
                if p != "/metrics" {
                    return None;
                }
                if let (Ok(e), Ok(mut before)) = (enricher.lock(), seen.lock()) {
                    let now = e.stats();
                    m.enricher_stats("log-enricher", &before, &now);
                    *before = now;
                }
                Some(m.encode())
            });
            Some(serve_metrics(sock, render)?)
        }
        None => None,
    };
    tracing::info!(source = %path.display(), "log enricher started");
    let r = until_stopped().await;
    remove_socket(socket.as_deref());
    r
}

/// Serves `render` on `sock` (see [`crate::metrics_server::serve_unix`]); returns the path to
/// remove on exit.
fn serve_metrics(sock: &Path, render: crate::metrics_server::Render) -> crate::Result<PathBuf> {
    crate::metrics_server::serve_unix(sock, render)
        .with_context(|| format!("serving metrics on {}", sock.display()))?;
    tracing::info!(socket = %sock.display(), "metrics served");
    Ok(sock.to_path_buf())
}

fn remove_socket(sock: Option<&Path>) {
    if let Some(s) = sock {
        let _ = std::fs::remove_file(s);
    }
}

/// Waits for SIGTERM (the kubelet stopping the container) or SIGINT.
async fn until_stopped() -> crate::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        _ = term.recv() => Ok(()),
        r = tokio::signal::ctrl_c() => r.context("waiting for a signal"),
    }
}

/// Flags of `spo-operator bpf-recorder` (SPOD `enableBpfRecorder`): the daemon's flags for the
/// node recorder, and the metrics socket.
#[derive(Debug, Clone, clap::Args)]
pub struct BpfRecorderOptions {
    /// The node recorder's options (as `spo-operator daemon`).
    #[command(flatten)]
    pub daemon: crate::daemon::DaemonOptions,
    /// Serve this process's counters on this unix socket for the daemon's `/metrics-spod`
    /// (the DaemonSet: `/var/run/spo-metrics/bpf-recorder.sock`).
    #[arg(long, env = "SPO_METRICS_SOCKET")]
    pub metrics_socket: Option<PathBuf>,
}

/// `spo-operator bpf-recorder`: the node recorder alone, without the profile installers (the
/// process holding CAP_BPF is not the one writing into the kubelet directory); its counters
/// (`seccomp_profile_bpf_total`, `bpf_recorder_events_total`) on `--metrics-socket`.
pub async fn run_bpf_recorder(opts: BpfRecorderOptions) -> crate::Result<()> {
    let client = Client::try_default()
        .await
        .context("connecting to the API server")?;
    let reporter = kube::runtime::events::Reporter {
        controller: "spo-recorder".into(),
        instance: Some(opts.daemon.node_name.clone()),
    };
    let events = kube::runtime::events::Recorder::new(client.clone(), reporter);
    let metrics = Arc::new(Metrics::new().with_collect_dir(None));
    let socket = match &opts.metrics_socket {
        Some(sock) => {
            let m = metrics.clone();
            let render: crate::metrics_server::Render =
                Arc::new(move |p: &str| (p == "/metrics").then(|| m.encode()));
            Some(serve_metrics(sock, render)?)
        }
        None => None,
    };
    let r = crate::daemon::recorder_run::run(
        client,
        opts.daemon,
        events,
        crate::daemon::health::Health::default(),
        metrics,
    )
    .await;
    remove_socket(socket.as_deref());
    r
}

/// Flags of `spo-operator json-enricher` (SPOD `enableJsonEnricher`, §7).
#[derive(Debug, Clone, clap::Args)]
pub struct JsonEnricherOptions {
    /// This node's name.
    #[arg(long, env = "NODE_NAME")]
    pub node_name: String,
    /// The audit source.
    #[arg(long, env = "SPO_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    /// Seconds a PID's bucket is kept before it is emitted (`auditLogIntervalSeconds`).
    #[arg(long, alias = "audit-log-interval-seconds", default_value_t = 60)]
    pub interval: u64,
    /// SPOD `jsonEnricherFilters`: JSON filter rules on the emitted objects.
    #[arg(long)]
    pub enricher_filters_json: Option<String>,
    /// `auditLogPath`: write the JSON lines to this file (rotated) instead of stdout.
    #[arg(long)]
    pub audit_log_path: Option<PathBuf>,
    /// `auditLogMaxSize` (MB before rotation, 0: 100).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub audit_log_maxsize: i64,
    /// `auditLogMaxBackups` (0: all).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub audit_log_maxbackup: i64,
    /// `auditLogMaxAge` (days, 0: no limit).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub audit_log_maxage: i64,
    /// Serve this process's counters on this unix socket for the daemon's `/metrics-spod`
    /// (the DaemonSet: `/var/run/spo-metrics/json-enricher.sock`).
    #[arg(long, env = "SPO_METRICS_SOCKET")]
    pub metrics_socket: Option<PathBuf>,
}

/// `spo-operator json-enricher`: one JSON line per PID and interval on stdout (RC-41).
pub async fn run_json_enricher(opts: JsonEnricherOptions) -> crate::Result<()> {
    use spo_recorder::enricher::json::{JsonEnricher, JsonEnricherOptions as J};
    let client = Client::try_default()
        .await
        .context("connecting to the API server")?;
    let pods = node_pods(client, &opts.node_name).await?;
    let path = audit_source(&opts.audit_log);
    let filters = match opts.enricher_filters_json.as_deref().map(str::trim) {
        Some(j) if !j.is_empty() => spo_recorder::enricher::filter::Filters::parse(j)
            .with_context(|| format!("--enricher-filters-json {j:?}"))?,
        _ => Default::default(),
    };
    let rotate = spo_recorder::enricher::json::rotate::RotateOptions::from_raw(
        opts.audit_log_maxsize,
        opts.audit_log_maxbackup,
        opts.audit_log_maxage,
    )?;
    let mut output =
        spo_recorder::enricher::json::JsonOutput::open(opts.audit_log_path.as_deref(), rotate)?;
    let jo = J::default()
        .with_node(opts.node_name.clone())
        .with_interval(Duration::from_secs(opts.interval))
        .with_filters(filters);
    let mut j = JsonEnricher::new(jo, PodResolver::new(pods));
    let mut tailer = Tailer::open(&path, TailOptions::new(&path))
        .with_context(|| format!("opening {}", path.display()))?;
    let metrics = Arc::new(Metrics::new().with_collect_dir(None));
    let socket = match &opts.metrics_socket {
        Some(sock) => {
            let m = metrics.clone();
            let render: crate::metrics_server::Render =
                Arc::new(move |p: &str| (p == "/metrics").then(|| m.encode()));
            Some(serve_metrics(sock, render)?)
        }
        None => None,
    };
    tracing::info!(source = %path.display(), "json enricher started");
    let work = tokio::task::spawn_blocking(move || {
        let mut seen = spo_recorder::enricher::json::JsonStats::default();
        loop {
            let n = tailer
                .poll(&mut |line| j.process_line(line, Instant::now()))
                .unwrap_or(0);
            j.flush_due(Instant::now(), &mut |l| {
                if let Err(e) = output.write_line(l) {
                    tracing::warn!(error = %e, "writing a JSON line");
                }
            });
            let now = j.stats();
            json_stats(&metrics, &seen, &now);
            seen = now;
            if n == 0 {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    });
    let r = tokio::select! {
        r = work => r.context("json enricher thread"),
        r = until_stopped() => r,
    };
    remove_socket(socket.as_deref());
    r
}

/// Adds the growth of a JSON enricher's counters since `before` to
/// `enricher_events_total{enricher="json-enricher"}`.
fn json_stats(
    m: &Metrics,
    before: &spo_recorder::enricher::json::JsonStats,
    now: &spo_recorder::enricher::json::JsonStats,
) {
    for (event, b, n) in [
        ("seccomp", before.seccomp, now.seccomp),
        ("emitted", before.emitted, now.emitted),
        ("no_process", before.no_process, now.no_process),
        ("filtered", before.filtered, now.filtered),
        (
            "unknown_syscall",
            before.unknown_syscall,
            now.unknown_syscall,
        ),
    ] {
        m.enricher_event("json-enricher", event, n.saturating_sub(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Log {
        #[command(flatten)]
        o: LogEnricherOptions,
    }

    #[derive(clap::Parser)]
    struct Json {
        #[command(flatten)]
        o: JsonEnricherOptions,
    }

    #[derive(clap::Parser)]
    struct Bpf {
        #[command(flatten)]
        o: BpfRecorderOptions,
    }

    // covers: OP-12 (the args the manager's DaemonSet passes — tests/golden/manager — are
    // accepted by the sub-commands, including the metrics socket)
    #[test]
    fn op_12_daemonset_args_parse() {
        use clap::Parser as _;
        let l = Log::try_parse_from([
            "log-enricher",
            "--node-name=n1",
            r#"--enricher-filters-json=[{"level":"Metadata","matchKeys":["version"]}]"#,
            "--enricher-log-source=bpf",
            "--metrics-socket=/var/run/spo-metrics/log-enricher.sock",
        ])
        .expect("log-enricher args");
        assert_eq!(l.o.enricher_log_source, "bpf");
        assert_eq!(
            l.o.metrics_socket.as_deref(),
            Some(Path::new("/var/run/spo-metrics/log-enricher.sock"))
        );
        let j = Json::try_parse_from([
            "json-enricher",
            "--node-name=n1",
            "--enricher-filters-json=[]",
            "--audit-log-interval-seconds=30",
            "--audit-log-path=/var/log/spo/audit.log",
            "--audit-log-maxsize=10",
            "--audit-log-maxbackup=3",
            "--audit-log-maxage=7",
            "--metrics-socket=/var/run/spo-metrics/json-enricher.sock",
        ])
        .expect("json-enricher args");
        assert_eq!(
            (j.o.interval, j.o.audit_log_maxsize, j.o.audit_log_maxbackup),
            (30, 10, 3)
        );
        let b = Bpf::try_parse_from([
            "bpf-recorder",
            "--node-name=n1",
            "--metrics-socket=/var/run/spo-metrics/bpf-recorder.sock",
        ])
        .expect("bpf-recorder args");
        assert_eq!(b.o.daemon.node_name, "n1");
        assert!(Log::try_parse_from(["x", "--node-name=n", "--enricher-log-source=x"]).is_err());
    }

    // covers: RC-45 (memory optimisation: only labelled pods), weak point 11 (one watch)
    #[test]
    fn rc_45_pod_watch_selects_node_and_label() {
        let c = pod_watch_config("n1", false);
        assert_eq!(c.field_selector.as_deref(), Some("spec.nodeName=n1"));
        assert_eq!(c.label_selector, None);
        let c = pod_watch_config("n1", true);
        assert_eq!(
            c.label_selector.as_deref(),
            Some("spo.x-k8s.io/enable-recording=true")
        );
    }

    // covers: §4.3 step 3 (container → pod and record id from the pod's annotations)
    #[test]
    fn container_info_reads_status_and_annotation() {
        let id = "c".repeat(64);
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "annotations": {
                "io.containers.trace-avcs/web": "rec_web_abcde_1"}},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"containerStatuses": [{"name": "web", "containerID":
                format!("containerd://{id}"), "image": "", "imageID": "", "ready": true,
                "restartCount": 0}]}
        }))
        .unwrap();
        let info = container_info(&pod, &id).unwrap();
        assert_eq!(
            (
                info.namespace.as_str(),
                info.pod.as_str(),
                info.container.as_str()
            ),
            ("ns", "p", "web")
        );
        assert_eq!(info.record_profile.as_deref(), Some("rec_web_abcde_1"));
        assert!(container_info(&pod, &"d".repeat(64)).is_none());
    }
}
