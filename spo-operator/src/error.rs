//! The error of the operator's long-running components (`daemon::run`, `manager::run`,
//! `webhook::run`, the enrichers): what failed, with its typed source. The smaller modules
//! keep their own error enums (`daemon::seccomp::Error`, `manager::certs::CertError`, …);
//! they reach this type through [`Context`], which names the step that failed.

use std::error::Error as StdError;

/// A boxed source error.
pub type Source = Box<dyn StdError + Send + Sync + 'static>;

/// An operator component failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request to the API server failed.
    #[error("{what}: {source}")]
    Kube {
        /// The step that failed.
        what: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// A file, socket or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// The step that failed.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Another step failed; `source` is the module's own typed error.
    #[error("{what}: {source}")]
    Step {
        /// The step that failed.
        what: String,
        /// The module's error.
        #[source]
        source: Source,
    },
    /// The configuration (flags, environment, SPOD) is not usable.
    #[error("{0}")]
    Config(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<kube::Error> for Error {
    fn from(source: kube::Error) -> Self {
        Error::Kube {
            what: "API request".into(),
            source,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io {
            what: "I/O".into(),
            source,
        }
    }
}

/// `From` for a module's own error: the step it names, the error as the typed source.
macro_rules! step_from {
    ($($ty:ty => $what:literal),* $(,)?) => {$(
        impl From<$ty> for Error {
            fn from(source: $ty) -> Self {
                Error::Step { what: $what.into(), source: Box::new(source) }
            }
        }
    )*};
}

step_from! {
    crate::daemon::recorder::StateError => "recording state",
    spo_recorder::audit::AuditError => "audit log",
    crate::manager::spod::SpodError => "SPOD controller",
    crate::webhook::server::Error => "webhook server",
    spo_apparmor::Error => "AppArmor",
    spo_selinux::Error => "SELinux",
    spo_seccomp::Error => "seccomp",
}

impl Error {
    /// Wraps `source` with the step that failed, keeping API and OS errors in their own
    /// variants.
    pub fn step(what: impl Into<String>, source: impl Into<Source>) -> Self {
        let what = what.into();
        let source: Source = source.into();
        let source = match source.downcast::<kube::Error>() {
            Ok(k) => return Error::Kube { what, source: *k },
            Err(s) => s,
        };
        match source.downcast::<std::io::Error>() {
            Ok(e) => Error::Io { what, source: *e },
            Err(source) => Error::Step { what, source },
        }
    }
}

/// Names the step that failed, as `anyhow::Context` does, for any typed error.
pub trait Context<T> {
    /// Wraps the error with `what`.
    fn context(self, what: impl Into<String>) -> Result<T>;
    /// Wraps the error with the step `f` names (built only on failure).
    fn with_context<S: Into<String>, F: FnOnce() -> S>(self, f: F) -> Result<T>;
}

impl<T, E: Into<Source>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::step(what, e))
    }
    fn with_context<S: Into<String>, F: FnOnce() -> S>(self, f: F) -> Result<T> {
        self.map_err(|e| Error::step(f(), e))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.ok_or_else(|| Error::Config(what.into()))
    }
    fn with_context<S: Into<String>, F: FnOnce() -> S>(self, f: F) -> Result<T> {
        self.ok_or_else(|| Error::Config(f().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_os_errors_typed_and_names_the_step() {
        let r: std::result::Result<(), std::io::Error> =
            Err(std::io::Error::from_raw_os_error(libc_enoent()));
        let e = r.context("opening /x").unwrap_err();
        assert!(
            matches!(e, Error::Io { ref what, .. } if what == "opening /x"),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("opening /x: "), "{e}");
        let r: std::result::Result<(), Error> = Err(Error::Config("bad flag".into()));
        let e = r.context("starting").unwrap_err();
        assert!(matches!(e, Error::Step { .. }), "{e:?}");
        assert_eq!(e.to_string(), "starting: bad flag");
    }

    fn libc_enoent() -> i32 {
        2
    }
}
