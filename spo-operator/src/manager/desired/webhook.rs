//! The webhook objects (`operator.md` §4, §4.1, §4.2): Deployment, Service, the mutating and
//! the validating configuration, as pure functions of the configuration.

use serde_json::{json, Value};

use super::super::config::{CertProvider, ManagerEnv, SpodConfig, WebhookOption};

/// Name of the mutating configuration (OP-23).
pub const MUTATING: &str = "spo-mutating-webhook-configuration";
/// Name of the validating configuration.
pub const VALIDATING: &str = "spo-validating-webhook-configuration";
/// Name of the webhook Deployment.
pub const DEPLOYMENT: &str = "security-profiles-operator-webhook";
/// Name of the webhook Service.
pub const SERVICE: &str = "webhook-service";
/// Secret with the webhook serving certificate.
pub const CERT_SECRET: &str = "webhook-server-cert";

fn not_spo_pods() -> Value {
    json!({"matchExpressions": [{
        "key": "name", "operator": "NotIn",
        "values": ["security-profiles-operator", "security-profiles-operator-webhook"]
    }]})
}

fn client_config(env: &ManagerEnv, path: &str) -> Value {
    let mut c = match &env.webhook_url {
        Some(base) => json!({"url": format!("{}{path}", base.trim_end_matches('/'))}),
        None => {
            json!({"service": {"name": SERVICE, "namespace": env.namespace, "path": path, "port": 443}})
        }
    };
    if let Some(ca) = &env.ca_bundle {
        c["caBundle"] = json!(base64(ca.as_bytes()));
    }
    c
}

/// Standard base64 (the `caBundle` encoding).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for ch in data.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= ch.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn webhook(
    env: &ManagerEnv,
    name: &str,
    path: &str,
    rules: Value,
    failure: &str,
    ns_sel: Option<Value>,
    obj_sel: Option<Value>,
) -> Value {
    let mut w = json!({
        "name": name,
        "clientConfig": client_config(env, path),
        "rules": rules,
        "failurePolicy": failure,
        "sideEffects": "None",
        "admissionReviewVersions": ["v1", "v1beta1"],
        // The profile wait of the pod webhooks is bounded below this (`--profile-wait-ms`).
        "timeoutSeconds": 10,
    });
    if let Some(s) = ns_sel {
        w["namespaceSelector"] = s;
    }
    if let Some(s) = obj_sel {
        w["objectSelector"] = s;
    }
    w
}

fn apply_option(w: &mut Value, opts: &[WebhookOption]) {
    let Some(o) = opts.iter().find(|o| w["name"] == o.name.as_str()) else {
        return;
    };
    if let Some(f) = &o.failure_policy {
        w["failurePolicy"] = json!(f);
    }
    if let Some(s) = &o.namespace_selector {
        w["namespaceSelector"] = s.clone();
    }
    if let Some(s) = &o.object_selector {
        w["objectSelector"] = s.clone();
    }
}

fn exists(label: &str) -> Value {
    json!({"matchExpressions": [{"key": label, "operator": "Exists"}]})
}

/// The MutatingWebhookConfiguration (OP-23, OP-24, OP-25): `binding.spo.io` and
/// `recording.spo.io` always; `execmetadata.spo.io` and `nodedebuggingpod.spo.io` while the
/// JSON enricher is on. The pod webhooks write binding/recording status and skip that on dry
/// runs (`sideEffects: NoneOnDryRun`).
pub fn mutating(cfg: &SpodConfig, env: &ManagerEnv) -> Value {
    let pods = |ops: &[&str]| json!([{"apiGroups": [""], "apiVersions": ["v1"], "operations": ops, "resources": ["pods"], "scope": "*"}]);
    let mut hooks = vec![
        webhook(
            env,
            "binding.spo.io",
            "/mutate-v1-pod-binding",
            pods(&["CREATE", "DELETE"]),
            "Fail",
            Some(exists("spo.x-k8s.io/enable-binding")),
            Some(not_spo_pods()),
        ),
        webhook(
            env,
            "recording.spo.io",
            "/mutate-v1-pod-recording",
            pods(&["CREATE", "UPDATE", "DELETE"]),
            "Fail",
            Some(exists("spo.x-k8s.io/enable-recording")),
            Some(not_spo_pods()),
        ),
    ];
    for h in &mut hooks {
        h["sideEffects"] = json!("NoneOnDryRun");
    }
    if cfg.json_enricher {
        hooks.push(webhook(
            env,
            "execmetadata.spo.io",
            "/mutate-v1-exec-metadata",
            json!([{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["*"],
                    "resources": ["pods/exec", "pods/ephemeralcontainers"], "scope": "*"}]),
            "Ignore",
            None,
            None,
        ));
        hooks.push(webhook(
            env,
            "nodedebuggingpod.spo.io",
            "/mutate-v1-exec-metadata",
            pods(&["CREATE"]),
            "Ignore",
            None,
            Some(json!({"matchLabels": {"app.kubernetes.io/managed-by": "kubectl-debug"}})),
        ));
    }
    for h in &mut hooks {
        apply_option(h, &cfg.webhook_options);
        h["reinvocationPolicy"] = json!("Never");
    }
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": MUTATING, "labels": labels(), "annotations": ca_annotations(env)},
        "webhooks": hooks,
    })
}

