//! cgroup v2 plumbing: the recorder follows a process tree by putting it in a dedicated
//! cgroup nested under the cgroup it already runs in (so resource limits of the parent still
//! apply), and matching `bpf_get_current_ancestor_cgroup_id(level)` in the kernel.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::error::BpfError;

/// Where cgroup v2 is mounted, read from a mountinfo file (`/proc/self/mountinfo`).
pub fn cgroup2_mount_from(mountinfo: &Path) -> Result<PathBuf, BpfError> {
    let text = fs::read_to_string(mountinfo).map_err(|source| BpfError::Io {
        action: format!("reading {}", mountinfo.display()),
        source,
    })?;
    parse_cgroup2_mount(&text).ok_or(BpfError::NoCgroup2)
}

/// The mount point of the first `cgroup2` file system whose root is `/`.
pub fn parse_cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split_whitespace().next()?;
        let mut f = left.split_whitespace();
        let root = f.nth(3)?;
        let mount_point = f.next()?;
        (fstype == "cgroup2" && root == "/").then(|| PathBuf::from(unescape(mount_point)))
    })
}

fn unescape(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// The cgroup v2 path of a process (the `0::` line of `/proc/<pid>/cgroup`), relative to
/// the hierarchy root, e.g. `/` or `/user.slice/session-1.scope`.
pub fn cgroup_of(proc_root: &Path, pid: u32) -> Result<String, BpfError> {
    let path = proc_root.join(pid.to_string()).join("cgroup");
    let text = fs::read_to_string(&path).map_err(|e| BpfError::Process {
        pid,
        reason: format!("cannot read {}: {e}", path.display()),
    })?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
        .ok_or_else(|| BpfError::Process {
            pid,
            reason: format!("{} has no cgroup v2 (`0::`) entry", path.display()),
        })
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A cgroup created by the recorder. Dropping it moves any processes left in it (or in
/// sub-cgroups the target created) back to the parent and removes the directories.
#[derive(Debug)]
pub struct RecordCgroup {
    dir: PathBuf,
    parent: PathBuf,
    id: u64,
    level: u32,
}

impl RecordCgroup {
    /// Creates `<mount><parent_rel>/<prefix>-<spoc pid>-<n>`.
    pub fn create(mount: &Path, parent_rel: &str, prefix: &str) -> Result<Self, BpfError> {
        let rel = parent_rel.trim_matches('/');
        let parent = if rel.is_empty() {
            mount.to_path_buf()
        } else {
            mount.join(rel)
        };
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let dir = parent.join(&name);
        fs::create_dir(&dir).map_err(|source| BpfError::Cgroup {
            path: dir.clone(),
            action: "creating the recording cgroup".into(),
            source,
        })?;
        let id = fs::metadata(&dir)
            .map_err(|source| BpfError::Cgroup {
                path: dir.clone(),
                action: "reading the cgroup id".into(),
                source,
            })?
            .ino();
        // Depth below the hierarchy root: `/a/b` has level 2 (the kernel's `cgrp->level`).
        let level = (rel.split('/').filter(|c| !c.is_empty()).count() + 1) as u32;
        Ok(RecordCgroup {
            dir,
            parent,
            id,
            level,
        })
    }

    /// The cgroup id (its inode number; what `bpf_get_current_cgroup_id` returns).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Depth in the hierarchy.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Opens `cgroup.procs` for writing, for a child to join with `write(fd, "0")` between
    /// fork and exec (no allocation needed there).
    pub fn procs_fd(&self) -> Result<OwnedFd, BpfError> {
        let path = self.dir.join("cgroup.procs");
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map(OwnedFd::from)
            .map_err(|source| BpfError::Cgroup {
                path,
                action: "opening cgroup.procs".into(),
                source,
            })
    }

    /// Moves process `pid` (all its threads) into the cgroup.
    pub fn add_process(&self, pid: u32) -> Result<(), BpfError> {
        write_procs(&self.dir, pid)
    }

    /// PIDs currently in the cgroup (not in sub-cgroups).
    pub fn processes(&self) -> Vec<u32> {
        read_procs(&self.dir)
    }

    /// True while a process is in the cgroup or a sub-cgroup (`cgroup.events populated`).
    pub fn populated(&self) -> bool {
        fs::read_to_string(self.dir.join("cgroup.events"))
            .map(|t| t.lines().any(|l| l == "populated 1"))
            .unwrap_or(false)
    }
}

/// Writes `pid` into `<dir>/cgroup.procs`.
fn write_procs(dir: &Path, pid: u32) -> Result<(), BpfError> {
    let path = dir.join("cgroup.procs");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|source| BpfError::Cgroup {
            path: path.clone(),
            action: "opening cgroup.procs".into(),
            source,
        })?;
    f.write_all(pid.to_string().as_bytes())
        .map_err(|source| BpfError::Cgroup {
            path,
            action: format!("moving process {pid}"),
            source,
        })
}

fn read_procs(dir: &Path) -> Vec<u32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Moves every process of `dir` and its sub-cgroups to `to`, then removes them bottom-up.
fn evacuate_and_remove(dir: &Path, to: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                evacuate_and_remove(&e.path(), to);
            }
        }
    }
    for pid in read_procs(dir) {
        if let Err(e) = write_procs(to, pid) {
            tracing::warn!(pid, error = %e, "could not move a process out of the recording cgroup");
        }
    }
    if let Err(e) = fs::remove_dir(dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "could not remove the recording cgroup");
    }
}

impl Drop for RecordCgroup {
    fn drop(&mut self) {
        evacuate_and_remove(&self.dir, &self.parent);
    }
}

/// Joins the cgroup whose `cgroup.procs` is open as `fd`: for `pre_exec` (async-signal-safe:
/// one `write`, no allocation).
pub fn join_in_child(fd: &OwnedFd) -> std::io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: writes one byte from a static buffer to an fd we own.
    let n = unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) };
    if n == 1 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The process tree rooted at `root`: `root` and every descendant, from `/proc/*/stat`
/// parent links. `exclude` (and its descendants) are left out (spoc itself, when a user
/// records its own shell).
pub fn process_tree(proc_root: &Path, root: u32, exclude: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(entries) = fs::read_dir(proc_root) {
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(pid) = OsStr::to_str(&name).and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(ppid) = ppid_of(proc_root, pid) {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        for (c, pp) in &parent_of {
            if *pp == p && *c != exclude && !tree.contains(c) {
                tree.push(*c);
            }
        }
        i += 1;
    }
    tree
}

/// The parent PID from `/proc/<pid>/stat` (field 4, after the last `)`).
pub fn ppid_of(proc_root: &Path, pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(proc_root.join(pid.to_string()).join("stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount_in_mountinfo() {
        let mi = "\
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
41 30 0:36 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
44 30 0:39 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
        assert_eq!(
            parse_cgroup2_mount(mi),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        assert_eq!(
            parse_cgroup2_mount("30 25 0:26 / /x rw - tmpfs tmpfs rw\n"),
            None
        );
        // A bind mount of a sub-tree is not the hierarchy root.
        assert_eq!(
            parse_cgroup2_mount("1 2 0:3 /sub /mnt/cg rw - cgroup2 cgroup2 rw\n"),
            None
        );
    }

    #[test]
    fn process_tree_contains_children_and_excludes_ourselves() {
        let me = std::process::id();
        let ppid = ppid_of(Path::new("/proc"), me).unwrap();
        let tree = process_tree(Path::new("/proc"), ppid, 0);
        assert!(tree.contains(&me));
        let tree = process_tree(Path::new("/proc"), ppid, me);
        assert!(!tree.contains(&me));
    }
}
