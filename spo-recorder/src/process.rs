//! Supervising a child process, for `spoc run` and `spoc record`, so the binary needs no
//! `unsafe`:
//!
//! - [`Watched`]: a pidfd (rustix) to wait on and to signal through (no PID-reuse race);
//! - [`Signals`]: signals caught with [signal-hook](https://docs.rs/signal-hook) and read as
//!   data, with where they came from (the terminal or a `kill`);
//! - [`die_on_sigpipe`]: the Unix filter's reaction to a reader that went away;
//! - [`home_of`]: a user's home directory from `/etc/passwd` (a pure parser,
//!   [`passwd_home`], and one read);
//! - [`set_loginuid_before_exec`]: a fresh audit session for a command — the one `unsafe`
//!   block of this module (registering code that runs between `fork` and `exec`).

use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::SignalsInfo;
use signal_hook::low_level::siginfo::Cause;

/// A process watched through its pidfd.
#[derive(Debug)]
pub struct Watched {
    fd: OwnedFd,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_string())
}

impl Watched {
    /// Opens a pidfd for `pid` (Linux 5.3+).
    pub fn open(pid: u32) -> io::Result<Self> {
        let raw = i32::try_from(pid).map_err(|_| invalid("pid out of range"))?;
        let pid = Pid::from_raw(raw).ok_or_else(|| invalid("pid 0"))?;
        Ok(Watched {
            fd: pidfd_open(pid, PidfdFlags::empty())?,
        })
    }

