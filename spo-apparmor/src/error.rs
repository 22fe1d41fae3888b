//! The one error type of spo-apparmor.

use std::path::PathBuf;

use spo_core::{DecodeError, EncodeError, Violations};
use thiserror::Error;

/// Everything that can go wrong in this crate. Pure functions return the decoding,
/// validation and encoding variants; only the install step ([`crate::install`]) returns the
/// I/O and `apparmor_parser` variants.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest could not be decoded (wrong kind, bad field…).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The profile decoded but breaks one or more rules (AA-01, AA-11).
    #[error("AppArmorProfile {name:?} is invalid:\n{violations}")]
    Invalid {
        /// `metadata.name` (or the program name used for rendering).
        name: String,
        /// Every problem found.
        violations: Violations,
    },
    /// A manifest could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// Merging needs at least one profile.
    #[error("no AppArmorProfile to merge")]
    NothingToMerge,
    /// The profile name gives no usable file name under the policy directory (AA-12).
    #[error("profile name {name:?} does not give a file name (it is empty once '/' is replaced by '.' and dots are trimmed)")]
    FileName {
        /// The profile name.
        name: String,
    },
    /// The policy directory is missing, a symlink or not a directory.
    #[error("{path}: not a directory (symlinks are not followed)")]
    NotADirectory {
        /// The directory.
        path: PathBuf,
    },
    /// A file-system operation failed.
    #[error("{op} {path}")]
    Io {
        /// What was attempted (`write`, `remove`, `read`…).
        op: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `apparmor_parser` could not be started.
    #[error("cannot run {program}")]
    Spawn {
        /// The binary.
        program: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `apparmor_parser` ran and failed.
    #[error("{program} {action} failed (exit status {status}): {stderr}")]
    Parser {
        /// The binary.
        program: PathBuf,
        /// `load`, `remove`, `compile`…
        action: &'static str,
        /// Exit status, -1 when killed by a signal.
        status: i32,
        /// What it printed on stderr (trimmed).
        stderr: String,
    },
    /// The host has no (enabled) AppArmor (AA-14).
    #[error("AppArmor is not enabled on this host ({path} does not say Y): insufficient permissions or AppArmor is unavailable")]
    NotEnabled {
        /// The file that was checked.
        path: PathBuf,
    },
    /// After loading, no kernel profile has the expected name (§1 name rule).
    #[error("policy {name:?} is not loaded: AppArmorProfile name must match defined policy")]
    NameMismatch {
        /// The expected profile name.
        name: String,
    },
    /// A new profile would replace one that is already loaded (AA-13).
    #[error("profile exists: a kernel profile named {name:?} is already loaded")]
    ProfileExists {
        /// The profile name.
        name: String,
    },
}
