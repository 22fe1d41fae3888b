//! The SelinuxProfile and RawSelinuxProfile models and their decoding from manifests.
//!
//! Both kinds are served as `v1` and `v1alpha2` (VER-01). Era-B manifests (`v1alpha2` with
//! `permissive: bool` / `disabled: bool`) are translated to the canonical `mode` / `state`
//! fields before the typed decode (VER-08).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spo_core::{Document, Kind, LegacyAlias, ObjectMeta, Version, LABEL_PARTIAL};

use crate::names::{Naming, PolicyName};
use crate::Error;

/// The label that stands for the profile's own process type (SE-14).
pub const SELF_LABEL: &str = "@self";

/// The generic system template every SelinuxProfile builds on (SE-09).
pub const CONTAINER_TEMPLATE: &str = "container";

/// `allow`: label → object class → permissions.
pub type AllowMap = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Legacy spellings of the SelinuxProfile / RawSelinuxProfile spec (VER-08).
pub const LEGACY_ALIASES: [LegacyAlias; 2] = [
    LegacyAlias::Bool {
        legacy: "permissive",
        field: "mode",
        when_true: "Permissive",
        when_false: "Enforcing",
    },
    LegacyAlias::Bool {
        legacy: "disabled",
        field: "state",
        when_true: "Disabled",
        when_false: "Enabled",
    },
];

/// Whether a profile is installed (`spec.state`; `disabled` in era B).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum State {
    /// Installed on the nodes (default).
    #[default]
    Enabled,
    /// Validated but not installed (SE-18).
    Disabled,
}

impl State {
    fn is_enabled(&self) -> bool {
        *self == State::Enabled
    }
}

/// `spec.mode` (`permissive` in era B).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum Mode {
    /// Denials are enforced (default).
    #[default]
    Enforcing,
    /// Denials are only logged: the CIL gets `(typepermissive process)` (SE-12).
    Permissive,
}

impl Mode {
    fn is_enforcing(&self) -> bool {
        *self == Mode::Enforcing
    }
}

/// One entry of `spec.inherit`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyRef {
    /// `System`, `SelinuxProfile`, or empty (= `System`, SE-03). Kept as text so an unknown
    /// kind is a validation violation (SE-05) rather than a decode error.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Template name or SelinuxProfile name.
    pub name: String,
}

impl PolicyRef {
    /// A reference to a system template.
    pub fn system(name: impl Into<String>) -> Self {
        Self {
            kind: "System".into(),
            name: name.into(),
        }
    }

    /// A reference to another SelinuxProfile.
    pub fn profile(name: impl Into<String>) -> Self {
        Self {
            kind: "SelinuxProfile".into(),
            name: name.into(),
        }
    }

    /// The interpreted kind (empty = System, SE-03).
    pub fn parent_kind(&self) -> ParentKind<'_> {
        match self.kind.as_str() {
            "" | "System" => ParentKind::System,
            "SelinuxProfile" => ParentKind::SelinuxProfile,
            other => ParentKind::Unknown(other),
        }
    }
}

/// What an inherit entry points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParentKind<'a> {
    /// A template installed on the node (`container`, `net_container`...).
    System,
    /// Another SelinuxProfile object.
    SelinuxProfile,
    /// Anything else (SE-05).
    Unknown(&'a str),
}

fn default_inherit() -> Vec<PolicyRef> {
    vec![PolicyRef::system(CONTAINER_TEMPLATE)]
}

/// `spec` of a SelinuxProfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelinuxProfileSpec {
    /// Installed or not.
    #[serde(default, skip_serializing_if = "State::is_enabled")]
    pub state: State,
    /// Parent policies; default `[{kind: System, name: container}]`.
    #[serde(default = "default_inherit")]
    pub inherit: Vec<PolicyRef>,
    /// Enforcing or permissive.
    #[serde(default, skip_serializing_if = "Mode::is_enforcing")]
    pub mode: Mode,
    /// Allow rules: label → class → permissions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allow: AllowMap,
}

