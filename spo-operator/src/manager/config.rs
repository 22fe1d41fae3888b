//! The SPOD spec as the manager reads it: 0.10's flat field names folded into the grouped
//! 1.0 paths (deliverable 0 of the manager issue), then one typed, defaulted view
//! ([`SpodConfig`]) that the pure builders in [`super::desired`] turn into objects.
//!
//! Everything here is pure: JSON in, JSON or structs out.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::api::spod::{LogEnricherSource, SpodSpec, WebhookFailurePolicy};

/// Flat (≤0.10) field → grouped (1.0+) path, `operator.md` §1.1. Fields whose path is the
/// same in both shapes (`verbosity`, `enableProfiling`, …) are not aliases and not listed.
pub const FLAT_ALIASES: &[(&str, &[&str])] = &[
    ("enableSelinux", &["selinux", "enable"]),
    ("selinuxTypeTag", &["selinux", "typeTag"]),
    ("selinuxOptions", &["selinux", "options"]),
    ("enableLogEnricher", &["enricher", "enableLogEnricher"]),
    ("logEnricherFilters", &["enricher", "logEnricherFilters"]),
    ("logEnricherSource", &["enricher", "logEnricherSource"]),
    ("enableJsonEnricher", &["enricher", "enableJsonEnricher"]),
    ("jsonEnricherFilters", &["enricher", "jsonEnricherFilters"]),
    ("jsonEnricherOptions", &["enricher", "jsonEnricherOptions"]),
    ("enableBpfRecorder", &["enricher", "enableBpfRecorder"]),
    ("staticWebhookConfig", &["webhook", "staticConfig"]),
    ("webhookOptions", &["webhook", "options"]),
    ("tolerations", &["scheduling", "tolerations"]),
    ("affinity", &["scheduling", "affinity"]),
    ("priorityClassName", &["scheduling", "priorityClassName"]),
    ("allowedSyscalls", &["security", "allowedSyscalls"]),
    (
        "allowedSeccompActions",
        &["security", "allowedSeccompActions"],
    ),
    (
        "disableOciArtifactSignatureVerification",
        &["security", "disableOciArtifactSignatureVerification"],
    ),
];

/// The schema of one flat 0.10 field: the schema of its grouped field (`grouped_spec` is
/// the v1 `spec` schema, generated from the one model), with a description saying it is a
/// deprecated alias, and 0.10's lower-case `logEnricherSource` values.
fn flat_field_schema(flat: &str, path: &[&str], grouped_spec: &Value) -> Value {
    let mut s = grouped_spec["properties"][path[0]]["properties"][path[1]].clone();
    if !s.is_object() {
        s = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    }
    if flat == "logEnricherSource" {
        if let Some(Value::Array(e)) = s.get_mut("enum") {
            e.extend([json!("auditd"), json!("bpf")]);
        }
    }
    s["description"] = json!(format!(
        "Deprecated: the 0.10 name of `{}`. Accepted; the manager moves it there, rewrites \
         the object in the v1 layout and emits an Event.",
        path.join(".")
    ));
    s
}

/// The schemas of every flat 0.10 field of [`FLAT_ALIASES`], by name, for the SPOD CRD's
/// `spec.properties`: typed deprecated aliases with the schema of their grouped field, so a
/// wrong type is refused at apply time and nothing is pruned.
pub fn flat_alias_schemas() -> Map<String, Value> {
    let grouped = crate::crd::open_api_schema::<crate::api::SecurityProfilesOperatorDaemon>();
    let spec = &grouped["properties"]["spec"];
    FLAT_ALIASES
        .iter()
        .map(|(flat, path)| ((*flat).to_string(), flat_field_schema(flat, path, spec)))
        .collect()
}

/// The result of folding a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    /// The spec in canonical (grouped) form.
    pub spec: Value,
    /// The flat names that were moved, in [`FLAT_ALIASES`] order.
    pub moved: Vec<&'static str>,
}

