//! `spoc record --recorder logs -- CMD`: record without eBPF. CMD runs under a profile whose
//! default action is `SCMP_ACT_LOG`, so the kernel writes an audit record for every syscall
//! of CMD and its descendants; those records are read back — from `/var/log/audit/audit.log`
//! when auditd runs, else from `/dev/kmsg` — and turned into a profile (RC-19, CLI-02..04).
//!
//! Needs root (for the audit session that identifies CMD's process tree, and to read
//! `/dev/kmsg`). Without auditd the kernel log is rate limited: set
//! `/proc/sys/kernel/printk_ratelimit` to 0 while recording or records are lost (spoc warns).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use spo_core::{Arch, Version};
use spo_recorder::audit::kmsg::{printk_ratelimited, KmsgReader};
use spo_recorder::audit::{TailOptions, Tailer};
use spo_recorder::logrecord::LogRecording;
use spo_seccomp::compile::compile;
use spo_seccomp::record::{name_from_command, profile_from_syscalls};
use spo_seccomp::syscalls::BASE_SYSCALLS;
use spo_seccomp::{Action, SeccompSpec};

use crate::cli::{Global, RecordArgs, RecordType};
use crate::Outcome;

const AUDIT_LOG: &str = "/var/log/audit/audit.log";

/// Where audit records go on this host.
enum Source {
    Auditd(Box<Tailer>),
    Kmsg(KmsgReader),
}

impl Source {
    fn open() -> Result<Source> {
        if auditd_running(Path::new("/proc")) && Path::new(AUDIT_LOG).exists() {
            let opts = TailOptions::new(Path::new(AUDIT_LOG));
            return Ok(Source::Auditd(Box::new(Tailer::open(
                Path::new(AUDIT_LOG),
                opts,
            )?)));
        }
        if printk_ratelimited(Path::new("/proc")) {
            tracing::warn!(
                "auditd is not running and printk rate limiting is on: most audit records will \
                 be dropped; run `echo 0 > /proc/sys/kernel/printk_ratelimit` while recording \
                 (or start auditd)"
            );
        }
        Ok(Source::Kmsg(
            KmsgReader::open_at_end(Path::new("/dev/kmsg"))
                .context("no auditd and /dev/kmsg is not readable (run as root)")?,
        ))
    }

    fn poll(&mut self, rec: &mut LogRecording) -> Result<u64> {
        Ok(match self {
            Source::Auditd(t) => t.poll(&mut |l| rec.take_line(l))?,
            Source::Kmsg(k) => k.poll(&mut |l| rec.take_line(l))? as u64,
        })
    }
}

/// True when a process named `auditd` runs.
fn auditd_running(proc_root: &Path) -> bool {
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return false;
    };
    dir.flatten().any(|e| {
        e.file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
            && std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "auditd")
    })
}

fn own_session() -> Option<u32> {
    std::fs::read_to_string("/proc/self/sessionid")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Children of every known PID (`/proc/<pid>/task/<tid>/children`), added to `rec`.
fn scan_children(rec: &mut LogRecording, known: &mut Vec<u32>) {
    let mut i = 0;
    while i < known.len() {
        let pid = known[i];
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for t in tasks.flatten() {
                let Ok(text) = std::fs::read_to_string(t.path().join("children")) else {
                    continue;
                };
                for c in text
                    .split_ascii_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok())
                {
                    if !known.contains(&c) {
                        known.push(c);
                        rec.add_pid(c);
                    }
                }
            }
        }
        i += 1;
    }
}

/// Records the command of `args` from audit records.
pub fn run(args: &RecordArgs, _global: &Global) -> Result<Outcome> {
    crate::cmd::record_apparmor::refuse_logs(args)?;
    if args.pid.is_some() {
        bail!("--pid is not supported with --recorder logs: the process must start under the logging profile");
    }
    let (program, rest) = args.command.split_first().context("no command provided")?;
    let path = output_path(args);
    crate::output::check_writable(&path)?;
    let mut source = Source::open()?;
    let mut cmd = logged_command(program, rest, args.privileged)?;
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", program.to_string_lossy()))?;
    let mut rec = LogRecording::new(child.id(), own_session());
    let status = follow(&mut child, &mut source, &mut rec)?;
    drain(&mut source, &mut rec)?;
    check_recording(&rec, status)?;
    let text = render_profile(args, program, &rec)?;
    crate::output::write(Some(&path), &text, 0o600)?;
    eprintln!(
        "spoc: recorded {} syscalls of {} into {}",
        rec.syscalls().len(),
        program.to_string_lossy(),
        path.display()
    );
    Ok(Outcome::Ok)
}

