//! `spoc record [OPTIONS] -- CMD ARGS…` and `spoc record --pid PID` with the eBPF recorder
//! (CLI-02..CLI-05, CLI-08..CLI-10): record every syscall of a command and its descendants,
//! then write a SeccompProfile (YAML) or raw seccomp JSON.
//!
//! The recording logic lives in `spo_recorder::bpf`; this module runs the command, handles
//! Ctrl-C, builds the profile and reports.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use spo_core::{Arch, Version};
use spo_recorder::bpf::{LoadOptions, Recorded, Recorder};
use spo_recorder::process::{Caught, Signals, Watched};
use spo_seccomp::record::{name_from_command, profile_from_syscalls};
use spo_seccomp::syscalls::{exists, BASE_SYSCALLS};

use crate::cli::{Global, RecordArgs, RecordType};
use crate::input::Unreadable;
use crate::Outcome;

/// SIGINT/SIGTERM caught by [`catch_signals`], read by [`wait_exit`].
static SIGNALS: Mutex<Option<Signals>> = Mutex::new(None);

/// Catches SIGINT/SIGTERM so spoc survives them and still writes the profile (CLI-10).
fn catch_signals() -> Result<()> {
    let signals = Signals::catch(&[libc::SIGINT, libc::SIGTERM]).context("catching signals")?;
    *SIGNALS.lock().unwrap_or_else(PoisonError::into_inner) = Some(signals);
    Ok(())
}

/// Waits until the watched process exits, or a signal arrives and `stop_on_signal`.
/// Calls `on_interrupt` for every signal.
fn wait_exit(
    watched: &Watched,
    stop_on_signal: bool,
    mut on_interrupt: impl FnMut(Caught),
) -> bool {
    loop {
        // A signal interrupts the wait; the timeout covers one that came just before it.
        // A failing wait (should not happen with a valid pidfd) ends it like an exit.
        if watched
            .wait_timeout(Duration::from_millis(200))
            .unwrap_or(true)
        {
            return true;
        }
        let caught = match SIGNALS.lock() {
            Ok(mut s) => s.as_mut().map(Signals::pending).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        for c in caught {
            on_interrupt(c);
            if stop_on_signal {
                return false;
            }
        }
    }
}

/// Base syscalls to add: the default 83, `-b` names, or none (CLI-04).
fn base_syscalls(args: &RecordArgs, arch: Arch) -> Result<Vec<String>> {
    if args.no_base_syscalls {
        return Ok(Vec::new());
    }
    if args.base_syscalls.is_empty() {
        return Ok(BASE_SYSCALLS.iter().map(|s| s.to_string()).collect());
    }
    let names: Vec<String> = args
        .base_syscalls
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !exists(arch, n))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(Unreadable {
            path: "--base-syscalls".into(),
            what: format!("unknown syscall(s) on {arch}: {}", unknown.join(", ")),
        }
        .into());
    }
    Ok(names)
}

fn output_path(args: &RecordArgs) -> Result<PathBuf> {
    let path = args.output_file.clone().unwrap_or_else(|| {
        // Upstream swaps the raw defaults (weak point 1); raw seccomp is JSON.
        PathBuf::from(crate::cmd::record_apparmor::default_output(
            args.record_type,
        ))
    });
    if path.as_os_str().is_empty() {
        bail!(Unreadable {
            path: "--output-file".into(),
            what: "no filename provided".into()
        });
    }
    Ok(path)
}

/// What the recorded process did, for the summary and the exit code.
enum Ended {
    /// The command exited (or was killed).
    Command(ExitStatus),
    /// The `--pid` process exited.
    ProcessExited,
    /// Ctrl-C ended a `--pid` recording; the process goes on.
    Interrupted,
}

