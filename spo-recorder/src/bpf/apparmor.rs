//! What the AppArmor part of the eBPF recorder saw for one target (RC-21), and its
//! translation into [`AppArmorObservation`]s for `spo_apparmor::record`.
//!
//! # How it is recorded (no BPF LSM needed)
//!
//! Kernels without the AppArmor or BPF LSM (and without fentry/kprobes) still run raw
//! tracepoints, so [`crate::bpf::Recorder::enable_apparmor`] uses four of them:
//!
//! * `sys_enter` (the syscall recorder's own program: no second program per syscall), looking
//!   only at `open`, `creat`, `openat`, `openat2` (path pointer and
//!   read/write intent from the flags: `O_ACCMODE`, `O_CREAT`/`O_TRUNC` mean write; `O_PATH`
//!   is no access, parked per thread) and `socket` (family/type);
//! * `sys_exit`: a parked open counts only when it succeeded (the dynamic loader probes
//!   many library paths that do not exist); the path is read then, when the kernel has
//!   just copied it (at `sys_enter` a string of a freshly forked child may not be mapped
//!   yet, and a tracepoint cannot fault it in);
//! * `sched_process_exec`: the executed file, from the kernel's `linux_binprm.filename`
//!   (its offset is read from the kernel BTF), so only successful execs count (the `PATH`
//!   search of `execvp` does not add every directory it tried);
//! * `cap_capable` (Linux ≥ 6.14): each capability checked.
//!
//! Limits, by design of the hooks (documented in `docs/src/recording.md`):
//!
//! * Paths are the strings the program passed. A relative path (to the cwd or a directory
//!   fd) cannot be resolved in a tracepoint; it is counted ([`AppArmorRecorded::relative_paths`])
//!   and not recorded. Paths are cut at 255 bytes.
//! * Shared libraries are seen when the loader opens them (read-only); a read-only file
//!   whose name is a shared object (`*.so`, `*.so.N…`) is reported as mapped executable
//!   ([`FileUse::MapExec`]), as `mmap(PROT_EXEC)` has no path.
//! * Without the `cap_capable` tracepoint (kernels before 6.14) capabilities are not
//!   recorded and [`AppArmorRecorded::capabilities_recorded`] is false.

use std::collections::BTreeMap;

use spo_core::events::{AppArmorObservation, FileUse, SocketUse};

use super::abi::{AA_EXEC, AA_READ, AA_SOCK_RAW, AA_SOCK_TCP, AA_SOCK_UDP, AA_WRITE};

/// Capability names by number (`linux/capability.h`), lower case without `CAP_`: the
/// table spo-apparmor's model accepts, in kernel order.
pub use spo_apparmor::capability::CAPABILITIES as CAPABILITY_NAMES;

/// The AppArmor data of one target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppArmorRecorded {
    /// True when AppArmor recording was enabled for the recorder.
    pub enabled: bool,
    /// Absolute path → `AA_READ | AA_WRITE | AA_EXEC` flags.
    pub files: BTreeMap<String, u64>,
    /// Bit `n` = capability `n` was checked.
    pub capabilities: u64,
    /// `AA_SOCK_*` flags.
    pub sockets: u64,
    /// Paths lost because the kernel map was full.
    pub dropped: u64,
    /// Relative paths seen and not recorded.
    pub relative_paths: u64,
    /// False when the kernel has no `cap_capable` tracepoint (capabilities not recorded).
    pub capabilities_recorded: bool,
}