/// `-o`, or the default for the record type.
fn output_path(args: &RecordArgs) -> PathBuf {
    args.output_file.clone().unwrap_or_else(|| {
        PathBuf::from(crate::cmd::record_apparmor::default_output(
            args.record_type,
        ))
    })
}

/// The command, set up to run under an `SCMP_ACT_LOG` filter in an audit session of its own.
fn logged_command(
    program: &std::ffi::OsStr,
    rest: &[std::ffi::OsString],
    privileged: bool,
) -> Result<Command> {
    let mut spec = SeccompSpec::new(Action::Log);
    spec.architectures = vec![Arch::native()];
    let filter = compile(&spec).context("compiling the SCMP_ACT_LOG profile")?;
    let mut cmd = Command::new(program);
    cmd.args(rest);
    // A fresh audit session for the child: its records (and its descendants') carry a
    // `ses=` of their own. Writing loginuid needs CAP_AUDIT_CONTROL; failure is tolerated
    // (descendants are then found by scanning /proc while the command runs).
    spo_recorder::process::set_loginuid_before_exec(&mut cmd, spo_recorder::process::real_uid());
    crate::sudo::drop_privileges(&mut cmd, privileged);
    filter.apply_to_command(&mut cmd);
    Ok(cmd)
}

/// Reads records while the command runs; returns its exit status.
fn follow(
    child: &mut std::process::Child,
    source: &mut Source,
    rec: &mut LogRecording,
) -> Result<std::process::ExitStatus> {
    let mut known = vec![child.id()];
    // Ctrl-C reaches the command too; spoc stays to read its last records.
    spo_recorder::process::survive(libc::SIGINT).context("catching SIGINT")?;
    loop {
        scan_children(rec, &mut known);
        source.poll(rec)?;
        if let Some(st) = child.try_wait().context("waiting for the command")? {
            return Ok(st);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// kauditd delivers asynchronously: reads on until the root's exit record arrived and the
/// source has been quiet for a moment (bounded).
fn drain(source: &mut Source, rec: &mut LogRecording) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        if source.poll(rec)? > 0 {
            quiet_since = Instant::now();
        }
        let quiet = quiet_since.elapsed();
        if (rec.root_exited && quiet > Duration::from_millis(200)) || quiet > Duration::from_secs(2)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Fails when nothing was recorded; warns about a failed command or lost records.
fn check_recording(rec: &LogRecording, status: std::process::ExitStatus) -> Result<()> {
    if !status.success() {
        tracing::warn!(%status, "the command failed; the profile has what it did until then");
    }
    if rec.syscalls().is_empty() {
        bail!(
            "no audit records of the command were found: is auditd running, or (without auditd) \
             is /proc/sys/kernel/printk_ratelimit 0 and audit not disabled?"
        );
    }
    if !rec.root_exited {
        tracing::warn!("the command's exit record was not seen: records may have been dropped");
    }
    tracing::info!(records = rec.records, session = ?rec.session(), "recorded");
    Ok(())
}

/// The recorded profile as text in the requested form, base syscalls added.
fn render_profile(
    args: &RecordArgs,
    program: &std::ffi::OsStr,
    rec: &LogRecording,
) -> Result<String> {
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| name_from_command(&program.to_string_lossy()));
    let base: Vec<String> = if args.no_base_syscalls {
        Vec::new()
    } else if args.base_syscalls.is_empty() {
        BASE_SYSCALLS.iter().map(|s| s.to_string()).collect()
    } else {
        args.base_syscalls.clone()
    };
    let recorded =
        profile_from_syscalls(&name, Arch::native(), rec.syscalls().iter().cloned(), &base);
    if !recorded.added_base.is_empty() {
        tracing::info!(added = ?recorded.added_base, "adding base syscalls");
    }
    Ok(match args.record_type {
        RecordType::RawSeccomp => {
            let mut t = spo_seccomp::json::to_pretty_json(&recorded.profile.spec);
            if !t.ends_with('\n') {
                t.push('\n');
            }
            t
        }
        _ => recorded.profile.to_yaml(Version::V1)?,
    })
}
