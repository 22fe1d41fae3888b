//! The ProfileRecording spec (RC-01..RC-03) and its legacy spellings (VER-03, VER-07).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{DecodeError, Document, Kind, LegacyAlias, ObjectMeta, Version};

/// What a recording produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum RecordingKind {
    /// A SeccompProfile.
    SeccompProfile,
    /// A SelinuxProfile.
    SelinuxProfile,
    /// An AppArmorProfile (spelled `ApparmorProfile` in v1alpha1, RC-03).
    AppArmorProfile,
}

/// The data source of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum Recorder {
    /// Audit/syslog records via the log enricher.
    Logs,
    /// The eBPF recorder.
    Bpf,
}

/// How per-container recordings are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum MergeStrategy {
    /// One profile per container instance.
    #[default]
    None,
    /// Partial profiles merged per container when the recording is deleted (RC-23).
    Containers,
}

/// A label selector as Kubernetes writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Exact label matches.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One set-based selector requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values for `In` / `NotIn`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// `spec` of a ProfileRecording (v1 shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileRecordingSpec {
    /// What to produce.
    pub kind: RecordingKind,
    /// Where the data comes from.
    pub recorder: Recorder,
    /// Merge per-container results (default `None`).
    #[serde(default)]
    pub merge_strategy: MergeStrategy,
    /// Which pods to record.
    pub pod_selector: LabelSelector,
    /// Restrict to these containers; empty = all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
    /// Produced profiles are disabled.
    #[serde(default)]
    pub disable_profile_after_recording: bool,
}

impl ProfileRecordingSpec {
    /// True for the kind/recorder pairs upstream supports (RC-02): seccomp with either
    /// recorder, SELinux with logs, AppArmor with eBPF.
    pub fn is_supported(&self) -> bool {
        matches!(
            (self.kind, self.recorder),
            (RecordingKind::SeccompProfile, _)
                | (RecordingKind::SelinuxProfile, Recorder::Logs)
                | (RecordingKind::AppArmorProfile, Recorder::Bpf)
        )
    }
}

/// A decoded ProfileRecording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRecording {
    /// Metadata (recordings are namespaced).
    pub metadata: ObjectMeta,
    /// The spec in its v1 shape.
    pub spec: ProfileRecordingSpec,
    /// The version it was read in.
    pub version: Version,
}

/// v1alpha1 spellings (VER-03, VER-07): lower-case enums and `ApparmorProfile`.
pub const LEGACY_ALIASES: &[LegacyAlias] = &[
    LegacyAlias::Value {
        field: "recorder",
        map: &[("logs", "Logs"), ("bpf", "Bpf"), ("", "Logs")],
    },
    LegacyAlias::Value {
        field: "mergeStrategy",
        map: &[("none", "None"), ("containers", "Containers"), ("", "None")],
    },
    LegacyAlias::Value {
        field: "kind",
        map: &[("ApparmorProfile", "AppArmorProfile")],
    },
];

impl ProfileRecording {
    /// Decodes a ProfileRecording in v1 or v1alpha1.
    pub fn from_document(mut doc: Document) -> Result<Self, DecodeError> {
        doc.expect_kind(Kind::ProfileRecording)?;
        doc.apply_legacy_aliases(LEGACY_ALIASES)?;
        let spec = doc.decode_spec()?;
        Ok(ProfileRecording {
            metadata: doc.metadata,
            spec,
            version: doc.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_documents;

    fn decode(text: &str) -> Result<ProfileRecording, DecodeError> {
        ProfileRecording::from_document(parse_documents(text)?.remove(0))
    }

    // covers: VER-03, VER-07, RC-01, RC-03
    #[test]
    fn ver_03_ver_07_legacy_spellings_map_to_v1() {
        let r = decode("apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: ProfileRecording\nmetadata: {name: r, namespace: ns}\nspec: {kind: ApparmorProfile, recorder: bpf, mergeStrategy: containers, podSelector: {matchLabels: {app: a}}}\n").unwrap();
        assert_eq!(r.spec.kind, RecordingKind::AppArmorProfile);
        assert_eq!(r.spec.recorder, Recorder::Bpf);
        assert_eq!(r.spec.merge_strategy, MergeStrategy::Containers);
        let r = decode("apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: ProfileRecording\nmetadata: {name: r}\nspec: {kind: SeccompProfile, recorder: \"\", podSelector: {}}\n").unwrap();
        assert_eq!(
            (r.spec.recorder, r.spec.merge_strategy),
            (Recorder::Logs, MergeStrategy::None)
        );
        // v1 keeps its own spelling strict.
        let e = decode("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: ProfileRecording\nmetadata: {name: r}\nspec: {kind: SeccompProfile, recorder: logs, podSelector: {}}\n").unwrap_err();
        assert!(e.to_string().contains("spec.recorder"), "{e}");
    }

    // covers: RC-02
    #[test]
    fn rc_02_supported_pairs() {
        let spec = |kind, recorder| ProfileRecordingSpec {
            kind,
            recorder,
            merge_strategy: MergeStrategy::None,
            pod_selector: LabelSelector::default(),
            containers: vec![],
            disable_profile_after_recording: false,
        };
        assert!(spec(RecordingKind::SeccompProfile, Recorder::Logs).is_supported());
        assert!(spec(RecordingKind::SeccompProfile, Recorder::Bpf).is_supported());
        assert!(spec(RecordingKind::SelinuxProfile, Recorder::Logs).is_supported());
        assert!(!spec(RecordingKind::SelinuxProfile, Recorder::Bpf).is_supported());
        assert!(spec(RecordingKind::AppArmorProfile, Recorder::Bpf).is_supported());
        assert!(!spec(RecordingKind::AppArmorProfile, Recorder::Logs).is_supported());
    }

    #[test]
    fn upstream_recording_examples_decode() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                let text = std::fs::read_to_string(&p).unwrap();
                for doc in parse_documents(&text).unwrap() {
                    let r = ProfileRecording::from_document(doc)
                        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                    assert!(r.spec.is_supported(), "{}", p.display());
                    n += 1;
                }
            }
        }
        assert!(n >= 6, "{n}");
    }
}
