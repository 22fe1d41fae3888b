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

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Context as _;
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
    /// Install RawSelinuxProfiles too (SPOD `selinux.enableRawSelinuxProfiles`, SE-27); only
    /// with `--with-selinux`.
    #[arg(long, env = "SPO_WITH_RAW_SELINUX", default_value_t = true, action = clap::ArgAction::Set)]
    pub with_raw_selinux: bool,
    /// `semodule -p ROOT`: an alternate policy root (chroots, tests).
    #[arg(long, env = "SPO_SELINUX_ROOT")]
    pub selinux_root: Option<PathBuf>,
    /// `semodule -s STORE`: the policy store name.
    #[arg(long, env = "SPO_SELINUX_STORE")]
    pub selinux_store: Option<String>,
    /// Shortest time between two reloads of the running policy, in seconds (SE-23).
    #[arg(long, env = "SPO_SELINUX_RELOAD_INTERVAL", default_value_t = 120)]
    pub selinux_reload_interval: u64,
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
    /// Also serve `/metrics` and `/metrics-spod` here over TLS with TokenReview and
    /// SubjectAccessReview (OP-37), e.g. `0.0.0.0:9443`; off when unset.
    #[arg(long, env = "SPO_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Directory with the metrics serving certificate (`tls.crt`, `tls.key`).
    #[arg(
        long,
        env = "SPO_METRICS_CERT_DIR",
        default_value = "/var/run/secrets/metrics"
    )]
    pub metrics_cert_dir: PathBuf,
    /// Serve `--metrics-addr` as plain HTTP without authentication (OP-16).
    #[arg(long, env = "SPO_INSECURE_METRICS", default_value_t = false, action = clap::ArgAction::Set)]
    pub with_insecure_metrics_access: bool,
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
    /// `--with-mem-optim` is the SPOD's `enableMemoryOptimization` as the manager passes it.
    #[arg(long, alias = "with-mem-optim", env = "SPO_RECORDING_MEMORY_OPTIMIZED", default_value_t = false, action = clap::ArgAction::Set)]
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

/// Flags of `spo-operator non-root-enabler` (ARCH-07..ARCH-09).
#[derive(Debug, Clone, clap::Args)]
pub struct EnablerOptions {
    /// The kubelet root directory (ARCH-08; the node label
    /// `kubelet.kubernetes.io/directory-location` wins when the node can be read).
    #[arg(long, env = "KUBELET_DIR", default_value = "/var/lib/kubelet")]
    pub kubelet_dir: PathBuf,
    /// The operator's root on the host.
    #[arg(
        long,
        env = "SPO_OPERATOR_ROOT",
        default_value = "/var/lib/security-profiles-operator"
    )]
    pub operator_root: PathBuf,
    /// Where the host's root file system is mounted (the kubelet directory is under it).
    #[arg(long, env = "SPO_HOST_ROOT", default_value = "/host")]
    pub host_root: PathBuf,
    /// The bundled profiles (the `security-profiles-operator-profile` ConfigMap's mount).
    #[arg(long, env = "SPO_PROFILES_DIR", default_value = "/opt/spo-profiles")]
    pub profiles_dir: PathBuf,
    /// This node (read for its kubelet-directory label, ARCH-08/OP-36).
    #[arg(long, env = "NODE_NAME")]
    pub node_name: Option<String>,
    /// Load the operator's own AppArmor profiles `spo-apparmor` and `bpfrecorder-apparmor`
    /// from the bundled profiles (ARCH-09).
    #[arg(long, env = "SPO_APPARMOR", default_value_t = false, action = clap::ArgAction::Set)]
    pub apparmor: bool,
    /// Where AppArmor policy files go.
    #[arg(long, env = "SPO_APPARMOR_DIR", default_value = "/etc/apparmor.d")]
    pub apparmor_dir: PathBuf,
    /// Compile the AppArmor profiles (`apparmor_parser -Q -K`) and write them without
    /// loading: hosts where AppArmor cannot be active, and tests.
    #[arg(long, env = "SPO_APPARMOR_OFFLINE", default_value_t = false, action = clap::ArgAction::Set)]
    pub apparmor_offline: bool,
    /// The container runtime of the node (accepted for compatibility; unused).
    #[arg(long, default_value = "")]
    pub runtime: String,
}

/// Owner of the operator root (the daemon runs as 65535, ARCH-07).
pub const OPERATOR_ROOT_OWNER: u32 = 65535;

/// The operator's own AppArmor profiles (ARCH-09), as files of the bundled profiles.
pub const OWN_APPARMOR_PROFILES: [&str; 2] = ["spo-apparmor", "bpfrecorder-apparmor"];

/// The kubelet directory a node's `kubelet.kubernetes.io/directory-location` label names
/// (OP-36, ARCH-08): every `-` becomes `/`, and the path is absolute
/// (`mnt-resource-kubelet` → `/mnt/resource/kubelet`). `None` for an empty label.
pub fn kubelet_dir_from_label(label: &str) -> Option<PathBuf> {
    let label = label.trim();
    if label.is_empty() {
        return None;
    }
    let path = label.replace('-', "/");
    // Label values cannot start with `/` (or `-`): the path is absolute.
    Some(Path::new("/").join(path.trim_start_matches('/')))
}

