//! The seccomp JSON of container runtimes: moby's `default.json` (Docker) and
//! containers/common's `seccomp.json` (Podman, CRI-O, Buildah), a superset of the OCI
//! `LinuxSeccomp` object.
//!
//! On top of OCI they add `archMap` (architectures per host architecture), per-rule
//! `includes` / `excludes` (by host architecture, capability and minimum kernel), `comment`,
//! and errno names (`defaultErrno`, `errno`). Such a profile means nothing until it is
//! evaluated for a [`Target`] — the architecture, the container's capabilities and the
//! kernel — which is what [`RuntimeProfile::evaluate`] does, the way those runtimes do it:
//!
//! - `archMap`: the entry whose `architecture` is the target's gives the architectures (that
//!   one and its `subArchitectures`); no entry → the native architecture only.
//! - A rule is dropped when `excludes.arches` names the target's architecture, when any of
//!   `excludes.caps` is held, or when the kernel is at least `excludes.minKernel`; and when
//!   `includes.arches` is set and does not name it, when any of `includes.caps` is missing,
//!   or when the kernel is older than `includes.minKernel`. Architectures in `includes` /
//!   `excludes` are Go's names (`amd64`, `arm64`, `s390x`, ...).
//! - `name` (the old single-name form) joins `names`; `errno` / `defaultErrno` names are
//!   used when the numeric `errnoRet` / `defaultErrnoRet` is absent.
//!
//! The result is a [`SeccompSpec`], the shape everything else in spo works on.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize};
use spo_core::{Arch, Violations};

use crate::model::{Action, Arg, Flag, ProfileState, SeccompSpec, Syscall};

/// Capabilities a container gets by default from Docker / containerd / CRI-O (the
/// `--caps` default of spoc): Docker's 14.
pub const DEFAULT_CAPS: [&str; 14] = [
    "CAP_AUDIT_WRITE",
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_MKNOD",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_RAW",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// What a runtime profile is evaluated for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// The host architecture (`SCMP_ARCH_*`).
    pub arch: Arch,
    /// The container's capabilities (`CAP_*`, upper case).
    pub caps: BTreeSet<String>,
    /// The kernel version `(major, minor)`.
    pub kernel: (u32, u32),
}

impl Target {
    /// A target with explicit values; capability names are normalised to `CAP_X`.
    pub fn new<S: AsRef<str>>(
        arch: Arch,
        caps: impl IntoIterator<Item = S>,
        kernel: (u32, u32),
    ) -> Self {
        Target {
            arch: arch.resolved(),
            caps: caps
                .into_iter()
                .map(|c| normalise_cap(c.as_ref()))
                .collect(),
            kernel,
        }
    }

    /// This host: native architecture, [`DEFAULT_CAPS`], the kernel release given by the
    /// caller (read `/proc/sys/kernel/osrelease` or `uname`; this crate does no I/O).
    pub fn host(kernel_release: &str) -> Self {
        Target::new(
            Arch::native(),
            DEFAULT_CAPS,
            parse_kernel(kernel_release).unwrap_or((0, 0)),
        )
    }
}

impl Default for Target {
    /// Native architecture, default capabilities, kernel 0.0 (every `minKernel` unmet).
    fn default() -> Self {
        Target::new(Arch::native(), DEFAULT_CAPS, (0, 0))
    }
}

