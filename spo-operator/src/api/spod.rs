//! `SecurityProfilesOperatorDaemon` (short `spod`, namespaced): the operator's configuration.
//! This issue types the fields the node daemon reads (the allowed-syscalls policy, SC-37..40);
//! the rest of the grouped v1 spec is kept verbatim until the SPOD manager issue types it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::meta::spo_resource;

/// `spec` of the SPOD.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodSpec {
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

/// `status` of the SPOD.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpodStatus {
    /// `Pending`, `Creating`, `Updating`, `Running`, `Error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
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
