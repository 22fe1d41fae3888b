//! Rust mirrors of the structures shared with `bpf/recorder.bpf.c` (sizes asserted), and
//! the ABI → seccomp architecture mapping.

use spo_core::Arch;

/// Number of syscall slots per bitmap (the kernel's numbers stay below this on every
/// supported architecture; x32 numbers are stored without their marker bit).
pub const NR_SLOTS: usize = 1024;
/// Concurrent targets one loaded recorder can follow.
pub const MAX_TARGETS: usize = 64;
/// Distinct cgroup depths the program checks per syscall.
pub const MAX_LEVELS: usize = 4;
/// Counters per target in the `stats` map.
pub const STAT_MAX: u32 = 4;
/// `stats` index: syscalls lost because the bitmap map was full.
pub const STAT_DROPPED: u32 = 0;
/// `stats` index: syscall numbers outside 0..1024 (invalid numbers a program passed).
pub const STAT_BAD_NR: u32 = 1;
/// `stats` index: AppArmor paths lost because the `aa_paths` map was full.
pub const STAT_AA_DROPPED: u32 = 2;
/// `stats` index: relative paths (to a directory fd or the cwd) seen by the AppArmor
/// recorder; they are not recorded (a raw tracepoint cannot resolve them).
pub const STAT_AA_RELATIVE: u32 = 3;
/// Longest path the AppArmor recorder keeps (bytes, with the NUL); longer ones are cut.
pub const AA_PATH_MAX: usize = 256;
/// `aa_paths` flag: opened for reading.
pub const AA_READ: u64 = 1;
/// `aa_paths` flag: opened for writing (write access, `O_CREAT` or `O_TRUNC`).
pub const AA_WRITE: u64 = 2;
/// `aa_paths` flag: executed (a successful `execve`).
pub const AA_EXEC: u64 = 4;
/// `aa_slots.sockets` flag: a raw or packet socket.
pub const AA_SOCK_RAW: u64 = 1;
/// `aa_slots.sockets` flag: an IPv4/IPv6 stream socket.
pub const AA_SOCK_TCP: u64 = 2;
/// `aa_slots.sockets` flag: an IPv4/IPv6 datagram socket.
pub const AA_SOCK_UDP: u64 = 4;

/// Which syscall table a recorded number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Abi {
    /// The kernel's native table (x86_64 on an x86_64 kernel).
    Native,
    /// The 32-bit compat table (ia32 `int 0x80`/`sysenter` on x86_64).
    Compat,
    /// x32 (x86_64 with `__X32_SYSCALL_BIT`).
    X32,
}

impl Abi {
    /// From the value the BPF program stores.
    pub fn from_raw(v: u32) -> Option<Abi> {
        match v {
            0 => Some(Abi::Native),
            1 => Some(Abi::Compat),
            2 => Some(Abi::X32),
            _ => None,
        }
    }

    /// The seccomp architecture whose numbering this ABI uses on a kernel of `native` arch.
    /// `None` when the combination does not exist (e.g. x32 on aarch64).
    pub fn arch(self, native: Arch) -> Option<Arch> {
        match (self, native.resolved()) {
            (Abi::Native, a) => Some(a),
            (Abi::Compat, Arch::X86_64) => Some(Arch::X86),
            (Abi::Compat, Arch::Aarch64) => Some(Arch::Arm),
            (Abi::X32, Arch::X86_64) => Some(Arch::X32),
            _ => None,
        }
    }
}

/// `struct spo_config`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawConfig {
    /// Number of valid entries in `levels`.
    pub nlevels: u32,
    /// cgroup depths whose ancestor id is looked up in `targets`.
    pub levels: [u32; MAX_LEVELS],
}

/// `struct spo_target`: value of the `targets` map (cgroup id → target).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawTarget {
    /// Slot (index into `active` and `stats`, `target` of [`RawKey`]).
    pub slot: u32,
    /// Instance number of the recording in that slot (never reused by one loaded recorder).
    pub instance: u32,
}

/// Number of ABIs (bitmaps per cache entry).
pub const ABI_MAX: usize = 3;

/// `struct spo_cache`: per-CPU private bitmaps of the last target task seen on that CPU.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawCache {
    /// `task_struct` address (0 = empty).
    pub task: u64,
    /// pid/tgid of that task.
    pub pid_tgid: u64,
    /// Target slot.
    pub slot: u32,
    /// Target instance.
    pub instance: u32,
    /// Mount namespace inode number.
    pub mntns: u32,
    /// Value of the `nsgen` map when `mntns` was read.
    pub nsgen: u32,
    /// Bitmaps per [`Abi`].
    pub bits: [RawBitmap; ABI_MAX],
}

