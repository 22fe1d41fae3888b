//! `spoc`: the Security Profiles Operator command-line tool. Thin: parse, call the library,
//! print. Exit codes: 0 success, 1 the input was understood but is invalid (or a checked
//! condition failed), 2 the input could not be read or parsed / usage errors; a command run
//! under `spoc run` passes its own exit status through.
//!
//! No `unsafe` here: what touches signals and processes lives in `spo_recorder::process`.
#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod input;
mod kinds;
mod output;
mod sudo;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

/// How a command ended, mapped to the process exit code.
#[derive(Debug)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit with this code (1 = invalid input / check failed; a child's own status for `run`).
    Code(u8),
}

/// Colours on stderr: `NO_COLOR` (non-empty) turns them off, `CLICOLOR_FORCE` (not `0`) on,
/// otherwise only when stderr is a terminal.
fn use_colour(no_color: Option<&str>, force: Option<&str>, terminal: bool) -> bool {
    if no_color.is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if force.is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    terminal
}

fn main() -> ExitCode {
    // Like every Unix filter: a reader that goes away (`spoc ... | head`) ends spoc quietly
    // by SIGPIPE (status 141 in the shell) instead of a write error or a panic.
    // Registering a handler fails only for signals that cannot be caught; SIGPIPE can.
    let _ = spo_recorder::process::die_on_sigpipe();
    let cli = Cli::parse();
    init_logging(&cli.global);
    if let Err(e) = input::configure(&cli.global) {
        eprintln!("spoc: {e:#}");
        return ExitCode::from(2);
    }
    match &cli.command {
        Command::Validate(a) => cmd::oci::configure_bases(&a.oci),
        Command::Convert(a) => cmd::oci::configure_bases(&a.oci),
        Command::Run(a) => cmd::oci::configure_bases(&a.oci),
        _ => {}
    }
    let result = match cli.command {
        Command::Version(args) => cmd::version::run(&args),
        Command::Completions(args) => cmd::completions::run(&args),
        Command::Man(args) => cmd::man::run(&args),
        Command::Validate(args) => cmd::validate::run(&args, &cli.global),
        Command::Convert(args) => cmd::convert::run(&args, &cli.global),
        Command::Merge(args) => cmd::merge::run(&args, &cli.global),
        Command::Run(args) => cmd::run::run(&args),
        Command::Install(args) => cmd::install::run(&args),
        Command::Remove(args) => cmd::remove::run(&args),
        Command::Enrich(args) => cmd::enrich::run(&args, &cli.global),
        Command::Lint(args) => cmd::lint::run(&args),
        Command::Diff(args) => cmd::diff::run(&args, &cli.global),
        Command::Subset(args) => cmd::subset::run(&args, &cli.global),
        Command::Intersect(args) => cmd::subset::run_intersect(&args, &cli.global),
        Command::Inspect(args) => cmd::inspect::run(&args, &cli.global),
        Command::Push(args) => cmd::push::run(&args),
        Command::Pull(args) => cmd::pull::run(&args),
        Command::Sign(args) => cmd::sign::run_sign(&args),
        Command::Verify(args) => cmd::sign::run_verify(&args),
        Command::GenerateKeyPair(args) => cmd::keys::run(&args),
        Command::Record(args) => match args.recorder {
            cli::Recorder::Bpf => cmd::record::run(&args, &cli.global),
            cli::Recorder::Logs => cmd::record_logs::run(&args, &cli.global),
        },
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Code(c)) => ExitCode::from(c),
        Err(e) => {
            eprintln!("spoc: {e:#}");
            ExitCode::from(input::exit_code_for(&e))
        }
    }
}

fn init_logging(global: &cli::Global) {
    use tracing_subscriber::EnvFilter;
    let default = match global.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("SPOC_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    use std::io::IsTerminal;
    let colour = use_colour(
        std::env::var("NO_COLOR").ok().as_deref(),
        std::env::var("CLICOLOR_FORCE").ok().as_deref(),
        std::io::stderr().is_terminal(),
    );
    let builder = tracing_subscriber::fmt()
        .with_ansi(colour)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if global.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::use_colour;

    #[test]
    fn colours_follow_no_color_clicolor_force_and_the_terminal() {
        assert!(use_colour(None, None, true));
        assert!(!use_colour(None, None, false));
        assert!(!use_colour(Some("1"), None, true));
        assert!(!use_colour(Some("1"), Some("1"), true));
        assert!(use_colour(Some(""), None, true));
        assert!(use_colour(None, Some("1"), false));
        assert!(!use_colour(None, Some("0"), false));
    }
}