/// The ValidatingWebhookConfiguration: upstream's `rawselinuxprofile-validation.spo.io` and
/// ours, `profile-validation.spo.io`, which refuses an invalid SeccompProfile,
/// SelinuxProfile or AppArmorProfile at apply time. Objects labelled
/// `app.kubernetes.io/managed-by: spo-operator` (the manager's own) are not sent.
pub fn validating(cfg: &SpodConfig, env: &ManagerEnv) -> Value {
    let rules = |res: &[&str], versions: &[&str]| {
        json!([{
            "apiGroups": [spo_core::GROUP], "apiVersions": versions,
            "operations": ["CREATE", "UPDATE"], "resources": res, "scope": "*"
        }])
    };
    let mut hooks = vec![
        webhook(
            env,
            "rawselinuxprofile-validation.spo.io",
            "/validate-rawselinuxprofile",
            rules(&["rawselinuxprofiles"], &["v1", "v1alpha2"]),
            "Fail",
            None,
            None,
        ),
        webhook(
            env,
            "profile-validation.spo.io",
            "/validate-profile",
            rules(
                &["seccompprofiles", "selinuxprofiles", "apparmorprofiles"],
                &["*"],
            ),
            // The daemon runs the same validators (an invalid profile gets status Error and
            // installs nothing), so a webhook that is down or still rolling out must not
            // block installing profiles; `webhookOptions` can make it `Fail`.
            "Ignore",
            None,
            None,
        ),
    ];
    for h in &mut hooks {
        // The manager's own profiles (`log-enricher-trace`) are built, not written by a
        // user: they must not wait for the webhook Deployment the manager is still rolling out.
        h["objectSelector"] = json!({"matchExpressions": [{
            "key": "app.kubernetes.io/managed-by", "operator": "NotIn", "values": ["spo-operator"]
        }]});
        apply_option(h, &cfg.webhook_options);
    }
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": VALIDATING, "labels": labels(), "annotations": ca_annotations(env)},
        "webhooks": hooks,
    })
}

fn labels() -> Value {
    json!({"app": "security-profiles-operator", "app.kubernetes.io/managed-by": "spo-operator"})
}

fn ca_annotations(env: &ManagerEnv) -> Value {
    match env.cert_provider {
        CertProvider::Openshift => json!({"service.beta.openshift.io/inject-cabundle": "true"}),
        CertProvider::CertManager => {
            json!({"cert-manager.io/inject-ca-from": format!("{}/webhook-cert", env.namespace)})
        }
        CertProvider::Self_ => json!({}),
    }
}

/// cert-manager's objects (§8): the self-signed Issuer and the two Certificates.
pub fn cert_manager(env: &ManagerEnv) -> Vec<Value> {
    let ns = &env.namespace;
    let cert = |name: &str, secret: &str, dns: Vec<String>| {
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": name, "namespace": ns, "labels": labels()},
            "spec": {"dnsNames": dns, "issuerRef": {"kind": "Issuer", "name": "selfsigned-issuer"},
                     "secretName": secret, "subject": {"organizations": ["security-profiles-operator"]}}
        })
    };
    vec![
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
               "metadata": {"name": "selfsigned-issuer", "namespace": ns, "labels": labels()},
               "spec": {"selfSigned": {}}}),
        cert(
            "webhook-cert",
            CERT_SECRET,
            vec![
                format!("webhook-service.{ns}.svc"),
                format!("webhook-service.{ns}.svc.cluster.local"),
            ],
        ),
        cert(
            "metrics-cert",
            super::metrics::CERT_SECRET,
            vec![
                format!("metrics.{ns}"),
                format!("metrics.{ns}.svc"),
                format!("metrics.{ns}.svc.cluster.local"),
            ],
        ),
    ]
}

/// The webhook Deployment (3 replicas, SA `spo-webhook`).
pub fn deployment(cfg: &SpodConfig, env: &ManagerEnv) -> Value {
    let sel = json!({"app": "security-profiles-operator", "name": DEPLOYMENT});
    let mut spec = json!({
        "serviceAccountName": "spo-webhook",
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "webhook",
            "image": env.image,
            "imagePullPolicy": env.pull_policy,
            // The serving certificate is read from its default path, the Secret mount below.
            "args": ["webhook"],
            "env": [
                {"name": "OPERATOR_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "SPO_VERBOSITY", "value": cfg.verbosity.to_string()}
            ],
            "ports": [{"name": "webhook", "containerPort": 9443}],
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
            "resources": {"requests": {"memory": "32Mi", "cpu": "50m"}, "limits": {"memory": "64Mi"}},
            "volumeMounts": [{"name": "cert", "mountPath": "/tmp/k8s-webhook-server/serving-certs", "readOnly": true}]
        }],
        "volumes": [{"name": "cert", "secret": {"secretName": CERT_SECRET, "defaultMode": 420}}],
    });
    if let Some(t) = cfg.tolerations.as_ref().filter(|t| !t.is_empty()) {
        spec["tolerations"] = json!(t);
    }
    if !cfg.image_pull_secrets.is_empty() {
        spec["imagePullSecrets"] = json!(cfg.image_pull_secrets);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": DEPLOYMENT, "namespace": env.namespace, "labels": labels()},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": sel},
            "template": {
                "metadata": {"labels": sel},
                "spec": spec
            }
        }
    })
}

/// The webhook Service (443 → 9443).
pub fn service(env: &ManagerEnv) -> Value {
    let mut meta = json!({"name": SERVICE, "namespace": env.namespace, "labels": labels()});
    if env.openshift || env.cert_provider == CertProvider::Openshift {
        meta["annotations"] =
            json!({"service.beta.openshift.io/serving-cert-secret-name": CERT_SECRET});
    }
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "ports": [{"port": 443, "targetPort": 9443, "protocol": "TCP"}],
            "selector": {"app": "security-profiles-operator", "name": DEPLOYMENT}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
