//! Log-based recording of one command (`spoc record --recorder logs`): the command runs
//! under a `SCMP_ACT_LOG` profile, and every seccomp audit record of its process tree adds
//! its syscall (named with the record's own architecture) to the recording.
//!
//! The process tree is recognised by its audit session: the caller gives the child a fresh
//! session (writing `/proc/self/loginuid` before `exec`, which needs CAP_AUDIT_CONTROL), and
//! records whose `ses=` equals the session seen on the child's own records are accepted.
//! When no fresh session could be made, the caller reports descendant PIDs it observed
//! ([`LogRecording::add_pid`]) and only those PIDs count.

use std::collections::{BTreeSet, HashSet};

use spo_core::events::AuditEvent;

use crate::audit::{parse_line, Parsed};
use crate::enricher::SyscallNames;

/// `ses=` of a raw audit line.
pub fn session_of(line: &[u8]) -> Option<u32> {
    let i = memchr::memmem::find(line, b" ses=")? + 5;
    let rest = &line[i..];
    let end = rest
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

/// The unset session ID.
pub const NO_SESSION: u32 = u32::MAX;

/// Syscalls recorded for one process tree.
#[derive(Debug)]
pub struct LogRecording {
    root: u32,
    parent_session: Option<u32>,
    session: Option<u32>,
    pids: HashSet<u32>,
    names: SyscallNames,
    syscalls: BTreeSet<String>,
    /// Lines taken (records of the tree).
    pub records: u64,
    /// Records of the tree whose syscall number is unknown on their architecture.
    pub unknown: u64,
    /// The root process's `exit_group` (or `exit`) was seen: its last record arrived.
    pub root_exited: bool,
}

impl LogRecording {
    /// Records the tree of `root`. `parent_session` is the recorder's own session: when the
    /// root's records carry it, the child did not get a fresh session and only PIDs count.
    pub fn new(root: u32, parent_session: Option<u32>) -> Self {
        LogRecording {
            root,
            parent_session,
            session: None,
            pids: HashSet::from([root]),
            names: SyscallNames::new(),
            syscalls: BTreeSet::new(),
            records: 0,
            unknown: 0,
            root_exited: false,
        }
    }

    /// Adds a PID of the tree (found by the caller while the command ran).
    pub fn add_pid(&mut self, pid: u32) {
        self.pids.insert(pid);
    }

    /// The session that identifies the tree, once known.
    pub fn session(&self) -> Option<u32> {
        self.session
    }

    /// Takes one audit line (any source, any record type).
    pub fn take_line(&mut self, line: &[u8]) {
        let Parsed::Event(AuditEvent::Seccomp(ev)) = parse_line(line) else {
            return;
        };
        let ses = session_of(line);
        if ev.pid == self.root && self.session.is_none() {
            if let Some(s) = ses.filter(|s| *s != NO_SESSION && Some(*s) != self.parent_session) {
                self.session = Some(s);
            }
        }
        let ours = self.pids.contains(&ev.pid) || (self.session.is_some() && ses == self.session);
        if !ours {
            return;
        }
        self.records += 1;
        match self.names.name(ev.audit_arch, ev.syscall) {
            Some(n) => {
                if ev.pid == self.root && matches!(n, "exit_group" | "exit") {
                    self.root_exited = true;
                }
                if !self.syscalls.contains(n) {
                    self.syscalls.insert(n.to_string());
                }
            }
            None => self.unknown += 1,
        }
    }

    /// The recorded syscall names, sorted.
    pub fn syscalls(&self) -> &BTreeSet<String> {
        &self.syscalls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pid: u32, ses: u32, nr: u32) -> String {
        format!("type=SECCOMP msg=audit(1.000:1): auid=0 uid=0 gid=0 ses={ses} pid={pid} comm=\"x\" exe=\"/x\" sig=0 arch=c000003e syscall={nr} compat=0 ip=0x1 code=0x7ffc0000")
    }

    #[test]
    fn tree_by_session_and_pid() {
        let mut r = LogRecording::new(100, Some(1));
        r.take_line(line(100, 7, 59).as_bytes()); // execve of the root: session 7
        r.take_line(line(101, 7, 0).as_bytes()); // child of the tree: read
        r.take_line(line(200, 1, 1).as_bytes()); // another process of our session: ignored
        r.take_line(line(100, 7, 231).as_bytes());
        assert_eq!(
            r.syscalls().iter().map(String::as_str).collect::<Vec<_>>(),
            ["execve", "exit_group", "read"]
        );
        assert!(r.root_exited);
        assert_eq!(r.session(), Some(7));
        // Without a fresh session only known PIDs count.
        let mut r = LogRecording::new(100, Some(1));
        r.take_line(line(100, 1, 59).as_bytes());
        r.take_line(line(101, 1, 0).as_bytes());
        r.add_pid(102);
        r.take_line(line(102, 1, 1).as_bytes());
        assert_eq!(r.syscalls().len(), 2);
        assert_eq!(r.session(), None);
    }
}