    /// Blocks until the process exits (`Ok(true)`) or a signal interrupts the wait
    /// (`Ok(false)`, so the caller can act on it and wait again).
    pub fn wait(&self) -> io::Result<bool> {
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        match poll(&mut fds, None) {
            Ok(n) => Ok(n > 0),
            Err(rustix::io::Errno::INTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Like [`Watched::wait`], but gives up after `timeout` (`Ok(false)`), so a caller can
    /// look at [`Signals::pending`] without a race against a signal that arrived just before
    /// the wait began.
    pub fn wait_timeout(&self, timeout: Duration) -> io::Result<bool> {
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        let timeout = Timespec::try_from(timeout).map_err(|_| invalid("timeout too long"))?;
        match poll(&mut fds, Some(&timeout)) {
            Ok(n) => Ok(n > 0),
            Err(rustix::io::Errno::INTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends signal number `sig` to the process.
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        let sig = Signal::from_named_raw(sig).ok_or_else(|| invalid("unknown signal"))?;
        Ok(pidfd_send_signal(&self.fd, sig)?)
    }
}

/// One signal caught by [`Signals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Caught {
    /// The signal number.
    pub signal: i32,
    /// Sent by the kernel (`si_code` `SI_KERNEL`): a Ctrl-C or Ctrl-\\ typed at the terminal,
    /// which the whole foreground process group — the command included — received too.
    /// `false` for a `kill` aimed at this process alone.
    pub from_kernel: bool,
}

/// Signals this process catches instead of dying of them, read as data (no handler code of
/// the caller runs in signal context). Commands started afterwards get the default
/// dispositions back at `exec`.
pub struct Signals {
    inner: SignalsInfo<WithOrigin>,
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signals").finish_non_exhaustive()
    }
}

impl Signals {
    /// Starts catching `signals` (e.g. `SIGINT`, `SIGTERM`). Fails for signals that cannot
    /// be caught (`SIGKILL`, `SIGSTOP`) or that only a fault raises (`SIGSEGV`, …).
    pub fn catch(signals: &[i32]) -> io::Result<Self> {
        if let Some(s) = signals
            .iter()
            .find(|s| signal_hook::consts::FORBIDDEN.contains(s))
        {
            return Err(invalid(&format!("signal {s} cannot be caught")));
        }
        let inner = SignalsInfo::with_exfiltrator(signals.iter().copied(), WithOrigin::default())?;
        Ok(Signals { inner })
    }

    /// The signals caught since the last call, without blocking.
    pub fn pending(&mut self) -> Vec<Caught> {
        self.inner.pending().map(caught).collect()
    }

    /// Passes every signal sent to this process on to `target`, from a thread of its own,
    /// for as long as the process lives. With `skip_terminal`, signals typed at the terminal
    /// ([`Caught::from_kernel`]) are not sent again: the command, in the same foreground
    /// process group, got them already.
    pub fn forward_to(mut self, target: Watched, skip_terminal: bool) {
        std::thread::spawn(move || {
            for origin in self.inner.forever() {
                let c = caught(origin);
                if skip_terminal && c.from_kernel {
                    continue;
                }
                tracing::info!(signal = c.signal, "forwarding a signal to the command");
                let _ = target.signal(c.signal);
            }
        });
    }
}

fn caught(origin: signal_hook::low_level::siginfo::Origin) -> Caught {
    Caught {
        signal: origin.signal,
        from_kernel: origin.cause == Cause::Kernel,
    }
}

/// Makes this process die of `SIGPIPE` when it writes to a pipe nobody reads any more
/// (`spoc … | head`): status 141 in the shell, no error message, no panic. Rust programs
/// start with `SIGPIPE` ignored; this restores the default action the Unix way, through a
/// handler that re-raises the signal with its default disposition.
pub fn die_on_sigpipe() -> io::Result<()> {
    signal_hook::flag::register_conditional_default(
        libc::SIGPIPE,
        Arc::new(AtomicBool::new(true)),
    )?;
    Ok(())
}

/// Keeps this process alive when `signal` arrives (it is caught and dropped), for the
/// rest of its life. Commands started afterwards get the default action back at `exec`.
pub fn survive(signal: i32) -> io::Result<()> {
    if signal_hook::consts::FORBIDDEN.contains(&signal) {
        return Err(invalid(&format!("signal {signal} cannot be caught")));
    }
    signal_hook::flag::register(signal, Arc::new(AtomicBool::new(false)))?;
    Ok(())
}

/// The home directory of `uid` in the text of a passwd file (`name:pw:uid:gid:gecos:home:
/// shell` per line); the first entry wins, as with `getpwuid`. Comments, blank and malformed
/// lines are skipped.
pub fn passwd_home(passwd: &str, uid: u32) -> Option<PathBuf> {
    passwd
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 7)
        .find(|f| f[2].parse::<u32>().ok() == Some(uid))
        .map(|f| PathBuf::from(f[5]))
        .filter(|h| !h.as_os_str().is_empty())
}

/// The home directory of `uid` from `/etc/passwd` (local accounts: users only a network
/// directory knows have none here — callers keep `HOME` as it is then).
pub fn home_of(uid: u32) -> Option<PathBuf> {
    home_in(Path::new("/etc/passwd"), uid)
}

fn home_in(passwd: &Path, uid: u32) -> Option<PathBuf> {
    passwd_home(&std::fs::read_to_string(passwd).ok()?, uid)
}

/// The real user ID of this process.
pub fn real_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Starts `cmd` in an audit session of its own: right before `exec`, the child writes
/// `uid` to `/proc/self/loginuid`, so its audit records (and its descendants') carry a
/// `ses=` no other process has. This needs `CAP_AUDIT_CONTROL` and a loginuid not set yet
/// (or `audit_control` over an immutable one); a failed write is ignored — the caller then
/// tells the command's processes apart another way.
pub fn set_loginuid_before_exec(cmd: &mut Command, uid: u32) {
    let value = uid.to_string().into_bytes();
    let Ok(path) = CString::new("/proc/self/loginuid") else {
        return;
    };
    // SAFETY: the closure runs in the forked child before `exec`. It only makes the
    // open/write/close system calls through rustix (async-signal-safe, no allocation: the
    // path and the value were prepared above and are only borrowed) and cannot panic.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            if let Ok(fd) = rustix::fs::open(
                path.as_c_str(),
                rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            ) {
                let _ = rustix::io::write(&fd, &value);
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_exit_and_signals_a_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let w = Watched::open(child.id()).unwrap();
        w.signal(libc::SIGTERM).unwrap();
        while !w.wait().unwrap() {}
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGTERM));
        assert!(Watched::open(0).is_err());
    }

    #[test]
    fn passwd_home_finds_the_first_entry_of_the_uid() {
        let text = "# comment\nroot:x:0:0:root:/root:/bin/bash\nbroken line\n\
                    alice:x:1000:1000:Alice,,,:/home/alice:/bin/sh\n\
                    dup:x:1000:1000::/home/dup:/bin/sh\nnohome:x:1001:1001:::/bin/sh\n";
        assert_eq!(passwd_home(text, 0), Some(PathBuf::from("/root")));
        assert_eq!(passwd_home(text, 1000), Some(PathBuf::from("/home/alice")));
        assert_eq!(passwd_home(text, 1001), None);
        assert_eq!(passwd_home(text, 4242), None);
        assert_eq!(passwd_home("", 0), None);
        // The real file: root is always there.
        assert!(home_of(0).is_some());
        assert_eq!(home_in(Path::new("/nonexistent/passwd"), 0), None);
    }

    #[test]
    fn caught_signals_are_read_as_data_with_their_origin() {
        let mut s = Signals::catch(&[libc::SIGUSR2]).unwrap();
        assert!(s.pending().is_empty());
        rustix::process::kill_process(rustix::process::getpid(), Signal::USR2).unwrap();
        let mut got = Vec::new();
        for _ in 0..100 {
            got.extend(s.pending());
            if !got.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            got,
            [Caught {
                signal: libc::SIGUSR2,
                from_kernel: false
            }]
        );
        assert!(Signals::catch(&[libc::SIGKILL]).is_err());
    }

    #[test]
    fn wait_timeout_gives_up_and_sees_the_exit() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let w = Watched::open(child.id()).unwrap();
        assert!(!w.wait_timeout(Duration::from_millis(20)).unwrap());
        w.signal(libc::SIGKILL).unwrap();
        let mut exited = false;
        for _ in 0..100 {
            if w.wait_timeout(Duration::from_millis(100)).unwrap() {
                exited = true;
                break;
            }
        }
        assert!(exited);
        child.wait().unwrap();
    }

    #[test]
    fn a_command_gets_an_audit_session_of_its_own() {
        let read = |set: bool| {
            let mut cmd = std::process::Command::new("cat");
            cmd.args(["/proc/self/loginuid", "/proc/self/sessionid"]);
            if set {
                set_loginuid_before_exec(&mut cmd, real_uid());
            }
            let out = cmd.output().unwrap();
            String::from_utf8(out.stdout).unwrap()
        };
        let before = read(false);
        let after = read(true);
        if after == before {
            eprintln!("skipped: this process may not set loginuid (needs CAP_AUDIT_CONTROL and an unset loginuid)");
            return;
        }
        let uid = real_uid().to_string();
        assert!(after.starts_with(&uid), "{after:?}");
        let again = read(true);
        assert_ne!(again, after, "each command gets a fresh session: {again:?}");
    }
}