/// `sys_admin`, `SYS_ADMIN` and `CAP_SYS_ADMIN` all become `CAP_SYS_ADMIN`.
pub fn normalise_cap(cap: &str) -> String {
    let up = cap.trim().to_ascii_uppercase();
    if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

/// `"6.18.0-1-amd64"` → `(6, 18)`; `None` when there is no `major.minor` prefix.
pub fn parse_kernel(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().splitn(3, ['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor_text: String = parts
        .next()
        .unwrap_or("0")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let minor = if minor_text.is_empty() {
        0
    } else {
        minor_text.parse().ok()?
    };
    Some((major, minor))
}

/// Go's `GOARCH` name of an architecture (what `includes.arches` / `excludes.arches` use).
pub fn go_arch(arch: Arch) -> &'static str {
    match arch.resolved() {
        Arch::X86 => "386",
        Arch::X86_64 => "amd64",
        Arch::X32 => "x32",
        Arch::Arm => "arm",
        Arch::Aarch64 => "arm64",
        Arch::Mips => "mips",
        Arch::Mipsel => "mipsle",
        Arch::Mips64 => "mips64",
        Arch::Mipsel64 => "mips64le",
        Arch::Mips64N32 => "mips64n32",
        Arch::Mipsel64N32 => "mipsle64n32",
        Arch::Ppc => "ppc",
        Arch::Ppc64 => "ppc64",
        Arch::Ppc64Le => "ppc64le",
        Arch::S390 => "s390",
        Arch::S390X => "s390x",
        Arch::Parisc => "parisc",
        Arch::Parisc64 => "parisc64",
        Arch::Riscv64 => "riscv64",
        _ => "unknown",
    }
}

/// An architecture by any of its usual names: `SCMP_ARCH_X86_64`, `x86_64`, Go's `amd64`,
/// `uname -m`'s `aarch64`, case-insensitive.
pub fn arch_from_name(name: &str) -> Option<Arch> {
    let up = name.trim().to_ascii_uppercase();
    if let Ok(a) = up.parse::<Arch>() {
        return Some(a.resolved());
    }
    if let Ok(a) = format!("SCMP_ARCH_{up}").parse::<Arch>() {
        return Some(a.resolved());
    }
    let low = up.to_ascii_lowercase();
    let alias = match low.as_str() {
        "i386" | "i686" => Arch::X86,
        "armv7l" | "armhf" => Arch::Arm,
        "arm64" => Arch::Aarch64,
        "ppc64el" => Arch::Ppc64Le,
        _ => Arch::ALL
            .into_iter()
            .filter(|a| *a != Arch::Native)
            .find(|a| go_arch(*a) == low)?,
    };
    Some(alias)
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn empty_str(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(str::is_empty)
}

/// One `archMap` entry. Names stay text: profiles list architectures spo does not model
/// (`SCMP_ARCH_LOONGARCH64`); they only matter when they are the target's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArchMapEntry {
    /// The host architecture (`SCMP_ARCH_*`).
    pub architecture: String,
    /// Architectures also allowed on that host.
    #[serde(default, deserialize_with = "null_default")]
    pub sub_architectures: Vec<String>,
}

/// `includes` / `excludes` of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Condition {
    /// Go architecture names.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arches: Vec<String>,
    /// Capabilities (`CAP_*`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub caps: Vec<String>,
    /// Minimum kernel, `major.minor`.
    #[serde(default, skip_serializing_if = "empty_str")]
    pub min_kernel: Option<String>,
}

impl Condition {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        self.arches.is_empty() && self.caps.is_empty() && empty_str(&self.min_kernel)
    }
}

/// One rule of a runtime profile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuntimeSyscall {
    /// The old single-name form.
    #[serde(default, skip_serializing_if = "empty_str")]
    pub name: Option<String>,
    /// Syscall names.
    #[serde(default, deserialize_with = "null_default")]
    pub names: Vec<String>,
    /// The action.
    pub action: Action,
    /// Errno for ERRNO/TRACE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    /// Errno by name (containers/common), used when `errnoRet` is absent.
    #[serde(default, skip_serializing_if = "empty_str")]
    pub errno: Option<String>,
    /// Argument conditions.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<Arg>,
    /// Free text.
    #[serde(default, skip_serializing_if = "empty_str")]
    pub comment: Option<String>,
    /// The rule applies only when all of these hold.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Condition::is_empty"
    )]
    pub includes: Condition,
    /// The rule is dropped when any of these holds.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Condition::is_empty"
    )]
    pub excludes: Condition,
}

