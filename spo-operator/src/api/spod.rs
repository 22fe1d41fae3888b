//! `SecurityProfilesOperatorDaemon` (short `spod`, namespaced): the operator's configuration.
//! This issue types the fields the node daemon reads (the allowed-syscalls policy, SC-37..40);
//! the rest of the grouped v1 spec is kept verbatim until the SPOD manager issue types it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::meta::spo_resource;

/// `spec.security` of the SPOD (v1 grouped shape; also served on v1alpha1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodSecurity {
    /// Syscalls a profile may allow; empty = no policy (SC-37).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_syscalls: Vec<String>,
    /// Actions that count as allowing; empty = ALLOW, LOG, TRACE, NOTIFY (SC-39).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_seccomp_actions: Vec<spo_seccomp::Action>,
    /// Every other field, kept as is.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// `spec` of the SPOD.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodSpec {
    /// Security settings: the allowed-syscalls policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SpodSecurity>,
    /// Every other field, kept as is (including 0.10's flat `allowedSyscalls`, VER-08).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl SpodSpec {
    /// The allowed-syscalls policy: `security.*`, else 0.10's flat fields (VER-08 aliases,
    /// kept by the schema's preserve-unknown-fields).
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
            .other
            .get("allowedSyscalls")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let actions = self
            .other
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
