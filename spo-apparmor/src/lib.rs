//! # spo-apparmor
//!
//! AppArmorProfile support for spo: the model of every era, validation that rejects
//! injection, an AST with a deterministic renderer, recording support, merging, and one thin
//! install step around `apparmor_parser`.
//!
//! | Module | What it holds | Spec |
//! |---|---|---|
//! | [`model`] | `spec.policy` (era A), `spec.abstract` + `mode`/`state` (eras B, C), decoding with legacy aliases | §1, VER-08 |
//! | [`path`], [`capability`] | the grammar of list entries and capability names | §2, AA-11 |
//! | [`validate`](mod@validate) | every violation, with field paths | AA-01, AA-11 |
//! | [`ast`], [`render`](mod@render) | policy AST, printer with line origins, the §3 template | AA-02..AA-10 |
//! | [`record`] | recorded file/exec/capability/socket observations → abstract | RC-21, recording §6.1 |
//! | [`merge`](mod@merge) | union of profiles (globs absorb literal paths, r + w → rw) | CLI-15, RC-23 |
//! | [`install`] | the only I/O: policy file under a given directory, `apparmor_parser` loader | AA-12, AA-15 |
//!
//! Everything except [`install`] is pure.
//!
//! ```
//! use spo_apparmor::{render, AppArmorProfile};
//! use spo_core::parse_documents;
//!
//! let text = "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\n\
//!             kind: AppArmorProfile\nmetadata: {name: demo}\n\
//!             spec:\n  complainMode: true\n  abstract:\n    filesystem: {readOnlyPaths: [/etc/hosts]}\n";
//! let profile = AppArmorProfile::from_document(&parse_documents(text)?[0])?;
//! assert!(spo_apparmor::validate(&profile, None).is_empty());
//! let policy = render(&profile, None)?;
//! assert!(policy.contains("profile demo flags=(complain,attach_disconnected,mediate_deleted) {"));
//! assert!(policy.contains("  /etc/hosts r,\n"));
//! assert!(!policy.lines().any(|l| l.trim_start().starts_with("deny "))); // AA-04
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod ast;
pub mod capability;
pub mod checks;
mod error;
pub mod install;
pub mod lint;
pub mod merge;
pub mod model;
pub mod path;
pub mod record;
pub mod render;
pub mod validate;

pub use ast::Rendered;
/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
pub use error::Error;
pub use merge::{merge, normalize};
pub use model::{
    Abstract, AllowedProtocols, AppArmorProfile, AppArmorProfileSpec, CapabilityRules,
    ExecutableRules, FilesystemRules, Mode, NetworkRules, State,
};
pub use record::{profile_from_observations, RecordOptions};
pub use render::{render, render_with_origins};
pub use validate::validate;
