//! The error type of spo-seccomp.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong in spo-seccomp, with the context needed to fix it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SeccompError {
    /// The manifest could not be decoded.
    #[error(transparent)]
    Decode(#[from] spo_core::DecodeError),
    /// The manifest could not be encoded.
    #[error(transparent)]
    Encode(#[from] spo_core::EncodeError),
    /// Raw OCI seccomp JSON could not be decoded.
    #[error("raw seccomp JSON, line {line}, column {column}: {path}: {message}")]
    RawJson {
        /// Field path, e.g. `syscalls[0].action`.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The profile is invalid; every violation is listed.
    #[error("profile {name:?} is invalid:\n{violations}")]
    Invalid {
        /// Profile name.
        name: String,
        /// All violations.
        violations: spo_core::Violations,
    },
    /// A base profile could not be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// libseccomp refused something while building the filter.
    #[cfg(feature = "libseccomp")]
    #[error("libseccomp: {what}")]
    Libseccomp {
        /// What was being done, e.g. `add rule for "read" on SCMP_ARCH_X86_64`.
        what: String,
        /// libseccomp's error.
        #[source]
        source: libseccomp::error::SeccompError,
    },
    /// The filter would be longer than the kernel loads (`BPF_MAXINSNS`, 4096).
    #[error(
        "the filter needs at least {instructions} BPF instructions; the kernel loads at most 4096"
    )]
    TooLarge {
        /// Instructions needed (a lower bound when the filter was not built).
        instructions: usize,
    },
    /// The profile uses something this libseccomp or kernel cannot do.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A file operation of the install step failed.
    #[error("{op} {path}")]
    Io {
        /// What was being done (`create directory`, `write`, `rename`…).
        op: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A profile name that cannot be used as a file name under the root.
    #[error("profile name {name:?} cannot be installed: {reason}")]
    BadName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
}

/// A boxed error from a resolver backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a chain could not be resolved. `chain` lists the names walked so far, joined by ` → `.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// A base profile does not exist (SC-16).
    #[error("base profile {name:?} not found (chain: {chain})")]
    NotFound {
        /// The missing name.
        name: String,
        /// The chain up to the missing profile.
        chain: String,
    },
    /// The chain returns to a profile already in it (SC-22, reported explicitly).
    #[error("base profile cycle: {chain}")]
    Cycle {
        /// The chain including the repeated name.
        chain: String,
    },
    /// The chain is longer than [`MAX_CHAIN`] (SC-21).
    #[error("max recursion level of 15 is reached for resolving base profiles (chain: {chain})")]
    TooDeep {
        /// The chain walked.
        chain: String,
    },
    /// The backend failed (network, API, file).
    #[error("cannot fetch base profile {name:?} (chain: {chain})")]
    Fetch {
        /// The name being fetched.
        name: String,
        /// The chain up to it.
        chain: String,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
}
