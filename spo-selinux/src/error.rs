//! The one error type of spo-selinux.

use std::path::PathBuf;

use spo_core::{DecodeError, Violations};
use thiserror::Error;

/// Boxed error of a [`ParentResolver`](crate::ParentResolver) implementation (an API or file
/// lookup that failed for a reason other than "not found").
pub type ResolveError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in spo-selinux.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest could not be decoded (wrong kind, wrong field type, unknown field...).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The profile is invalid; every violation is listed. No CIL is produced for it.
    #[error("{kind} {name:?} is invalid:\n{violations}")]
    Invalid {
        /// `SelinuxProfile` or `RawSelinuxProfile`.
        kind: &'static str,
        /// `metadata.name`.
        name: String,
        /// Every problem found.
        violations: Violations,
    },
    /// Looking up a SelinuxProfile parent failed for a reason other than "not found" (the
    /// upstream code rendered `(blockinherit )` in that case, weak point 3).
    #[error("looking up SelinuxProfile parent {parent:?} failed")]
    Resolve {
        /// Name of the parent.
        parent: String,
        /// What the resolver reported.
        #[source]
        source: ResolveError,
    },
    /// A policy file could not be read, written or removed.
    #[error("{action} {path}")]
    Io {
        /// What was being done (`cannot write policy file`...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A policy-management command could not be started.
    #[error("cannot run {program}")]
    Spawn {
        /// The program, e.g. `semodule`.
        program: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A policy-management command ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line, space-joined.
        command: String,
        /// Exit status description.
        status: String,
        /// Its standard error, trimmed.
        stderr: String,
    },
}
