//! The AppArmorProfile model of every era (apparmor.md §1) and its decoding.
//!
//! Era A (≤0.8) carries raw policy text in `spec.policy`; eras B and C describe the profile
//! in `spec.abstract`. Era B's `complainMode: bool` and `disabled: bool` are translated to
//! `mode` and `state` by spo-core's legacy aliases (VER-08) before the typed decoding.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use spo_core::{manifest_value, Document, Kind, LegacyAlias, ObjectMeta, Version};

use crate::Error;

/// Era-B field names and their canonical replacements (VER-08).
pub const LEGACY_ALIASES: [LegacyAlias; 2] = [
    LegacyAlias::Bool {
        legacy: "complainMode",
        field: "mode",
        when_true: "Complain",
        when_false: "Enforce",
    },
    LegacyAlias::Bool {
        legacy: "disabled",
        field: "state",
        when_true: "Disabled",
        when_false: "Enabled",
    },
];

/// `spec.mode` (1.0+), `spec.complainMode` before (AA-03, AA-04).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum Mode {
    /// Deny what the profile does not allow (default).
    #[default]
    Enforce,
    /// Only log what the profile does not allow; no `deny` rules are rendered.
    Complain,
}

impl Mode {
    /// The profile flag: `enforce` or `complain`.
    pub fn flag(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Complain => "complain",
        }
    }
}

/// `spec.state` (1.0+), `spec.disabled` before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum State {
    /// Installed on nodes (default).
    #[default]
    Enabled,
    /// Never installed.
    Disabled,
}

/// `spec.abstract.executable`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutableRules {
    /// Programs that may be executed (inheriting this profile): `<p> ixr,`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_executables: Option<Vec<String>>,
    /// Libraries that may be mapped: `<p> mr,`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_libraries: Option<Vec<String>>,
}

/// `spec.abstract.filesystem`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilesystemRules {
    /// `<p> r,` (+ `deny <p> wlk,` when enforcing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_paths: Option<Vec<String>>,
    /// `<p> wlk,` (+ `deny <p> r,` when enforcing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_only_paths: Option<Vec<String>>,
    /// `<p> rwlk,`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_write_paths: Option<Vec<String>>,
}

/// `spec.abstract.network.allowedProtocols`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowedProtocols {
    /// `network tcp,` when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_tcp: Option<bool>,
    /// `network udp,` when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_udp: Option<bool>,
}

/// `spec.abstract.network`. Absent ⇒ no network rule at all ⇒ AppArmor denies networking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkRules {
    /// `network raw,` when true; `deny network raw,` otherwise (enforcing, AA-07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_raw: Option<bool>,
    /// TCP and UDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_protocols: Option<AllowedProtocols>,
}

impl NetworkRules {
    /// `allowedProtocols.allowTcp`, false when unset.
    pub fn tcp(&self) -> bool {
        self.allowed_protocols
            .and_then(|p| p.allow_tcp)
            .unwrap_or(false)
    }

    /// `allowedProtocols.allowUdp`, false when unset.
    pub fn udp(&self) -> bool {
        self.allowed_protocols
            .and_then(|p| p.allow_udp)
            .unwrap_or(false)
    }

    /// `allowRaw`, false when unset.
    pub fn raw(&self) -> bool {
        self.allow_raw.unwrap_or(false)
    }
}

/// `spec.abstract.capability`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CapabilityRules {
    /// Capability names, lower case without `CAP_` (`net_bind_service`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_capabilities: Vec<String>,
}

/// `spec.abstract`: what a container may touch (§1 table). Lists are `None` when absent and
/// `Some(vec![])` when written as `[]`; the distinction changes blank lines in the rendered
/// text (§3), nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Abstract {
    /// Executables and libraries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<ExecutableRules>,
    /// File paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<FilesystemRules>,
    /// Network booleans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkRules>,
    /// Capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<CapabilityRules>,
}

/// `spec` of an AppArmorProfile, canonical (era C) field names plus era A's `policy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppArmorProfileSpec {
    /// Enabled (default) or Disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Era A (≤0.8, `v1alpha1` only): raw policy text loaded verbatim (AA-01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The structured profile (AA-02).
    #[serde(default, rename = "abstract", skip_serializing_if = "Option::is_none")]
    pub abstract_: Option<Abstract>,
    /// Enforce (default) or Complain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

impl AppArmorProfileSpec {
    /// The effective mode (Enforce when unset).
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or_default()
    }

    /// The raw policy when one is set and not blank (era A).
    pub fn raw_policy(&self) -> Option<&str> {
        self.policy.as_deref().filter(|p| !p.trim().is_empty())
    }
}

/// A decoded AppArmorProfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppArmorProfile {
    /// The API version the document used.
    pub version: Version,
    /// Metadata.
    pub metadata: ObjectMeta,
    /// The spec, with legacy names already translated.
    pub spec: AppArmorProfileSpec,
}