impl Folded {
    /// A merge patch that rewrites the stored spec into canonical form: each grouped field
    /// set, each flat field removed (`null`).
    pub fn merge_patch(&self) -> Value {
        let mut spec = Map::new();
        for (flat, path) in FLAT_ALIASES {
            if !self.moved.contains(flat) {
                continue;
            }
            spec.insert((*flat).to_string(), Value::Null);
            let group = path[0];
            if let Some(g) = self.spec.get(group) {
                spec.insert(group.to_string(), g.clone());
            }
        }
        json!({ "spec": spec })
    }

    /// The Event note that tells the user what was rewritten.
    pub fn note(&self) -> String {
        let pairs: Vec<String> = FLAT_ALIASES
            .iter()
            .filter(|(f, _)| self.moved.contains(f))
            .map(|(f, p)| format!("{f} → {}", p.join(".")))
            .collect();
        format!(
            "deprecated 0.10 field name(s) rewritten to the v1 layout: {}",
            pairs.join(", ")
        )
    }
}

/// Folds the flat 0.10 fields of a SPOD `spec` into their grouped paths. A flat field wins
/// over a grouped one: it is what the user just wrote (guides patch flat names).
/// `logEnricherSource` values are mapped as VER-04 (`auditd`→`Auditd`, `bpf`→`Bpf`).
pub fn fold_aliases(spec: &Value) -> Folded {
    let mut out = spec.as_object().cloned().unwrap_or_default();
    let mut moved = Vec::new();
    for (flat, path) in FLAT_ALIASES {
        let Some(mut v) = out.remove(*flat) else {
            continue;
        };
        if *flat == "logEnricherSource" {
            v = match v.as_str() {
                Some("auditd") => json!("Auditd"),
                Some("bpf") => json!("Bpf"),
                _ => v,
            };
        }
        moved.push(*flat);
        let group = out
            .entry(path[0].to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !group.is_object() {
            *group = Value::Object(Map::new());
        }
        if let Some(g) = group.as_object_mut() {
            g.insert(path[1].to_string(), v);
        }
    }
    Folded {
        spec: Value::Object(out),
        moved,
    }
}

/// Settings that come from the manager's environment, not from the SPOD (`operator.md` §3).
#[derive(Debug, Clone, PartialEq)]
pub struct ManagerEnv {
    /// Operator namespace (`OPERATOR_NAMESPACE`).
    pub namespace: String,
    /// Image of every SPO container (the operator Deployment's).
    pub image: String,
    /// Pull policy of every SPO container.
    pub pull_policy: String,
    /// selinuxd image (§2.5), when SELinux is on.
    pub selinuxd_image: String,
    /// `KUBELET_DIR`, default `/var/lib/kubelet`.
    pub kubelet_dir: String,
    /// `RESTRICT_TO_NAMESPACE` (or `WATCH_NAMESPACE`), propagated to the daemon (OP-35).
    pub restrict_to_namespace: Option<String>,
    /// `ENABLE_LOG_ENRICHER=true` (OP-10).
    pub enable_log_enricher: bool,
    /// `ENABLE_BPF_RECORDER=true` (OP-10).
    pub enable_bpf_recorder: bool,
    /// `ENABLE_JSON_ENRICHER=true` (OP-10).
    pub enable_json_enricher: bool,
    /// `ENABLE_INSECURE_METRICS_ACCESS=true`.
    pub enable_insecure_metrics: bool,
    /// The cluster is OpenShift (ClusterOperator `openshift-apiserver` exists, OP-07).
    pub openshift: bool,
    /// The webhook server's base URL when it runs outside the cluster (a local process
    /// registered by URL, as in `make cluster-up` and the tests); `None` = the Service.
    pub webhook_url: Option<String>,
    /// The CA bundle injected into the webhook configurations (PEM), when known.
    pub ca_bundle: Option<String>,
    /// Who issues the serving certificates (§8).
    pub cert_provider: CertProvider,
    /// The JSON enricher's log volume source (ConfigMap key
    /// `json-enricher-log-volume-source.json`, OP-13); default an emptyDir.
    pub json_log_volume: Option<Value>,
    /// Where that volume is mounted (key `json-enricher-log-volume-mount-path`); default
    /// `/var/log/spo`.
    pub json_log_mount_path: Option<String>,
}

/// Who issues the webhook and metrics serving certificates (§8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CertProvider {
    /// The manager's own CA (no cert-manager needed; the default).
    #[default]
    Self_,
    /// cert-manager: Issuer `selfsigned-issuer`, Certificates `webhook-cert`, `metrics-cert`
    /// (the manager's own CA while cert-manager's kinds are not installed, OP-39).
    CertManager,
    /// OpenShift's service CA (Service annotations).
    Openshift,
}

