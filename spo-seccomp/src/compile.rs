//! Compiling a spec into a BPF program with libseccomp, and loading it into a child.
//!
//! The filter is built and exported in the parent; only the final two system calls
//! (`prctl(PR_SET_NO_NEW_PRIVS)` and `seccomp(SECCOMP_SET_MODE_FILTER)`) run in the child
//! between `fork` and `exec`, with no allocation, because a seccomp filter can never be
//! removed from a process again.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::process::Command;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use spo_core::Arch;

use crate::error::SeccompError;
use crate::model::{Action, Arg, ArgOp, Flag, SeccompSpec};

/// Rules from which the binary-tree optimisation is switched on.
pub const TREE_THRESHOLD: usize = 8;

const SECCOMP_FILTER_FLAG_TSYNC: u32 = 1;
const SECCOMP_FILTER_FLAG_LOG: u32 = 2;
const SECCOMP_FILTER_FLAG_SPEC_ALLOW: u32 = 4;
const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: u32 = 32;
const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;

/// A compiled filter: classic BPF instructions and the kernel flags to load them with.
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    insns: Vec<libc::sock_filter>,
    flags: u32,
}

fn errno_of(e: Option<u32>) -> i32 {
    e.and_then(|e| i32::try_from(e).ok()).unwrap_or(libc::EPERM)
}

fn scmp_action(action: Action, errno: Option<u32>) -> ScmpAction {
    match action {
        Action::Kill | Action::KillThread => ScmpAction::KillThread,
        Action::KillProcess => ScmpAction::KillProcess,
        Action::Trap => ScmpAction::Trap,
        Action::Errno => ScmpAction::Errno(errno_of(errno)),
        Action::Trace => ScmpAction::Trace(u16::try_from(errno_of(errno)).unwrap_or(1)),
        Action::Allow => ScmpAction::Allow,
        Action::Log => ScmpAction::Log,
        Action::Notify => ScmpAction::Notify,
    }
}

fn scmp_cmp(index: u32, op: ArgOp, value: u64, value_two: u64) -> ScmpArgCompare {
    let (op, datum) = match op {
        ArgOp::NotEqual => (ScmpCompareOp::NotEqual, value),
        ArgOp::Less => (ScmpCompareOp::Less, value),
        ArgOp::LessOrEqual => (ScmpCompareOp::LessOrEqual, value),
        ArgOp::Equal => (ScmpCompareOp::Equal, value),
        ArgOp::GreaterOrEqual => (ScmpCompareOp::GreaterEqual, value),
        ArgOp::Greater => (ScmpCompareOp::Greater, value),
        // OCI: `value` is the mask, `valueTwo` the value compared after masking.
        ArgOp::MaskedEqual => (ScmpCompareOp::MaskedEqual(value), value_two),
    };
    ScmpArgCompare::new(index, op, datum)
}

fn lib(what: impl Into<String>) -> impl FnOnce(libseccomp::error::SeccompError) -> SeccompError {
    let what = what.into();
    move |source| SeccompError::Libseccomp { what, source }
}

/// Adds one rule. libseccomp refuses (EEXIST) a rule whose syscall and conditions another
/// rule already decides with a different action: the profile then has conflicting actions
/// (the `conflicting-actions` lint), the first rule wins — as in the runtimes, which add the
/// rules in order — and the filter is still built.
fn add_rule(
    ctx: &mut ScmpFilterContext,
    action: ScmpAction,
    sys: ScmpSyscall,
    cmps: &[ScmpArgCompare],
    what: impl Fn() -> String,
) -> Result<(), SeccompError> {
    match ctx.add_rule_conditional(action, sys, cmps) {
        Err(e) if e.errno() == Some(libseccomp::error::SeccompErrno::EEXIST) => {
            tracing::warn!(rule = %what(), "conflicts with an earlier rule of the same syscall; the earlier rule wins");
            Ok(())
        }
        r => r.map(|_| ()).map_err(lib(what())),
    }
}

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
        // An architecture newer than this match: let libseccomp pick the native one.
        _ => ScmpArch::Native,
    }
}

pub use crate::validate::BPF_MAXINSNS;

/// How a rule's syscall reaches libseccomp on one architecture.
pub(crate) fn syscall_for(arch: Arch, native: Arch, name: &str) -> Option<ScmpSyscall> {
    // libseccomp translates rule numbers from the native architecture to the others, so
    // a known name is always given as its native (or pseudo) number.
    if ScmpSyscall::from_name_by_arch(name, scmp_arch(arch)).is_ok() {
        return ScmpSyscall::from_name(name).ok();
    }
    // A name our table knows and this libseccomp does not: by number. libseccomp passes
    // numbers through untranslated only on the native architecture.
    if arch == native {
        let nr = crate::syscalls::number(arch, name)?;
        return i32::try_from(nr).ok().map(ScmpSyscall::from);
    }
    None
}

