//! `spoc completions SHELL`.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::Outcome;

/// Prints the completion script for the shell.
pub fn run(args: &CompletionsArgs) -> Result<Outcome> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "spoc", &mut script);
    crate::output::print_stdout(&String::from_utf8_lossy(&script))?;
    Ok(Outcome::Ok)
}
