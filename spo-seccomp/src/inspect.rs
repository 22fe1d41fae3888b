//! What a compiled filter costs (issue 11): its length, and how many BPF instructions a
//! syscall executes, in libseccomp's linear layout and in its binary-tree layout. The counts
//! come from running the compiled classic-BPF program in [`run`], an interpreter of the
//! instructions libseccomp emits, on the call's `seccomp_data` — not from an estimate.
//!
//! ```
//! use spo_seccomp::{inspect::{inspect_syscall, Layout}, Action, SeccompSpec, Syscall};
//! use spo_core::Arch;
//!
//! let mut spec = SeccompSpec::new(Action::Errno);
//! spec.architectures = vec![Arch::X86_64];
//! spec.syscalls = vec![Syscall::new(["read", "write", "close"], Action::Allow)];
//! let cost = inspect_syscall(&spec, Arch::X86_64, "read").unwrap();
//! assert!(cost.linear > 0 && cost.tree > 0);
//! assert_eq!(cost.action_linear, 0x7fff_0000); // SECCOMP_RET_ALLOW
//! # let _ = Layout::Linear;
//! ```

use serde::Serialize;
use spo_core::Arch;

use crate::error::SeccompError;
use crate::model::SeccompSpec;

/// One classic BPF instruction (`struct sock_filter`).
pub type Insn = libc::sock_filter;

/// libseccomp's rule layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Layout {
    /// One comparison per syscall, in priority order (libseccomp's default).
    Linear,
    /// A binary search over syscall numbers (`SCMP_FLTATR_CTL_OPTIMIZE` = 2).
    Tree,
}

/// Builds the filter exactly as [`crate::compile::compile`] does (the same builder), but with
/// the layout chosen by the caller (`compile` picks the tree from 8 rules on).
pub fn build(spec: &SeccompSpec, layout: Layout) -> Result<Vec<Insn>, SeccompError> {
    crate::compile::build_program(spec, Some(layout == Layout::Tree))
}

/// The input of a seccomp filter (`struct seccomp_data`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeccompData {
    /// Syscall number (with the x32 bit on x32).
    pub nr: u32,
    /// `AUDIT_ARCH_*` value.
    pub arch: u32,
    /// Instruction pointer.
    pub instruction_pointer: u64,
    /// Arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    fn word(&self, off: u32) -> Option<u32> {
        let lo = |v: u64| (v & 0xffff_ffff) as u32;
        let hi = |v: u64| (v >> 32) as u32;
        Some(match off {
            0 => self.nr,
            4 => self.arch,
            8 => lo(self.instruction_pointer),
            12 => hi(self.instruction_pointer),
            16..=63 if off.is_multiple_of(4) => {
                let i = ((off - 16) / 8) as usize;
                let v = self.args[i];
                // Little-endian layout of the u64 arguments.
                if (off - 16).is_multiple_of(8) {
                    lo(v)
                } else {
                    hi(v)
                }
            }
            _ => return None,
        })
    }
}

/// Why a program could not be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// An instruction the seccomp BPF dialect does not have.
    #[error("instruction {pc}: unsupported opcode {code:#06x}")]
    Unsupported {
        /// Index of the instruction.
        pc: usize,
        /// Its opcode.
        code: u16,
    },
    /// A jump or load outside the program or the data.
    #[error("instruction {pc}: out of bounds")]
    OutOfBounds {
        /// Index of the instruction.
        pc: usize,
    },
}

/// The result of running a program: the `SECCOMP_RET_*` value and how many instructions ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Run {
    /// The return value (action in the high 16 bits, data in the low 16).
    pub ret: u32,
    /// Instructions executed, the return included.
    pub executed: usize,
}

