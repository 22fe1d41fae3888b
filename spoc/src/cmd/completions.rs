//! `spoc completions SHELL`.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::Outcome;

/// Prints the completion script for the shell.
pub fn run(args: &CompletionsArgs) -> Result<Outcome> {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "spoc",
        &mut std::io::stdout(),
    );
    Ok(Outcome::Ok)
}
