//! Kubernetes resources: one file per kind, each wrapping the spec type its LSM crate owns
//! (no second copy of any struct), plus the shared status types, labels and names.

mod meta;
pub mod names;
pub mod nodestatus;
pub mod profiles;
pub mod spod;

pub use meta::{ClusterResource, NamespacedResource, SpoResource};
pub use nodestatus::{InstallState, NodeStatusSpec, NodeStatusStatus, SecurityProfileNodeStatus};
pub use profiles::{
    AppArmorProfile, ProfileBinding, ProfileBindingSpec, ProfileRecording, ProfileRef,
    ProfileStatus, RawSelinuxProfile, SeccompProfile, SelinuxProfile,
};
pub use spod::{SecurityProfilesOperatorDaemon, SpodSecurity, SpodSpec};

/// The API group of every kind.
pub const GROUP: &str = spo_core::GROUP;
/// The storage (hub) version of every kind.
pub const HUB: &str = "v1";
