//! One module per verb; each has one entry function.

pub mod completions;
pub mod convert;
pub mod enrich;
pub mod install;
pub mod merge;
pub mod record;
pub mod record_logs;
pub mod remove;
pub mod run;
pub mod validate;
pub mod version;
pub mod diff;
pub mod inspect;
pub mod lint;
pub mod subset;
