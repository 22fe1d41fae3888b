//! `SecurityProfileNodeStatus` (short `spns`, cluster-scoped): one per (profile, node), written
//! only by that node's daemon with server-side apply (`seccomp.md` §6.2).

use serde::{Deserialize, Serialize};

use super::meta::spo_resource;

/// The state of a profile on one node, and the aggregated state over nodes.
///
/// The derived order is the aggregation order of SC-30: the *lowest* state over all nodes
/// wins (`Error < Terminating < Partial < Disabled < Pending < InProgress < Installed`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Default,
    schemars::JsonSchema,
)]
pub enum InstallState {
    /// Installation failed.
    Error,
    /// Being removed.
    Terminating,
    /// A partial recording, never installed.
    Partial,
    /// Disabled, never installed.
    Disabled,
    /// Not processed yet.
    #[default]
    Pending,
    /// Being installed.
    InProgress,
    /// Installed.
    Installed,
}

impl InstallState {
    /// The name used in the API and the `profile-state` label.
    pub fn as_str(self) -> &'static str {
        match self {
            InstallState::Error => "Error",
            InstallState::Terminating => "Terminating",
            InstallState::Partial => "Partial",
            InstallState::Disabled => "Disabled",
            InstallState::Pending => "Pending",
            InstallState::InProgress => "InProgress",
            InstallState::Installed => "Installed",
        }
    }
}

/// `spec` of a node status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatusSpec {
    /// The node the profile is installed on.
    #[schemars(length(min = 1))]
    pub node_name: String,
}

/// `status` of a node status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatusStatus {
    /// The profile's state on the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<InstallState>,
}

spo_resource! {
    /// The state of one profile on one node.
    SecurityProfileNodeStatus {
        spec: NodeStatusSpec,
        status: NodeStatusStatus,
        kind: "SecurityProfileNodeStatus",
        plural: "securityprofilenodestatuses",
        short: ["spns"],
        versions: ["v1", "v1alpha1"],
        scope: ClusterResource,
        description: "SecurityProfileNodeStatus is a per-node status of a security profile",
        columns: [
            ("Status", "string", ".status.status", 0),
            ("Age", "date", ".metadata.creationTimestamp", 0),
            ("Node", "string", ".spec.nodeName", 10)
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::InstallState::*;

    // covers: SC-30 (aggregation order)
    #[test]
    fn lowest_state_wins() {
        let states = [
            Installed,
            Pending,
            InProgress,
            Disabled,
            Partial,
            Terminating,
            Error,
        ];
        assert_eq!(states.iter().min(), Some(&Error));
        assert!(Terminating < Partial && Partial < Disabled && Disabled < Pending);
        assert!(Pending < InProgress && InProgress < Installed);
    }
}