impl AppArmorProfile {
    /// An enforcing, enabled `v1` profile with the given name and abstract.
    pub fn new(name: impl Into<String>, abstract_: Abstract) -> Self {
        Self {
            version: Version::V1,
            metadata: ObjectMeta::named(name),
            spec: AppArmorProfileSpec {
                abstract_: Some(abstract_),
                ..AppArmorProfileSpec::default()
            },
        }
    }

    /// The one AppArmorProfile of `text` (other kinds ignored); an error when there is none
    /// or more than one.
    pub fn from_yaml_one(text: &str) -> Result<Self, Error> {
        Self::from_document(&spo_core::one_document(text, Kind::AppArmorProfile)?)
    }

    /// Decodes a document of kind AppArmorProfile: applies the legacy aliases (VER-08), then
    /// decodes `spec` with errors naming the full field path.
    pub fn from_document(doc: &Document) -> Result<Self, Error> {
        doc.expect_kind(Kind::AppArmorProfile)?;
        let mut doc = doc.clone();
        doc.apply_legacy_aliases(&LEGACY_ALIASES)?;
        if doc.spec.is_null() {
            doc.spec = Value::Object(serde_json::Map::new());
        }
        let spec: AppArmorProfileSpec = doc.decode_spec()?;
        Ok(Self {
            version: doc.version,
            metadata: doc.metadata,
            spec,
        })
    }

    /// The manifest as a JSON value (`v1`, or `v1alpha1` when it carries a raw policy,
    /// which `v1` cannot express).
    pub fn to_manifest(&self) -> Result<Value, Error> {
        let version = if self.spec.policy.is_some() {
            Version::V1Alpha1
        } else {
            Version::V1
        };
        Ok(manifest_value(
            Kind::AppArmorProfile,
            version,
            &self.metadata,
            &self.spec,
        )?)
    }

    /// False for disabled profiles and for recorded partial profiles (label
    /// `spo.x-k8s.io/partial: "true"`): upstream's AppArmor controller loads them anyway
    /// (apparmor.md §7 weak point 2); seccomp and SELinux skip them, and so should we.
    pub fn should_install(&self) -> bool {
        self.spec.state != Some(State::Disabled)
            && self
                .metadata
                .labels
                .get(spo_core::LABEL_PARTIAL)
                .map(String::as_str)
                != Some("true")
    }

    /// The abstract, or an empty one.
    pub fn abstract_or_default(&self) -> Abstract {
        self.spec.abstract_.clone().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spo_core::parse_documents;

    fn decode(text: &str) -> Result<AppArmorProfile, Error> {
        AppArmorProfile::from_document(&parse_documents(text).unwrap()[0])
    }

    // covers: VER-08, AA-04
    #[test]
    fn ver_08_complain_mode_and_disabled_become_mode_and_state_on_v1alpha1() {
        let p = decode(
            "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: AppArmorProfile\nmetadata: {name: a}\nspec: {complainMode: true, disabled: true, abstract: {}}\n",
        )
        .unwrap();
        assert_eq!(p.spec.mode, Some(Mode::Complain));
        assert_eq!(p.spec.state, Some(State::Disabled));
        let p = decode(
            "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: AppArmorProfile\nmetadata: {name: a}\nspec: {complainMode: false}\n",
        )
        .unwrap();
        assert_eq!(p.spec.mode(), Mode::Enforce);
    }

    #[test]
    fn ver_08_legacy_names_are_unknown_fields_on_v1() {
        let e = decode(
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nmetadata: {name: a}\nspec: {complainMode: true}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("spec"), "{e}");
        assert!(e.to_string().contains("complainMode"), "{e}");
    }

    #[test]
    fn decode_errors_carry_the_field_path() {
        let e = decode(
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nmetadata: {name: a}\nspec: {abstract: {network: {allowRaw: yes-please}}}\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("spec.abstract.network.allowRaw"),
            "{e}"
        );
        let e = decode(
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nmetadata: {name: a}\nspec: {mode: Audit}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("spec.mode"), "{e}");
    }

    #[test]
    fn disabled_and_partial_profiles_are_not_installed() {
        let mut p = AppArmorProfile::new("a", Abstract::default());
        assert!(p.should_install());
        p.metadata
            .labels
            .insert(spo_core::LABEL_PARTIAL.into(), "true".into());
        assert!(!p.should_install());
        p.metadata.labels.clear();
        p.spec.state = Some(State::Disabled);
        assert!(!p.should_install());
    }

    #[test]
    fn absent_and_empty_lists_are_distinguished_and_round_trip() {
        let p = decode(
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nmetadata: {name: a}\nspec: {abstract: {filesystem: {readOnlyPaths: []}}}\n",
        )
        .unwrap();
        let fs = p
            .spec
            .abstract_
            .as_ref()
            .unwrap()
            .filesystem
            .as_ref()
            .unwrap();
        assert_eq!(fs.read_only_paths, Some(vec![]));
        assert_eq!(fs.write_only_paths, None);
        let m = p.to_manifest().unwrap();
        assert_eq!(
            m["spec"]["abstract"]["filesystem"]["readOnlyPaths"],
            serde_json::json!([])
        );
        assert_eq!(m["apiVersion"], "security-profiles-operator.x-k8s.io/v1");
    }
}
