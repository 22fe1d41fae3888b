//! Supervising a child process without `unsafe`, on rustix: a pidfd to wait on and to
//! signal through (no PID-reuse race), for `spoc run` and `spoc record`.

use std::io;
use std::os::fd::OwnedFd;

use rustix::event::{poll, PollFd, PollFlags};
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};

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

    /// Sends signal number `sig` to the process.
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        let sig = Signal::from_named_raw(sig).ok_or_else(|| invalid("unknown signal"))?;
        Ok(pidfd_send_signal(&self.fd, sig)?)
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
}