/// Runs a classic BPF seccomp program on `data` (loads, ALU, jumps, returns, scratch memory).
pub fn run(prog: &[Insn], data: &SeccompData) -> Result<Run, RunError> {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    let mut executed = 0usize;
    loop {
        let insn = prog.get(pc).ok_or(RunError::OutOfBounds { pc })?;
        executed += 1;
        let code = insn.code;
        let k = insn.k;
        let oob = RunError::OutOfBounds { pc };
        let class = code & 0x07;
        match class {
            // BPF_LD
            0x00 => {
                a = match code & 0xe0 {
                    0x20 => data.word(k).ok_or(oob)?,         // BPF_ABS
                    0x00 => k,                                // BPF_IMM
                    0x60 => *mem.get(k as usize).ok_or(oob)?, // BPF_MEM
                    0x80 => 64,                               // BPF_LEN: sizeof(seccomp_data)
                    _ => return Err(RunError::Unsupported { pc, code }),
                };
            }
            // BPF_LDX
            0x01 => {
                x = match code & 0xe0 {
                    0x00 => k,
                    0x60 => *mem.get(k as usize).ok_or(oob)?,
                    0x80 => 64,
                    _ => return Err(RunError::Unsupported { pc, code }),
                };
            }
            // BPF_ST / BPF_STX
            0x02 => *mem.get_mut(k as usize).ok_or(oob)? = a,
            0x03 => *mem.get_mut(k as usize).ok_or(oob)? = x,
            // BPF_ALU
            0x04 => {
                let src = if code & 0x08 != 0 { x } else { k };
                a = match code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 => a.checked_div(src).ok_or(oob)?,
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.checked_shl(src).unwrap_or(0),
                    0x70 => a.checked_shr(src).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => a.checked_rem(src).ok_or(oob)?,
                    0xa0 => a ^ src,
                    _ => return Err(RunError::Unsupported { pc, code }),
                };
            }
            // BPF_JMP
            0x05 => {
                let src = if code & 0x08 != 0 { x } else { k };
                let next = pc + 1;
                pc = match code & 0xf0 {
                    0x00 => next + k as usize, // BPF_JA
                    op => {
                        let taken = match op {
                            0x10 => a == src,
                            0x20 => a > src,
                            0x30 => a >= src,
                            0x40 => a & src != 0,
                            _ => return Err(RunError::Unsupported { pc, code }),
                        };
                        next + usize::from(if taken { insn.jt } else { insn.jf })
                    }
                };
                continue;
            }
            // BPF_RET
            0x06 => {
                let ret = match code & 0x18 {
                    0x00 => k,
                    0x10 => a,
                    _ => return Err(RunError::Unsupported { pc, code }),
                };
                return Ok(Run { ret, executed });
            }
            // BPF_MISC
            0x07 => {
                if code & 0xf8 == 0x00 {
                    x = a; // TAX
                } else {
                    a = x; // TXA
                }
            }
            _ => return Err(RunError::Unsupported { pc, code }),
        }
        pc += 1;
    }
}

/// What one syscall costs on one architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyscallCost {
    /// The syscall.
    pub syscall: String,
    /// Its number on the architecture.
    pub nr: u32,
    /// Instructions executed in the linear layout (arguments all zero).
    pub linear: usize,
    /// Instructions executed in the binary-tree layout.
    pub tree: usize,
    /// The `SECCOMP_RET_*` value in the linear layout.
    pub action_linear: u32,
    /// The `SECCOMP_RET_*` value in the tree layout (always the same).
    pub action_tree: u32,
}

/// The sizes of a profile's filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterSize {
    /// Length of the whole filter in the linear layout.
    pub linear: usize,
    /// Length of the whole filter in the tree layout.
    pub tree: usize,
    /// The layout `compile` (and so `spoc run`) uses.
    pub used: Layout,
    /// Per architecture: the length of a filter for that architecture alone (linear, tree).
    pub per_arch: Vec<(Arch, usize, usize)>,
}

/// The layout `compile` picks.
pub fn default_layout(spec: &SeccompSpec) -> Layout {
    let rules: usize = spec.syscalls.iter().map(|s| s.names.len()).sum();
    if rules >= crate::compile::TREE_THRESHOLD {
        Layout::Tree
    } else {
        Layout::Linear
    }
}

/// Filter lengths, whole and per architecture.
pub fn filter_size(spec: &SeccompSpec) -> Result<FilterSize, SeccompError> {
    let mut per_arch = Vec::new();
    for a in spec.effective_architectures() {
        let mut one = spec.clone();
        one.architectures = vec![a];
        per_arch.push((
            a,
            build(&one, Layout::Linear)?.len(),
            build(&one, Layout::Tree)?.len(),
        ));
    }
    Ok(FilterSize {
        linear: build(spec, Layout::Linear)?.len(),
        tree: build(spec, Layout::Tree)?.len(),
        used: default_layout(spec),
        per_arch,
    })
}

fn data_for(arch: Arch, nr: u32) -> SeccompData {
    let nr = if arch.resolved() == Arch::X32 {
        nr | spo_core::arch::X32_SYSCALL_BIT
    } else {
        nr
    };
    SeccompData {
        nr,
        arch: arch.resolved().audit_arch().unwrap_or(0),
        instruction_pointer: 0,
        args: [0; 6],
    }
}

