//! The SeccompProfile model (SC-01..SC-05, SC-10): spec fields, actions, operators, flags.
//!
//! Field order in the structs is the on-disk key order of SC-08, so serialising a spec gives
//! upstream's exact JSON.

use serde::{Deserialize, Serialize};
use spo_core::{Arch, Document, Kind, LegacyAlias, ObjectMeta, Version};

use crate::error::SeccompError;

/// A seccomp action (`SCMP_ACT_*`), for `defaultAction` and rules (SC-01).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum Action {
    /// Kill the thread (same as `KillThread`).
    #[serde(rename = "SCMP_ACT_KILL")]
    Kill,
    /// Kill the whole process.
    #[serde(rename = "SCMP_ACT_KILL_PROCESS")]
    KillProcess,
    /// Kill the thread.
    #[serde(rename = "SCMP_ACT_KILL_THREAD")]
    KillThread,
    /// Send SIGSYS.
    #[serde(rename = "SCMP_ACT_TRAP")]
    Trap,
    /// Fail with an errno (`errnoRet`, default EPERM).
    #[default]
    #[serde(rename = "SCMP_ACT_ERRNO")]
    Errno,
    /// Notify a ptrace tracer.
    #[serde(rename = "SCMP_ACT_TRACE")]
    Trace,
    /// Allow.
    #[serde(rename = "SCMP_ACT_ALLOW")]
    Allow,
    /// Allow and log.
    #[serde(rename = "SCMP_ACT_LOG")]
    Log,
    /// Ask a user-space agent (`listenerPath`).
    #[serde(rename = "SCMP_ACT_NOTIFY")]
    Notify,
}

impl Action {
    /// All nine actions.
    pub const ALL: [Action; 9] = [
        Action::Kill,
        Action::KillProcess,
        Action::KillThread,
        Action::Trap,
        Action::Errno,
        Action::Trace,
        Action::Allow,
        Action::Log,
        Action::Notify,
    ];

    /// The `SCMP_ACT_*` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Kill => "SCMP_ACT_KILL",
            Action::KillProcess => "SCMP_ACT_KILL_PROCESS",
            Action::KillThread => "SCMP_ACT_KILL_THREAD",
            Action::Trap => "SCMP_ACT_TRAP",
            Action::Errno => "SCMP_ACT_ERRNO",
            Action::Trace => "SCMP_ACT_TRACE",
            Action::Allow => "SCMP_ACT_ALLOW",
            Action::Log => "SCMP_ACT_LOG",
            Action::Notify => "SCMP_ACT_NOTIFY",
        }
    }

    /// Restrictiveness rank of SC-24, 0 = most restrictive:
    /// `KILL_PROCESS < KILL = KILL_THREAD < TRAP < ERRNO < NOTIFY < TRACE < LOG < ALLOW`.
    pub fn permissiveness(self) -> u8 {
        match self {
            Action::KillProcess => 0,
            Action::Kill | Action::KillThread => 1,
            Action::Trap => 2,
            Action::Errno => 3,
            Action::Notify => 4,
            Action::Trace => 5,
            Action::Log => 6,
            Action::Allow => 7,
        }
    }

    /// True for the actions that let the syscall run (the default "allowing" set of SC-37:
    /// ALLOW, LOG, TRACE, NOTIFY).
    pub fn is_allowing(self) -> bool {
        matches!(
            self,
            Action::Allow | Action::Log | Action::Trace | Action::Notify
        )
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Action {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Action::ALL.into_iter().find(|a| a.as_str() == s).ok_or(())
    }
}

/// A comparison operator for syscall arguments (SC-03).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum ArgOp {
    #[serde(rename = "SCMP_CMP_NE")]
    NotEqual,
    #[serde(rename = "SCMP_CMP_LT")]
    Less,
    #[serde(rename = "SCMP_CMP_LE")]
    LessOrEqual,
    #[serde(rename = "SCMP_CMP_EQ")]
    Equal,
    #[serde(rename = "SCMP_CMP_GE")]
    GreaterOrEqual,
    #[serde(rename = "SCMP_CMP_GT")]
    Greater,
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEqual,
}

/// A filter flag (SC-02).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum Flag {
    #[serde(rename = "SECCOMP_FILTER_FLAG_TSYNC")]
    Tsync,
    #[serde(rename = "SECCOMP_FILTER_FLAG_LOG")]
    Log,
    #[serde(rename = "SECCOMP_FILTER_FLAG_SPEC_ALLOW")]
    SpecAllow,
    #[serde(rename = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")]
    WaitKillableRecv,
}

