//! The manager (`spo-operator manager`): this part is the node-status aggregation.

pub mod aggregate;
pub mod certs;
pub mod config;
pub mod desired;
pub mod leader;
pub mod spod;

/// Flags of `spo-operator manager` (ARCH-03).
#[derive(Debug, Clone, clap::Args)]
pub struct ManagerOptions {
    /// Seconds to wait for nodes that never report before naming them in the status.
    #[arg(long, default_value_t = 60)]
    pub node_report_timeout: u64,
    /// Manage the webhook objects (ARCH-03); `--webhook=false` makes the default SPOD static.
    #[arg(short = 'w', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook: bool,
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
    /// CA, no cert-manager needed).
    #[arg(long, env = "SPO_CERT_PROVIDER", value_enum, default_value = "self")]
    pub cert_provider: config::CertProvider,
    /// Leader election on the Lease `security-profiles-operator-lock` (ARCH-02).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_elect: bool,
    /// Lease duration in seconds.
    #[arg(long, default_value_t = 15)]
    pub lease_duration: u64,
}

/// Runs the manager until a signal.
pub async fn run(opts: ManagerOptions) -> anyhow::Result<()> {
    use anyhow::Context as _;
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
        }
        Ok::<(), anyhow::Error>(())
    };
    let lost = async {
        match &lock {
            Some(l) => l.hold().await,
            None => futures::future::pending::<()>().await,
        }
    };
    tokio::select! {
        r = aggregate::run(opts.clone()) => r,
        r = spod_task => r,
        () = lost => anyhow::bail!("lost the leader lease {}", leader::MANAGER_LOCK),
    }
}
