//! API group, versions and kinds of the Security Profiles Operator.

use std::fmt;
use std::str::FromStr;

/// The API group of every SPO kind.
pub const GROUP: &str = "security-profiles-operator.x-k8s.io";

/// An API version of the SPO group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Version {
    /// `v1alpha1`: legacy version of AppArmorProfile, ProfileRecording, ProfileBinding, SPOD,
    /// SecurityProfileNodeStatus.
    V1Alpha1,
    /// `v1alpha2`: legacy version of SelinuxProfile and RawSelinuxProfile.
    V1Alpha2,
    /// `v1beta1`: legacy version of SeccompProfile.
    V1Beta1,
    /// `v1`: the canonical (storage) version since 1.0.
    V1,
}

impl Version {
    /// The version string, e.g. `v1beta1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1Alpha1 => "v1alpha1",
            Version::V1Alpha2 => "v1alpha2",
            Version::V1Beta1 => "v1beta1",
            Version::V1 => "v1",
        }
    }

    /// True for every version except `v1` (the era A/B shapes, VER-08).
    pub fn is_legacy(self) -> bool {
        self != Version::V1
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Version {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "v1alpha1" => Version::V1Alpha1,
            "v1alpha2" => Version::V1Alpha2,
            "v1beta1" => Version::V1Beta1,
            "v1" => Version::V1,
            _ => return Err(()),
        })
    }
}

/// Every kind of the SPO API group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// `SeccompProfile`
    SeccompProfile,
    /// `SelinuxProfile`
    SelinuxProfile,
    /// `RawSelinuxProfile`
    RawSelinuxProfile,
    /// `AppArmorProfile`
    AppArmorProfile,
    /// `ProfileRecording`
    ProfileRecording,
    /// `ProfileBinding`
    ProfileBinding,
    /// `SecurityProfileNodeStatus`
    SecurityProfileNodeStatus,
    /// `SecurityProfilesOperatorDaemon`
    SecurityProfilesOperatorDaemon,
}

impl Kind {
    /// All kinds, in a stable order.
    pub const ALL: [Kind; 8] = [
        Kind::SeccompProfile,
        Kind::SelinuxProfile,
        Kind::RawSelinuxProfile,
        Kind::AppArmorProfile,
        Kind::ProfileRecording,
        Kind::ProfileBinding,
        Kind::SecurityProfileNodeStatus,
        Kind::SecurityProfilesOperatorDaemon,
    ];

    /// The kind as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SeccompProfile => "SeccompProfile",
            Kind::SelinuxProfile => "SelinuxProfile",
            Kind::RawSelinuxProfile => "RawSelinuxProfile",
            Kind::AppArmorProfile => "AppArmorProfile",
            Kind::ProfileRecording => "ProfileRecording",
            Kind::ProfileBinding => "ProfileBinding",
            Kind::SecurityProfileNodeStatus => "SecurityProfileNodeStatus",
            Kind::SecurityProfilesOperatorDaemon => "SecurityProfilesOperatorDaemon",
        }
    }

    /// The legacy version served next to `v1` (VER-01).
    pub fn legacy_version(self) -> Version {
        match self {
            Kind::SeccompProfile => Version::V1Beta1,
            Kind::SelinuxProfile | Kind::RawSelinuxProfile => Version::V1Alpha2,
            _ => Version::V1Alpha1,
        }
    }

    /// The versions this kind is served in: `v1` and its legacy version.
    pub fn served_versions(self) -> [Version; 2] {
        [Version::V1, self.legacy_version()]
    }

    /// True for the four profile kinds.
    pub fn is_profile(self) -> bool {
        matches!(
            self,
            Kind::SeccompProfile
                | Kind::SelinuxProfile
                | Kind::RawSelinuxProfile
                | Kind::AppArmorProfile
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// `<group>/<version>` for `version`.
pub fn api_version(version: Version) -> String {
    format!("{GROUP}/{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: VER-01
    #[test]
    fn ver_01_legacy_versions_per_kind() {
        assert_eq!(Kind::SeccompProfile.legacy_version(), Version::V1Beta1);
        assert_eq!(Kind::SelinuxProfile.legacy_version(), Version::V1Alpha2);
        assert_eq!(Kind::RawSelinuxProfile.legacy_version(), Version::V1Alpha2);
        assert_eq!(Kind::AppArmorProfile.legacy_version(), Version::V1Alpha1);
        assert_eq!(
            Kind::ProfileRecording.served_versions(),
            [Version::V1, Version::V1Alpha1]
        );
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
        }
        assert_eq!(
            api_version(Version::V1),
            "security-profiles-operator.x-k8s.io/v1"
        );
    }
}
