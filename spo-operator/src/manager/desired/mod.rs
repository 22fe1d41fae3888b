//! Pure builders: the SPOD configuration → every object the manager owns. Each returns the
//! object as JSON, ready for server-side apply; golden files in `tests/golden/manager/` show
//! them per feature combination.

pub mod daemonset;
pub mod metrics;
pub mod selinuxd;
pub mod webhook;

use serde_json::Value;

use super::config::{ManagerEnv, SpodConfig};

/// Every desired object of one SPOD, in apply order.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The spod DaemonSet.
    pub daemonset: Value,
    /// Webhook Deployment, Service and configurations; empty in static mode (OP-22).
    pub webhook: Vec<Value>,
    /// The metrics Service.
    pub metrics_service: Value,
    /// The ServiceMonitor (applied only when its CRD exists).
    pub service_monitor: Value,
    /// Default profiles: `log-enricher-trace` while the log enricher is on (SC-41).
    pub profiles: Vec<Value>,
}

/// Builds every desired object.
pub fn desired(cfg: &SpodConfig, env: &ManagerEnv) -> Desired {
    let webhook = if cfg.static_webhook {
        Vec::new()
    } else {
        vec![
            webhook::service(env),
            webhook::deployment(cfg, env),
            webhook::mutating(cfg, env),
            webhook::validating(cfg, env),
        ]
    };
    Desired {
        daemonset: daemonset::daemonset(cfg, env),
        webhook,
        metrics_service: metrics::service(cfg, env),
        service_monitor: metrics::service_monitor(cfg, env),
        profiles: if cfg.log_enricher {
            vec![log_enricher_trace()]
        } else {
            Vec::new()
        },
    }
}

/// SeccompProfile `log-enricher-trace`: logs every syscall, for log-based recording (SC-41).
pub fn log_enricher_trace() -> Value {
    serde_json::json!({
        "apiVersion": "security-profiles-operator.x-k8s.io/v1",
        "kind": "SeccompProfile",
        "metadata": {"name": "log-enricher-trace",
            "labels": {"app": "security-profiles-operator", "app.kubernetes.io/managed-by": "spo-operator"}},
        "spec": {"defaultAction": "SCMP_ACT_LOG"}
    })
}

/// A stable digest of a desired object, stored as an annotation so the manager sees whether
/// the live object still matches what it last applied.
pub fn digest(v: &Value) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(v.to_string().as_bytes());
    h.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
