//! The manager (`spo-operator manager`): this part is the node-status aggregation.

pub mod aggregate;
pub mod certs;
pub mod config;
pub mod desired;
pub mod leader;
pub mod merger;
pub mod spod;
pub mod workloads;

/// Flags of `spo-operator manager` (ARCH-03).
#[derive(Debug, Clone, clap::Args)]
pub struct ManagerOptions {
    /// Seconds to wait for nodes that never report before naming them in the status.
    #[arg(long, default_value_t = 60)]
    pub node_report_timeout: u64,
    /// Manage the webhook objects (ARCH-03); `--webhook=false` makes the default SPOD static.
    #[arg(short = 'w', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook: bool,
    /// Run the node-status aggregation (ARCH-03).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub with_nodestatus_controller: bool,
    /// Run the workload annotator (ARCH-03): SelinuxProfile `activeWorkloads` and the
    /// `in-use-by-active-pods` finalizer (SE-30).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub with_workload_annotator: bool,
    /// Run the SPOD controller (ARCH-03).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub with_spod_controller: bool,
    /// Image of the spod containers when no operator Deployment exists (a local manager).
    #[arg(long, env = "SPO_IMAGE")]
    pub image: Option<String>,
    /// Register the webhooks by URL (a webhook server outside the cluster), e.g.
    /// `https://127.0.0.1:9443`; default: the `webhook-service` Service.
    #[arg(long, env = "SPO_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// PEM file with the CA bundle to inject into the webhook configurations.
    #[arg(long, env = "SPO_WEBHOOK_CA_FILE")]
    pub webhook_ca_file: Option<std::path::PathBuf>,
    /// Who issues the webhook and metrics serving certificates (`self`: the manager's own
    /// CA, no cert-manager needed; `cert-manager` falls back to `self`, with a Warning Event
    /// `CertManagerMissing`, while cert-manager's kinds are not installed).
    #[arg(long, env = "SPO_CERT_PROVIDER", value_enum, default_value = "self")]
    pub cert_provider: config::CertProvider,
    /// Serve `/metrics` and `/metrics-spod` here (e.g. `0.0.0.0:9443`); off when unset.
    #[arg(long, env = "SPO_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Serve plain-HTTP `/healthz` and `/readyz` here (e.g. `0.0.0.0:8081`); off when unset.
    #[arg(long, env = "SPO_MANAGER_HEALTH_ADDR")]
    pub health_addr: Option<String>,
    /// Directory with the metrics serving certificate (`tls.crt`, `tls.key`).
    #[arg(long, default_value = "/var/run/secrets/metrics")]
    pub metrics_cert_dir: std::path::PathBuf,
    /// Leader election on the Lease `security-profiles-operator-lock` (ARCH-02).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_elect: bool,
    /// Lease duration in seconds.
    #[arg(long, default_value_t = 15)]
    pub lease_duration: u64,
}

/// Runs the manager until a signal.
pub async fn run(opts: ManagerOptions) -> crate::Result<()> {
    use crate::Context as _;
    let client = kube::Client::try_default()
        .await
        .context("connecting to the API server")?;
    let mut env = config::ManagerEnv::from_lookup(|k| std::env::var(k).ok());
    env.webhook_url = opts.webhook_url.clone();
    env.cert_provider = opts.cert_provider;
    if let Some(f) = &opts.webhook_ca_file {
        env.ca_bundle =
            Some(std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?);
    }
    // Every replica serves metrics, leader or not (ARCH-11, OP-37).
    if let Some(addr) = &opts.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the metrics address {addr}"))?;
        let mode = if env.enable_insecure_metrics {
            crate::metrics_server::Mode::Insecure
        } else {
            crate::metrics_server::Mode::Secure {
                dir: opts.metrics_cert_dir.clone(),
                auth: crate::metrics_server::KubeAuth::new(client.clone()),
            }
        };
        let registry = std::sync::Arc::new(crate::metrics::Metrics::new());
        let render: crate::metrics_server::Render = std::sync::Arc::new(move |path: &str| {
            matches!(path, "/metrics" | "/metrics-spod").then(|| registry.encode())
        });
        tokio::spawn(async move {
            if let Err(e) = crate::metrics_server::serve(listener, mode, render).await {
                tracing::error!(error = %e, "metrics server stopped");
            }
        });
    }
    if let Some(addr) = &opts.health_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the health address {addr}"))?;
        let render: crate::metrics_server::Render = std::sync::Arc::new(|_: &str| None);
        tokio::spawn(async move {
            let mode = crate::metrics_server::Mode::Insecure;
            if let Err(e) = crate::metrics_server::serve(listener, mode, render).await {
                tracing::error!(error = %e, "health server stopped");
            }
        });
    }
    let lock = opts.leader_elect.then(|| {
        let identity = std::env::var("POD_NAME").unwrap_or_else(|_| {
            format!(
                "{}-{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "manager".into()),
                std::process::id()
            )
        });
        leader::LeaderLock::new(
            client.clone(),
            &env.namespace,
            leader::MANAGER_LOCK,
            &identity,
            std::time::Duration::from_secs(opts.lease_duration.max(3)),
        )
    });
    if let Some(l) = &lock {
        l.acquire().await.context("leader election")?;
    }
    let settings = spod::SpodSettings {
        env,
        manage_webhook: opts.webhook,
        fallback_image: opts.image.clone(),
        node_name: std::env::var("NODE_NAME").ok(),
    };
    let spod_task = async {
        if opts.with_spod_controller {
            spod::run(client.clone(), settings).await?;
        } else {
            // Disabled: never ends the select below.
            futures::future::pending::<()>().await;
        }
        Ok::<(), crate::Error>(())
    };
    let lost = async {
        match &lock {
            Some(l) => l.hold().await,
            None => futures::future::pending::<()>().await,
        }
    };
    tokio::select! {
        r = async {
            if opts.with_nodestatus_controller {
                aggregate::run(opts.clone()).await
            } else {
                futures::future::pending::<crate::Result<()>>().await
            }
        } => r,
        r = spod_task => r,
        r = async {
            if opts.with_workload_annotator {
                workloads::run(client.clone()).await
            } else {
                futures::future::pending::<crate::Result<()>>().await
            }
        } => r,
        // The recording merger (mergeStrategy: Containers, recording.md §5).
        r = merger::run() => r,
        () = lost => Err(crate::Error::Config(format!("lost the leader lease {}", leader::MANAGER_LOCK))),
    }
}
