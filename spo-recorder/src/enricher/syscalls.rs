//! Syscall number → name with the record's own architecture (an i386 record is not an
//! x86_64 syscall): one dense table per architecture, built on first use.

use spo_core::Arch;
use spo_seccomp::syscalls::SyscallTable;

/// Lazily built [`SyscallTable`]s, one per architecture.
#[derive(Debug, Default)]
pub struct SyscallNames {
    tables: Vec<Option<SyscallTable>>,
}

impl SyscallNames {
    /// No table built yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The architecture of a record: its `arch=` (`0` = absent → the native one).
    pub fn arch_of(audit_arch: u32, nr: u64) -> Option<Arch> {
        if audit_arch == 0 {
            return Some(Arch::native());
        }
        Arch::from_audit(audit_arch, nr)
    }

    /// The name of syscall `nr` of a record with `arch=audit_arch`.
    pub fn name(&mut self, audit_arch: u32, nr: u64) -> Option<&str> {
        let arch = Self::arch_of(audit_arch, nr)?;
        let i = arch as usize;
        if self.tables.len() <= i {
            self.tables.resize_with(i + 1, || None);
        }
        self.tables[i]
            .get_or_insert_with(|| SyscallTable::new(arch))
            .name(nr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_record_arch() {
        let mut n = SyscallNames::new();
        // x86_64 3 = close; i386 (0x40000003) 3 = read; aarch64 (0xc00000b7) 63 = read.
        assert_eq!(n.name(0xc000_003e, 3), Some("close"));
        assert_eq!(n.name(0x4000_0003, 3), Some("read"));
        assert_eq!(n.name(0xc000_00b7, 63), Some("read"));
        assert_eq!(n.name(0xc000_003e, 5000), None);
        assert_eq!(n.name(0x1234_5678, 1), None);
    }
}
