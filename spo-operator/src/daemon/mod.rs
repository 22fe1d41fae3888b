//! The per-node daemon (`spo-operator daemon`, one per node, `NODE_NAME`): kube-runtime
//! controllers around free `reconcile` functions with a [`Context`], inside kube-runtime's
//! `finalizer` helper; it watches the profiles, its SPOD and the pods of its own node only.

pub mod apparmor;
pub mod health;
pub mod inuse;
pub mod nodestatus;
pub mod recorder;
pub mod recorder_run;
pub mod seccomp;
pub mod selinux;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::Store;
use kube::Client;

use crate::api::SecurityProfilesOperatorDaemon;
use crate::metrics::Metrics;

/// Flags and environment of `spo-operator daemon` (ARCH-04, ARCH-08, ARCH-13).
#[derive(Debug, Clone, clap::Args)]
pub struct DaemonOptions {
    /// This node's name.
    #[arg(long, env = "NODE_NAME")]
    pub node_name: String,
    /// The kubelet root directory (ARCH-08).
    #[arg(long, env = "KUBELET_DIR", default_value = "/var/lib/kubelet")]
    pub kubelet_dir: PathBuf,
    /// The operator's namespace (where the SPOD lives).
    #[arg(
        long,
        env = "OPERATOR_NAMESPACE",
        default_value = "security-profiles-operator"
    )]
    pub operator_namespace: String,
    /// Name of the SPOD object.
    #[arg(long, env = "SPOD_NAME", default_value = "spod")]
    pub spod_name: String,
    /// Install SeccompProfiles.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub with_seccomp: bool,
    /// Install SelinuxProfiles.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    pub with_selinux: bool,
    /// Where CIL policy files go.
    #[arg(long, env = "SPO_SELINUX_DIR", default_value = "/etc/selinux.d")]
    pub selinux_dir: PathBuf,
    /// Instead of `semodule`, check each module with `secilc` against this base policy
    /// (hosts without SELinux, and tests).
    #[arg(long, env = "SPO_SELINUX_OFFLINE_BASE")]
    pub selinux_offline_base: Option<PathBuf>,
    /// Install AppArmorProfiles.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    pub with_apparmor: bool,
    /// Where AppArmor policy files go.
    #[arg(long, env = "SPO_APPARMOR_DIR", default_value = "/etc/apparmor.d")]
    pub apparmor_dir: PathBuf,
    /// Compile AppArmor policies (`apparmor_parser -Q -K`) and write them without loading:
    /// for hosts where AppArmor cannot be active, and tests.
    #[arg(long, env = "SPO_APPARMOR_OFFLINE", default_value_t = false, action = clap::ArgAction::Set)]
    pub apparmor_offline: bool,
    /// Health (`/healthz`) and metrics (`/metrics-spod`) listener (ARCH-10).
    #[arg(long, env = "SPO_HEALTH_ADDR", default_value = "0.0.0.0:8085")]
    pub health_addr: String,
    /// Record profiles of annotated pods on this node (recording.md §3).
    #[arg(long, env = "SPO_WITH_RECORDING", default_value_t = false, action = clap::ArgAction::Set)]
    pub with_recording: bool,
    /// The node recorder's state file (recordings survive a restart).
    #[arg(
        long,
        env = "SPO_RECORDING_STATE",
        default_value = "/var/lib/security-profiles-operator/recorder-state.json"
    )]
    pub recording_state: PathBuf,
    /// Where container cgroups are searched (default: the cgroup v2 mount).
    #[arg(long, env = "SPO_RECORDING_CGROUP_ROOT")]
    pub recording_cgroup_root: Option<PathBuf>,
    /// Record `Logs` recordings (seccomp, SELinux AVCs) from this audit log, in-process.
    #[arg(long, env = "SPO_RECORDING_AUDIT_LOG")]
    pub recording_audit_log: Option<PathBuf>,
    /// Record with the eBPF recorder (`Bpf` recordings).
    #[arg(long, env = "SPO_RECORDING_BPF", default_value_t = true, action = clap::ArgAction::Set)]
    pub recording_bpf: bool,
    /// Memory optimisation: the recorder only sees pods labelled
    /// `spo.x-k8s.io/enable-recording=true` (RC-45).
    #[arg(long, env = "SPO_RECORDING_MEMORY_OPTIMIZED", default_value_t = false, action = clap::ArgAction::Set)]
    pub recording_memory_optimized: bool,
    /// Restrict the namespaced caches (the pods of this node) to these namespaces,
    /// comma-separated, plus always the operator namespace (ARCH-13). Empty = all.
    /// Falls back to `WATCH_NAMESPACE`.
    #[arg(long, env = "RESTRICT_TO_NAMESPACE")]
    pub restrict_to_namespace: Option<String>,
    /// `oci://` base profiles: talk plain HTTP to registries (test and air-gapped
    /// registries; default HTTPS).
    #[arg(long, env = "SPO_OCI_PLAIN_HTTP", default_value_t = false, action = clap::ArgAction::Set)]
    pub oci_plain_http: bool,
    /// `oci://` base profiles: an extra trusted CA certificate (PEM) besides the system roots.
    #[arg(long, env = "SPO_OCI_CA_FILE")]
    pub oci_ca_file: Option<PathBuf>,
    /// `oci://` base profiles: verify cosign signatures with this public key (PEM) instead
    /// of keyless (Fulcio) verification. The SPOD's
    /// `disableOciArtifactSignatureVerification: true` still turns verification off (SC-18).
    #[arg(long, env = "SPO_OCI_VERIFY_KEY")]
    pub oci_verify_key: Option<PathBuf>,
    /// Most API requests the profile controllers have in flight at once (reconciles and
    /// events). Each request in flight holds a connection with its TLS buffers; without a
    /// bound, 1,000 new profiles open ~1,000 connections at once.
    #[arg(long, env = "SPO_API_CONCURRENCY", default_value_t = 16)]
    pub api_concurrency: usize,
}