/// Runs the eBPF recording.
pub fn run(args: &RecordArgs, _global: &Global) -> Result<Outcome> {
    let arch = Arch::native();
    let base = base_syscalls(args, arch)?;
    let output = output_path(args)?;
    crate::output::check_writable(&output)?;
    let apparmor = crate::cmd::record_apparmor::wants_apparmor(args.record_type);
    let program = apparmor
        .then(|| crate::cmd::record_apparmor::program_path(args))
        .flatten();
    let mut recorder = load_recorder()?;
    if apparmor {
        crate::cmd::record_apparmor::enable(&mut recorder)?;
    }
    catch_signals()?;
    let seen = match args.pid {
        Some(pid) => record_process(&mut recorder, args, pid)?,
        None => record_command(&mut recorder, args)?,
    };
    report_survivors(&seen);
    let names = seen.recorded.names(arch);
    for (a, nrs) in &names.unknown {
        tracing::warn!(arch = %a, numbers = ?nrs, "syscall numbers without a name were left out");
    }
    let observed = names.all();
    let mut result = profile_from_syscalls(&seen.name, arch, observed.iter().cloned(), &base);
    result.profile.spec.architectures = names.arches(arch);
    if !result.added_base.is_empty() {
        tracing::info!("Adding base syscalls: {}", result.added_base.join(", "));
    }
    let text = match args.record_type {
        RecordType::Seccomp => result.profile.to_yaml(Version::V1)?,
        RecordType::RawSeccomp => spo_seccomp::json::to_pretty_json(&result.profile.spec),
        t => crate::cmd::record_apparmor::render(
            t,
            &seen.name,
            program.as_deref(),
            &seen.recorded,
            &result.profile,
        )?,
    };
    crate::output::write_atomic(&output, text.as_bytes(), 0o644)?;
    give_to_sudo_user(&output, args.privileged);
    summary(
        &seen.what,
        &seen.recorded,
        &observed,
        &result.added_base,
        seen.elapsed,
        &output,
    );
    if apparmor {
        crate::cmd::record_apparmor::summary(&seen.recorded);
    }
    Ok(match seen.ended {
        Ended::Command(status) => exit_outcome(status),
        Ended::ProcessExited | Ended::Interrupted => Outcome::Ok,
    })
}

/// What one recording saw.
struct Seen {
    /// The profile name.
    name: String,
    /// What was recorded, for the summary.
    what: String,
    ended: Ended,
    recorded: Recorded,
    elapsed: std::time::Duration,
    /// Processes of the tree still running when the recording ended.
    left: Vec<u32>,
}

/// Loads the recorder, then self-tests it (RC-36) with the tracepoint held attached into
/// the recording: saves a detach/attach pair; it is detached when the recording ends.
fn load_recorder() -> Result<Recorder> {
    let t0 = Instant::now();
    let recorder = Recorder::load(&LoadOptions::default())
        .and_then(|mut r| {
            r.hold_attached(true)?;
            r.self_test()?;
            Ok(r)
        })
        .context("cannot start the eBPF recorder")?;
    tracing::info!(
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "eBPF recorder loaded and self-tested"
    );
    Ok(recorder)
}

/// `--pid`: records a running process and its descendants until it exits or Ctrl-C.
fn record_process(recorder: &mut Recorder, args: &RecordArgs, pid: u32) -> Result<Seen> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| pid.to_string());
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| name_from_command(&comm));
    let session = recorder
        .record_process_tree(pid)
        .with_context(|| format!("cannot record process {pid}"))?;
    let watched = Watched::open(pid).with_context(|| format!("cannot watch process {pid}"))?;
    eprintln!("spoc: recording process {pid} ({comm}) and its descendants; Ctrl-C to stop");
    let exited = wait_exit(&watched, true, |_| {});
    let left = session.remaining_processes();
    let elapsed = session.elapsed();
    let recorded = session.finish()?;
    Ok(Seen {
        name,
        what: format!("process {pid} ({comm})"),
        ended: if exited {
            Ended::ProcessExited
        } else {
            Ended::Interrupted
        },
        recorded,
        elapsed,
        left,
    })
}

