//! One module per verb; each has one entry function.

pub mod completions;
pub mod convert;
pub mod diff;
pub mod enrich;
#[cfg(feature = "libseccomp")]
pub mod inspect;
pub mod install;
pub mod keys;
pub mod lint;
pub mod man;
pub mod merge;
pub mod oci;
pub mod pull;
pub mod push;
pub mod record;
pub mod record_apparmor;
#[cfg(feature = "libseccomp")]
pub mod record_logs;
pub mod remove;
#[cfg(feature = "libseccomp")]
pub mod run;
pub mod sign;
pub mod subset;
pub mod validate;
pub mod version;

/// Verbs that need libseccomp, in a build without the `libseccomp` feature.
#[cfg(not(feature = "libseccomp"))]
mod without_libseccomp {
    use anyhow::{bail, Result};

    use crate::cli::{Global, InspectArgs, RecordArgs, RunArgs};
    use crate::Outcome;

    fn disabled(verb: &str) -> Result<Outcome> {
        bail!("{verb} needs libseccomp: this spoc was built without the `libseccomp` feature")
    }

    /// `spoc run` is not available.
    pub mod run {
        use super::*;
        /// Fails: the feature is off.
        pub fn run(_args: &RunArgs) -> Result<Outcome> {
            disabled("spoc run")
        }
    }

    /// `spoc inspect` is not available (it reads the compiled filter).
    pub mod inspect {
        use super::*;
        /// Fails: the feature is off.
        pub fn run(_args: &InspectArgs, _global: &Global) -> Result<Outcome> {
            disabled("spoc inspect")
        }
    }

    /// `spoc record --recorder logs` is not available.
    pub mod record_logs {
        use super::*;
        /// Fails: the feature is off.
        pub fn run(_args: &RecordArgs, _global: &Global) -> Result<Outcome> {
            disabled("spoc record --recorder logs")
        }
    }
}
#[cfg(not(feature = "libseccomp"))]
pub use without_libseccomp::{inspect, record_logs, run};
