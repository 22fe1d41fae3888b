//! One recording of a process tree: a command spoc starts, or a running process and its
//! descendants (`--pid`).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::cgroup::{cgroup_of, ppid_of, process_tree, RecordCgroup};
use super::error::BpfError;
use super::recorded::Recorded;
use super::{Recorder, TargetId};

/// A running recording. [`Session::finish`] stops it and returns what was recorded;
/// dropping it unfinished stops it too (the data is discarded).
#[derive(Debug)]
pub struct Session<'r> {
    recorder: &'r mut Recorder,
    target: Option<TargetId>,
    /// `(cgroup path the processes came from, our nested cgroup)`.
    cgroups: Vec<(String, RecordCgroup)>,
    _join: Option<OwnedFd>,
    root_pid: Option<u32>,
    started: Instant,
}

const PF_KTHREAD: u64 = 0x0020_0000;

fn is_kernel_thread(proc_root: &Path, pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")) else {
        return false;
    };
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return false;
    };
    // Fields after the comm: state(3) ppid(4) pgrp session tty_nr tpgid flags(9).
    rest.split_whitespace()
        .nth(6)
        .and_then(|f| f.parse::<u64>().ok())
        .is_some_and(|f| f & PF_KTHREAD != 0)
}

impl Recorder {
    /// Prepares `cmd` so that its process, and everything it starts, is recorded: a cgroup
    /// is created under spoc's own cgroup and the child joins it between fork and exec
    /// (so even its `execve` is recorded). Spawn `cmd` while the session is alive.
    pub fn record_command(&mut self, cmd: &mut Command) -> Result<Session<'_>, BpfError> {
        let parent = cgroup_of(&self.opts.proc_root, std::process::id())?;
        let cg = RecordCgroup::create(&self.cgroup_mount, &parent, "spo-record")?;
        let fd = cg.procs_fd()?;
        let raw = fd.as_raw_fd();
        // SAFETY: the closure only calls write(2) on an fd that the session keeps open until
        // the command is spawned (async-signal-safe, no allocation).
        unsafe {
            cmd.pre_exec(move || {
                let n = libc::write(raw, b"0".as_ptr().cast(), 1);
                if n == 1 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        let target = self.start(&[&cg])?;
        Ok(Session {
            recorder: self,
            target: Some(target),
            cgroups: vec![(parent, cg)],
            _join: Some(fd),
            root_pid: None,
            started: Instant::now(),
        })
    }

    /// Starts recording the running process `pid` and all its descendants: each is moved
    /// into a cgroup nested under the one it was in (limits of that cgroup keep applying)
    /// and moved back when the session ends. Processes forked while the tree is being moved
    /// are picked up by [`Session::follow_tree`].
    pub fn record_process_tree(&mut self, pid: u32) -> Result<Session<'_>, BpfError> {
        let proc_root = self.opts.proc_root.clone();
        if pid <= 1 {
            return Err(BpfError::Process {
                pid,
                reason: "refusing to record PID 0/1 (init); pick the process to record".into(),
            });
        }
        if pid == std::process::id() {
            return Err(BpfError::Process {
                pid,
                reason: "that is this process".into(),
            });
        }
        if !proc_root.join(pid.to_string()).exists() {
            return Err(BpfError::Process {
                pid,
                reason: "no such process".into(),
            });
        }
        if is_kernel_thread(&proc_root, pid) || ppid_of(&proc_root, pid) == Some(2) {
            return Err(BpfError::Process {
                pid,
                reason: "is a kernel thread".into(),
            });
        }
        let target = self.start(&[])?;
        let mut s = Session {
            recorder: self,
            target: Some(target),
            cgroups: Vec::new(),
            _join: None,
            root_pid: Some(pid),
            started: Instant::now(),
        };
        s.move_process(pid)?;
        s.follow_tree()?;
        s.started = Instant::now();
        Ok(s)
    }
}

impl Session<'_> {
    fn move_process(&mut self, pid: u32) -> Result<bool, BpfError> {
        let Some(target) = self.target else {
            return Ok(false);
        };
        let proc_root = self.recorder.opts.proc_root.clone();
        let current = match cgroup_of(&proc_root, pid) {
            Ok(c) => c,
            // Gone in the meantime.
            Err(_) if !proc_root.join(pid.to_string()).exists() => return Ok(false),
            Err(e) => return Err(e),
        };
        let mount = self.recorder.cgroup_mount.clone();
        if self.cgroups.iter().any(|(_, cg)| {
            cg.dir().strip_prefix(&mount).is_ok_and(|rel| {
                current
                    .trim_start_matches('/')
                    .starts_with(&*rel.to_string_lossy())
            })
        }) {
            return Ok(false);
        }
        let idx = match self.cgroups.iter().position(|(orig, _)| *orig == current) {
            Some(i) => i,
            None => {
                let cg = RecordCgroup::create(&mount, &current, "spo-record")?;
                self.recorder.add_cgroup(target, &cg)?;
                self.cgroups.push((current.clone(), cg));
                self.cgroups.len() - 1
            }
        };
        match self.cgroups[idx].1.add_process(pid) {
            Ok(()) => Ok(true),
            Err(_) if !proc_root.join(pid.to_string()).exists() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `--pid` mode: moves descendants that are not in the recording cgroups yet (forked
    /// while the tree was being moved). Returns how many were moved. A no-op for commands.
    pub fn follow_tree(&mut self) -> Result<usize, BpfError> {
        let Some(root) = self.root_pid else {
            return Ok(0);
        };
        let proc_root = self.recorder.opts.proc_root.clone();
        let mut moved = 0;
        // Repeat until a pass moves nothing: a process forking during a pass leaves its child
        // behind in the old cgroup.
        for _ in 0..16 {
            let mut this_pass = 0;
            for pid in process_tree(&proc_root, root, std::process::id()) {
                if self.move_process(pid)? {
                    this_pass += 1;
                }
            }
            moved += this_pass;
            if this_pass == 0 {
                break;
            }
        }
        Ok(moved)
    }

    /// What was recorded so far.
    pub fn snapshot(&self) -> Result<Recorded, BpfError> {
        match self.target {
            Some(t) => self.recorder.snapshot(t),
            None => Ok(Recorded::default()),
        }
    }

    /// Time since the recording started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// True while any recorded process is still alive (in the cgroups or their children).
    pub fn populated(&self) -> bool {
        self.cgroups.iter().any(|(_, cg)| cg.populated())
    }

    /// PIDs still in the recording cgroups.
    pub fn remaining_processes(&self) -> Vec<u32> {
        self.cgroups
            .iter()
            .flat_map(|(_, cg)| cg.processes())
            .collect()
    }

    /// The cgroups the session created.
    pub fn cgroup_dirs(&self) -> Vec<&Path> {
        self.cgroups.iter().map(|(_, cg)| cg.dir()).collect()
    }

    /// Stops the recording, moves remaining processes back and removes the cgroups.
    pub fn finish(mut self) -> Result<Recorded, BpfError> {
        match self.target.take() {
            Some(t) => self.recorder.stop(t),
            None => Ok(Recorded::default()),
        }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.target.take() {
            let _ = self.recorder.stop(t);
        }
        // The cgroups are dropped after this: processes go back to their parent cgroup.
    }
}