/// A runtime seccomp profile (moby / containers-common / plain OCI JSON), as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuntimeProfile {
    /// SeccompProfile-only: kept so spo's own raw JSON reads back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ProfileState>,
    /// SeccompProfile-only: kept so spo's own raw JSON reads back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_profile_name: Option<String>,
    /// The action for syscalls no rule matches.
    pub default_action: Action,
    /// Errno of an ERRNO default action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    /// The same by name (containers/common), used when `defaultErrnoRet` is absent.
    #[serde(default, skip_serializing_if = "empty_str")]
    pub default_errno: Option<String>,
    /// Architectures (OCI form).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub architectures: Vec<Arch>,
    /// Architectures per host architecture (moby form).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arch_map: Vec<ArchMapEntry>,
    /// Seccomp agent socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_path: Option<String>,
    /// Seccomp agent data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_metadata: Option<String>,
    /// The rules.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub syscalls: Vec<RuntimeSyscall>,
    /// Filter flags.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub flags: Vec<Flag>,
}

/// Linux's generic errno names, index = number - 1 (x86, arm, arm64, riscv, s390, ppc;
/// MIPS, PA-RISC and SPARC number some differently).
const ERRNO_NAMES: [&str; 133] = [
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
    "",
    "ENOMSG",
    "EIDRM",
    "ECHRNG",
    "EL2NSYNC",
    "EL3HLT",
    "EL3RST",
    "ELNRNG",
    "EUNATCH",
    "ENOCSI",
    "EL2HLT",
    "EBADE",
    "EBADR",
    "EXFULL",
    "ENOANO",
    "EBADRQC",
    "EBADSLT",
    "",
    "EBFONT",
    "ENOSTR",
    "ENODATA",
    "ETIME",
    "ENOSR",
    "ENONET",
    "ENOPKG",
    "EREMOTE",
    "ENOLINK",
    "EADV",
    "ESRMNT",
    "ECOMM",
    "EPROTO",
    "EMULTIHOP",
    "EDOTDOT",
    "EBADMSG",
    "EOVERFLOW",
    "ENOTUNIQ",
    "EBADFD",
    "EREMCHG",
    "ELIBACC",
    "ELIBBAD",
    "ELIBSCN",
    "ELIBMAX",
    "ELIBEXEC",
    "EILSEQ",
    "ERESTART",
    "ESTRPIPE",
    "EUSERS",
    "ENOTSOCK",
    "EDESTADDRREQ",
    "EMSGSIZE",
    "EPROTOTYPE",
    "ENOPROTOOPT",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "EOPNOTSUPP",
    "EPFNOSUPPORT",
    "EAFNOSUPPORT",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ENETDOWN",
    "ENETUNREACH",
    "ENETRESET",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOBUFS",
    "EISCONN",
    "ENOTCONN",
    "ESHUTDOWN",
    "ETOOMANYREFS",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "EALREADY",
    "EINPROGRESS",
    "ESTALE",
    "EUCLEAN",
    "ENOTNAM",
    "ENAVAIL",
    "EISNAM",
    "EREMOTEIO",
    "EDQUOT",
    "ENOMEDIUM",
    "EMEDIUMTYPE",
    "ECANCELED",
    "ENOKEY",
    "EKEYEXPIRED",
    "EKEYREVOKED",
    "EKEYREJECTED",
    "EOWNERDEAD",
    "ENOTRECOVERABLE",
    "ERFKILL",
    "EHWPOISON",
];