/// `-- CMD`: runs the command in a recorded cgroup, passing signals on, until it exits.
fn record_command(recorder: &mut Recorder, args: &RecordArgs) -> Result<Seen> {
    let (program, rest) = args.command.split_first().context("no command provided")?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| name_from_command(&program.to_string_lossy()));
    let mut cmd = Command::new(program);
    cmd.args(rest);
    crate::sudo::drop_privileges(&mut cmd, args.privileged);
    let session = recorder.record_command(&mut cmd)?;
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", program.to_string_lossy()))?;
    let pid = child.id();
    tracing::info!(pid, "recording command");
    let watched = Watched::open(pid).context("cannot watch the command")?;
    wait_exit(&watched, false, |c| {
        // A Ctrl-C typed at the terminal already reached the command, which is in the same
        // foreground process group; a `kill` aimed at spoc alone must be passed on.
        if !c.from_kernel {
            let _ = watched.signal(c.signal);
        }
    });
    let status = child.wait().context("waiting for the command")?;
    let left = session.remaining_processes();
    let elapsed = session.elapsed();
    let recorded = session.finish()?;
    Ok(Seen {
        name,
        what: display_command(&args.command),
        ended: Ended::Command(status),
        recorded,
        elapsed,
        left,
    })
}

/// Says which processes of the tree outlive the recording.
fn report_survivors(seen: &Seen) {
    if seen.left.is_empty() {
        return;
    }
    let left = &seen.left;
    match seen.ended {
        Ended::Interrupted => eprintln!(
            "spoc: recording stopped; {} process(es) of the tree keep running",
            left.len()
        ),
        _ => eprintln!(
            "spoc: {} process(es) started by the target are still running (pids {left:?}); \
             what they do from now on is not recorded",
            left.len()
        ),
    }
}

fn display_command(cmd: &[OsString]) -> String {
    let full = cmd
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    if full.chars().count() > 60 {
        let short: String = full.chars().take(57).collect();
        format!("{short}...")
    } else {
        full
    }
}

/// Under sudo the profile belongs to the invoking user, who will edit and use it.
fn give_to_sudo_user(path: &Path, privileged: bool) {
    if privileged {
        return;
    }
    if let Some(user) = crate::sudo::invoking_user() {
        if let Err(e) = std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)) {
            tracing::debug!(error = %e, "could not hand the profile to the sudo user");
        }
    }
}

fn summary(
    what: &str,
    rec: &Recorded,
    observed: &std::collections::BTreeSet<String>,
    added_base: &[String],
    elapsed: std::time::Duration,
    output: &Path,
) {
    let per_arch: Vec<String> = rec
        .names(Arch::native())
        .by_arch
        .iter()
        .map(|(a, n)| {
            format!(
                "{}: {}",
                a.as_str().trim_start_matches("SCMP_ARCH_"),
                n.len()
            )
        })
        .collect();
    eprintln!(
        "spoc: recorded {} distinct syscalls ({}) from {what} in {:.3} s; {} mount namespace(s); dropped events: {}",
        observed.len(),
        per_arch.join(", "),
        elapsed.as_secs_f64(),
        rec.mount_namespaces().len(),
        rec.dropped,
    );
    if rec.dropped > 0 {
        eprintln!(
            "spoc: WARNING: {} recording events were lost; the profile may be incomplete",
            rec.dropped
        );
    }
    eprintln!(
        "spoc: wrote {} ({} syscalls, {} of them base syscalls)",
        output.display(),
        observed.len() + added_base.len(),
        added_base.len()
    );
}

/// The command's own exit status is spoc's (CLI-10: reported, not swallowed).
fn exit_outcome(status: ExitStatus) -> Outcome {
    if let Some(sig) = status.signal() {
        eprintln!("spoc: the command was killed by signal {sig}");
        return Outcome::Code(u8::try_from(128 + sig).unwrap_or(255));
    }
    match status.code() {
        Some(0) => Outcome::Ok,
        Some(c) => {
            eprintln!("spoc: the command exited with status {c}");
            Outcome::Code(u8::try_from(c).unwrap_or(1))
        }
        None => Outcome::Code(1),
    }
}
