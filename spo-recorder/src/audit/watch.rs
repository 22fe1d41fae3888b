//! Seccomp audit records of one command run, for `spoc run`'s report: read from
//! `/dev/kmsg` (when no auditd runs) and `/var/log/audit/audit.log`, starting where they
//! ended when the command started. Lines are read with [`super::parse_line`], the same
//! parser the enricher uses.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use spo_core::events::AuditEvent;
use spo_core::Arch;

use super::{parse_line, Parsed};

/// One seccomp record of interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// Process ID.
    pub pid: u32,
    /// Syscall name (or the number when unknown).
    pub syscall: String,
    /// Syscall number.
    pub nr: u64,
    /// The seccomp action code (`code=`).
    pub code: u32,
}

/// Positions in the audit sources taken before the command starts.
#[derive(Debug)]
pub struct AuditWatch {
    kmsg: Option<File>,
    log: Option<File>,
}

/// auditd's log.
pub const AUDIT_LOG: &str = "/var/log/audit/audit.log";

impl AuditWatch {
    /// Opens the sources that are readable, positioned at their ends.
    pub fn start() -> AuditWatch {
        Self::start_at(Path::new("/dev/kmsg"), Path::new(AUDIT_LOG))
    }

    /// [`AuditWatch::start`] with other paths (tests).
    pub fn start_at(kmsg: &Path, log: &Path) -> AuditWatch {
        let kmsg = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(kmsg)
            .ok()
            .and_then(|mut f| f.seek(SeekFrom::End(0)).ok().map(|_| f));
        let log = File::open(log)
            .ok()
            .and_then(|mut f| f.seek(SeekFrom::End(0)).ok().map(|_| f));
        AuditWatch { kmsg, log }
    }

    /// True when at least one source could be opened.
    pub fn available(&self) -> bool {
        self.kmsg.is_some() || self.log.is_some()
    }

    /// Seccomp records since [`AuditWatch::start`] of `pid` and of processes started after
    /// it during the run (its descendants, in practice: PIDs grow until they wrap, and
    /// other processes rarely produce seccomp records in the same moment).
    pub fn records_for(&mut self, pid: u32) -> Vec<Denial> {
        let mut out = Vec::new();
        if let Some(k) = self.kmsg.as_mut() {
            let mut buf = vec![0u8; 8192];
            // Each read returns one record; EAGAIN ends the stream.
            while let Ok(n) = k.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.extend(denial(&buf[..n]));
            }
        }
        if let Some(f) = self.log.as_mut() {
            let mut text = Vec::new();
            if f.read_to_end(&mut text).is_ok() {
                out.extend(text.split(|b| *b == b'\n').filter_map(denial));
            }
        }
        out.retain(|d| d.pid >= pid && d.pid - pid < 1_000_000);
        out.dedup();
        out
    }
}

/// The seccomp record of an audit line (auditd, syslog or `/dev/kmsg` form), if it is one.
pub fn denial(line: &[u8]) -> Option<Denial> {
    let Parsed::Event(AuditEvent::Seccomp(e)) = parse_line(line) else {
        return None;
    };
    let syscall = Arch::from_audit(e.audit_arch, e.syscall)
        .and_then(|a| spo_seccomp::syscalls::name(a, e.syscall))
        .unwrap_or_else(|| e.syscall.to_string());
    Some(Denial {
        pid: e.pid,
        syscall,
        nr: e.syscall,
        code: e.code.unwrap_or(0),
    })
}

/// A readable name for a seccomp return code (`SECCOMP_RET_*` in the top 16 bits).
pub fn action_name(code: u32) -> &'static str {
    match code & 0xffff_0000 {
        0x8000_0000 => "SCMP_ACT_KILL_PROCESS",
        0x0000_0000 => "SCMP_ACT_KILL_THREAD",
        0x0003_0000 => "SCMP_ACT_TRAP",
        0x0005_0000 => "SCMP_ACT_ERRNO",
        0x7fc0_0000 => "SCMP_ACT_NOTIFY",
        0x7ff0_0000 => "SCMP_ACT_TRACE",
        0x7ffc_0000 => "SCMP_ACT_LOG",
        _ => "SCMP_ACT_ALLOW",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: CLI-12 (the report of `spoc run`)
    #[test]
    fn reads_kmsg_and_auditd_forms() {
        let k = "6,2345,99887766,-;audit: type=1326 audit(1612299677.115:549067): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=3109464 comm=\"sh\" exe=\"/bin/busybox\" sig=0 arch=c000003e syscall=83 compat=0 ip=0x7fce771ae923 code=0x50000";
        let d = denial(k.as_bytes()).unwrap();
        assert_eq!(
            (d.pid, d.syscall.as_str(), d.code),
            (3109464, "mkdir", 0x50000)
        );
        assert_eq!(action_name(d.code), "SCMP_ACT_ERRNO");
        let a = "type=SECCOMP msg=audit(1613596317.899:6461): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=20 comm=\"ls\" exe=\"/bin/ls\" sig=31 arch=40000003 syscall=3 compat=1 ip=0x7f code=0x80000000\x1dAUID=\"unset\"";
        let d = denial(a.as_bytes()).unwrap();
        assert_eq!(d.syscall, "read", "i386 syscall 3 is read, not close");
        assert_eq!(action_name(d.code), "SCMP_ACT_KILL_PROCESS");
        assert!(denial(b"type=AVC msg=audit(1:2): avc: denied").is_none());
    }

    #[test]
    fn a_watch_sees_only_lines_written_after_it_started() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let line = |pid: u32| {
            format!("type=SECCOMP msg=audit(1.2:3): pid={pid} comm=\"x\" exe=\"/x\" arch=c000003e syscall=83 code=0x50000\n")
        };
        std::fs::write(&log, line(100)).unwrap();
        let mut w = AuditWatch::start_at(&dir.path().join("no-kmsg"), &log);
        assert!(w.available());
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(line(101).as_bytes()).unwrap();
        f.write_all(line(5).as_bytes()).unwrap();
        let got = w.records_for(100);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].pid, 101);
    }
}
