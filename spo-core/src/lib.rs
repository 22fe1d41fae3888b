//! # spo-core
//!
//! The profile-independent heart of spo: what every other crate shares. It does no I/O and
//! knows nothing of Kubernetes clients.
//!
//! | Module | What it holds |
//! |---|---|
//! | [`api`] | the API group, [`Kind`]s and [`Version`]s (VER-01) |
//! | [`document`] | the version-tolerant decoder: multi-document YAML/JSON → [`Document`] with typed errors naming line or field path; legacy aliases (VER-08) |
//! | [`meta`] | [`ObjectMeta`]: name, namespace, labels, annotations |
//! | [`name`] | Kubernetes name rules (DNS-1123 subdomain and label) |
//! | [`violation`] | [`Violation`] / [`Violations`]: validation that reports *every* problem |
//! | [`arch`] | seccomp architectures and kernel audit arch values |
//! | [`events`] | recording events (seccomp, AVC, AppArmor records; AppArmor observations) |
//! | [`recording`] | the ProfileRecording spec and its v1alpha1 spellings (VER-03, VER-07) |
//! | [`lint`] | lint findings shared by every kind: `Finding`, `Severity`, `LintConfig`, rule metadata, source spans |
//! | [`yaml_subset`] | a fast parser for the block-style YAML profiles are written in (falls back to the full parser) |
//!
//! ```
//! use spo_core::{parse_documents, Kind};
//!
//! let text = "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\n\
//!             kind: SeccompProfile\nmetadata: {name: demo}\nspec: {defaultAction: SCMP_ACT_LOG}\n";
//! let docs = parse_documents(text)?;
//! assert_eq!(docs[0].kind, Kind::SeccompProfile);
//! assert!(docs[0].version.is_legacy());
//! assert_eq!(docs[0].spec["defaultAction"], "SCMP_ACT_LOG");
//! # Ok::<(), spo_core::DecodeError>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod api;
pub mod arch;
pub mod document;
pub mod error;
pub mod events;
pub mod hostio;
pub mod limits;
pub mod lint;
pub mod meta;
pub mod name;
pub mod others;
pub mod recording;
pub mod violation;
pub mod yaml_subset;

pub use api::{Kind, Version, GROUP};
pub use arch::Arch;
pub use document::{
    manifest_value, one_document, parse_documents, parse_stream, to_yaml_stream, Document, Era,
    LegacyAlias, RawDocument,
};
pub use error::{DecodeError, EncodeError};
pub use meta::ObjectMeta;
pub use violation::{Violation, Violations};

/// Label that marks a recorded, not yet merged profile (`spo.x-k8s.io/partial: "true"`).
pub const LABEL_PARTIAL: &str = "spo.x-k8s.io/partial";
/// Label with the recording name of a recorded profile.
pub const LABEL_RECORDING_ID: &str = "spo.x-k8s.io/recording-id";
/// Label with the container name of a recorded profile.
pub const LABEL_CONTAINER_ID: &str = "spo.x-k8s.io/container-id";
/// Label with the namespace of the recording of a recorded profile (1.0+).
pub const LABEL_RECORDING_NAMESPACE: &str = "spo.x-k8s.io/recording-namespace";
/// Label identifying a profile across nodes (`<Kind>-<name>`, hashed when long).
pub const LABEL_PROFILE_ID: &str = "spo.x-k8s.io/profile-id";
