//! `SecurityProfilesOperatorDaemon` (short `spod`, namespaced): the operator's configuration.
//! The whole grouped v1 spec is typed here (the one model; the manager's
//! [`crate::manager::config::SpodConfig`] and the node daemon read it); Kubernetes core types
//! (tolerations, affinity, resources, image pull secrets, label selectors) are k8s-openapi's.
//! The flat 0.10 field names the guides use are typed in the CRD as deprecated aliases
//! (`manager::config::flat_alias_schemas`) and kept in [`SpodSpec::deprecated`] until the
//! manager folds them into their grouped paths.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, LocalObjectReference, ResourceRequirements, Toleration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::{Deserialize, Serialize};

use super::meta::spo_resource;

/// `spec.security` of the SPOD.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodSecurity {
    /// Syscalls a profile may allow; empty = no policy (SC-37).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_syscalls: Vec<String>,
    /// Actions that count as allowing; empty = ALLOW, LOG, TRACE, NOTIFY (SC-39).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_seccomp_actions: Vec<spo_seccomp::Action>,
    /// Regular expression the signer identity of a pulled OCI artifact must match (default
    /// `.*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_identity_regexp: Option<String>,
    /// Regular expression the OIDC issuer of a pulled OCI artifact's signature must match
    /// (default `.*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_oidc_issuer_regexp: Option<String>,
    /// Do not verify the signatures of OCI artifacts (base profiles pulled by `oci://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_oci_artifact_signature_verification: Option<bool>,
}

/// `spec.selinux.options`: what SELinux profiles may use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodSelinuxOptions {
    /// System profiles an SelinuxProfile may inherit from (upstream default `[container]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_system_profiles: Option<Vec<String>>,
    /// Object classes a profile may use (empty = all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_classes: Option<Vec<String>>,
    /// Permissions a profile may use (empty = all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_permissions: Option<Vec<String>>,
    /// Types a profile may use (empty = all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_types: Option<Vec<String>>,
    /// Object classes a profile must not use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_classes: Option<Vec<String>>,
    /// Permissions a profile must not use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_permissions: Option<Vec<String>>,
    /// Types a profile must not use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_types: Option<Vec<String>>,
}

/// `spec.selinux`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodSelinux {
    /// Run selinuxd and install SELinux profiles. Unset: on only on OpenShift (OP-07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Install RawSelinuxProfiles (raw CIL policies) too; default true. Set false to accept
    /// only the structured SelinuxProfile kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_raw_selinux_profiles: Option<bool>,
    /// SELinux type of the daemon's containers (default `spc_t`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_tag: Option<String>,
    /// What SELinux profiles may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<SpodSelinuxOptions>,
    /// Name of a ConfigMap (in the operator namespace) with custom CIL templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    ))]
    pub custom_templates_config_map: Option<String>,
}

/// Where the log enricher reads audit events from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum LogEnricherSource {
    /// The kernel audit log (`auditd` in 0.10).
    #[serde(alias = "auditd")]
    Auditd,
    /// The eBPF recorder (`bpf` in 0.10).
    #[serde(alias = "bpf")]
    Bpf,
}

/// `spec.enricher.jsonEnricherOptions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodJsonEnricherOptions {
    /// How often the audit log is flushed, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log_interval_seconds: Option<i32>,
    /// Path of the JSON audit log (default: standard output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log_path: Option<String>,
    /// Maximum size of one log file, in megabytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log_max_size: Option<i32>,
    /// Number of rotated files kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log_max_backups: Option<i32>,
    /// Days a rotated file is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log_max_age: Option<i32>,
}

/// `spec.enricher`: the recording and enriching components of the daemon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodEnricher {
    /// Run the log enricher (OP-09).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_log_enricher: Option<bool>,
    /// JSON filter list of the log enricher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_enricher_filters: Option<String>,
    /// Source of the log enricher's events (default `Auditd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_enricher_source: Option<LogEnricherSource>,
    /// Run the JSON enricher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_json_enricher: Option<bool>,
    /// JSON filter list of the JSON enricher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_enricher_filters: Option<String>,
    /// The JSON enricher's audit-log settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_enricher_options: Option<SpodJsonEnricherOptions>,
    /// Run the eBPF recorder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_bpf_recorder: Option<bool>,
}

/// A webhook's failure policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum WebhookFailurePolicy {
    /// A failed call refuses the request.
    Fail,
    /// A failed call lets the request through.
    Ignore,
}

/// One `spec.webhook.options[]` item: overrides for one webhook (§4.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodWebhookOption {
    /// Name of the webhook it overrides (`binding.spo.io`, `recording.spo.io`, …).
    pub name: String,
    /// Its failure policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_policy: Option<WebhookFailurePolicy>,
    /// Its namespace selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Its object selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_selector: Option<LabelSelector>,
}

/// `spec.webhook`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodWebhook {
    /// Leave the webhook configurations to the admin (OP-22).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_config: Option<bool>,
    /// Per-webhook overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<SpodWebhookOption>>,
}

/// `spec.scheduling`: where and how the daemon's pods run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodScheduling {
    /// Tolerations of the daemon's pods (unset: the defaults; `[]` removes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    /// Affinity of the daemon's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Priority class of the daemon's pods (default `system-node-critical`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
}