/// `spec.state` (1.0+); `disabled: true` in legacy manifests maps to `Disabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum ProfileState {
    /// Installed on nodes (the default).
    #[default]
    Enabled,
    /// Never written to disk (SC-13).
    Disabled,
}

/// One argument condition of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Arg {
    /// Argument position, 0..=5; always serialised, also when 0 (SC-10).
    pub index: u32,
    /// Compared value; omitted when 0. A full u64 (the v1 CRD's int64 limit is a known
    /// upstream weak point; the OCI runtime spec takes u64).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub value: u64,
    /// Second value (the mask of `SCMP_CMP_MASKED_EQ`); omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub value_two: u64,
    /// The operator.
    pub op: ArgOp,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_none_or_zero(v: &Option<u32>) -> bool {
    matches!(v, None | Some(0))
}

/// One rule: syscall names, the action, optional errno and argument conditions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Syscall {
    /// Syscall names (at least one, SC-04).
    pub names: Vec<String>,
    /// The action.
    pub action: Action,
    /// Errno returned by `SCMP_ACT_ERRNO` / `SCMP_ACT_TRACE`; omitted when 0.
    #[serde(default, skip_serializing_if = "is_none_or_zero")]
    pub errno_ret: Option<u32>,
    /// Argument conditions (at most 6, SC-03); omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Arg>,
}

impl Syscall {
    /// An unconditional rule.
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>, action: Action) -> Self {
        Syscall {
            names: names.into_iter().map(Into::into).collect(),
            action,
            errno_ret: None,
            args: Vec::new(),
        }
    }

    /// `errno_ret` with 0 read as "not set".
    pub fn errno(&self) -> Option<u32> {
        self.errno_ret.filter(|e| *e != 0)
    }
}

/// The spec of a SeccompProfile. Also the shape of raw OCI seccomp JSON (which may add
/// `defaultErrnoRet`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeccompSpec {
    /// `Enabled`/`Disabled`; absent means `Enabled` (the CRD default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ProfileState>,
    /// Base profile: a SeccompProfile name or `oci://<ref>` (SC-16, SC-17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_profile_name: Option<String>,
    /// The action for syscalls no rule matches (required, SC-01).
    pub default_action: Action,
    /// Errno for an `SCMP_ACT_ERRNO` default action (raw OCI JSON only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    /// Architectures the filter covers; empty means the native one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<Arch>,
    /// Unix socket of the seccomp agent for `SCMP_ACT_NOTIFY` (SC-05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_path: Option<String>,
    /// Opaque data passed to the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_metadata: Option<String>,
    /// The rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syscalls: Vec<Syscall>,
    /// Filter flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
}

impl SeccompSpec {
    /// A spec with only a default action.
    pub fn new(default_action: Action) -> Self {
        SeccompSpec {
            default_action,
            ..Self::default()
        }
    }

    /// The state with the CRD default applied.
    pub fn effective_state(&self) -> ProfileState {
        self.state.unwrap_or_default()
    }

    /// The action syscall `name` gets whatever its arguments: the action of a rule naming it
    /// without conditions, else the default action when no rule names it. `None` when only
    /// conditional rules name it (the answer depends on the arguments).
    pub fn action_for(&self, name: &str) -> Option<Action> {
        let mut conditional = false;
        for rule in self
            .syscalls
            .iter()
            .filter(|r| r.names.iter().any(|n| n == name))
        {
            if rule.args.is_empty() {
                return Some(rule.action);
            }
            conditional = true;
        }
        (!conditional).then_some(self.default_action)
    }

    /// Architectures with `SCMP_ARCH_NATIVE` resolved and duplicates removed; the native
    /// architecture when the list is empty.
    pub fn effective_architectures(&self) -> Vec<Arch> {
        let mut out: Vec<Arch> = Vec::new();
        for a in &self.architectures {
            let a = a.resolved();
            if !out.contains(&a) {
                out.push(a);
            }
        }
        if out.is_empty() {
            out.push(Arch::native());
        }
        out
    }
}

/// A SeccompProfile manifest: metadata, spec, and the API version it was read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeccompProfile {
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: SeccompSpec,
    /// The API version the profile was decoded from (`v1` for profiles built in code).
    pub version: Version,
}

