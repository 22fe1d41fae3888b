//! Syscall names and numbers per architecture (libseccomp's tables), and upstream's base
//! syscall list.

use libseccomp::{ScmpArch, ScmpSyscall};
use spo_core::Arch;

/// The 83 syscalls `spoc record` adds to every recorded profile unless told otherwise
/// (spoc.md §2.3, CLI-04). Sorted.
pub const BASE_SYSCALLS: [&str; 83] = [
    "access",
    "arch_prctl",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "clone",
    "close",
    "close_range",
    "dup2",
    "dup3",
    "epoll_create1",
    "epoll_ctl",
    "epoll_pwait",
    "execve",
    "exit_group",
    "faccessat2",
    "fchdir",
    "fchmodat",
    "fchown",
    "fchownat",
    "fcntl",
    "fstat",
    "fstatfs",
    "futex",
    "getdents64",
    "getegid",
    "geteuid",
    "getgid",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "ioctl",
    "keyctl",
    "lseek",
    "mkdirat",
    "mknodat",
    "mmap",
    "mount",
    "mprotect",
    "munmap",
    "nanosleep",
    "newfstatat",
    "openat",
    "openat2",
    "pipe2",
    "pivot_root",
    "prctl",
    "pread64",
    "pselect6",
    "read",
    "readlink",
    "readlinkat",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sched_getaffinity",
    "sched_yield",
    "seccomp",
    "set_robust_list",
    "set_tid_address",
    "setgid",
    "setgroups",
    "sethostname",
    "setns",
    "setresgid",
    "setresuid",
    "setsid",
    "setuid",
    "sigaltstack",
    "statfs",
    "statx",
    "symlinkat",
    "tgkill",
    "umask",
    "umount2",
    "unlinkat",
    "unshare",
    "utimensat",
    "write",
];

/// libseccomp's architecture token for `arch` (`Native` is resolved first).
pub fn scmp_arch(arch: Arch) -> ScmpArch {
    match arch.resolved() {
        Arch::Native => ScmpArch::Native,
        Arch::X86 => ScmpArch::X86,
        Arch::X86_64 => ScmpArch::X8664,
        Arch::X32 => ScmpArch::X32,
        Arch::Arm => ScmpArch::Arm,
        Arch::Aarch64 => ScmpArch::Aarch64,
        Arch::Mips => ScmpArch::Mips,
        Arch::Mips64 => ScmpArch::Mips64,
        Arch::Mips64N32 => ScmpArch::Mips64N32,
        Arch::Mipsel => ScmpArch::Mipsel,
        Arch::Mipsel64 => ScmpArch::Mipsel64,
        Arch::Mipsel64N32 => ScmpArch::Mipsel64N32,
        Arch::Ppc => ScmpArch::Ppc,
        Arch::Ppc64 => ScmpArch::Ppc64,
        Arch::Ppc64Le => ScmpArch::Ppc64Le,
        Arch::S390 => ScmpArch::S390,
        Arch::S390X => ScmpArch::S390X,
        Arch::Parisc => ScmpArch::Parisc,
        Arch::Parisc64 => ScmpArch::Parisc64,
        Arch::Riscv64 => ScmpArch::Riscv64,
    }
}

/// The number of syscall `name` on `arch`, or `None` when the syscall does not exist there.
/// (libseccomp answers a negative pseudo-number for names that exist elsewhere only.)
pub fn number(arch: Arch, name: &str) -> Option<u32> {
    let nr = ScmpSyscall::from_name_by_arch(name, scmp_arch(arch)).ok()?;
    u32::try_from(i32::from(nr)).ok()
}

/// True when `name` is a syscall libseccomp knows on `arch`.
pub fn exists(arch: Arch, name: &str) -> bool {
    number(arch, name).is_some()
}

/// The name of syscall number `nr` on `arch`; `None` when the number is unknown.
/// On x32 the `__X32_SYSCALL_BIT` may be set or not.
pub fn name(arch: Arch, nr: u64) -> Option<String> {
    let nr = i32::try_from(nr).ok()?;
    ScmpSyscall::from(nr).get_name_by_arch(scmp_arch(arch)).ok()
}

/// A dense number → name table for one architecture, for hot paths (log parsing, recording)
/// where libseccomp's per-call string lookup is too slow. Built once.
#[derive(Debug, Clone)]
pub struct SyscallTable {
    arch: Arch,
    names: Vec<Option<Box<str>>>,
}

impl SyscallTable {
    /// Highest syscall number probed (no architecture has more than ~600 native calls;
    /// x32 numbers are looked up without their marker bit).
    pub const MAX_NR: u32 = 1024;

    /// Builds the table for `arch` by asking libseccomp for every number up to `MAX_NR`.
    pub fn new(arch: Arch) -> Self {
        let arch = arch.resolved();
        let base = if arch == Arch::X32 {
            u64::from(spo_core::arch::X32_SYSCALL_BIT)
        } else {
            0
        };
        let names = (0..Self::MAX_NR)
            .map(|nr| name(arch, base + u64::from(nr)).map(String::into_boxed_str))
            .collect();
        SyscallTable { arch, names }
    }

    /// The architecture of the table.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The name of `nr` (x32's marker bit is ignored).
    pub fn name(&self, nr: u64) -> Option<&str> {
        let nr = nr & !u64::from(spo_core::arch::X32_SYSCALL_BIT);
        self.names.get(usize::try_from(nr).ok()?)?.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_differ_per_arch() {
        assert_eq!(number(Arch::X86_64, "read"), Some(0));
        assert_eq!(number(Arch::X86, "read"), Some(3));
        assert_eq!(number(Arch::Aarch64, "read"), Some(63));
        // `open` does not exist on aarch64.
        assert_eq!(number(Arch::Aarch64, "open"), None);
        assert_eq!(number(Arch::X86_64, "opne"), None);
        assert_eq!(name(Arch::X86_64, 3).as_deref(), Some("close"));
        assert_eq!(name(Arch::X86, 3).as_deref(), Some("read"));
    }

    #[test]
    fn base_syscalls_are_83_sorted_and_known_on_x86_64() {
        assert_eq!(BASE_SYSCALLS.len(), 83);
        assert!(BASE_SYSCALLS.windows(2).all(|w| w[0] < w[1]));
        for n in BASE_SYSCALLS {
            assert!(exists(Arch::X86_64, n), "{n}");
        }
    }

    #[test]
    fn table_matches_libseccomp() {
        let t = SyscallTable::new(Arch::X86_64);
        assert_eq!(t.name(0), Some("read"));
        assert_eq!(t.name(231), Some("exit_group"));
        assert_eq!(t.name(5000), None);
        let t32 = SyscallTable::new(Arch::X86);
        assert_eq!(t32.name(3), Some("read"));
    }
}