impl Default for ManagerEnv {
    fn default() -> Self {
        Self {
            namespace: "security-profiles-operator".into(),
            image: "security-profiles-operator:latest".into(),
            pull_policy: "IfNotPresent".into(),
            selinuxd_image: "quay.io/security-profiles-operator/selinuxd".into(),
            kubelet_dir: "/var/lib/kubelet".into(),
            restrict_to_namespace: None,
            enable_log_enricher: false,
            enable_bpf_recorder: false,
            enable_json_enricher: false,
            enable_insecure_metrics: false,
            openshift: false,
            webhook_url: None,
            ca_bundle: None,
            cert_provider: CertProvider::Self_,
            json_log_volume: None,
            json_log_mount_path: None,
        }
    }
}

impl ManagerEnv {
    /// Reads the `ENABLE_*`, `KUBELET_DIR`, `RESTRICT_TO_NAMESPACE`/`WATCH_NAMESPACE` and
    /// `OPERATOR_NAMESPACE` variables from a lookup function (the process environment in the
    /// binary, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let on = |k: &str| get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let d = Self::default();
        Self {
            namespace: get("OPERATOR_NAMESPACE")
                .filter(|s| !s.is_empty())
                .unwrap_or(d.namespace),
            kubelet_dir: get("KUBELET_DIR")
                .filter(|s| !s.is_empty())
                .unwrap_or(d.kubelet_dir),
            restrict_to_namespace: get("RESTRICT_TO_NAMESPACE")
                .or_else(|| get("WATCH_NAMESPACE"))
                .filter(|s| !s.is_empty()),
            selinuxd_image: get("RELATED_IMAGE_SELINUXD")
                .filter(|s| !s.is_empty())
                .unwrap_or(d.selinuxd_image),
            enable_log_enricher: on("ENABLE_LOG_ENRICHER"),
            enable_bpf_recorder: on("ENABLE_BPF_RECORDER"),
            enable_json_enricher: on("ENABLE_JSON_ENRICHER"),
            enable_insecure_metrics: on("ENABLE_INSECURE_METRICS_ACCESS"),
            ..d
        }
    }
}

/// `jsonEnricherOptions` (§1.1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonEnricherOptions {
    /// `auditLogIntervalSeconds`.
    pub interval_seconds: Option<i64>,
    /// `auditLogPath`.
    pub path: Option<String>,
    /// `auditLogMaxSize` (MB).
    pub max_size: Option<i64>,
    /// `auditLogMaxBackups`.
    pub max_backups: Option<i64>,
    /// `auditLogMaxAge` (days).
    pub max_age: Option<i64>,
}

/// One `webhookOptions[]` item (§4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookOption {
    /// Name of the webhook it overrides.
    pub name: String,
    /// `failurePolicy`, when given.
    pub failure_policy: Option<String>,
    /// `namespaceSelector`, when given.
    pub namespace_selector: Option<Value>,
    /// `objectSelector`, when given.
    pub object_selector: Option<Value>,
}