/// The number of an errno name (`EPERM` → 1), with the usual aliases.
pub fn errno_number(name: &str) -> Option<u32> {
    let name = match name {
        "EWOULDBLOCK" => "EAGAIN",
        "EDEADLOCK" => "EDEADLK",
        "ENOTSUP" => "EOPNOTSUPP",
        n => n,
    };
    ERRNO_NAMES
        .iter()
        .position(|n| !n.is_empty() && *n == name)
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn kernel_at_least(target: (u32, u32), min: &str) -> Option<bool> {
    parse_kernel(min).map(|m| target >= m)
}

impl RuntimeProfile {
    /// True when the profile uses anything beyond OCI `LinuxSeccomp` (so it must be
    /// evaluated for a target and cannot be written back unchanged as a SeccompProfile).
    pub fn is_conditional(&self) -> bool {
        !self.arch_map.is_empty()
            || self
                .syscalls
                .iter()
                .any(|s| !s.includes.is_empty() || !s.excludes.is_empty())
    }

    /// Problems that make evaluation meaningless, with paths relative to the profile:
    /// `architectures` and `archMap` both set, unknown errno names, a `minKernel` that is not
    /// `major.minor`, an errno name that contradicts the number next to it.
    pub fn violations(&self) -> Violations {
        let mut v = Violations::new();
        if !self.architectures.is_empty() && !self.arch_map.is_empty() {
            v.push("archMap", "use either architectures or archMap, not both");
        }
        check_errno(
            &mut v,
            "defaultErrno",
            self.default_errno.as_deref(),
            self.default_errno_ret,
        );
        for (i, s) in self.syscalls.iter().enumerate() {
            let at = format!("syscalls[{i}]");
            if !empty_str(&s.name) && !s.names.is_empty() {
                v.push(format!("{at}.name"), "use either name or names, not both");
            }
            check_errno(
                &mut v,
                &format!("{at}.errno"),
                s.errno.as_deref(),
                s.errno_ret,
            );
            for (what, c) in [("includes", &s.includes), ("excludes", &s.excludes)] {
                if let Some(k) = c.min_kernel.as_deref().filter(|k| !k.is_empty()) {
                    if parse_kernel(k).is_none() {
                        v.push(
                            format!("{at}.{what}.minKernel"),
                            format!("{k:?} is not a kernel version (major.minor)"),
                        );
                    }
                }
            }
        }
        v
    }

    /// The profile as the runtime would apply it on `target`.
    pub fn evaluate(&self, target: &Target) -> SeccompSpec {
        self.clone().into_spec(target)
    }

    /// [`RuntimeProfile::evaluate`] without copying the rules.
    pub fn into_spec(self, target: &Target) -> SeccompSpec {
        let mut spec = SeccompSpec::new(self.default_action);
        spec.state = self.state;
        spec.base_profile_name = self.base_profile_name;
        spec.default_errno_ret = self
            .default_errno_ret
            .or_else(|| self.default_errno.as_deref().and_then(errno_number));
        spec.listener_path = self.listener_path;
        spec.listener_metadata = self.listener_metadata;
        spec.flags = self.flags;
        spec.architectures = if self.arch_map.is_empty() {
            self.architectures
        } else {
            let want = target.arch.as_str();
            let mut out: Vec<Arch> = Vec::new();
            for e in self.arch_map.iter().filter(|e| e.architecture == want) {
                for name in std::iter::once(&e.architecture).chain(&e.sub_architectures) {
                    if let Ok(a) = name.parse::<Arch>() {
                        if !out.contains(&a) {
                            out.push(a);
                        }
                    }
                }
            }
            if out.is_empty() && target.arch != Arch::native() {
                out.push(target.arch);
            }
            out
        };
        spec.syscalls = self
            .syscalls
            .into_iter()
            .filter(|s| applies(s, target))
            .map(|s| {
                let mut names = s.names;
                if let Some(n) = s.name.as_deref().filter(|n| !n.is_empty()) {
                    names.insert(0, n.to_string());
                }
                Syscall {
                    names,
                    action: s.action,
                    errno_ret: s
                        .errno_ret
                        .or_else(|| s.errno.as_deref().and_then(errno_number)),
                    args: s.args,
                }
            })
            .collect();
        spec
    }
}

fn check_errno(v: &mut Violations, path: &str, name: Option<&str>, number: Option<u32>) {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return;
    };
    match errno_number(name) {
        None => v.push(path, format!("unknown errno name {name:?}")),
        Some(n) => {
            if let Some(num) = number.filter(|num| *num != n) {
                v.push(
                    path,
                    format!("{name} is {n}, but the number next to it says {num}"),
                );
            }
        }
    }
}