/// Era-B field names of SeccompProfile v1beta1 (VER-08): `disabled: bool` → `state`.
pub const LEGACY_ALIASES: &[LegacyAlias] = &[LegacyAlias::Bool {
    legacy: "disabled",
    field: "state",
    when_true: "Disabled",
    when_false: "Enabled",
}];

impl SeccompProfile {
    /// A `v1` profile.
    pub fn new(metadata: ObjectMeta, spec: SeccompSpec) -> Self {
        SeccompProfile {
            metadata,
            spec,
            version: Version::V1,
        }
    }

    /// Decodes a SeccompProfile document in any served version (v1, v1beta1 with the 0.10
    /// `disabled` field). Errors name the document and the field path.
    pub fn from_document(doc: &Document) -> Result<Self, SeccompError> {
        doc.expect_kind(Kind::SeccompProfile)?;
        let mut doc = doc.clone();
        doc.apply_legacy_aliases(LEGACY_ALIASES)?;
        if doc.spec.is_null() {
            return Err(doc
                .field_error("spec", "missing (spec.defaultAction is required)")
                .into());
        }
        let spec: SeccompSpec = doc.decode_spec()?;
        if spec.default_errno_ret.is_some() {
            return Err(doc
                .field_error(
                    "spec.defaultErrnoRet",
                    "unknown field (only raw OCI seccomp JSON has it)",
                )
                .into());
        }
        Ok(SeccompProfile {
            metadata: doc.metadata,
            spec,
            version: doc.version,
        })
    }

    /// Parses every SeccompProfile of a YAML stream.
    pub fn from_yaml(text: &str) -> Result<Vec<Self>, SeccompError> {
        if let Some(profiles) = Self::from_yaml_fast(text) {
            return Ok(profiles);
        }
        spo_core::parse_documents(text)?
            .iter()
            .map(Self::from_document)
            .collect()
    }

    /// The one SeccompProfile of `text` (other kinds ignored); an error when there is none
    /// or more than one.
    pub fn from_yaml_one(text: &str) -> Result<Self, SeccompError> {
        Self::from_document(&spo_core::one_document(text, Kind::SeccompProfile)?)
    }

    /// One-pass decoding for the common case: every document is a canonical SeccompProfile
    /// (`v1`, or `v1beta1` without 0.10 field names). `None` whenever anything is unusual
    /// (another kind, a legacy alias, a typo, an empty document); callers then take the
    /// general path, which reports errors with lines and field paths. This skips the legacy
    /// alias pass and the per-field error bookkeeping of the general path.
    pub fn from_yaml_fast(text: &str) -> Option<Vec<Self>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Fast {
            api_version: String,
            kind: String,
            #[serde(default)]
            metadata: ObjectMeta,
            spec: SeccompSpec,
            #[serde(default)]
            #[allow(dead_code)]
            status: Option<serde::de::IgnoredAny>,
        }
        let mut out = Vec::new();
        for doc in spo_core::parse_stream(text).ok()? {
            let m = Fast::deserialize(doc.value).ok()?;
            let version = m
                .api_version
                .strip_prefix(spo_core::GROUP)?
                .strip_prefix('/')?;
            let version = match version {
                "v1" => Version::V1,
                "v1beta1" => Version::V1Beta1,
                _ => return None,
            };
            if m.kind != "SeccompProfile" || m.spec.default_errno_ret.is_some() {
                return None;
            }
            out.push(SeccompProfile {
                metadata: m.metadata,
                spec: m.spec,
                version,
            });
        }
        (!out.is_empty()).then_some(out)
    }

    /// The manifest as a JSON value in `version` (`v1` or `v1beta1`); in `v1beta1` a disabled
    /// profile is written with the 0.10 name `disabled: true`.
    pub fn to_manifest(&self, version: Version) -> Result<serde_json::Value, SeccompError> {
        let mut value =
            spo_core::manifest_value(Kind::SeccompProfile, version, &self.metadata, &self.spec)?;
        if version.is_legacy() {
            if let Some(spec) = value.get_mut("spec").and_then(|s| s.as_object_mut()) {
                if let Some(state) = spec.remove("state") {
                    if state == "Disabled" {
                        spec.insert("disabled".into(), serde_json::Value::Bool(true));
                    }
                }
            }
        }
        Ok(value)
    }

    /// The manifest as YAML text in `version`.
    pub fn to_yaml(&self, version: Version) -> Result<String, SeccompError> {
        Ok(spo_core::to_yaml_stream(&[self.to_manifest(version)?])?)
    }
}