/// The effective configuration: the canonical SPOD spec with defaults applied and the
/// manager's `ENABLE_*` variables OR-ed in.
#[derive(Debug, Clone, PartialEq)]
pub struct SpodConfig {
    /// Name of the SPOD (and of the DaemonSet).
    pub name: String,
    /// `verbosity`.
    pub verbosity: i64,
    /// `enableProfiling`.
    pub profiling: bool,
    /// `enableMemoryOptimization`.
    pub mem_optim: bool,
    /// `enableInsecureMetricsAccess` (or the env variable).
    pub insecure_metrics: bool,
    /// `enableAppArmor`.
    pub apparmor: bool,
    /// `hostProcVolumePath`, default `/proc`.
    pub host_proc: String,
    /// `imagePullSecrets`.
    pub image_pull_secrets: Vec<Value>,
    /// `daemonResourceRequirements`.
    pub daemon_resources: Option<Value>,
    /// SELinux enabled (unset: enabled on OpenShift only, OP-07).
    pub selinux: bool,
    /// `selinux.enableRawSelinuxProfiles`, default true.
    pub raw_selinux: bool,
    /// `selinux.typeTag`, default `spc_t`.
    pub type_tag: String,
    /// Log enricher on (SPOD or env).
    pub log_enricher: bool,
    /// `logEnricherFilters`.
    pub log_enricher_filters: String,
    /// `logEnricherSource` (`auditd`/`bpf` as the daemon flag wants it).
    pub log_enricher_source: String,
    /// JSON enricher on (SPOD or env).
    pub json_enricher: bool,
    /// `jsonEnricherFilters`.
    pub json_enricher_filters: String,
    /// `jsonEnricherOptions`.
    pub json_options: JsonEnricherOptions,
    /// eBPF recorder on (SPOD or env).
    pub bpf_recorder: bool,
    /// `webhook.staticConfig`.
    pub static_webhook: bool,
    /// `webhook.options`.
    pub webhook_options: Vec<WebhookOption>,
    /// `scheduling.tolerations` (`None` = defaults; `Some([])` removes them).
    pub tolerations: Option<Vec<Value>>,
    /// `scheduling.affinity`.
    pub affinity: Option<Value>,
    /// `scheduling.priorityClassName`, default `system-node-critical`.
    pub priority_class: String,
    /// Unknown fields (neither grouped nor a known alias; the CRD's schema prunes them, so
    /// only objects from elsewhere have any): reported, never fatal.
    pub unknown: Vec<String>,
}

/// A field with a wrong type or value, named by its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("spec.{path}: {message}")]
pub struct ConfigError {
    /// The field's path under `spec`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        path: path.into(),
        message: message.into(),
    }
}

fn to_values<T: serde::Serialize>(items: &[T]) -> Vec<Value> {
    items
        .iter()
        .filter_map(|i| serde_json::to_value(i).ok())
        .collect()
}

fn to_value<T: serde::Serialize>(item: Option<&T>) -> Option<Value> {
    item.and_then(|i| serde_json::to_value(i).ok())
        .filter(|v| !v.is_null())
}

impl SpodConfig {
    /// The effective configuration of SPOD `name` with (already folded or not) `spec`, as
    /// JSON: the flat aliases are folded, then the result is read as the typed [`SpodSpec`]
    /// (a wrong type is named by its path).
    pub fn from_spec(name: &str, spec: &Value, env: &ManagerEnv) -> Result<Self, ConfigError> {
        let folded = fold_aliases(spec);
        let typed: SpodSpec = serde_path_to_error::deserialize(&folded.spec).map_err(|e| {
            let path = e.path().to_string();
            err(&path, e.into_inner().to_string())
        })?;
        Self::from_typed(name, &typed, env)
    }