/// What `name` costs on `arch` in both layouts of the whole filter; `None` when the syscall
/// does not exist there.
pub fn inspect_syscall(spec: &SeccompSpec, arch: Arch, name: &str) -> Option<SyscallCost> {
    let lin = build(spec, Layout::Linear).ok()?;
    let tree = build(spec, Layout::Tree).ok()?;
    cost(&lin, &tree, arch, name)
}

fn cost(lin: &[Insn], tree: &[Insn], arch: Arch, name: &str) -> Option<SyscallCost> {
    let nr = crate::syscalls::number(arch, name)?;
    let d = data_for(arch, nr & !spo_core::arch::X32_SYSCALL_BIT);
    let l = run(lin, &d).ok()?;
    let t = run(tree, &d).ok()?;
    Some(SyscallCost {
        syscall: name.to_string(),
        nr,
        linear: l.executed,
        tree: t.executed,
        action_linear: l.ret,
        action_tree: t.ret,
    })
}

/// Costs of every syscall the profile names, per architecture.
pub fn inspect_all(spec: &SeccompSpec) -> Result<Vec<(Arch, Vec<SyscallCost>)>, SeccompError> {
    let lin = build(spec, Layout::Linear)?;
    let tree = build(spec, Layout::Tree)?;
    let mut names: Vec<&String> = spec.syscalls.iter().flat_map(|r| &r.names).collect();
    names.sort();
    names.dedup();
    Ok(spec
        .effective_architectures()
        .into_iter()
        .map(|a| {
            let costs = names
                .iter()
                .filter_map(|n| cost(&lin, &tree, a, n))
                .collect();
            (a, costs)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, Arg, ArgOp, Syscall};

    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_ERRNO: u32 = 0x0005_0000;

    fn spec(n: usize) -> SeccompSpec {
        let mut s = SeccompSpec::new(Action::Errno);
        s.architectures = vec![Arch::X86_64];
        let names: Vec<String> = (0..n as u64)
            .filter_map(|nr| crate::syscalls::name(Arch::X86_64, nr))
            .collect();
        s.syscalls = vec![Syscall::new(names, Action::Allow)];
        s
    }

    #[test]
    fn build_matches_compile_byte_for_byte() {
        for n in [3, 40] {
            let mut s = spec(n);
            s.architectures.push(Arch::X86);
            let mut r = Syscall::new(["personality"], Action::Allow);
            r.args = vec![Arg {
                index: 0,
                value: 8,
                value_two: 0,
                op: ArgOp::Equal,
            }];
            s.syscalls.push(r);
            let compiled = crate::compile::compile(&s).unwrap();
            let mine = build(&s, default_layout(&s)).unwrap();
            let same = compiled.instructions().len() == mine.len()
                && compiled
                    .instructions()
                    .iter()
                    .zip(&mine)
                    .all(|(a, b)| (a.code, a.jt, a.jf, a.k) == (b.code, b.jt, b.jf, b.k));
            assert!(same, "{n} rules");
        }
    }

    #[test]
    fn walker_returns_the_profiles_actions() {
        let s = spec(100);
        let lin = build(&s, Layout::Linear).unwrap();
        let tree = build(&s, Layout::Tree).unwrap();
        for (name, expect) in [("read", RET_ALLOW), ("kexec_load", RET_ERRNO | 1)] {
            let c = cost(&lin, &tree, Arch::X86_64, name).unwrap();
            assert_eq!((c.action_linear, c.action_tree), (expect, expect), "{name}");
        }
        // Another architecture than the filter's is killed.
        let d = data_for(Arch::Aarch64, 63);
        let ret = run(&lin, &d).unwrap().ret;
        assert!(ret == 0 || ret == 0x8000_0000, "{ret:#x}"); // KILL_THREAD or KILL_PROCESS
    }

    #[test]
    fn tree_layout_is_shorter_to_walk_for_late_syscalls() {
        let s = spec(300);
        let lin = build(&s, Layout::Linear).unwrap();
        let tree = build(&s, Layout::Tree).unwrap();
        // A syscall the profile does not name walks the whole linear list.
        let miss = cost(&lin, &tree, Arch::X86_64, "kexec_load").unwrap();
        assert!(miss.linear > 100, "{miss:?}");
        assert!(miss.tree < miss.linear / 4, "{miss:?}");
        let size = filter_size(&s).unwrap();
        assert_eq!(size.used, Layout::Tree);
        assert_eq!(size.per_arch.len(), 1);
    }
}
