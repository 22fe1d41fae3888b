//! `spoc inspect` (work in progress).

use anyhow::Result;

use crate::cli::Global;
use crate::Outcome;

/// Not implemented yet.
pub fn run(_args: &crate::cli::InspectArgs, _global: &Global) -> Result<Outcome> {
    anyhow::bail!("not implemented yet")
}