/// Builds one filter context for `arches` (all native, or all foreign).
fn build_context(
    spec: &SeccompSpec,
    arches: &[Arch],
    native: Arch,
    tree: Option<bool>,
) -> Result<ScmpFilterContext, SeccompError> {
    let default = match spec.default_action {
        Action::Errno => ScmpAction::Errno(errno_of(spec.default_errno_ret)),
        Action::Notify => {
            return Err(SeccompError::Unsupported(
                "SCMP_ACT_NOTIFY cannot be the default action".into(),
            ))
        }
        a => scmp_action(a, None),
    };
    let mut ctx = ScmpFilterContext::new(default).map_err(lib("create filter"))?;
    // Architectures must be in place before rules: rules are not copied to arches added later.
    for a in arches {
        if *a != native {
            ctx.add_arch(scmp_arch(*a))
                .map_err(lib(format!("add architecture {a}")))?;
        }
    }
    if !arches.contains(&native) {
        ctx.remove_arch(scmp_arch(Arch::Native))
            .map_err(lib("remove the native architecture"))?;
    }
    let rule_count: usize = spec.syscalls.iter().map(|s| s.names.len()).sum();
    if tree.unwrap_or(rule_count >= TREE_THRESHOLD) {
        ctx.set_ctl_optimize(2)
            .map_err(lib("enable binary-tree optimisation"))?;
    }
    // The same (name, action, errno, conditions) twice adds nothing; libseccomp's cost per
    // repeated rule grows with the rules already there, so repeats are skipped here.
    let mut added: HashSet<(&str, Action, Option<u32>, &[Arg])> = HashSet::new();
    for rule in &spec.syscalls {
        if rule.action == spec.default_action && rule.errno() == spec.default_errno_ret {
            continue;
        }
        let action = scmp_action(rule.action, rule.errno());
        let mut indices: Vec<u32> = rule.args.iter().map(|a| a.index).collect();
        indices.sort_unstable();
        let repeated = indices.windows(2).any(|w| w[0] == w[1]);
        let cmps: Vec<ScmpArgCompare> = rule
            .args
            .iter()
            .map(|a| scmp_cmp(a.index, a.op, a.value, a.value_two))
            .collect();
        for name in &rule.names {
            if !added.insert((
                name.as_str(),
                rule.action,
                rule.errno(),
                rule.args.as_slice(),
            )) {
                continue;
            }
            let present: Vec<Arch> = arches
                .iter()
                .copied()
                .filter(|a| crate::syscalls::exists(*a, name))
                .collect();
            if present.is_empty() {
                tracing::debug!(syscall = %name, "syscall absent on these architectures");
                continue;
            }
            let Some(sys) = present.iter().find_map(|a| syscall_for(*a, native, name)) else {
                tracing::warn!(
                    syscall = %name,
                    "the host's libseccomp does not know this syscall on a foreign architecture; left out there"
                );
                continue;
            };
            let what = || format!("add rule for {name:?} ({})", rule.action);
            if repeated {
                // Several conditions on one argument cannot be ANDed: each becomes its own
                // rule (OR), as OCI runtimes do.
                for c in &cmps {
                    add_rule(&mut ctx, action, sys, std::slice::from_ref(c), what)?;
                }
            } else {
                add_rule(&mut ctx, action, sys, &cmps, what)?;
            }
        }
    }
    Ok(ctx)
}

/// Builds the filter. Names absent on one of the architectures are skipped there (validation
/// reports them); rules whose action equals the default action are skipped, as runtimes do.
/// A name spo's table knows but the host's libseccomp does not is compiled by number on the
/// native architecture (libseccomp translates numbers for foreign ones only by name).
pub fn compile(spec: &SeccompSpec) -> Result<CompiledFilter, SeccompError> {
    // libseccomp's time grows faster than linearly with conditions on one syscall; a filter
    // the kernel would refuse anyway is refused before it is built.
    let at_least = crate::validate::bpf_lower_bound(spec);
    if at_least > BPF_MAXINSNS {
        return Err(SeccompError::TooLarge {
            instructions: at_least,
        });
    }
    let insns = build_program(spec, None)?;
    let mut flags = 0;
    for f in &spec.flags {
        flags |= match f {
            Flag::Tsync => SECCOMP_FILTER_FLAG_TSYNC,
            Flag::Log => SECCOMP_FILTER_FLAG_LOG,
            Flag::SpecAllow => SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            Flag::WaitKillableRecv => SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
        };
    }
    Ok(CompiledFilter { insns, flags })
}

