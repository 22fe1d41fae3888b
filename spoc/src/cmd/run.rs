//! `spoc run -p PROFILE -- CMD ARGS…` (CLI-12, CLI-13): run a command under a seccomp
//! profile. The filter is compiled in spoc and loaded only in the child, right before
//! `exec`; spoc itself stays unfiltered. The child's exit status is passed through; when it
//! dies of a signal, spoc exits with 128 + the signal number and says why.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use anyhow::{bail, Context, Result};
use spo_core::Kind;
use spo_seccomp::compile::compile;
use spo_seccomp::Flag;

use crate::cli::RunArgs;
use crate::input::{self, Item};
use crate::kinds;
use crate::Outcome;
use spo_recorder::audit::watch::{action_name, AuditWatch};
use spo_recorder::process::{Signals, Watched};

/// Loads, resolves and validates the profile of `args`.
fn load_profile(args: &RunArgs) -> Result<spo_seccomp::SeccompProfile> {
    let items = input::load(&args.profile)?;
    let mut seccomp = items.iter().filter(|i| i.kind() == Kind::SeccompProfile);
    let Some(item) = seccomp.next() else {
        bail!("{}: no SeccompProfile found", args.profile.display())
    };
    if seccomp.next().is_some() {
        bail!(
            "{}: more than one SeccompProfile; keep one per file for `spoc run`",
            args.profile.display()
        );
    }
    let profile = item
        .seccomp()
        .with_context(|| args.profile.display().to_string())?;
    let profile = kinds::seccomp::resolve_from_files(&profile, &args.profile, &args.profiles_dir)?;
    let violations = spo_seccomp::validate::validate_spec(&profile.spec);
    if !violations.is_empty() {
        bail!(
            "{}: the profile is invalid:\n{violations}",
            args.profile.display()
        );
    }
    if !matches!(item, Item::RawSeccomp { .. })
        && profile.spec.effective_state() == spo_seccomp::ProfileState::Disabled
    {
        tracing::warn!("the profile is disabled (state: Disabled); running under it anyway");
    }
    Ok(profile)
}

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGSYS => "SIGSYS".into(),
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

/// Exit status when the command cannot be executed (POSIX shells' convention).
const CANNOT_EXECUTE: u8 = 126;
/// Exit status when the command is not found.
const NOT_FOUND: u8 = 127;

/// Signals spoc passes on to the command instead of dying of them (CLI-12). One typed at
/// the terminal reached the command already (same foreground process group) and is not
/// sent twice.
const FORWARDED: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Why the command could not be started, with the shell's exit status for it.
fn exec_failure(program: &std::ffi::OsStr, e: &std::io::Error) -> (u8, String) {
    let name = program.to_string_lossy();
    match e.kind() {
        std::io::ErrorKind::NotFound => (NOT_FOUND, format!("{name}: command not found")),
        _ => (CANNOT_EXECUTE, format!("cannot execute {name}: {e}")),
    }
}

/// Runs the command.
pub fn run(args: &RunArgs) -> Result<Outcome> {
    let mut profile = load_profile(args)?;
    let (program, rest) = args.command.split_first().context("no command provided")?;
    // The filter is loaded right before execve: a profile that refuses execve stops the
    // command before it exists (the failed exec could not even be reported from the child).
    match profile.spec.action_for("execve") {
        Some(a) if !a.is_allowing() => {
            eprintln!(
                "spoc: the profile denies execve ({a}): the command never started ({})",
                program.to_string_lossy()
            );
            return Ok(Outcome::Code(CANNOT_EXECUTE));
        }
        _ => {}
    }
    let report = !args.no_audit;
    if report && !profile.spec.flags.contains(&Flag::Log) {
        // Log every non-ALLOW action (ERRNO included) so the report can name denied syscalls.
        profile.spec.flags.push(Flag::Log);
    }
    let filter = compile(&profile.spec)?;
    let mut cmd = Command::new(program);
    cmd.args(rest);
    crate::sudo::drop_privileges(&mut cmd, args.privileged);
    filter.apply_to_command(&mut cmd);
    let mut watch = report.then(AuditWatch::start);
    // Caught from before the start, so none is lost while the command starts.
    let signals = Signals::catch(&FORWARDED).context("catching signals")?;
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let (code, msg) = exec_failure(program, &e);
            let hint = if e.raw_os_error() == Some(libc::EPERM) {
                " (does the profile allow execve?)"
            } else {
                ""
            };
            eprintln!("spoc: {msg}{hint}");
            return Ok(Outcome::Code(code));
        }
    };
    let pid = child.id();
    tracing::info!(pid, "running command");
    if let Ok(watched) = Watched::open(pid) {
        signals.forward_to(watched, true);
    }
    let status = child.wait().context("waiting for the command")?;
    let failed = !status.success();
    if let Some(w) = watch.as_mut().filter(|w| w.available()) {
        let mut records = w.records_for(pid);
        if failed && records.is_empty() {
            // kauditd delivers asynchronously; give it a moment when something went wrong.
            for _ in 0..20 {
                std::thread::sleep(std::time::Duration::from_millis(10));
                records = w.records_for(pid);
                if !records.is_empty() {
                    break;
                }
            }
        }
        for r in &records {
            let who = if r.pid == pid {
                String::new()
            } else {
                format!(" (pid {}, a descendant)", r.pid)
            };
            let action = action_name(r.code);
            eprintln!("spoc: seccomp: {} ({}) → {action}{who}", r.syscall, r.nr);
        }
    }
    if let Some(sig) = status.signal() {
        let why = if sig == libc::SIGSYS {
            ": a syscall was denied by the profile with SCMP_ACT_KILL/TRAP"
        } else {
            ""
        };
        eprintln!("spoc: command killed by {}{why}", signal_name(sig));
        return Ok(Outcome::Code(u8::try_from(128 + sig).unwrap_or(255)));
    }
    match status.code() {
        Some(0) => Ok(Outcome::Ok),
        Some(c) => {
            tracing::info!(code = c, "command exited with a non-zero status");
            Ok(Outcome::Code(u8::try_from(c).unwrap_or(1)))
        }
        None => Ok(Outcome::Code(1)),
    }
}
