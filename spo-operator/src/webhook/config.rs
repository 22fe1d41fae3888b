//! The webhook configurations (`operator.md` §4.1, OP-23, OP-24) for a webhook reached by URL
//! (`clientConfig.url`, as `spo-operator webhook --print-configurations` prints them) with a
//! CA bundle. There is one builder: the manager's ([`crate::manager::desired::webhook`]);
//! this wraps it for a webhook server outside the cluster.
//! Differences from upstream on purpose: `admissionReviewVersions` lists `v1` first (both are
//! served), `sideEffects: NoneOnDryRun` on the pod webhooks (they write binding/recording
//! status and skip that on dry runs), `timeoutSeconds: 10` with the profile wait bounded below
//! it, and the profile kinds get a validating webhook `profile-validation.spo.io` besides
//! upstream's `rawselinuxprofile-validation.spo.io`.

use serde_json::{json, Value};

use crate::manager::config::{ManagerEnv, SpodConfig};
use crate::manager::desired::webhook::{mutating, validating};

/// A `List` of the MutatingWebhookConfiguration `spo-mutating-webhook-configuration` and the
/// ValidatingWebhookConfiguration `spo-validating-webhook-configuration`, as the manager
/// builds them for a default SPOD with the webhook registered by `base_url`; `ca_b64` is the
/// base64 `caBundle`; `with_exec_metadata` adds `execmetadata.spo.io` and
/// `nodedebuggingpod.spo.io` (the JSON enricher on, OP-24).
pub fn configurations(base_url: &str, ca_b64: &str, with_exec_metadata: bool) -> Value {
    let env = ManagerEnv {
        webhook_url: Some(base_url.to_string()),
        ..ManagerEnv::default()
    };
    let spec = json!({"enricher": {"enableJsonEnricher": with_exec_metadata}});
    let mut items = match SpodConfig::from_spec("spod", &spec, &env) {
        Ok(cfg) => vec![mutating(&cfg, &env), validating(&cfg, &env)],
        // A fixed, valid spec: not reached.
        Err(_) => Vec::new(),
    };
    for item in &mut items {
        if let Some(hooks) = item["webhooks"].as_array_mut() {
            for h in hooks {
                h["clientConfig"]["caBundle"] = json!(ca_b64);
            }
        }
    }
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: OP-23, OP-24
    #[test]
    fn names_policies_and_selectors_as_the_spec_says() {
        let l = configurations("https://127.0.0.1:9443/", "Q0E=", false);
        let m = &l["items"][0];
        assert_eq!(m["metadata"]["name"], "spo-mutating-webhook-configuration");
        let names: Vec<_> = m["webhooks"]
            .as_array()
            .expect("list")
            .iter()
            .map(|w| w["name"].clone())
            .collect();
        assert_eq!(names, vec!["binding.spo.io", "recording.spo.io"]);
        assert_eq!(m["webhooks"][0]["failurePolicy"], "Fail");
        assert_eq!(
            m["webhooks"][0]["clientConfig"]["url"],
            "https://127.0.0.1:9443/mutate-v1-pod-binding"
        );
        assert_eq!(
            m["webhooks"][1]["namespaceSelector"]["matchExpressions"][0]["key"],
            "spo.x-k8s.io/enable-recording"
        );
        let l = configurations("https://x", "Q0E=", true);
        let w = &l["items"][0]["webhooks"];
        assert_eq!(w[2]["name"], "execmetadata.spo.io");
        assert_eq!(w[2]["failurePolicy"], "Ignore");
        assert_eq!(w[3]["name"], "nodedebuggingpod.spo.io");
        assert_eq!(
            l["items"][1]["webhooks"][0]["name"],
            "rawselinuxprofile-validation.spo.io"
        );
    }

    // covers: OP-23, OP-24 — one builder: the printed set is the manager's set plus the CA.
    #[test]
    fn printed_configurations_are_the_managers() {
        let l = configurations("https://127.0.0.1:9443", "Q0E=", true);
        let env = ManagerEnv {
            webhook_url: Some("https://127.0.0.1:9443".into()),
            ca_bundle: Some("CA".into()),
            ..ManagerEnv::default()
        };
        let spec = json!({"enricher": {"enableJsonEnricher": true}});
        let cfg = SpodConfig::from_spec("spod", &spec, &env).expect("cfg");
        assert_eq!(l["items"][0], mutating(&cfg, &env));
        assert_eq!(l["items"][1], validating(&cfg, &env));
        let v: Vec<_> = l["items"][1]["webhooks"]
            .as_array()
            .expect("list")
            .iter()
            .map(|w| w["name"].clone())
            .collect();
        assert_eq!(
            v,
            vec![
                "rawselinuxprofile-validation.spo.io",
                "profile-validation.spo.io"
            ]
        );
        assert_eq!(l["items"][0]["webhooks"][0]["sideEffects"], "NoneOnDryRun");
        assert_eq!(l["items"][1]["webhooks"][1]["sideEffects"], "None");
    }
}