/// `spec` of the SPOD (v1 grouped shape; also served on v1alpha1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodSpec {
    /// Log verbosity of the daemon (0 or 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<i32>,
    /// Serve pprof profiling endpoints in the daemon's containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_profiling: Option<bool>,
    /// Cache only pods labelled for recording (OP-15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_memory_optimization: Option<bool>,
    /// Serve the metrics over plain HTTP without authentication (OP-37).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_insecure_metrics_access: Option<bool>,
    /// Install AppArmor profiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_app_armor: Option<bool>,
    /// Host path mounted as the daemon's `/proc` (default `/proc`; OP-17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/proc(/.*)?$"))]
    pub host_proc_volume_path: Option<String>,
    /// Pull secrets of the daemon's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
    /// Resources of the daemon's main container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon_resource_requirements: Option<ResourceRequirements>,
    /// SELinux settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selinux: Option<SpodSelinux>,
    /// Log enricher, JSON enricher and eBPF recorder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enricher: Option<SpodEnricher>,
    /// Webhook settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<SpodWebhook>,
    /// Scheduling of the daemon's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling: Option<SpodScheduling>,
    /// Security settings: the allowed-syscalls policy, OCI artifact verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SpodSecurity>,
    /// The flat 0.10 field names (VER-08 aliases such as `enableLogEnricher`,
    /// `allowedSyscalls`), as stored until the manager folds them into the grouped fields.
    /// Their schema comes from `manager::config::flat_alias_schemas` (typed, deprecated).
    #[serde(flatten)]
    #[schemars(skip)]
    pub deprecated: BTreeMap<String, serde_json::Value>,
}

impl SpodSpec {
    /// The allowed-syscalls policy: `security.*`, else 0.10's flat fields (VER-08 aliases,
    /// typed deprecated fields of the CRD).
    pub fn allowed(&self) -> (Vec<String>, Vec<spo_seccomp::Action>) {
        if let Some(sec) = &self.security {
            if !sec.allowed_syscalls.is_empty() || !sec.allowed_seccomp_actions.is_empty() {
                return (
                    sec.allowed_syscalls.clone(),
                    sec.allowed_seccomp_actions.clone(),
                );
            }
        }
        let syscalls = self
            .deprecated
            .get("allowedSyscalls")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let actions = self
            .deprecated
            .get("allowedSeccompActions")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        (syscalls, actions)
    }
}

/// `status` of the SPOD.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodStatus {
    /// `Pending`, `Creating`, `Updating`, `Running`, `Error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The one `Ready` condition (OP-05).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
}

spo_resource! {
    /// The operator's configuration (default name `spod` in the operator namespace).
    SecurityProfilesOperatorDaemon {
        spec: SpodSpec,
        status: SpodStatus,
        kind: "SecurityProfilesOperatorDaemon",
        plural: "securityprofilesoperatordaemons",
        short: ["spod"],
        versions: ["v1", "v1alpha1"],
        scope: NamespacedResource,
        description: "SecurityProfilesOperatorDaemon is the Schema to configure the spod deployment.",
        columns: [
            ("State", "string", ".status.state", 0)
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // covers: OP-17, OP-18, OP-21, OP-22, VER-04 — every grouped v1 field is typed: a full spec
    // round-trips unchanged and nothing lands in `deprecated`; a flat 0.10 name does.
    #[test]
    fn the_whole_grouped_spec_is_typed_and_round_trips() {
        let sel = json!({"matchLabels": {"a": "b"},
            "matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]});
        let full = json!({
            "verbosity": 1, "enableProfiling": true, "enableMemoryOptimization": true,
            "enableInsecureMetricsAccess": false, "enableAppArmor": true,
            "hostProcVolumePath": "/proc/host",
            "imagePullSecrets": [{"name": "pull"}],
            "daemonResourceRequirements": {"requests": {"cpu": "250m"}, "limits": {"memory": "512Mi"}},
            "selinux": {"enable": true, "enableRawSelinuxProfiles": false, "typeTag": "my_t",
                "customTemplatesConfigMap": "tpl",
                "options": {"allowedSystemProfiles": ["container"], "deniedTypes": ["x_t"]}},
            "enricher": {"enableLogEnricher": true, "logEnricherSource": "Bpf",
                "logEnricherFilters": "[]", "enableJsonEnricher": true, "jsonEnricherFilters": "[]",
                "jsonEnricherOptions": {"auditLogIntervalSeconds": 30, "auditLogPath": "/p",
                    "auditLogMaxSize": 1, "auditLogMaxBackups": 2, "auditLogMaxAge": 3},
                "enableBpfRecorder": true},
            "webhook": {"staticConfig": false, "options": [{"name": "binding.spo.io",
                "failurePolicy": "Ignore", "namespaceSelector": sel, "objectSelector": sel}]},
            "scheduling": {"priorityClassName": "p", "tolerations": [{"key": "k",
                "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "Exists"}]}]}}}},
            "security": {"allowedSyscalls": ["read"], "allowedSeccompActions": ["SCMP_ACT_LOG"],
                "allowedIdentityRegexp": ".*", "allowedOidcIssuerRegexp": ".*",
                "disableOciArtifactSignatureVerification": true}
        });
        let spec: SpodSpec = serde_json::from_value(full.clone()).expect("typed");
        assert!(spec.deprecated.is_empty(), "{:?}", spec.deprecated);
        assert_eq!(serde_json::to_value(&spec).expect("json"), full);
        assert_eq!(spec.allowed().0, vec!["read".to_string()]);

        let flat: SpodSpec =
            serde_json::from_value(json!({"allowedSyscalls": ["exit"], "verbosity": 0}))
                .expect("flat");
        assert_eq!(
            flat.deprecated.keys().collect::<Vec<_>>(),
            ["allowedSyscalls"]
        );
        assert_eq!(
            flat.allowed().0,
            vec!["exit".to_string()],
            "SC-37 via VER-08 alias"
        );
        // 0.10's lower-case source is read too.
        let e: SpodEnricher =
            serde_json::from_value(json!({"logEnricherSource": "bpf"})).expect("alias");
        assert_eq!(e.log_enricher_source, Some(LogEnricherSource::Bpf));
    }
}
