//! The profile kinds: SeccompProfile, SelinuxProfile, RawSelinuxProfile, AppArmorProfile,
//! plus ProfileBinding and ProfileRecording. Their specs are the LSM crates' own types.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde::{Deserialize, Serialize};

use super::meta::spo_resource;
use super::InstallState;

/// Status of a profile: the aggregated state over nodes and the Ready condition (§6.3),
/// plus the kind-specific fields (`localhostProfile` for seccomp, `usage` for SELinux).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileStatus {
    /// The lowest state over all nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<InstallState>,
    /// The `Ready` condition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// Seccomp: the path for a pod's `localhostProfile` (SC-07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localhost_profile: Option<String>,
    /// Seccomp: declared by upstream, never set there (weak point 6); we set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// SELinux: the type a workload uses, e.g. `nginx-secure.process`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    /// `namespace/pod` of the pods using the profile (SC-35).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub active_workloads: Vec<String>,
}

spo_resource! {
    /// A seccomp profile, installed by every node's daemon under
    /// `<kubelet>/seccomp/operator/<name>.json`.
    SeccompProfile {
        spec: spo_seccomp::SeccompSpec,
        status: ProfileStatus,
        kind: "SeccompProfile",
        plural: "seccompprofiles",
        short: ["sp"],
        versions: ["v1", "v1beta1"],
        scope: ClusterResource,
        description: "SeccompProfile is a cluster level specification for a seccomp profile.",
        columns: [
            ("Status", "string", ".status.status", 0),
            ("Age", "date", ".metadata.creationTimestamp", 0),
            ("LocalhostProfile", "string", ".status.localhostProfile", 10)
        ],
    }
}

spo_resource! {
    /// An SELinux policy in the SPO's YAML form, translated to CIL and installed.
    SelinuxProfile {
        spec: spo_selinux::model::SelinuxProfileSpec,
        status: ProfileStatus,
        kind: "SelinuxProfile",
        plural: "selinuxprofiles",
        short: [],
        versions: ["v1", "v1alpha2"],
        scope: ClusterResource,
        description: "SelinuxProfile is the Schema for the selinuxprofiles API.",
        columns: [
            ("Usage", "string", ".status.usage", 0),
            ("State", "string", ".status.status", 0)
        ],
    }
}

spo_resource! {
    /// An SELinux policy given as raw CIL.
    RawSelinuxProfile {
        spec: spo_selinux::model::RawSelinuxProfileSpec,
        status: ProfileStatus,
        kind: "RawSelinuxProfile",
        plural: "rawselinuxprofiles",
        short: [],
        versions: ["v1", "v1alpha2"],
        scope: ClusterResource,
        description: "RawSelinuxProfile is the Schema to allow raw SELinux policies to be installed.",
        columns: [
            ("Usage", "string", ".status.usage", 0),
            ("State", "string", ".status.status", 0)
        ],
    }
}

spo_resource! {
    /// An AppArmor profile, rendered and loaded on every node.
    AppArmorProfile {
        spec: spo_apparmor::AppArmorProfileSpec,
        status: ProfileStatus,
        kind: "AppArmorProfile",
        plural: "apparmorprofiles",
        short: ["aa"],
        versions: ["v1", "v1alpha1"],
        scope: ClusterResource,
        description: "AppArmorProfile is a cluster level specification for an AppArmor profile.",
        columns: [
            ("Status", "string", ".status.status", 0)
        ],
    }
}

/// A reference to a profile from a binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileRef {
    /// `SeccompProfile`, `SelinuxProfile` or `AppArmorProfile`.
    pub kind: String,
    /// The profile's name.
    pub name: String,
}

/// `spec` of a ProfileBinding: bind a profile to every container of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileBindingSpec {
    /// The profile.
    pub profile_ref: ProfileRef,
    /// The image (`*` for all).
    pub image: String,
    /// Only pods matching this selector (v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<spo_core::recording::LabelSelector>,
}

/// Status of a ProfileBinding or ProfileRecording: the pods it acted on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadsStatus {
    /// `namespace/pod` of the pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_workloads: Vec<String>,
}

spo_resource! {
    /// Binds a profile to the containers of an image (namespaced).
    ProfileBinding {
        spec: ProfileBindingSpec,
        status: WorkloadsStatus,
        kind: "ProfileBinding",
        plural: "profilebindings",
        short: [],
        versions: ["v1", "v1alpha1"],
        scope: NamespacedResource,
        description: "ProfileBinding is the Schema for the profilebindings API.",
        columns: [],
    }
}

spo_resource! {
    /// Records profiles of the pods it selects (namespaced).
    ProfileRecording {
        spec: spo_core::recording::ProfileRecordingSpec,
        status: WorkloadsStatus,
        kind: "ProfileRecording",
        plural: "profilerecordings",
        short: [],
        versions: ["v1", "v1alpha1"],
        scope: NamespacedResource,
        description: "ProfileRecording is the Schema for the profilerecordings API.",
        columns: [
            ("PodSelector", "string", ".spec.podSelector", 10)
        ],
    }
}
