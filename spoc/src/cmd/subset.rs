//! `spoc subset` (work in progress).

use anyhow::Result;

use crate::cli::Global;
use crate::Outcome;

/// Not implemented yet.
pub fn run(_args: &crate::cli::SubsetArgs, _global: &Global) -> Result<Outcome> {
    anyhow::bail!("not implemented yet")
}

/// Not implemented yet.
pub fn run_intersect(_args: &crate::cli::IntersectArgs, _global: &Global) -> Result<Outcome> {
    anyhow::bail!("not implemented yet")
}
