//! The webhook configurations (`operator.md` §4.1, OP-23, OP-24) for a webhook reached by URL
//! (`clientConfig.url`, as the local cluster and the tests register it) with a CA bundle.
//! Differences from upstream on purpose: `admissionReviewVersions` lists `v1` first (both are
//! served), `sideEffects: NoneOnDryRun` (the pod webhooks write binding/recording status and
//! skip that on dry runs), `timeoutSeconds: 10` with the profile wait bounded below it, and the
//! profile kinds get a validating webhook `profile-validation.spo.io` besides upstream's
//! `rawselinuxprofile-validation.spo.io`.

use serde_json::{json, Value};

fn client(base: &str, path: &str, ca: &str) -> Value {
    json!({"url": format!("{}{path}", base.trim_end_matches('/')), "caBundle": ca})
}

fn not_operator() -> Value {
    json!({"matchExpressions": [{"key": "name", "operator": "NotIn",
        "values": ["security-profiles-operator", "security-profiles-operator-webhook"]}]})
}

/// A `List` of the MutatingWebhookConfiguration `spo-mutating-webhook-configuration` and the
/// ValidatingWebhookConfiguration `spo-validating-webhook-configuration`; `with_exec_metadata`
/// adds `execmetadata.spo.io` and `nodedebuggingpod.spo.io` (JSON enricher on, OP-24).
pub fn configurations(base_url: &str, ca_b64: &str, with_exec_metadata: bool) -> Value {
    let common = |name: &str, path: &str, policy: &str| {
        json!({"name": name, "clientConfig": client(base_url, path, ca_b64),
            "admissionReviewVersions": ["v1", "v1beta1"], "sideEffects": "NoneOnDryRun",
            "timeoutSeconds": 10, "failurePolicy": policy})
    };
    let mut binding = common("binding.spo.io", "/mutate-v1-pod-binding", "Fail");
    binding["rules"] = json!([{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "DELETE"], "resources": ["pods"]}]);
    binding["namespaceSelector"] =
        json!({"matchExpressions": [{"key": "spo.x-k8s.io/enable-binding", "operator": "Exists"}]});
    binding["objectSelector"] = not_operator();
    let mut recording = common("recording.spo.io", "/mutate-v1-pod-recording", "Fail");
    recording["rules"] = json!([{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE", "DELETE"], "resources": ["pods"]}]);
    recording["namespaceSelector"] = json!({"matchExpressions": [{"key": "spo.x-k8s.io/enable-recording", "operator": "Exists"}]});
    recording["objectSelector"] = not_operator();
    let mut mutating = vec![binding, recording];
    if with_exec_metadata {
        let mut exec = common("execmetadata.spo.io", "/mutate-v1-exec-metadata", "Ignore");
        exec["rules"] = json!([{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["*"], "resources": ["pods/exec", "pods/ephemeralcontainers"]}]);
        let mut debug = common(
            "nodedebuggingpod.spo.io",
            "/mutate-v1-exec-metadata",
            "Ignore",
        );
        debug["rules"] = json!([{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]);
        debug["objectSelector"] =
            json!({"matchLabels": {"app.kubernetes.io/managed-by": "kubectl-debug"}});
        mutating.push(exec);
        mutating.push(debug);
    }
    let rule = |res: &[&str], versions: &[&str]| json!([{"apiGroups": [spo_core::GROUP], "apiVersions": versions, "operations": ["CREATE", "UPDATE"], "resources": res}]);
    let mut raw = common(
        "rawselinuxprofile-validation.spo.io",
        "/validate-rawselinuxprofile",
        "Fail",
    );
    raw["rules"] = rule(&["rawselinuxprofiles"], &["v1", "v1alpha2"]);
    let mut profiles = common("profile-validation.spo.io", "/validate-profile", "Fail");
    profiles["rules"] = rule(
        &["seccompprofiles", "selinuxprofiles", "apparmorprofiles"],
        &["*"],
    );
    json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": "spo-mutating-webhook-configuration"}, "webhooks": mutating},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
         "metadata": {"name": "spo-validating-webhook-configuration"}, "webhooks": [raw, profiles]},
    ]})
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
}