    /// The effective configuration of SPOD `name` with the typed (canonical) `spec`. Flat
    /// aliases still in [`SpodSpec::deprecated`] are not read here: fold them first
    /// ([`fold_aliases`], as [`Self::from_spec`] does).
    pub fn from_typed(name: &str, spec: &SpodSpec, env: &ManagerEnv) -> Result<Self, ConfigError> {
        let verbosity = i64::from(spec.verbosity.unwrap_or(0));
        if verbosity < 0 {
            return Err(err("verbosity", "must be ≥ 0"));
        }
        let host_proc = spec
            .host_proc_volume_path
            .clone()
            .unwrap_or_else(|| "/proc".into());
        // OP-17 [1.0+]: only paths under /proc (the CRD's pattern says the same).
        if host_proc != "/proc" && !host_proc.starts_with("/proc/") {
            return Err(err(
                "hostProcVolumePath",
                format!("{host_proc:?} must match ^/proc(/.*)?$"),
            ));
        }
        let enricher = spec.enricher.clone().unwrap_or_default();
        let selinux = spec.selinux.clone().unwrap_or_default();
        let webhook = spec.webhook.clone().unwrap_or_default();
        let scheduling = spec.scheduling.clone().unwrap_or_default();
        let log_enricher_source = match enricher.log_enricher_source {
            None | Some(LogEnricherSource::Auditd) => "auditd",
            Some(LogEnricherSource::Bpf) => "bpf",
        }
        .to_string();
        let jo = enricher.json_enricher_options.clone().unwrap_or_default();
        let json_options = JsonEnricherOptions {
            interval_seconds: jo.audit_log_interval_seconds.map(i64::from),
            path: jo.audit_log_path,
            max_size: jo.audit_log_max_size.map(i64::from),
            max_backups: jo.audit_log_max_backups.map(i64::from),
            max_age: jo.audit_log_max_age.map(i64::from),
        };
        let webhook_options = webhook
            .options
            .unwrap_or_default()
            .iter()
            .map(|o| WebhookOption {
                name: o.name.clone(),
                failure_policy: o.failure_policy.map(|p| {
                    match p {
                        WebhookFailurePolicy::Fail => "Fail",
                        WebhookFailurePolicy::Ignore => "Ignore",
                    }
                    .to_string()
                }),
                namespace_selector: to_value(o.namespace_selector.as_ref()),
                object_selector: to_value(o.object_selector.as_ref()),
            })
            .collect();
        let unknown = spec.deprecated.keys().cloned().collect();
        Ok(Self {
            name: name.to_string(),
            verbosity,
            profiling: spec.enable_profiling.unwrap_or(false),
            mem_optim: spec.enable_memory_optimization.unwrap_or(false),
            insecure_metrics: spec.enable_insecure_metrics_access.unwrap_or(false)
                || env.enable_insecure_metrics,
            apparmor: spec.enable_app_armor.unwrap_or(false),
            host_proc,
            image_pull_secrets: to_values(spec.image_pull_secrets.as_deref().unwrap_or_default()),
            daemon_resources: to_value(spec.daemon_resource_requirements.as_ref()),
            selinux: selinux.enable.unwrap_or(env.openshift),
            raw_selinux: selinux.enable_raw_selinux_profiles.unwrap_or(true),
            type_tag: selinux.type_tag.unwrap_or_else(|| "spc_t".into()),
            log_enricher: enricher.enable_log_enricher.unwrap_or(false) || env.enable_log_enricher,
            log_enricher_filters: enricher.log_enricher_filters.unwrap_or_default(),
            log_enricher_source,
            json_enricher: enricher.enable_json_enricher.unwrap_or(false)
                || env.enable_json_enricher,
            json_enricher_filters: enricher.json_enricher_filters.unwrap_or_default(),
            json_options,
            bpf_recorder: enricher.enable_bpf_recorder.unwrap_or(false) || env.enable_bpf_recorder,
            static_webhook: webhook.static_config.unwrap_or(false),
            webhook_options,
            tolerations: scheduling.tolerations.as_deref().map(to_values),
            affinity: to_value(scheduling.affinity.as_ref()),
            priority_class: scheduling
                .priority_class_name
                .unwrap_or_else(|| "system-node-critical".into()),
            unknown,
        })
    }

    /// Any recording component is on (OP-09).
    pub fn recording(&self) -> bool {
        self.log_enricher || self.bpf_recorder || self.json_enricher
    }
}

