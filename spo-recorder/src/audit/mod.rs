//! Audit records: the line [`parse`]r (RC-28), the log [`tailer`] (RC-27) and the
//! [`kmsg`] reader for hosts without auditd.
//!
//! ```
//! use spo_core::events::AuditEvent;
//! use spo_recorder::audit::{parse_line, Parsed};
//!
//! let line = b"type=SECCOMP msg=audit(1613596317.899:6461): auid=4294967295 uid=0 gid=0 \
//!     ses=4294967295 pid=2039886 comm=\"ls\" exe=\"/bin/ls\" sig=0 arch=c000003e syscall=3 \
//!     compat=0 ip=0x7f62dce3d4c7 code=0x7ffc0000\x1dAUID=\"unset\" SYSCALL=close";
//! let Parsed::Event(AuditEvent::Seccomp(e)) = parse_line(line) else { panic!() };
//! assert_eq!((e.pid, e.syscall, e.exe.as_ref()), (2039886, 3, "/bin/ls"));
//! assert_eq!(e.stamp.to_string(), "1613596317.899:6461");
//! assert_eq!(parse_line(b"type=USER_AVC msg=audit(1.000:1): pid=1"), Parsed::Ignored);
//! ```

use std::path::{Path, PathBuf};

mod fields;
pub mod kmsg;
pub mod parse;
pub mod tailer;
pub mod watch;

pub use parse::{parse_line, Event, Malformed, Parsed};
pub use tailer::{default_source, TailOptions, TailStats, Tailer};

/// Errors of log-based recording and enrichment (audit sources, attribution files,
/// enricher configuration, JSON enricher output).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Reading or writing a file failed (the OS error is the `source`, printed once by
    /// whoever prints the chain).
    #[error("{}", path.display())]
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

#[cfg(test)]
mod error_tests {
    use super::AuditError;

    // Issue 9: `AuditError::Io` printed its cause twice (in the message and as source).
    #[test]
    fn io_errors_print_their_cause_once() {
        let e = AuditError::Io {
            path: "/var/log/audit/audit.log".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        let mut chain = e.to_string();
        let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(&e);
        while let Some(c) = cur {
            chain.push_str(": ");
            chain.push_str(&c.to_string());
            cur = c.source();
        }
        assert_eq!(chain, "/var/log/audit/audit.log: permission denied");
    }
}
