//! OCI artifacts of security profiles, compatible with upstream SPO's `spoc push` / `pull`
//! and with cosign signatures.
//!
//! * [`platform`], [`layout`], [`sign`] are pure: platform strings, the artifact layout
//!   (pairing, titles, manifest, annotations, pick and kind check), cosign's key format and
//!   SimpleSigning payloads.
//! * [`registry`] and [`artifact`] are the thin I/O layer over `oci-client`.
//! * [`resolver`] resolves `oci://` base profiles for spo-seccomp's chain walk, with a cache.
//! * [`auth`] reads Docker/Podman auth files and runs their credential helpers.
//! * [`keyless`] and [`transparency`] verify keyless (Fulcio) signatures, Rekor inclusion
//!   proofs and embedded SCTs (pure).

pub mod artifact;
pub mod auth;
pub mod keyless;
pub mod layout;
pub mod platform;
pub mod registry;
pub mod resolver;
pub mod sign;
pub mod transparency;

pub use artifact::{PreparedSignature, Pulled, Verification};
pub use layout::LayoutError;
pub use oci_client::Reference;
pub use platform::Platform;
pub use registry::{Registry, RegistryError, RegistryOptions};
pub use sign::SignError;

/// Any failure of this crate.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// Talking to the registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The artifact breaks the layout.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Signing or verification failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}