/// `struct spo_rec_key`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RawKey {
    /// Target slot.
    pub target: u32,
    /// [`Abi`] as stored.
    pub abi: u32,
    /// Mount namespace inode number.
    pub mntns: u32,
    /// Zero.
    pub pad: u32,
}

/// `struct spo_bitmap`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawBitmap {
    /// Bit `n` of the set = syscall number `n` was made.
    pub words: [u64; NR_SLOTS / 64],
}

impl Default for RawBitmap {
    fn default() -> Self {
        RawBitmap {
            words: [0; NR_SLOTS / 64],
        }
    }
}

impl RawBitmap {
    /// The syscall numbers set in the bitmap, ascending.
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(i, w)| {
            (0..64u32).filter_map(move |b| (w & (1u64 << b) != 0).then_some(i as u32 * 64 + b))
        })
    }
}

/// `struct spo_aa_key`: key of `aa_paths` (and value of `aa_exec`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAaKey {
    /// Target slot.
    pub slot: u32,
    /// Target instance.
    pub instance: u32,
    /// NUL-terminated path, zero-filled.
    pub path: [u8; AA_PATH_MAX],
}

impl RawAaKey {
    /// The path up to its NUL (lossy UTF-8).
    pub fn path(&self) -> String {
        let end = self
            .path
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(AA_PATH_MAX);
        String::from_utf8_lossy(&self.path[..end]).into_owned()
    }
}

/// `struct spo_aa_slot`: capabilities and sockets of one target.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawAaSlot {
    /// Bit `n` = capability `n` was checked.
    pub caps: u64,
    /// `AA_SOCK_*` flags.
    pub sockets: u64,
    /// Instance the data belongs to.
    pub instance: u32,
    /// Zero.
    pub pad: u32,
}

/// `struct spo_aa_config`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawAaConfig {
    /// Byte offset of `linux_binprm.filename` in the running kernel.
    pub binprm_filename: u32,
    /// 1 when the offset is known (else executables are not recorded).
    pub valid: u32,
    /// 1 when AppArmor recording is on (the syscall program then looks at opens/sockets).
    pub enabled: u32,
    /// Zero.
    pub pad: u32,
}

const _: () = assert!(std::mem::size_of::<RawAaConfig>() == 16);
const _: () = assert!(std::mem::size_of::<RawAaKey>() == 8 + AA_PATH_MAX);
const _: () = assert!(std::mem::size_of::<RawAaSlot>() == 24);
const _: () = assert!(std::mem::size_of::<RawConfig>() == 20);
const _: () = assert!(std::mem::size_of::<RawKey>() == 16);
const _: () = assert!(std::mem::size_of::<RawBitmap>() == 128);
const _: () = assert!(std::mem::size_of::<RawTarget>() == 8);
const _: () = assert!(std::mem::size_of::<RawCache>() == 32 + 3 * 128);

#[cfg(feature = "bpf")]
mod pod {
    // SAFETY: plain-old-data: repr(C), integer fields only, no padding.
    unsafe impl aya::Pod for super::RawConfig {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::RawKey {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::RawBitmap {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::RawTarget {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::RawCache {}
    // SAFETY: as above (u8 array, no padding: 8 + 256 bytes).
    unsafe impl aya::Pod for super::RawAaKey {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::RawAaSlot {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::RawAaConfig {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_numbers_are_ascending_set_bits() {
        let mut b = RawBitmap::default();
        for n in [0u32, 1, 63, 64, 200, 1023] {
            b.words[(n / 64) as usize] |= 1 << (n % 64);
        }
        assert_eq!(b.numbers().collect::<Vec<_>>(), [0, 1, 63, 64, 200, 1023]);
    }

    #[test]
    fn compat_abi_is_named_by_its_own_arch() {
        assert_eq!(Abi::Compat.arch(Arch::X86_64), Some(Arch::X86));
        assert_eq!(Abi::Native.arch(Arch::X86_64), Some(Arch::X86_64));
        assert_eq!(Abi::X32.arch(Arch::X86_64), Some(Arch::X32));
        assert_eq!(Abi::X32.arch(Arch::Aarch64), None);
        assert_eq!(Abi::from_raw(1), Some(Abi::Compat));
        assert_eq!(Abi::from_raw(9), None);
    }
}
