//! One module per verb; each has one entry function.

pub mod completions;
pub mod convert;
pub mod diff;
pub mod enrich;
pub mod inspect;
pub mod install;
pub mod keys;
pub mod lint;
pub mod merge;
pub mod oci;
pub mod pull;
pub mod push;
pub mod record;
pub mod record_logs;
pub mod remove;
pub mod run;
pub mod sign;
pub mod subset;
pub mod validate;
pub mod version;