impl DaemonOptions {
    /// The namespaces the namespaced caches watch (ARCH-13): `None` for all; otherwise the
    /// listed ones plus the operator namespace, sorted, without duplicates.
    /// `RESTRICT_TO_NAMESPACE` wins over `WATCH_NAMESPACE`.
    pub fn watched_namespaces(&self) -> Option<Vec<String>> {
        let raw = self
            .restrict_to_namespace
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| std::env::var("WATCH_NAMESPACE").ok())?;
        restricted_namespaces(&raw, &self.operator_namespace)
    }
}

/// Parses a `RESTRICT_TO_NAMESPACE` value (ARCH-13): comma-separated namespaces plus the
/// operator namespace; `None` (all namespaces) when it names none.
pub fn restricted_namespaces(raw: &str, operator_namespace: &str) -> Option<Vec<String>> {
    let mut list: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() {
        return None;
    }
    list.push(operator_namespace.to_owned());
    list.sort();
    list.dedup();
    Some(list)
}

/// Flags of `spo-operator non-root-enabler` (ARCH-07).
#[derive(Debug, Clone, clap::Args)]
pub struct EnablerOptions {
    /// The kubelet root directory.
    #[arg(long, env = "KUBELET_DIR", default_value = "/var/lib/kubelet")]
    pub kubelet_dir: PathBuf,
    /// The operator's root on the host.
    #[arg(
        long,
        env = "SPO_OPERATOR_ROOT",
        default_value = "/var/lib/security-profiles-operator"
    )]
    pub operator_root: PathBuf,
}

/// Everything a reconcile needs.
pub struct Context {
    /// The API client.
    pub client: Client,
    /// This node.
    pub node: String,
    /// `<kubelet>/seccomp/operator`.
    pub seccomp_root: PathBuf,
    /// Events on profiles.
    pub recorder: Recorder,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The SPOD (policy).
    pub spod: Store<SecurityProfilesOperatorDaemon>,
    /// Pods on this node (of the watched namespaces, ARCH-13).
    pub pods: PodCache,
    /// Operator namespace and SPOD name.
    pub spod_ref: (String, String),
    /// Bounds the API requests in flight (`--api-concurrency`).
    pub api_slots: Arc<tokio::sync::Semaphore>,
}

/// The pods of this node: one watch cache for all namespaces, or one per watched namespace
/// when the daemon is restricted (ARCH-13).
#[derive(Clone, Default)]
pub struct PodCache(pub Vec<Store<Pod>>);

impl PodCache {
    /// Every cached pod.
    pub fn state(&self) -> Vec<Arc<Pod>> {
        self.0.iter().flat_map(Store::state).collect()
    }

