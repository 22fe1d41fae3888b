//! Audit records: the line [`parse`]r (RC-28), the log [`tailer`] (RC-27) and the
//! [`kmsg`] reader for hosts without auditd.

use std::path::{Path, PathBuf};

mod fields;
pub mod kmsg;
pub mod parse;
pub mod tailer;

pub use parse::{parse_line, Event, Malformed, Parsed};
pub use tailer::{default_source, TailOptions, TailStats, Tailer};

/// Errors of log-based recording and enrichment (audit sources, attribution files,
/// enricher configuration, JSON enricher output).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The enricher filter rules (RC-34) are not valid JSON of the expected shape.
    #[error("invalid enricher filters: {reason}")]
    Filters {
        /// What is wrong.
        reason: String,
    },
    /// A container map file (static resolver) could not be decoded.
    #[error("{}: invalid container map: {reason}", path.display())]
    ContainerMap {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An option value is out of range (e.g. a negative rotation size).
    #[error("invalid option {option}: {reason}")]
    Option {
        /// The option.
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl AuditError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        AuditError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
