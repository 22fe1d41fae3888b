//! The metrics Service and ServiceMonitor (`operator.md` §7, OP-16, OP-37).

use serde_json::{json, Value};

use super::super::config::{ManagerEnv, SpodConfig};

/// Name of the metrics Service.
pub const SERVICE: &str = "metrics";
/// Secret with the metrics serving certificate.
pub const CERT_SECRET: &str = "metrics-server-cert";
/// Name of the ServiceMonitor.
pub const MONITOR: &str = "security-profiles-operator-monitor";

/// The metrics Service (443 named `http` → 9443 on the spod pods).
pub fn service(cfg: &SpodConfig, env: &ManagerEnv) -> Value {
    let mut meta = json!({"name": SERVICE, "namespace": env.namespace,
        "labels": {"app": "security-profiles-operator", "app.kubernetes.io/managed-by": "spo-operator"}});
    if env.openshift {
        meta["annotations"] =
            json!({"service.beta.openshift.io/serving-cert-secret-name": CERT_SECRET});
    }
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "ports": [{"name": "http", "port": 443, "targetPort": 9443, "protocol": "TCP"}],
            "selector": {"app": "security-profiles-operator", "name": cfg.name}
        }
    })
}

/// The ServiceMonitor: https with the `metrics-token` bearer and the serving CA, or plain http
/// without auth in insecure mode (OP-16).
pub fn service_monitor(cfg: &SpodConfig, env: &ManagerEnv) -> Value {
    let ns = &env.namespace;
    let endpoint = |path: &str| {
        if cfg.insecure_metrics {
            json!({"path": path, "interval": "10s", "port": "http", "scheme": "http"})
        } else {
            json!({
                "path": path, "interval": "10s", "port": "http", "scheme": "https",
                "bearerTokenSecret": {"name": "metrics-token", "key": "token"},
                "tlsConfig": {
                    "serverName": format!("metrics.{ns}.svc"),
                    "ca": {"secret": {"name": CERT_SECRET, "key": "tls.crt"}}
                }
            })
        }
    };
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": MONITOR, "namespace": ns,
            "labels": {"app": "security-profiles-operator", "app.kubernetes.io/managed-by": "spo-operator"}},
        "spec": {
            "endpoints": [endpoint("/metrics"), endpoint("/metrics-spod")],
            "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["security-profiles-operator"]}]}
        }
    })
}