    /// Waits until every cache has its first listing; `false` when a cache is gone.
    pub async fn wait_until_ready(&self) -> bool {
        for s in &self.0 {
            if s.wait_until_ready().await.is_err() {
                return false;
            }
        }
        true
    }
}

impl Context {
    /// The SPOD, if present.
    pub fn spod(&self) -> Option<Arc<SecurityProfilesOperatorDaemon>> {
        self.spod.state().into_iter().find(|s| {
            s.metadata.name.as_deref() == Some(self.spod_ref.1.as_str())
                && s.metadata.namespace.as_deref() == Some(self.spod_ref.0.as_str())
        })
    }
}

/// `<kubelet>/seccomp/operator`.
pub fn seccomp_root(kubelet_dir: &std::path::Path) -> PathBuf {
    kubelet_dir.join("seccomp").join("operator")
}

/// Prepares the node's directories (ARCH-07): `<kubelet>/seccomp`, the operator root (0744)
/// and the symlink `<kubelet>/seccomp/operator → <operator root>` when absent.
pub fn non_root_enabler(opts: &EnablerOptions) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let seccomp = opts.kubelet_dir.join("seccomp");
    std::fs::create_dir_all(&seccomp).with_context(|| format!("creating {}", seccomp.display()))?;
    std::fs::create_dir_all(&opts.operator_root)
        .with_context(|| format!("creating {}", opts.operator_root.display()))?;
    std::fs::set_permissions(&opts.operator_root, std::fs::Permissions::from_mode(0o744))
        .with_context(|| format!("chmod {}", opts.operator_root.display()))?;
    let link = seccomp.join("operator");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink(&opts.operator_root, &link)
            .with_context(|| format!("linking {}", link.display()))?;
    }
    let cfg = opts.operator_root.join("kubelet-config.json");
    let body = serde_json::json!({"kubeletDir": opts.kubelet_dir}).to_string();
    std::fs::write(&cfg, body).with_context(|| format!("writing {}", cfg.display()))?;
    Ok(())
}

/// Runs the daemon until SIGTERM/SIGINT.
pub async fn run(opts: DaemonOptions) -> anyhow::Result<()> {
    if !(opts.with_seccomp || opts.with_selinux || opts.with_apparmor) {
        anyhow::bail!(
            "no controller enabled: pass --with-seccomp, --with-selinux or --with-apparmor"
        );
    }
    let seccomp_dir = opts.kubelet_dir.join("seccomp");
    std::fs::create_dir_all(&seccomp_dir)
        .with_context(|| format!("creating {}", seccomp_dir.display()))?;
    let client = Client::try_default()
        .await
        .context("connecting to the API server")?;
    let metrics = Arc::new(Metrics::new());
    let health = health::Health::default();
    let reporter = Reporter {
        controller: "spo-daemon".into(),
        instance: Some(opts.node_name.clone()),
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let server = health::serve(&opts.health_addr, health.clone(), metrics.clone())
        .await
        .with_context(|| format!("listening on {}", opts.health_addr))?;
    let mut tasks = tokio::task::JoinSet::new();
    if opts.with_apparmor {
        let (c, o, r, m, h) = (
            client.clone(),
            opts.clone(),
            recorder.clone(),
            metrics.clone(),
            health.clone(),
        );
        tasks.spawn(apparmor::run(c, o, r, m, h));
    }
    if opts.with_selinux {
        let (c, o, r, m, h) = (
            client.clone(),
            opts.clone(),
            recorder.clone(),
            metrics.clone(),
            health.clone(),
        );
        tasks.spawn(selinux::run(c, o, r, m, h));
    }
    if opts.with_recording {
        tasks.spawn(recorder_run::run(
            client.clone(),
            opts.clone(),
            recorder.clone(),
            health.clone(),
        ));
    }
    if opts.with_seccomp {
        tasks.spawn(seccomp::run(client, opts, recorder, metrics, health));
    }
    let controllers = async move {
        while let Some(r) = tasks.join_next().await {
            r.context("controller task")??;
        }
        Ok(())
    };
    tokio::select! {
        r = controllers => r,
        r = server => match r {
            Ok(r) => r.context("health server"),
            Err(e) => Err(e).context("health server"),
        },
    }
}
