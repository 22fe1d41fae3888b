//! The manager → daemon boundary: for every SPOD feature, the daemon container's arguments in
//! the manager's DaemonSet are accepted by the daemon's own flag parser and mean what the
//! SPOD asked for (a flag the daemon does not know would crash-loop every node's pod).
// covers: OP-12, OP-16, OP-37, SE-27
#![cfg(feature = "kube")]

use clap::Parser;
use spo_operator::manager::config::{ManagerEnv, SpodConfig};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    Daemon(spo_operator::daemon::DaemonOptions),
}

fn daemon_opts(spec: serde_json::Value) -> (Vec<String>, spo_operator::daemon::DaemonOptions) {
    let env = ManagerEnv::from_lookup(|_| None);
    let cfg = SpodConfig::from_spec("spod", &spec, &env).expect("SPOD config");
    let ds = spo_operator::manager::desired::daemonset::daemonset(&cfg, &env);
    let daemon = ds["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .find(|c| c["name"] == "security-profiles-operator")
        .expect("daemon container")
        .clone();
    let mut argv = vec!["spo-operator".to_string()];
    argv.extend(
        daemon["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("string arg").to_string()),
    );
    argv.extend(["--node-name".into(), "n".into()]);
    let Cmd::Daemon(opts) = Cli::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("the daemon refuses {argv:?}: {e}"))
        .cmd;
    (argv, opts)
}

#[test]
fn every_spod_feature_gives_daemon_flags_the_daemon_accepts() {
    let (argv, o) = daemon_opts(serde_json::json!({}));
    assert_eq!(o.metrics_addr.as_deref(), Some("0.0.0.0:9443"), "{argv:?}");
    assert!(!o.with_insecure_metrics_access && !o.recording_memory_optimized);
    assert!(
        !o.with_selinux && !o.with_apparmor && !o.with_recording,
        "{argv:?}"
    );

    let (argv, o) = daemon_opts(serde_json::json!({"enableMemoryOptimization": true}));
    assert!(o.recording_memory_optimized, "{argv:?}");
    let (argv, o) = daemon_opts(serde_json::json!({"enableInsecureMetricsAccess": true}));
    assert!(o.with_insecure_metrics_access, "{argv:?}");
    let (argv, o) = daemon_opts(serde_json::json!({"enableAppArmor": true}));
    assert!(o.with_apparmor, "{argv:?}");
    let (argv, o) = daemon_opts(serde_json::json!({"selinux": {"enable": true}}));
    assert!(o.with_selinux && o.with_raw_selinux, "{argv:?}");
    let (argv, o) = daemon_opts(serde_json::json!({"enricher": {"enableLogEnricher": true}}));
    assert!(o.with_recording, "{argv:?}");
    let (argv, o) = daemon_opts(serde_json::json!({"enricher": {"enableBpfRecorder": true}}));
    assert!(o.with_recording, "{argv:?}");
}