/// True for `lib.so`, `libc.so.6`, `libfoo.so.1.2.3`.
pub fn is_shared_object(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.find(".so") {
        Some(i) => {
            let rest = &name[i + 3..];
            rest.is_empty()
                || (rest.starts_with('.')
                    && rest[1..]
                        .split('.')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
        }
        None => false,
    }
}

impl AppArmorRecorded {
    /// Adds another snapshot of the same target.
    pub fn merge(&mut self, other: &AppArmorRecorded) {
        self.enabled |= other.enabled;
        for (p, f) in &other.files {
            *self.files.entry(p.clone()).or_default() |= f;
        }
        self.capabilities |= other.capabilities;
        self.sockets |= other.sockets;
        self.dropped += other.dropped;
        self.relative_paths += other.relative_paths;
        self.capabilities_recorded |= other.capabilities_recorded;
    }

    /// Capability names checked, ascending by number.
    pub fn capability_names(&self) -> Vec<String> {
        (0..64u32)
            .filter(|n| self.capabilities & (1u64 << n) != 0)
            .map(|n| {
                CAPABILITY_NAMES
                    .get(n as usize)
                    .map_or_else(|| format!("cap_{n}"), |s| s.to_string())
            })
            .collect()
    }

    /// The observations `spo_apparmor::record` builds a profile from.
    pub fn observations(&self) -> Vec<AppArmorObservation> {
        let mut out = Vec::new();
        for (path, flags) in &self.files {
            if flags & AA_EXEC != 0 {
                out.push(AppArmorObservation::File {
                    path: path.clone(),
                    access: FileUse::Exec,
                });
            }
            let access = match (flags & AA_READ != 0, flags & AA_WRITE != 0) {
                (true, true) => FileUse::ReadWrite,
                (true, false) if is_shared_object(path) => FileUse::MapExec,
                (true, false) => FileUse::Read,
                (false, true) => FileUse::Write,
                (false, false) => continue,
            };
            out.push(AppArmorObservation::File {
                path: path.clone(),
                access,
            });
        }
        for name in self.capability_names() {
            if CAPABILITY_NAMES.contains(&name.as_str()) {
                out.push(AppArmorObservation::Capability(name));
            }
        }
        for (bit, use_) in [
            (AA_SOCK_RAW, SocketUse::Raw),
            (AA_SOCK_TCP, SocketUse::Tcp),
            (AA_SOCK_UDP, SocketUse::Udp),
        ] {
            if self.sockets & bit != 0 {
                out.push(AppArmorObservation::Socket(use_));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: RC-21 (observations from recorded flags)
    #[test]
    fn rc_21_flags_become_observations() {
        let mut r = AppArmorRecorded::default();
        r.files.insert("/usr/bin/cat".into(), AA_EXEC | AA_READ);
        r.files.insert("/etc/hosts".into(), AA_READ);
        r.files.insert("/tmp/out".into(), AA_WRITE);
        r.files.insert("/tmp/rw".into(), AA_READ | AA_WRITE);
        r.files
            .insert("/lib/x86_64-linux-gnu/libc.so.6".into(), AA_READ);
        r.capabilities = (1 << 10) | (1 << 21);
        r.sockets = AA_SOCK_UDP;
        let obs = r.observations();
        let f = |p: &str, a| AppArmorObservation::File {
            path: p.into(),
            access: a,
        };
        assert!(obs.contains(&f("/usr/bin/cat", FileUse::Exec)));
        assert!(obs.contains(&f("/usr/bin/cat", FileUse::Read)));
        assert!(obs.contains(&f("/etc/hosts", FileUse::Read)));
        assert!(obs.contains(&f("/tmp/out", FileUse::Write)));
        assert!(obs.contains(&f("/tmp/rw", FileUse::ReadWrite)));
        assert!(obs.contains(&f("/lib/x86_64-linux-gnu/libc.so.6", FileUse::MapExec)));
        assert!(obs.contains(&AppArmorObservation::Capability("net_bind_service".into())));
        assert!(obs.contains(&AppArmorObservation::Capability("sys_admin".into())));
        assert!(obs.contains(&AppArmorObservation::Socket(SocketUse::Udp)));
        assert!(!obs.contains(&AppArmorObservation::Socket(SocketUse::Tcp)));
    }

    #[test]
    fn shared_objects_by_name() {
        for yes in ["/lib/libc.so.6", "/x/libfoo.so", "/a/libz.so.1.2.13"] {
            assert!(is_shared_object(yes), "{yes}");
        }
        for no in ["/etc/ld.so.cache", "/x/a.sox", "/x/so", "/x/libz.so.1a"] {
            assert!(!is_shared_object(no), "{no}");
        }
    }
}
