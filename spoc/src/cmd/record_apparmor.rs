//! `spoc record --type apparmor|raw-apparmor|all` (CLI-06, CLI-07): the AppArmor half of a
//! recording.
//!
//! The eBPF recorder's AppArmor programs are raw tracepoints
//! (`spo_recorder::bpf::apparmor`), so unlike upstream no BPF LSM is needed. This module
//! switches them on, names the program and renders the outputs; `record.rs` runs the
//! command.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use spo_apparmor::record::{profile_from_observations, RecordOptions};
use spo_core::Version;
use spo_recorder::bpf::{Recorded, Recorder};
use spo_seccomp::SeccompProfile;

use crate::cli::{RecordArgs, RecordType};

/// True for the types that record AppArmor data.
pub fn wants_apparmor(t: RecordType) -> bool {
    matches!(
        t,
        RecordType::Apparmor | RecordType::RawApparmor | RecordType::All
    )
}

/// Default output file of the AppArmor types (weak point 1: raw AppArmor is `.apparmor`).
pub fn default_output(t: RecordType) -> &'static str {
    match t {
        RecordType::RawApparmor => "/tmp/profile.apparmor",
        RecordType::RawSeccomp => "/tmp/profile.json",
        _ => "/tmp/profile.yaml",
    }
}

/// `--recorder logs` records syscalls only.
#[cfg(feature = "libseccomp")]
pub fn refuse_logs(args: &RecordArgs) -> Result<()> {
    if wants_apparmor(args.record_type) {
        bail!(
            "--type {} needs the eBPF recorder (--recorder bpf): audit logs carry syscalls only",
            type_name(args.record_type)
        );
    }
    Ok(())
}

#[cfg(feature = "libseccomp")]
fn type_name(t: RecordType) -> &'static str {
    match t {
        RecordType::Seccomp => "seccomp",
        RecordType::RawSeccomp => "raw-seccomp",
        RecordType::Apparmor => "apparmor",
        RecordType::RawApparmor => "raw-apparmor",
        RecordType::All => "all",
    }
}

/// Switches the recorder's AppArmor programs on.
pub fn enable(recorder: &mut Recorder) -> Result<()> {
    recorder
        .enable_apparmor()
        .context("cannot start AppArmor recording")
}

/// The absolute, symlink-resolved path of the recorded program (what AppArmor attaches a
/// profile by): `/proc/PID/exe` for `--pid`; else the command as the kernel will find it —
/// a name without `/` through `PATH` (not upstream's cwd-relative path, weak point 5), a
/// relative path against the cwd.
pub fn program_path(args: &RecordArgs) -> Option<PathBuf> {
    if let Some(pid) = args.pid {
        return std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    }
    let program = Path::new(args.command.first()?);
    let found = if program.as_os_str().as_encoded_bytes().contains(&b'/') {
        program.to_path_buf()
    } else {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| is_executable(p))?
    };
    std::fs::canonicalize(&found)
        .or_else(|_| std::path::absolute(&found))
        .ok()
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The file content for an AppArmor type: the AppArmorProfile YAML (`apparmor`), its policy
/// text named after the program's absolute path (`raw-apparmor`, CLI-06), or AppArmor YAML,
/// `---`, seccomp YAML (`all`, CLI-07).
pub fn render(
    t: RecordType,
    name: &str,
    program: Option<&Path>,
    rec: &Recorded,
    seccomp: &SeccompProfile,
) -> Result<String> {
    let program = program.map(|p| p.to_string_lossy().into_owned());
    let options = RecordOptions::default().with_program(program.clone());
    let observations = resolved(rec).observations();
    let profile = profile_from_observations(name, &observations, &options);
    Ok(match t {
        RecordType::RawApparmor => {
            let Some(program) = program.as_deref() else {
                bail!("cannot find the absolute path of the recorded program to name the profile");
            };
            spo_apparmor::render(&profile, Some(program))?
        }
        RecordType::All => {
            let aa = spo_core::to_yaml_stream(&[profile.to_manifest()?])?;
            let sc = seccomp.to_yaml(Version::V1)?;
            format!("{aa}---\n{sc}")
        }
        _ => spo_core::to_yaml_stream(&[profile.to_manifest()?])?,
    })
}

/// The recording with its paths resolved through symlinks (AppArmor mediates resolved
/// paths: `/bin/true` is `/usr/bin/true` on a merged-/usr system) — only when every recorded
/// process ran in spoc's own mount namespace, where the paths mean the same; a path that no
/// longer exists is kept as recorded.
fn resolved(rec: &Recorded) -> spo_recorder::bpf::AppArmorRecorded {
    let own = std::fs::read_link("/proc/self/ns/mnt").ok().and_then(|l| {
        let l = l.to_string_lossy().into_owned();
        l.strip_prefix("mnt:[")?
            .strip_suffix(']')?
            .parse::<u32>()
            .ok()
    });
    let same_ns = own.is_some_and(|own| rec.mount_namespaces().iter().all(|ns| *ns == own));
    let mut out = rec.apparmor.clone();
    if !same_ns {
        tracing::info!(
            "the recording left spoc's mount namespace: AppArmor paths kept as recorded"
        );
        return out;
    }
    out.files.clear();
    for (path, flags) in &rec.apparmor.files {
        let p = std::fs::canonicalize(path)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| path.clone());
        *out.files.entry(p).or_default() |= flags;
    }
    out
}

/// What the AppArmor recording saw, for the summary on stderr.
pub fn summary(rec: &Recorded) {
    let aa = &rec.apparmor;
    let (mut exec, mut files) = (0, 0);
    for flags in aa.files.values() {
        if flags & spo_recorder::bpf::abi::AA_EXEC != 0 {
            exec += 1;
        }
        files += 1;
    }
    eprintln!(
        "spoc: AppArmor: {files} path(s) ({exec} executed), {} capability(ies), sockets: {}",
        aa.capability_names().len(),
        socket_list(aa.sockets)
    );
    if aa.relative_paths > 0 {
        eprintln!(
            "spoc: AppArmor: {} open(s) of relative paths were not recorded (a tracepoint cannot \
             resolve them against the cwd or a directory fd)",
            aa.relative_paths
        );
    }
    if !aa.capabilities_recorded {
        eprintln!(
            "spoc: AppArmor: capabilities were not recorded (the kernel has no cap_capable \
             tracepoint, Linux >= 6.14)"
        );
    }
    if aa.dropped > 0 {
        eprintln!(
            "spoc: WARNING: {} AppArmor path(s) were lost (map full); the profile may be \
             incomplete",
            aa.dropped
        );
    }
}

fn socket_list(bits: u64) -> String {
    use spo_recorder::bpf::abi::{AA_SOCK_RAW, AA_SOCK_TCP, AA_SOCK_UDP};
    let names: Vec<&str> = [
        (AA_SOCK_RAW, "raw"),
        (AA_SOCK_TCP, "tcp"),
        (AA_SOCK_UDP, "udp"),
    ]
    .into_iter()
    .filter(|(b, _)| bits & b != 0)
    .map(|(_, n)| n)
    .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