/// The node label that overrides the kubelet directory (OP-36).
pub const LABEL_KUBELET_DIR: &str = "kubelet.kubernetes.io/directory-location";

/// Reads `node`'s kubelet-directory label through the API (OP-36); `None` when the node has
/// none.
pub async fn kubelet_dir_of_node(client: Client, node: &str) -> crate::Result<Option<PathBuf>> {
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(client);
    let n = nodes
        .get_opt(node)
        .await
        .with_context(|| format!("reading node {node}"))?;
    Ok(n.and_then(|n| {
        n.metadata
            .labels
            .and_then(|l| l.get(LABEL_KUBELET_DIR).cloned())
    })
    .and_then(|l| kubelet_dir_from_label(&l)))
}

/// `spo-operator non-root-enabler`: the kubelet directory from the node label when
/// `NODE_NAME` is set and the API answers (OP-36), else `KUBELET_DIR`; then
/// [`non_root_enabler`].
pub async fn run_non_root_enabler(opts: EnablerOptions) -> crate::Result<EnablerReport> {
    let mut kubelet = opts.kubelet_dir.clone();
    if let Some(node) = &opts.node_name {
        match Client::try_default().await {
            Ok(client) => match kubelet_dir_of_node(client, node).await {
                Ok(Some(dir)) => {
                    tracing::info!(node, dir = %dir.display(), "kubelet directory from the node label");
                    kubelet = dir;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "cannot read the node's labels; using KUBELET_DIR")
                }
            },
            Err(e) => tracing::warn!(error = %e, "no API access; using KUBELET_DIR"),
        }
    }
    let report = non_root_enabler(&opts, &kubelet)?;
    tracing::info!(
        seccomp_dir = %report.seccomp_dir.display(),
        copied = ?report.copied,
        apparmor = ?report.apparmor,
        "node prepared"
    );
    Ok(report)
}

/// What the non-root-enabler did (for its log and tests).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EnablerReport {
    /// `<host-root><kubelet>/seccomp`.
    pub seccomp_dir: PathBuf,
    /// Bundled files copied into it.
    pub copied: Vec<String>,
    /// AppArmor profiles loaded (or, offline, compiled and written).
    pub apparmor: Vec<String>,
}

/// Prepares the node (ARCH-07): `<host-root><kubelet>/seccomp`; the operator root (0744,
/// owned by 65535:65535, changed without following a symlink); the symlink
/// `<kubelet>/seccomp/operator → <operator root>` when absent; `kubelet-config.json`; the
/// bundled profile files copied into the seccomp directory; and with `--apparmor` the
/// operator's own AppArmor profiles loaded (ARCH-09). `kubelet_dir` is the directory to
/// use (the flag, or the node label's — see [`kubelet_dir_of_node`]).
pub fn non_root_enabler(opts: &EnablerOptions, kubelet_dir: &Path) -> crate::Result<EnablerReport> {
    use std::os::unix::fs::PermissionsExt;
    let rel = kubelet_dir.strip_prefix("/").unwrap_or(kubelet_dir);
    let seccomp = opts.host_root.join(rel).join("seccomp");
    std::fs::create_dir_all(&seccomp).with_context(|| format!("creating {}", seccomp.display()))?;
    std::fs::create_dir_all(&opts.operator_root)
        .with_context(|| format!("creating {}", opts.operator_root.display()))?;
    let meta = std::fs::symlink_metadata(&opts.operator_root)
        .with_context(|| format!("stat {}", opts.operator_root.display()))?;
    if !meta.file_type().is_symlink() {
        std::fs::set_permissions(&opts.operator_root, std::fs::Permissions::from_mode(0o744))
            .with_context(|| format!("chmod {}", opts.operator_root.display()))?;
    }
    std::os::unix::fs::lchown(
        &opts.operator_root,
        Some(OPERATOR_ROOT_OWNER),
        Some(OPERATOR_ROOT_OWNER),
    )
    .with_context(|| format!("chown {}", opts.operator_root.display()))?;
    let link = seccomp.join("operator");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink(&opts.operator_root, &link)
            .with_context(|| format!("linking {}", link.display()))?;
    }
    let body = serde_json::json!({"kubeletDir": kubelet_dir}).to_string();
    spo_core::hostio::write_if_changed(
        &opts.operator_root,
        "kubelet-config.json",
        body.as_bytes(),
        0o644,
    )
    .with_context(|| {
        format!(
            "writing {}/kubelet-config.json",
            opts.operator_root.display()
        )
    })?;
    let mut report = EnablerReport {
        seccomp_dir: seccomp.clone(),
        ..EnablerReport::default()
    };
    for (name, data) in bundled_files(&opts.profiles_dir)? {
        spo_core::hostio::write_if_changed(&seccomp, &name, &data, 0o644)
            .with_context(|| format!("copying {name} into {}", seccomp.display()))?;
        report.copied.push(name);
    }
    if opts.apparmor {
        report.apparmor = load_own_apparmor(opts)?;
    }
    Ok(report)
}