/// Labels every object the manager creates carries.
pub fn common_labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app".to_string(), "security-profiles-operator".to_string()),
        (
            "app.kubernetes.io/managed-by".to_string(),
            "spo-operator".to_string(),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: VER-04, deliverable 0 (flat aliases)
    #[test]
    fn flat_fields_fold_into_grouped_paths_and_flat_wins() {
        let spec = json!({
            "enableLogEnricher": true,
            "logEnricherSource": "bpf",
            "enricher": {"enableLogEnricher": false, "enableBpfRecorder": true},
            "selinuxTypeTag": "my_t",
            "verbosity": 1
        });
        let f = fold_aliases(&spec);
        assert_eq!(
            f.spec,
            json!({
                "enricher": {"enableLogEnricher": true, "enableBpfRecorder": true, "logEnricherSource": "Bpf"},
                "selinux": {"typeTag": "my_t"},
                "verbosity": 1
            })
        );
        assert_eq!(
            f.moved,
            vec!["selinuxTypeTag", "enableLogEnricher", "logEnricherSource"]
        );
        let patch = f.merge_patch();
        assert_eq!(patch["spec"]["enableLogEnricher"], Value::Null);
        assert_eq!(patch["spec"]["enricher"]["enableBpfRecorder"], true);
        assert!(f
            .note()
            .contains("enableLogEnricher → enricher.enableLogEnricher"));
        assert!(
            fold_aliases(&f.spec).moved.is_empty(),
            "canonical is a fixpoint"
        );
    }

    // covers: OP-10, OP-17, OP-07
    #[test]
    fn env_enables_features_and_bad_fields_are_named() {
        let env = ManagerEnv::from_lookup(|k| {
            (k == "ENABLE_BPF_RECORDER" || k == "ENABLE_JSON_ENRICHER").then(|| "true".into())
        });
        let c = SpodConfig::from_spec("spod", &json!({}), &env).expect("config");
        assert!(c.bpf_recorder && c.json_enricher && !c.log_enricher);
        assert!(!c.selinux, "SELinux off outside OpenShift when unset");
        let os = ManagerEnv {
            openshift: true,
            ..ManagerEnv::default()
        };
        assert!(
            SpodConfig::from_spec("spod", &json!({}), &os)
                .expect("c")
                .selinux
        );
        let e = SpodConfig::from_spec("spod", &json!({"hostProcVolumePath": "/etc"}), &env)
            .expect_err("rejected");
        assert_eq!(e.path, "hostProcVolumePath");
        let e = SpodConfig::from_spec("spod", &json!({"enableLogEnricher": "yes"}), &env)
            .expect_err("rejected");
        assert_eq!(
            e.to_string(),
            "spec.enricher.enableLogEnricher: invalid type: string \"yes\", expected a boolean"
        );
    }

    // covers: VER-04 (the guides' flat fields are typed, deprecated aliases in the v1 schema)
    #[test]
    fn every_flat_alias_has_a_typed_deprecated_schema() {
        let m = flat_alias_schemas();
        assert_eq!(m.len(), FLAT_ALIASES.len());
        for (flat, path) in FLAT_ALIASES {
            let s = &m[*flat];
            assert!(s["type"].is_string(), "{flat} typed");
            let d = s["description"].as_str().expect("description");
            assert!(d.starts_with("Deprecated"), "{flat}: {d}");
            assert!(d.contains(&path.join(".")), "{flat} names its v1 path: {d}");
        }
        assert_eq!(m["enableLogEnricher"]["type"], "boolean");
        assert_eq!(m["allowedSyscalls"]["items"]["type"], "string");
        assert_eq!(m["webhookOptions"]["items"]["required"], json!(["name"]));
        assert_eq!(
            m["logEnricherSource"]["enum"],
            json!(["Auditd", "Bpf", "auditd", "bpf"])
        );
        // The same schema as the grouped field: Kubernetes' own Toleration, not an open object.
        assert_eq!(
            m["tolerations"]["items"]["properties"]["tolerationSeconds"]["type"],
            "integer"
        );
        assert!(m["affinity"]["properties"]["nodeAffinity"].is_object());
        for (flat, s) in &m {
            assert!(
                !s.to_string()
                    .contains("x-kubernetes-preserve-unknown-fields"),
                "{flat} fully typed"
            );
        }
    }
}
