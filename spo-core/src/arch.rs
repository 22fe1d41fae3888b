//! Seccomp architectures (`SCMP_ARCH_*`) and their kernel audit identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the 20 seccomp architecture names a SeccompProfile may list (SC-02).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum Arch {
    #[serde(rename = "SCMP_ARCH_NATIVE")]
    Native,
    #[serde(rename = "SCMP_ARCH_X86")]
    X86,
    #[serde(rename = "SCMP_ARCH_X86_64")]
    X86_64,
    #[serde(rename = "SCMP_ARCH_X32")]
    X32,
    #[serde(rename = "SCMP_ARCH_ARM")]
    Arm,
    #[serde(rename = "SCMP_ARCH_AARCH64")]
    Aarch64,
    #[serde(rename = "SCMP_ARCH_MIPS")]
    Mips,
    #[serde(rename = "SCMP_ARCH_MIPS64")]
    Mips64,
    #[serde(rename = "SCMP_ARCH_MIPS64N32")]
    Mips64N32,
    #[serde(rename = "SCMP_ARCH_MIPSEL")]
    Mipsel,
    #[serde(rename = "SCMP_ARCH_MIPSEL64")]
    Mipsel64,
    #[serde(rename = "SCMP_ARCH_MIPSEL64N32")]
    Mipsel64N32,
    #[serde(rename = "SCMP_ARCH_PPC")]
    Ppc,
    #[serde(rename = "SCMP_ARCH_PPC64")]
    Ppc64,
    #[serde(rename = "SCMP_ARCH_PPC64LE")]
    Ppc64Le,
    #[serde(rename = "SCMP_ARCH_S390")]
    S390,
    #[serde(rename = "SCMP_ARCH_S390X")]
    S390X,
    #[serde(rename = "SCMP_ARCH_PARISC")]
    Parisc,
    #[serde(rename = "SCMP_ARCH_PARISC64")]
    Parisc64,
    #[serde(rename = "SCMP_ARCH_RISCV64")]
    Riscv64,
}

/// `(arch, SCMP name, AUDIT_ARCH_* value)`; x32 shares x86_64's audit value and is told apart
/// by bit 30 of the syscall number.
const TABLE: [(Arch, &str, u32); 20] = [
    (Arch::Native, "SCMP_ARCH_NATIVE", 0),
    (Arch::X86, "SCMP_ARCH_X86", 0x4000_0003),
    (Arch::X86_64, "SCMP_ARCH_X86_64", 0xc000_003e),
    (Arch::X32, "SCMP_ARCH_X32", 0xc000_003e),
    (Arch::Arm, "SCMP_ARCH_ARM", 0x4000_0028),
    (Arch::Aarch64, "SCMP_ARCH_AARCH64", 0xc000_00b7),
    (Arch::Mips, "SCMP_ARCH_MIPS", 0x0000_0008),
    (Arch::Mips64, "SCMP_ARCH_MIPS64", 0x8000_0008),
    (Arch::Mips64N32, "SCMP_ARCH_MIPS64N32", 0xa000_0008),
    (Arch::Mipsel, "SCMP_ARCH_MIPSEL", 0x4000_0008),
    (Arch::Mipsel64, "SCMP_ARCH_MIPSEL64", 0xc000_0008),
    (Arch::Mipsel64N32, "SCMP_ARCH_MIPSEL64N32", 0xe000_0008),
    (Arch::Ppc, "SCMP_ARCH_PPC", 0x0000_0014),
    (Arch::Ppc64, "SCMP_ARCH_PPC64", 0x8000_0015),
    (Arch::Ppc64Le, "SCMP_ARCH_PPC64LE", 0xc000_0015),
    (Arch::S390, "SCMP_ARCH_S390", 0x0000_0016),
    (Arch::S390X, "SCMP_ARCH_S390X", 0x8000_0016),
    (Arch::Parisc, "SCMP_ARCH_PARISC", 0x0000_000f),
    (Arch::Parisc64, "SCMP_ARCH_PARISC64", 0x8000_000f),
    (Arch::Riscv64, "SCMP_ARCH_RISCV64", 0xc000_00f3),
];

/// Bit that marks an x32 syscall number on x86_64 (`__X32_SYSCALL_BIT`).
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

