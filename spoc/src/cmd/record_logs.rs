//! `spoc record --recorder logs -- CMD`: placeholder, filled in below.
use anyhow::Result;

use crate::cli::{Global, RecordArgs};
use crate::Outcome;

/// Records CMD's syscalls from audit records of a SCMP_ACT_LOG profile.
pub fn run(_args: &RecordArgs, _global: &Global) -> Result<Outcome> {
    anyhow::bail!("not yet")
}
