//! # spo-selinux
//!
//! SelinuxProfile and RawSelinuxProfile: models decoded through spo-core's version-tolerant
//! decoder, validation that reports every violation, and translation into CIL through a
//! small AST with a deterministic printer. Pure, except the thin [`install`] module.
//!
//! | Module | What it holds |
//! |---|---|
//! | [`model`] | [`SelinuxProfile`], [`RawSelinuxProfile`] (`v1` and era-B `v1alpha2`, VER-08) |
//! | [`names`] | policy names and usage (SE-01, SE-02), the SE-07 token rule |
//! | [`validate`](mod@validate) | [`validate()`], [`Options`] (naming era, `allowedSystemProfiles`, deny list SE-15..SE-17) |
//! | [`inherit`] | [`ParentResolver`] for SelinuxProfile parents (SE-06, SE-11), cycle detection |
//! | [`translate`] | [`to_cil`]: SelinuxProfile → [`cil::Module`] (SE-08..SE-14) |
//! | [`raw`] | RawSelinuxProfile checks (SE-25, SE-26) and wrapping (SE-24) |
//! | [`cil`] | the CIL AST and printer |
//! | [`diagnostics`] | compiler messages mapped back to profile fields |
//! | [`record`] | AVC → SelinuxProfile (RC-20) and merging |
//! | [`install`] | write `<dir>/<policy>.cil` (SE-21) and the `semodule` installer |
//!
//! ```
//! use spo_core::parse_documents;
//! use spo_selinux::{to_cil, NoParents, Options, SelinuxProfile};
//!
//! let text = "apiVersion: security-profiles-operator.x-k8s.io/v1alpha2\n\
//!             kind: SelinuxProfile\nmetadata: {name: nginx-secure}\n\
//!             spec:\n  permissive: true\n  allow: {'@self': {tcp_socket: [listen]}}\n";
//! let doc = &parse_documents(text)?[0];
//! let profile = SelinuxProfile::from_document(doc)?;
//! let module = to_cil(&profile, &Options::default(), &NoParents)?;
//! assert_eq!(
//!     module.render(),
//!     "(block nginx-secure\n(blockinherit container)\n(typepermissive process)\n\
//!      (allow process nginx-secure.process ( tcp_socket ( listen )))\n)\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cil;
pub mod diagnostics;
pub mod error;
pub mod inherit;
pub mod install;
pub mod lint;
pub mod model;
pub mod names;
pub mod raw;
pub mod record;
pub mod translate;
pub mod validate;

pub use cil::Module;
/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
pub use error::{Error, ResolveError};
pub use inherit::{NoParents, ParentResolver};
pub use model::{
    Mode, ParentKind, PolicyRef, RawSelinuxProfile, RawSelinuxProfileSpec, SelinuxProfile,
    SelinuxProfileSpec, State,
};
pub use names::{Naming, PolicyName};
pub use raw::{raw_to_cil, validate_raw};
pub use record::{merge, profile_from_avcs, RECORDING_TYPE};
pub use translate::to_cil;
pub use validate::{validate, AllowedSystemProfiles, DenyOptions, Options};