impl Default for SelinuxProfileSpec {
    fn default() -> Self {
        Self {
            state: State::Enabled,
            inherit: default_inherit(),
            mode: Mode::Enforcing,
            allow: AllowMap::new(),
        }
    }
}

/// A decoded SelinuxProfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelinuxProfile {
    /// Metadata (name; namespace in era A).
    pub metadata: ObjectMeta,
    /// The API version the manifest used.
    pub version: Version,
    /// The spec, in canonical (`v1`) shape.
    pub spec: SelinuxProfileSpec,
}

/// `spec` of a RawSelinuxProfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawSelinuxProfileSpec {
    /// Installed or not.
    #[serde(default, skip_serializing_if = "State::is_enabled")]
    pub state: State,
    /// CIL statements to put inside the profile's block.
    #[serde(default)]
    pub policy: String,
}

/// A decoded RawSelinuxProfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSelinuxProfile {
    /// Metadata.
    pub metadata: ObjectMeta,
    /// The API version the manifest used.
    pub version: Version,
    /// The spec.
    pub spec: RawSelinuxProfileSpec,
}

fn decode<T: serde::de::DeserializeOwned>(doc: &Document, kind: Kind) -> Result<T, Error> {
    doc.expect_kind(kind)?;
    let mut doc = doc.clone();
    doc.apply_legacy_aliases(&LEGACY_ALIASES)?;
    if doc.spec.is_null() {
        doc.spec = serde_json::Value::Object(serde_json::Map::new());
    }
    Ok(doc.decode_spec()?)
}

fn is_partial(meta: &ObjectMeta) -> bool {
    meta.labels.get(LABEL_PARTIAL).map(String::as_str) == Some("true")
}

impl SelinuxProfile {
    /// The one SelinuxProfile of `text` (other kinds ignored); an error when there is none
    /// or more than one.
    pub fn from_yaml_one(text: &str) -> Result<Self, Error> {
        Self::from_document(&spo_core::one_document(text, Kind::SelinuxProfile)?)
    }

    /// Decodes a SelinuxProfile document (`v1`, or `v1alpha2` with era-B field names).
    pub fn from_document(doc: &Document) -> Result<Self, Error> {
        Ok(Self {
            metadata: doc.metadata.clone(),
            version: doc.version,
            spec: decode(doc, Kind::SelinuxProfile)?,
        })
    }

    /// A profile with `name` and the default spec.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            metadata: ObjectMeta::named(name),
            version: Version::V1,
            spec: SelinuxProfileSpec::default(),
        }
    }

    /// Whether CIL should be installed for it: enabled and not a partial recording (SE-18).
    pub fn is_installable(&self) -> bool {
        self.spec.state == State::Enabled && !is_partial(&self.metadata)
    }

    /// Its policy name (SE-02); `.usage()` on it is `status.usage` (SE-01).
    pub fn policy_name(&self, naming: Naming) -> Result<PolicyName, spo_core::Violations> {
        PolicyName::for_object(&self.metadata, naming)
    }

    /// The manifest as a JSON value (`v1`, canonical field names).
    pub fn to_manifest(&self) -> Result<serde_json::Value, spo_core::EncodeError> {
        spo_core::manifest_value(
            Kind::SelinuxProfile,
            Version::V1,
            &self.metadata,
            &self.spec,
        )
    }
}

impl RawSelinuxProfile {
    /// Decodes a RawSelinuxProfile document.
    pub fn from_document(doc: &Document) -> Result<Self, Error> {
        Ok(Self {
            metadata: doc.metadata.clone(),
            version: doc.version,
            spec: decode(doc, Kind::RawSelinuxProfile)?,
        })
    }

    /// Whether CIL should be installed for it: enabled and not partial (SE-18).
    pub fn is_installable(&self) -> bool {
        self.spec.state == State::Enabled && !is_partial(&self.metadata)
    }

