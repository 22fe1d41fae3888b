//! `spo-operator`: the operator's one binary. Parses flags, builds a context, calls the library.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// The Security Profiles Operator (spo).
#[derive(Parser, Debug)]
#[command(name = "spo-operator")]
struct Cli {
    /// Log verbosity: 0 info, 1 debug, 2+ trace (ARCH-05).
    #[arg(
        short = 'V',
        long,
        env = "SPO_VERBOSITY",
        default_value_t = 0,
        global = true
    )]
    verbosity: u8,
    /// Log format.
    #[arg(long, env = "SPO_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"], global = true)]
    log_format: String,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The per-node daemon: installs profiles on this node (NODE_NAME).
    Daemon(spo_operator::daemon::DaemonOptions),
    /// The manager: aggregates node statuses into profile statuses.
    Manager(spo_operator::manager::ManagerOptions),
    /// The webhook: CRD conversion, admission (validation, ProfileBinding, recording, exec
    /// metadata) and metrics over TLS (ARCH-06).
    Webhook(spo_operator::webhook::server::WebhookOptions),
    /// Prepares the node's directories (ARCH-07).
    NonRootEnabler(spo_operator::daemon::EnablerOptions),
    /// Writes the CRDs to a directory (deploy/crds).
    Crds {
        /// Output directory.
        #[arg(long, default_value = "deploy/crds")]
        out: PathBuf,
    },
    /// Prints the version.
    Version,
    /// The node recorder alone: eBPF recording of annotated containers (recording.md §3, §6).
    BpfRecorder(spo_operator::enrichers::BpfRecorderOptions),
    /// Attributed `audit` lines of this node's containers (recording.md §4).
    LogEnricher(spo_operator::enrichers::LogEnricherOptions),
    /// One JSON line per process and interval (recording.md §7).
    JsonEnricher(spo_operator::enrichers::JsonEnricherOptions),
}

fn init_logs(verbosity: u8, format: &str) {
    let level = match verbosity {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // No colour codes in log files (ARCH-05 logs are read by tools, too).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if format == "json" {
        b.json().init();
    } else {
        b.init();
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logs(cli.verbosity, &cli.log_format);
    match cli.cmd {
        Cmd::Version => {
            println!("spo-operator {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Cmd::Crds { out } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            for (file, yaml) in spo_operator::crd::all_crds() {
                let path = out.join(file);
                std::fs::write(&path, yaml)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("{}", path.display());
            }
            let path = out.join("kustomization.yaml");
            std::fs::write(&path, spo_operator::crd::crds_kustomization())
                .with_context(|| format!("writing {}", path.display()))?;
            println!("{}", path.display());
            Ok(())
        }
        Cmd::NonRootEnabler(opts) => runtime()?
            .block_on(spo_operator::daemon::run_non_root_enabler(opts))
            .map(|_| ())
            .context("non-root-enabler"),
        Cmd::Daemon(opts) => Ok(runtime()?.block_on(spo_operator::daemon::run(opts))?),
        Cmd::Manager(opts) => Ok(runtime()?.block_on(spo_operator::manager::run(opts))?),
        Cmd::BpfRecorder(opts) => {
            Ok(runtime()?.block_on(spo_operator::enrichers::run_bpf_recorder(opts))?)
        }
        Cmd::LogEnricher(opts) => {
            Ok(runtime()?.block_on(spo_operator::enrichers::run_log_enricher(opts))?)
        }
        Cmd::JsonEnricher(opts) => {
            Ok(runtime()?.block_on(spo_operator::enrichers::run_json_enricher(opts))?)
        }
        Cmd::Webhook(opts) => Ok(runtime()?.block_on(spo_operator::webhook::server::run(opts))?),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}