fn applies(s: &RuntimeSyscall, t: &Target) -> bool {
    let arch = go_arch(t.arch);
    let ex = &s.excludes;
    if ex.arches.iter().any(|a| a == arch)
        || ex.caps.iter().any(|c| t.caps.contains(&normalise_cap(c)))
        || ex
            .min_kernel
            .as_deref()
            .filter(|k| !k.is_empty())
            .and_then(|k| kernel_at_least(t.kernel, k))
            .unwrap_or(false)
    {
        return false;
    }
    let inc = &s.includes;
    if !inc.arches.is_empty() && !inc.arches.iter().any(|a| a == arch) {
        return false;
    }
    if !inc.caps.iter().all(|c| t.caps.contains(&normalise_cap(c))) {
        return false;
    }
    if let Some(k) = inc.min_kernel.as_deref().filter(|k| !k.is_empty()) {
        if !kernel_at_least(t.kernel, k).unwrap_or(false) {
            return false;
        }
    }
    true
}

impl From<&SeccompSpec> for RuntimeProfile {
    /// The plain OCI form of a spec (nothing conditional).
    fn from(spec: &SeccompSpec) -> Self {
        RuntimeProfile {
            state: spec.state,
            base_profile_name: spec.base_profile_name.clone(),
            default_action: spec.default_action,
            default_errno_ret: spec.default_errno_ret,
            default_errno: None,
            architectures: spec.architectures.clone(),
            arch_map: Vec::new(),
            listener_path: spec.listener_path.clone(),
            listener_metadata: spec.listener_metadata.clone(),
            syscalls: spec
                .syscalls
                .iter()
                .map(|s| RuntimeSyscall {
                    names: s.names.clone(),
                    action: s.action,
                    errno_ret: s.errno_ret,
                    args: s.args.clone(),
                    ..RuntimeSyscall::default()
                })
                .collect(),
            flags: spec.flags.clone(),
        }
    }
}

/// Parses raw seccomp JSON — OCI `LinuxSeccomp`, or a moby / containers-common profile —
/// as written (see this module). Errors name the field path, line and column.
pub fn runtime_from_raw_json(text: &str) -> Result<RuntimeProfile, crate::error::SeccompError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        crate::error::SeccompError::RawJson {
            path: e.path().to_string(),
            line: inner.line(),
            column: inner.column(),
            message: strip_position(&inner.to_string()),
        }
    })
}

/// Parses raw seccomp JSON and evaluates it for `target` (a no-op for plain OCI JSON).
pub fn spec_from_raw_json_for(
    text: &str,
    target: &Target,
) -> Result<SeccompSpec, crate::error::SeccompError> {
    Ok(runtime_from_raw_json(text)?.evaluate(target))
}