/// The BPF program of `spec`: the native architecture in a context of its own (numbers pass
/// untranslated there), the foreign ones in another, merged by libseccomp. `tree` forces the
/// binary-tree layout on or off; `None` picks it from [`TREE_THRESHOLD`] rules on.
pub(crate) fn build_program(
    spec: &SeccompSpec,
    tree: Option<bool>,
) -> Result<Vec<libc::sock_filter>, SeccompError> {
    let arches = spec.effective_architectures();
    let native = Arch::native();
    let (here, foreign): (Vec<Arch>, Vec<Arch>) = arches.iter().partition(|a| **a == native);
    // The native architecture gets its own context (numbers pass untranslated there); the
    // foreign ones share one; libseccomp merges them into one program.
    let ctx = match (here.is_empty(), foreign.is_empty()) {
        (false, true) | (true, _) => build_context(spec, &arches, native, tree)?,
        (false, false) => {
            let mut main = build_context(spec, &here, native, tree)?;
            let other = build_context(spec, &foreign, native, tree)?;
            main.merge(other)
                .map_err(lib("merge the native and foreign filters"))?;
            main
        }
    };
    export(&ctx)
}

/// The kernel refuses programs longer than [`BPF_MAXINSNS`]: one violation per architecture
/// whose filter alone is too long, and one for the whole program when only the sum is, each
/// with the instruction count. Paths are relative to the spec.
pub fn size_violations(spec: &SeccompSpec) -> Result<spo_core::Violations, SeccompError> {
    let mut v = spo_core::Violations::new();
    let total = match compile(spec) {
        Ok(f) => f.len(),
        Err(SeccompError::TooLarge { instructions }) => {
            v.push(
                "syscalls",
                format!(
                    "the filter needs at least {instructions} BPF instructions; the kernel loads at most {BPF_MAXINSNS}"
                ),
            );
            return Ok(v);
        }
        Err(e) => return Err(e),
    };
    if total <= BPF_MAXINSNS {
        return Ok(v);
    }
    let arches = spec.effective_architectures();
    let mut single_over = false;
    if arches.len() > 1 {
        for a in &arches {
            let mut one = spec.clone();
            one.architectures = vec![*a];
            let n = compile(&one)?.len();
            if n > BPF_MAXINSNS {
                single_over = true;
                v.push(
                    "syscalls",
                    format!(
                        "the filter for {a} has {n} BPF instructions; the kernel loads at most {BPF_MAXINSNS}"
                    ),
                );
            }
        }
    }
    if !single_over {
        v.push(
            "syscalls",
            format!(
                "the filter has {total} BPF instructions; the kernel loads at most {BPF_MAXINSNS}"
            ),
        );
    }
    Ok(v)
}

/// Exports the BPF through a memfd (libseccomp 2.5 has no in-memory export).
pub(crate) fn export(ctx: &ScmpFilterContext) -> Result<Vec<libc::sock_filter>, SeccompError> {
    let io = |op: &'static str| {
        move |source| SeccompError::Io {
            op,
            path: "memfd:spo-seccomp-bpf".into(),
            source,
        }
    };
    let owned = rustix::fs::memfd_create(c"spo-seccomp-bpf", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(|e| io("memfd_create")(e.into()))?;
    let mut file = std::fs::File::from(owned);
    ctx.export_bpf(&mut file).map_err(lib("export BPF"))?;
    file.seek(SeekFrom::Start(0)).map_err(io("seek"))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io("read"))?;
    let size = std::mem::size_of::<libc::sock_filter>();
    Ok(bytes
        .chunks_exact(size)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

impl CompiledFilter {
    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// True when the program is empty (never the case for a compiled filter).
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The classic BPF program (for inspection and for tests that load it themselves).
    pub fn instructions(&self) -> &[libc::sock_filter] {
        &self.insns
    }

    /// The kernel `SECCOMP_FILTER_FLAG_*` bits the filter is loaded with.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Arranges for `cmd`'s child to load this filter right before `exec`. The parent is not
    /// affected. The command's own `execve` must be allowed by the profile.
    #[allow(unsafe_code)]
    pub fn apply_to_command(self, cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        let CompiledFilter { insns, flags } = self;
        // SAFETY: the closure runs between fork and exec and only issues two raw system calls
        // on memory owned by the closure (copied into the child by fork); no allocation,
        // no locks.
        unsafe {
            cmd.pre_exec(move || {
                let prog = libc::sock_fprog {
                    len: u16::try_from(insns.len()).unwrap_or(u16::MAX),
                    filter: insns.as_ptr().cast_mut(),
                };
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let rc = libc::syscall(
                    libc::SYS_seccomp,
                    SECCOMP_SET_MODE_FILTER,
                    libc::c_ulong::from(flags),
                    &prog as *const libc::sock_fprog,
                );
                if rc != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}
