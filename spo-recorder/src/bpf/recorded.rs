//! What one recording observed, independent of how it was loaded.

use std::collections::{BTreeMap, BTreeSet};

use spo_core::Arch;
use spo_seccomp::syscalls::SyscallTable;

use super::abi::Abi;

/// The syscalls one target made, per ABI and mount namespace (RC-37), plus loss counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// `(abi, mount namespace inode) → syscall numbers`.
    pub by_mntns: BTreeMap<(Abi, u32), BTreeSet<u32>>,
    /// Syscalls that could not be recorded because the kernel map was full (0 unless more
    /// than 4096 (ABI, mount namespace) pairs were seen at once).
    pub dropped: u64,
    /// Syscalls made with a number outside 0..1024 (invalid numbers; not part of a profile).
    pub invalid_numbers: u64,
    /// AppArmor data (files, capabilities, sockets) when AppArmor recording is enabled
    /// ([`crate::bpf::Recorder::enable_apparmor`]); not split by mount namespace.
    pub apparmor: super::apparmor::AppArmorRecorded,
}

/// Names of a recording, per seccomp architecture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// `arch → syscall names` (sorted).
    pub by_arch: BTreeMap<Arch, BTreeSet<String>>,
    /// Numbers no name is known for, per arch (kept out of the profile, reported).
    pub unknown: BTreeMap<Arch, BTreeSet<u32>>,
}

impl Names {
    /// Every name over all architectures (a seccomp profile lists names once and libseccomp
    /// resolves them for each listed architecture).
    pub fn all(&self) -> BTreeSet<String> {
        self.by_arch.values().flatten().cloned().collect()
    }

    /// The architectures seen, native first.
    pub fn arches(&self, native: Arch) -> Vec<Arch> {
        let native = native.resolved();
        let mut out = vec![native];
        out.extend(self.by_arch.keys().copied().filter(|a| *a != native));
        out
    }
}

impl Recorded {
    /// The numbers per ABI, over all mount namespaces.
    pub fn numbers(&self) -> BTreeMap<Abi, BTreeSet<u32>> {
        let mut out: BTreeMap<Abi, BTreeSet<u32>> = BTreeMap::new();
        for ((abi, _), nrs) in &self.by_mntns {
            out.entry(*abi).or_default().extend(nrs);
        }
        out
    }

    /// The mount namespaces seen.
    pub fn mount_namespaces(&self) -> BTreeSet<u32> {
        self.by_mntns.keys().map(|(_, ns)| *ns).collect()
    }

    /// The same recording without the given mount namespace (RC-37: the operator excludes
    /// the host's).
    pub fn without_mntns(&self, mntns: u32) -> Recorded {
        Recorded {
            by_mntns: self
                .by_mntns
                .iter()
                .filter(|((_, ns), _)| *ns != mntns)
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            ..self.clone()
        }
    }

    /// Only the given mount namespace.
    pub fn only_mntns(&self, mntns: u32) -> Recorded {
        Recorded {
            by_mntns: self
                .by_mntns
                .iter()
                .filter(|((_, ns), _)| *ns == mntns)
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            ..self.clone()
        }
    }

    /// Names per architecture for a kernel of arch `native`: native numbers are named with
    /// the native table, compat numbers with the 32-bit table (a compat `getpid` = 20 is
    /// `getpid` on SCMP_ARCH_X86, not x86_64's 20 = `writev`).
    pub fn names(&self, native: Arch) -> Names {
        let mut names = Names::default();
        for (abi, nrs) in self.numbers() {
            let Some(arch) = abi.arch(native) else {
                continue;
            };
            let table = SyscallTable::new(arch);
            for nr in nrs {
                match table.name(u64::from(nr)) {
                    Some(n) => {
                        names.by_arch.entry(arch).or_default().insert(n.to_string());
                    }
                    None => {
                        names.unknown.entry(arch).or_default().insert(nr);
                    }
                }
            }
        }
        names
    }

    /// Adds another recording (same target, e.g. a later snapshot).
    pub fn merge(&mut self, other: &Recorded) {
        for (k, v) in &other.by_mntns {
            self.by_mntns.entry(*k).or_default().extend(v);
        }
        self.dropped += other.dropped;
        self.invalid_numbers += other.invalid_numbers;
        self.apparmor.merge(&other.apparmor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: RC-37 (per mount namespace), compat naming
    #[test]
    fn compat_numbers_are_named_with_the_32_bit_table() {
        let mut r = Recorded::default();
        r.by_mntns.insert((Abi::Native, 7), [0u32, 20].into());
        r.by_mntns.insert((Abi::Compat, 7), [20u32].into());
        r.by_mntns.insert((Abi::Native, 9), [39u32, 1000].into());
        let n = r.names(Arch::X86_64);
        let x64: Vec<_> = n.by_arch[&Arch::X86_64].iter().cloned().collect();
        assert_eq!(x64, ["getpid", "read", "writev"]);
        let x86: Vec<_> = n.by_arch[&Arch::X86].iter().cloned().collect();
        assert_eq!(x86, ["getpid"]);
        assert_eq!(n.unknown[&Arch::X86_64], [1000u32].into());
        assert_eq!(n.arches(Arch::X86_64), [Arch::X86_64, Arch::X86]);
        assert_eq!(r.mount_namespaces(), [7u32, 9].into());
        assert_eq!(
            r.without_mntns(9).numbers()[&Abi::Native],
            [0u32, 20].into()
        );
        assert_eq!(
            r.only_mntns(9).numbers()[&Abi::Native],
            [39u32, 1000].into()
        );
    }
}
