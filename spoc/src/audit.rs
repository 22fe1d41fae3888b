//! Seccomp audit records of a command, for `spoc run`'s report: read from `/dev/kmsg`
//! (when no auditd runs) or `/var/log/audit/audit.log`, starting where they ended when the
//! command started.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use spo_core::Arch;

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
pub struct AuditWatch {
    kmsg: Option<File>,
    log: Option<(File, u64)>,
}

const AUDIT_LOG: &str = "/var/log/audit/audit.log";

impl AuditWatch {
    /// Opens the sources that are readable, positioned at their ends.
    pub fn start() -> AuditWatch {
        let kmsg = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/kmsg")
            .ok()
            .and_then(|mut f| f.seek(SeekFrom::End(0)).ok().map(|_| f));
        let log = File::open(Path::new(AUDIT_LOG))
            .ok()
            .and_then(|mut f| f.seek(SeekFrom::End(0)).ok().map(|pos| (f, pos)));
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
                if let Some(d) = parse(&String::from_utf8_lossy(&buf[..n])) {
                    out.push(d);
                }
            }
        }
        if let Some((f, _)) = self.log.as_mut() {
            let mut text = String::new();
            if f.read_to_string(&mut text).is_ok() {
                out.extend(text.lines().filter_map(parse));
            }
        }
        out.retain(|d| d.pid >= pid && d.pid - pid < 1_000_000);
        out.dedup();
        out
    }
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(key)? + key.len();
    let rest = &line[start..];
    let end = rest.find([' ', '\x1d', '\n']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Parses a `type=1326` / `type=SECCOMP` record.
fn parse(line: &str) -> Option<Denial> {
    if !(line.contains("type=1326") || line.contains("type=SECCOMP")) {
        return None;
    }
    let pid = field(line, " pid=")?.parse().ok()?;
    let nr: u64 = field(line, " syscall=")?.parse().ok()?;
    let arch = u32::from_str_radix(field(line, " arch=")?, 16).ok()?;
    let code = field(line, " code=")
        .and_then(|c| u32::from_str_radix(c.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0);
    let syscall = Arch::from_audit(arch, nr)
        .and_then(|a| spo_seccomp::syscalls::name(a, nr))
        .unwrap_or_else(|| nr.to_string());
    Some(Denial {
        pid,
        syscall,
        nr,
        code,
    })
}

/// A readable name for a seccomp return code.
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

    #[test]
    fn parses_kmsg_and_auditd_forms() {
        let k = "6,2345,99887766,-;audit: type=1326 audit(1612299677.115:549067): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=3109464 comm=\"sh\" exe=\"/bin/busybox\" sig=0 arch=c000003e syscall=83 compat=0 ip=0x7fce771ae923 code=0x50000";
        let d = parse(k).unwrap();
        assert_eq!(
            (d.pid, d.syscall.as_str(), d.code),
            (3109464, "mkdir", 0x50000)
        );
        assert_eq!(action_name(d.code), "SCMP_ACT_ERRNO");
        let a = "type=SECCOMP msg=audit(1613596317.899:6461): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=20 comm=\"ls\" exe=\"/bin/ls\" sig=31 arch=40000003 syscall=3 compat=1 ip=0x7f code=0x80000000\x1dAUID=\"unset\"";
        let d = parse(a).unwrap();
        assert_eq!(d.syscall, "read", "i386 syscall 3 is read, not close");
        assert_eq!(action_name(d.code), "SCMP_ACT_KILL_PROCESS");
        assert!(parse("type=AVC msg=audit(1:2): avc: denied").is_none());
    }
}