/// The regular files of a ConfigMap mount (`..data` and other `..` entries skipped; the
/// per-key symlinks followed), sorted by name.
fn bundled_files(dir: &Path) -> crate::Result<Vec<(String, Vec<u8>)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e.with_context(|| format!("reading {}", dir.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("..") || !e.path().is_file() {
            continue;
        }
        let data =
            std::fs::read(e.path()).with_context(|| format!("reading {}", e.path().display()))?;
        out.push((name, data));
    }
    out.sort();
    Ok(out)
}

/// ARCH-09: renders `spo-apparmor` and `bpfrecorder-apparmor` from the bundled
/// AppArmorProfile manifests and loads them with `apparmor_parser` — or, offline, compiles
/// them with `apparmor_parser -Q -K` and writes the files without loading.
fn load_own_apparmor(opts: &EnablerOptions) -> crate::Result<Vec<String>> {
    use spo_apparmor::install::{AppArmorLoader as _, ApparmorParser, Host};
    let parser = ApparmorParser::find().context("--apparmor: apparmor_parser not found")?;
    std::fs::create_dir_all(&opts.apparmor_dir)
        .with_context(|| format!("creating {}", opts.apparmor_dir.display()))?;
    let mut loaded = Vec::new();
    for name in OWN_APPARMOR_PROFILES {
        let file = opts.profiles_dir.join(format!("{name}.yaml"));
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("--apparmor: reading {}", file.display()))?;
        let profile = spo_apparmor::AppArmorProfile::from_yaml_one(&text)
            .with_context(|| file.display().to_string())?;
        let policy = spo_apparmor::render(&profile, None)
            .with_context(|| format!("rendering {}", file.display()))?;
        let pname = profile.metadata.name.clone();
        if opts.apparmor_offline {
            let diags = parser.compile(&policy)?;
            if let Some(d) = diags.first() {
                return Err(crate::Error::Config(format!(
                    "{}: apparmor_parser rejected the policy: {}",
                    file.display(),
                    d.message
                )));
            }
            spo_apparmor::install::write_policy(&opts.apparmor_dir, &pname, &policy)?;
        } else {
            let host = Host::system();
            host.require_apparmor()?;
            let path = spo_apparmor::install::write_policy(&opts.apparmor_dir, &pname, &policy)?;
            parser.load(&path)?;
        }
        loaded.push(pname);
    }
    Ok(loaded)
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

/// Serves the daemon's `/metrics` and `/metrics-spod` (with the standalone services'
/// counters) on `addr`: TLS with token and access review, or plain HTTP in insecure mode.
async fn serve_metrics(
    addr: &str,
    opts: &DaemonOptions,
    client: Client,
    metrics: Arc<Metrics>,
) -> crate::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the metrics address {addr}"))?;
    let mode = if opts.with_insecure_metrics_access {
        crate::metrics_server::Mode::Insecure
    } else {
        crate::metrics_server::Mode::Secure {
            dir: opts.metrics_cert_dir.clone(),
            auth: crate::metrics_server::KubeAuth::new(client),
        }
    };
    let render: crate::metrics_server::Render = Arc::new(move |path: &str| {
        matches!(path, "/metrics" | "/metrics-spod").then(|| {
            let m = metrics.clone();
            // The socket sources are fetched asynchronously; the server's worker waits.
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(m.encode_spod())
            })
        })
    });
    tokio::spawn(async move {
        if let Err(e) = crate::metrics_server::serve(listener, mode, render).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    Ok(())
}

/// Runs the daemon until SIGTERM/SIGINT.
pub async fn run(opts: DaemonOptions) -> crate::Result<()> {
    if !(opts.with_seccomp || opts.with_selinux || opts.with_apparmor) {
        return Err(crate::Error::Config(
            "no controller enabled: pass --with-seccomp, --with-selinux or --with-apparmor".into(),
        ));
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
    if let Some(addr) = &opts.metrics_addr {
        serve_metrics(addr, &opts, client.clone(), metrics.clone()).await?;
    }
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
            metrics.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    // covers: OP-36, ARCH-08
    #[test]
    fn node_label_dashes_become_slashes() {
        assert_eq!(
            kubelet_dir_from_label("var-data-kubelet"),
            Some(PathBuf::from("/var/data/kubelet"))
        );
        assert_eq!(
            kubelet_dir_from_label("-var-data-kubelet"),
            Some(PathBuf::from("/var/data/kubelet"))
        );
        assert_eq!(kubelet_dir_from_label(" "), None);
    }

    // covers: ARCH-13
    #[test]
    fn restricted_namespaces_always_add_the_operator_namespace() {
        assert_eq!(restricted_namespaces("", "spo"), None);
        assert_eq!(restricted_namespaces(" , ", "spo"), None);
        assert_eq!(
            restricted_namespaces("b, a,b", "spo"),
            Some(vec!["a".into(), "b".into(), "spo".into()])
        );
        assert_eq!(
            restricted_namespaces("spo", "spo"),
            Some(vec!["spo".into()])
        );
    }
}