/// Parses raw seccomp JSON for [`Target::default`] (native architecture,
/// the runtimes' default capabilities, every `minKernel` unmet). Use
/// [`spec_from_raw_json_for`] to choose the target.
pub fn spec_from_raw_json(text: &str) -> Result<SeccompSpec, crate::error::SeccompError> {
    spec_from_raw_json_for(text, &Target::default())
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_names() {
        assert_eq!(arch_from_name("SCMP_ARCH_AARCH64"), Some(Arch::Aarch64));
        assert_eq!(arch_from_name("aarch64"), Some(Arch::Aarch64));
        assert_eq!(arch_from_name("arm64"), Some(Arch::Aarch64));
        assert_eq!(arch_from_name("amd64"), Some(Arch::X86_64));
        assert_eq!(arch_from_name("x86_64"), Some(Arch::X86_64));
        assert_eq!(arch_from_name("s390x"), Some(Arch::S390X));
        assert_eq!(arch_from_name("vax"), None);
    }

    #[test]
    fn kernel_versions_parse() {
        assert_eq!(parse_kernel("6.18.0-1-amd64"), Some((6, 18)));
        assert_eq!(parse_kernel("4.8"), Some((4, 8)));
        assert_eq!(parse_kernel("5"), Some((5, 0)));
        assert_eq!(parse_kernel("x"), None);
    }

    #[test]
    fn errno_names() {
        assert_eq!(errno_number("EPERM"), Some(1));
        assert_eq!(errno_number("ENOSYS"), Some(38));
        assert_eq!(errno_number("EINVAL"), Some(22));
        assert_eq!(errno_number("ENOTSUP"), Some(95));
        assert_eq!(errno_number("EHWPOISON"), Some(133));
        assert_eq!(errno_number("EBOGUS"), None);
        assert_eq!(errno_number(""), None);
    }

    fn rule(json: &str) -> RuntimeSyscall {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn includes_and_excludes_follow_moby() {
        let t = Target::new(Arch::X86_64, ["CAP_CHOWN"], (5, 10));
        assert!(applies(
            &rule(r#"{"names":["a"],"action":"SCMP_ACT_ALLOW"}"#),
            &t
        ));
        assert!(applies(
            &rule(
                r#"{"names":["a"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["amd64","x32"]}}"#
            ),
            &t
        ));
        assert!(!applies(
            &rule(r#"{"names":["a"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64"]}}"#),
            &t
        ));
        // includes.caps: all must be held; excludes.caps: any held excludes.
        assert!(!applies(
            &rule(
                r#"{"names":["a"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_CHOWN","CAP_SYS_ADMIN"]}}"#
            ),
            &t
        ));
        assert!(!applies(
            &rule(
                r#"{"names":["a"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_SYS_ADMIN","CAP_CHOWN"]}}"#
            ),
            &t
        ));
        assert!(applies(
            &rule(r#"{"names":["a"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4.8"}}"#),
            &t
        ));
        assert!(!applies(
            &rule(r#"{"names":["a"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"5.11"}}"#),
            &t
        ));
        assert!(!applies(
            &rule(r#"{"names":["a"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"5.10"}}"#),
            &t
        ));
    }

    #[test]
    fn arch_map_picks_the_targets_entry() {
        let p: RuntimeProfile = serde_json::from_str(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","archMap":[
                {"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]},
                {"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]},
                {"architecture":"SCMP_ARCH_LOONGARCH64","subArchitectures":null}]}"#,
        )
        .unwrap();
        let t = Target::new(Arch::Aarch64, DEFAULT_CAPS, (6, 1));
        assert_eq!(p.evaluate(&t).architectures, [Arch::Aarch64, Arch::Arm]);
        let t = Target::new(Arch::X86_64, DEFAULT_CAPS, (6, 1));
        assert_eq!(
            p.evaluate(&t).architectures,
            [Arch::X86_64, Arch::X86, Arch::X32]
        );
    }

    #[test]
    fn errno_names_fill_missing_numbers_and_contradictions_are_reported() {
        let p: RuntimeProfile = serde_json::from_str(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrno":"ENOSYS","syscalls":[
                {"names":["a"],"action":"SCMP_ACT_ERRNO","errno":"EINVAL"},
                {"names":["b"],"action":"SCMP_ACT_ERRNO","errno":"EPERM","errnoRet":2},
                {"name":"c","names":["d"],"action":"SCMP_ACT_ALLOW","errno":"EBOGUS"}]}"#,
        )
        .unwrap();
        let s = p.evaluate(&Target::default());
        assert_eq!(s.default_errno_ret, Some(38));
        assert_eq!(s.syscalls[0].errno_ret, Some(22));
        assert_eq!(s.syscalls[2].names, ["c", "d"]);
        let v = p.violations();
        let paths: Vec<&str> = v.as_slice().iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            ["syscalls[1].errno", "syscalls[2].name", "syscalls[2].errno"],
            "{v}"
        );
    }
}
