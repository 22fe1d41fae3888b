//! The manager (`spo-operator manager`): this part is the node-status aggregation.

pub mod aggregate;
pub mod merger;

/// Flags of `spo-operator manager` (ARCH-03).
#[derive(Debug, Clone, clap::Args)]
pub struct ManagerOptions {
    /// Seconds to wait for nodes that never report before naming them in the status.
    #[arg(long, default_value_t = 60)]
    pub node_report_timeout: u64,
}

/// Runs the manager until a signal.
pub async fn run(opts: ManagerOptions) -> anyhow::Result<()> {
    tokio::try_join!(aggregate::run(opts), merger::run())?;
    Ok(())
}