    /// Its policy name (SE-02); `.usage()` on it is `status.usage`, the type the block
    /// really declares (weak point 1 fixed).
    pub fn policy_name(&self, naming: Naming) -> Result<PolicyName, spo_core::Violations> {
        PolicyName::for_object(&self.metadata, naming)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spo_core::parse_documents;

    fn one(text: &str) -> Document {
        parse_documents(text).unwrap().remove(0)
    }

    // covers: VER-08
    #[test]
    fn ver_08_v1alpha2_permissive_and_disabled_become_mode_and_state() {
        let doc = one("apiVersion: security-profiles-operator.x-k8s.io/v1alpha2\nkind: SelinuxProfile\nmetadata: {name: a}\nspec: {permissive: true, disabled: true, allow: {var_log_t: {dir: [open]}}}\n");
        let p = SelinuxProfile::from_document(&doc).unwrap();
        assert_eq!(p.spec.mode, Mode::Permissive);
        assert_eq!(p.spec.state, State::Disabled);
        assert!(!p.is_installable());
        assert_eq!(p.spec.inherit, vec![PolicyRef::system("container")]);
    }

    #[test]
    fn ver_08_v1_rejects_the_legacy_name_with_its_path() {
        let doc = one("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SelinuxProfile\nmetadata: {name: a}\nspec: {permissive: true}\n");
        let err = SelinuxProfile::from_document(&doc).unwrap_err().to_string();
        assert!(err.contains("spec") && err.contains("permissive"), "{err}");
    }

    #[test]
    fn v1_mode_and_wrong_types_report_field_paths() {
        let doc = one("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SelinuxProfile\nmetadata: {name: a}\nspec: {mode: Permissive}\n");
        assert_eq!(
            SelinuxProfile::from_document(&doc).unwrap().spec.mode,
            Mode::Permissive
        );
        let doc = one("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SelinuxProfile\nmetadata: {name: a}\nspec: {allow: {x: {file: read}}}\n");
        let err = SelinuxProfile::from_document(&doc).unwrap_err().to_string();
        assert!(err.contains("spec.allow.x.file"), "{err}");
        let doc = one("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: RawSelinuxProfile\nmetadata: {name: a}\nspec: {policy: x}\n");
        assert!(SelinuxProfile::from_document(&doc).is_err());
        assert_eq!(
            RawSelinuxProfile::from_document(&doc).unwrap().spec.policy,
            "x"
        );
    }

    // covers: SE-03, SE-05
    #[test]
    fn se_03_empty_kind_is_system_and_unknown_kinds_are_kept() {
        let r = PolicyRef {
            kind: String::new(),
            name: "container".into(),
        };
        assert_eq!(r.parent_kind(), ParentKind::System);
        let r = PolicyRef {
            kind: "Seccomp".into(),
            name: "x".into(),
        };
        assert_eq!(r.parent_kind(), ParentKind::Unknown("Seccomp"));
    }

    // covers: SE-01
    #[test]
    fn se_01_usage_for_both_kinds() {
        let p = SelinuxProfile::named("nginx-secure");
        assert_eq!(
            p.policy_name(Naming::ClusterScoped).unwrap().usage(),
            "nginx-secure.process"
        );
        let doc = one("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: RawSelinuxProfile\nmetadata: {name: raw, namespace: web}\nspec: {policy: x}\n");
        let r = RawSelinuxProfile::from_document(&doc).unwrap();
        assert_eq!(
            r.policy_name(Naming::ClusterScoped).unwrap().usage(),
            "raw.process"
        );
        assert_eq!(
            r.policy_name(Naming::Namespaced).unwrap().usage(),
            "raw_web.process"
        );
    }

    // covers: SE-18
    #[test]
    fn se_18_partial_profiles_are_not_installable() {
        let mut p = SelinuxProfile::named("a");
        assert!(p.is_installable());
        p.metadata
            .labels
            .insert(LABEL_PARTIAL.into(), "true".into());
        assert!(!p.is_installable());
    }
}