impl Arch {
    /// Every architecture, `Native` first.
    pub const ALL: [Arch; 20] = {
        let mut out = [Arch::Native; 20];
        let mut i = 0;
        while i < 20 {
            out[i] = TABLE[i].0;
            i += 1;
        }
        out
    };

    /// The `SCMP_ARCH_*` name.
    pub fn as_str(self) -> &'static str {
        TABLE[self as usize].1
    }

    /// The architecture this program was built for (what `SCMP_ARCH_NATIVE` means here).
    pub fn native() -> Arch {
        #[cfg(target_arch = "x86_64")]
        return Arch::X86_64;
        #[cfg(target_arch = "x86")]
        return Arch::X86;
        #[cfg(target_arch = "aarch64")]
        return Arch::Aarch64;
        #[cfg(target_arch = "arm")]
        return Arch::Arm;
        #[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
        return Arch::Ppc64Le;
        #[cfg(all(target_arch = "powerpc64", target_endian = "big"))]
        return Arch::Ppc64;
        #[cfg(target_arch = "s390x")]
        return Arch::S390X;
        #[cfg(target_arch = "riscv64")]
        return Arch::Riscv64;
        #[allow(unreachable_code)]
        Arch::Native
    }

    /// `Native` replaced by [`Arch::native`]; every other value unchanged.
    pub fn resolved(self) -> Arch {
        if self == Arch::Native {
            Arch::native()
        } else {
            self
        }
    }

    /// The kernel's `AUDIT_ARCH_*` value (the `arch=` field of audit records); `None` for
    /// `Native` before resolution.
    pub fn audit_arch(self) -> Option<u32> {
        match TABLE[self as usize].2 {
            0 => None,
            v => Some(v),
        }
    }

    /// The architecture of an audit record's `arch=` value and syscall number. On x86_64 a
    /// number with [`X32_SYSCALL_BIT`] set is an x32 call.
    pub fn from_audit(audit_arch: u32, syscall: u64) -> Option<Arch> {
        if audit_arch == 0xc000_003e {
            return Some(if syscall & u64::from(X32_SYSCALL_BIT) != 0 {
                Arch::X32
            } else {
                Arch::X86_64
            });
        }
        TABLE
            .iter()
            .find(|(a, _, v)| *v == audit_arch && *a != Arch::Native)
            .map(|(a, _, _)| *a)
    }

    /// The architecture for a Go `GOARCH` name as nodes report it (RC-19 node arch mapping).
    pub fn from_go_arch(go: &str) -> Option<Arch> {
        Some(match go {
            "amd64" => Arch::X86_64,
            "arm64" => Arch::Aarch64,
            "386" => Arch::X86,
            "arm" => Arch::Arm,
            "ppc64le" => Arch::Ppc64Le,
            "ppc64" => Arch::Ppc64,
            "s390x" => Arch::S390X,
            "riscv64" => Arch::Riscv64,
            "mips" => Arch::Mips,
            "mipsle" => Arch::Mipsel,
            "mips64" => Arch::Mips64,
            "mips64le" => Arch::Mipsel64,
            _ => return None,
        })
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Arch {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        TABLE
            .iter()
            .find(|(_, n, _)| *n == s)
            .map(|(a, _, _)| *a)
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_table_is_in_enum_order() {
        for (i, a) in Arch::ALL.iter().enumerate() {
            assert_eq!(*a as usize, i);
            assert_eq!(a.as_str().parse::<Arch>(), Ok(*a));
            let json = serde_json::to_string(a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.as_str()));
        }
    }

    #[test]
    fn audit_arch_distinguishes_compat_and_x32() {
        assert_eq!(Arch::from_audit(0xc000_003e, 3), Some(Arch::X86_64));
        assert_eq!(Arch::from_audit(0x4000_0003, 3), Some(Arch::X86));
        assert_eq!(Arch::from_audit(0xc000_003e, 0x4000_0003), Some(Arch::X32));
        assert_eq!(Arch::from_audit(0xc000_00b7, 64), Some(Arch::Aarch64));
        assert_eq!(Arch::from_audit(0x1234, 1), None);
        assert_eq!(Arch::from_go_arch("amd64"), Some(Arch::X86_64));
        assert_eq!(Arch::from_go_arch("wasm"), None);
    }
}
