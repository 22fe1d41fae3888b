//! Recorded observations → `spec.abstract` (RC-21, recording.md §6.1).
//!
//! File paths are normalised (pids, tids, container ids, UUIDs, hashes and long digit runs
//! become variables or globs), filtered (runtime paths, deleted files), classified by how
//! they were used and then sorted. Every produced entry passes the same validation as
//! hand-written input, so a recorded profile always renders and compiles; a path that
//! still cannot be expressed is dropped with a log event.

use std::collections::{BTreeMap, BTreeSet};

use spo_core::events::{AppArmorObservation, FileUse, SocketUse};

use crate::capability::Capability;
use crate::model::{
    Abstract, AllowedProtocols, AppArmorProfile, CapabilityRules, ExecutableRules, FilesystemRules,
    NetworkRules,
};
use crate::path::{check_executable, Entry};

/// Mapped-executable paths that are covered by `abstractions/base` (not listed as libraries).
pub const KNOWN_LIBRARY_PREFIXES: [&str; 9] = [
    "/usr/lib32/locale/",
    "/usr/lib64/locale/",
    "/usr/lib32/gconv/",
    "/usr/lib64/gconv/",
    "/usr/lib/x86_64-linux-gnu/",
    "/lib/x86_64-linux-gnu/",
    "/lib64/",
    "/lib/tls/",
    "/usr/lib/tls/",
];

/// Read paths covered by `abstractions/base`.
pub const KNOWN_READ_PREFIXES: [&str; 10] = [
    "/dev/random",
    "/dev/urandom",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d/",
    "/etc/locale/",
    "/etc/locale.alias",
    "/etc/localtime",
    "/usr/share/locale/",
    "/usr/lib/locale/",
];

/// Write paths covered by `abstractions/base`.
pub const KNOWN_WRITE_PREFIXES: [&str; 1] = ["/dev/log"];

/// Paths of the container runtime itself, never part of a workload's profile.
pub const EXCLUDED_PREFIXES: [&str; 2] = [
    "/run/containerd/io.containerd.runtime.v2.task/k8s.io",
    "/usr/bin/runc",
];

/// Options of [`abstract_from_observations`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RecordOptions {
    /// The recorded program's own path: mapping it executable does not make it a library.
    pub program: Option<String>,
}

impl RecordOptions {
    /// Sets [`RecordOptions::program`].
    #[must_use]
    pub fn with_program(mut self, program: Option<String>) -> Self {
        self.program = program;
        self
    }
}

/// What normalisation made of one observed path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Normalized {
    /// Not part of the profile (runtime path, deleted file, inexpressible).
    Dropped,
    /// `/anon_hugepage (deleted)`: allow `/` read-write (huge pages workaround).
    HugePages,
    /// The normalised path.
    Path(String),
}

/// Normalises one observed path (§6.1).
pub fn normalize_path(raw: &str) -> Normalized {
    if raw == "/anon_hugepage (deleted)" {
        return Normalized::HugePages;
    }
    if raw.ends_with(" (deleted)") || !raw.starts_with('/') {
        return Normalized::Dropped;
    }
    let mut p = sanitize(raw);
    p = replace_prefix_number(&p, "/", "/@{pid}/");
    p = replace_prefix_number(&p, "/@{pid}/task/", "/@{pid}/task/@{tid}/");
    p = replace_prefix_number(&p, "/proc/", "/proc/@{pid}/");
    p = replace_prefix_number(&p, "/proc/@{pid}/task/", "/proc/@{pid}/task/@{tid}/");
    p = replace_overlay_ids(&p);
    p = replace_uuids(&p);
    p = replace_runs(&p, |c| c.is_ascii_hexdigit(), 32);
    p = replace_runs(&p, |c| c.is_ascii_digit(), 6);
    if p.starts_with("/sys/devices/") {
        p = "/sys/devices/**".to_string();
    }
    if EXCLUDED_PREFIXES.iter().any(|x| p.starts_with(x)) {
        return Normalized::Dropped;
    }
    Normalized::Path(p)
}

/// Bytes a policy path cannot carry literally become `?` (matches exactly that byte), so
/// file names with quotes, commas, braces or non-ASCII letters still get a valid rule.
fn sanitize(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            let c = b as char;
            if b.is_ascii_alphanumeric() || "_./*?+@ -".contains(c) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// `<prefix><digits>/…` → `<replacement>…`.
fn replace_prefix_number(p: &str, prefix: &str, replacement: &str) -> String {
    if let Some(rest) = p.strip_prefix(prefix) {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with('/') {
            return format!("{replacement}{}", &rest[digits + 1..]);
        }
    }
    p.to_string()
}

fn replace_overlay_ids(p: &str) -> String {
    const OVERLAY: &str = "/var/lib/containers/storage/overlay/";
    let mut out = String::new();
    let mut rest = p;
    while let Some(at) = rest.find(OVERLAY) {
        let after = &rest[at + OVERLAY.len()..];
        let id = after
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        out.push_str(&rest[..at + OVERLAY.len()]);
        if id > 0 && after[id..].starts_with('/') {
            out.push('*');
            rest = &after[id..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn is_uuid_at(b: &[u8]) -> bool {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut i = 0;
    for (g, len) in GROUPS.iter().enumerate() {
        if b.len() < i + len || !b[i..i + len].iter().all(u8::is_ascii_hexdigit) {
            return false;
        }
        i += len;
        if g < 4 {
            if b.get(i) != Some(&b'-') {
                return false;
            }
            i += 1;
        }
    }
    true
}

fn replace_uuids(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if is_uuid_at(&b[i..]) {
            out.push('*');
            i += 36;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Replaces every maximal run of bytes satisfying `class` of length ≥ `min` by `*`.
fn replace_runs(p: &str, class: impl Fn(&u8) -> bool, min: usize) -> String {
    let b = p.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|c| class(c)).count();
        if run >= min {
            out.push('*');
            i += run;
        } else if run > 0 {
            out.push_str(&p[i..i + run]);
            i += run;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

#[derive(Debug, Default, Clone, Copy)]
struct Access {
    spawn: bool,
    exec: bool,
    read: bool,
    write: bool,
}

fn known(path: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| path.starts_with(p))
}

/// Go's `filepath.Dir` for absolute, clean-ish paths.
fn dir_of(path: &str) -> String {
    let trimmed = match path.rfind('/') {
        Some(i) => &path[..i],
        None => return ".".into(),
    };
    let t = trimmed.trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        t.to_string()
    }
}

/// Two or more read-write files in one directory collapse to `<dir>/*` (§6.1).
fn collapse_read_write(paths: BTreeSet<String>) -> BTreeSet<String> {
    let mut per_dir: BTreeMap<String, usize> = BTreeMap::new();
    for p in &paths {
        *per_dir.entry(dir_of(p)).or_default() += 1;
    }
    paths
        .into_iter()
        .map(|p| {
            let dir = dir_of(&p);
            if per_dir.get(&dir).copied().unwrap_or(0) > 1 {
                if dir == "/" {
                    "/*".to_string()
                } else {
                    format!("{dir}/*")
                }
            } else {
                p
            }
        })
        .collect()
}

fn expressible(path: &str, executable: bool) -> bool {
    let ok = matches!(Entry::parse(path), Ok(Some(Entry::Path(_))))
        && (!executable || check_executable(path).is_ok());
    if !ok {
        tracing::warn!(
            path,
            "recorded path cannot be expressed in a profile; dropped"
        );
    }
    ok
}

fn some_if_any(set: BTreeSet<String>) -> Option<Vec<String>> {
    (!set.is_empty()).then(|| set.into_iter().collect())
}

/// Builds `spec.abstract` from recorded observations (RC-21): sorted, de-duplicated
/// executables, libraries, read-only, write-only and read-write paths, network booleans
/// (`allowUdp` from UDP sockets, not upstream's TCP quirk) and capabilities.
pub fn abstract_from_observations(
    observations: &[AppArmorObservation],
    options: &RecordOptions,
) -> Abstract {
    let tally = tally(observations);
    let [execs, libs, ro, wo, rw] = classify_files(tally.files, options);
    let mut rw = collapse_read_write(rw);
    if tally.hugepages {
        rw.insert("/".to_string());
    }
    let executable = (!execs.is_empty() || !libs.is_empty()).then(|| ExecutableRules {
        allowed_executables: some_if_any(execs),
        allowed_libraries: some_if_any(libs),
    });
    let filesystem =
        (!ro.is_empty() || !wo.is_empty() || !rw.is_empty()).then(|| FilesystemRules {
            read_only_paths: some_if_any(ro),
            write_only_paths: some_if_any(wo),
            read_write_paths: some_if_any(rw),
        });
    let network = tally.any_socket.then_some(NetworkRules {
        allow_raw: Some(tally.raw),
        allowed_protocols: Some(AllowedProtocols {
            allow_tcp: Some(tally.tcp),
            allow_udp: Some(tally.udp),
        }),
    });
    let capability = (!tally.caps.is_empty()).then(|| CapabilityRules {
        allowed_capabilities: tally.caps.into_iter().collect(),
    });
    Abstract {
        executable,
        filesystem,
        network,
        capability,
    }
}

/// What the observations add up to, before classification.
#[derive(Default)]
struct Tally {
    files: BTreeMap<String, Access>,
    hugepages: bool,
    caps: BTreeSet<String>,
    raw: bool,
    tcp: bool,
    udp: bool,
    any_socket: bool,
}

/// Sums the observations: per path the kinds of access, capabilities, socket kinds.
fn tally(observations: &[AppArmorObservation]) -> Tally {
    let mut t = Tally::default();
    for o in observations {
        match o {
            AppArmorObservation::File { path, access } => match normalize_path(path) {
                Normalized::Dropped => {}
                Normalized::HugePages => t.hugepages = true,
                Normalized::Path(p) => {
                    let a = t.files.entry(p).or_default();
                    match access {
                        FileUse::Exec => a.spawn = true,
                        FileUse::MapExec => a.exec = true,
                        FileUse::Read => a.read = true,
                        FileUse::Write => a.write = true,
                        FileUse::ReadWrite => {
                            a.read = true;
                            a.write = true;
                        }
                        other => tracing::warn!(?other, "recorded file access kind unknown"),
                    }
                }
            },
            AppArmorObservation::Capability(name) => match Capability::parse(name) {
                Ok(c) => {
                    t.caps.insert(c.as_str().to_string());
                }
                Err(reason) => tracing::warn!(%reason, "recorded capability dropped"),
            },
            AppArmorObservation::Socket(s) => {
                t.any_socket = true;
                match s {
                    SocketUse::Raw => t.raw = true,
                    SocketUse::Tcp => t.tcp = true,
                    SocketUse::Udp => t.udp = true,
                    other => tracing::warn!(?other, "recorded socket kind unknown"),
                }
            }
            other => tracing::warn!(?other, "recorded observation kind unknown"),
        }
    }
    t
}

/// Sorts paths into executables, libraries, read-only, write-only and read-write (in that
/// order), leaving out what the base abstractions already allow and what cannot be
/// expressed.
fn classify_files(
    files: BTreeMap<String, Access>,
    options: &RecordOptions,
) -> [BTreeSet<String>; 5] {
    #[derive(Clone, Copy)]
    enum Target {
        Exec,
        Lib,
        Ro,
        Wo,
        Rw,
    }
    let mut sets: [BTreeSet<String>; 5] = Default::default();
    for (path, a) in files {
        let known_lib = known(&path, &KNOWN_LIBRARY_PREFIXES)
            || options.program.as_deref() == Some(path.as_str());
        let known_read = known(&path, &KNOWN_READ_PREFIXES);
        let known_write = known(&path, &KNOWN_WRITE_PREFIXES);
        let target = if a.spawn {
            Some(Target::Exec)
        } else if a.exec {
            (!known_lib).then_some(Target::Lib)
        } else if a.read && a.write {
            (!known_read && !known_write && !known_lib).then_some(Target::Rw)
        } else if a.read {
            (!known_read).then_some(Target::Ro)
        } else if a.write {
            (!known_write).then_some(Target::Wo)
        } else {
            None
        };
        if let Some(t) = target {
            if expressible(&path, matches!(t, Target::Exec | Target::Lib)) {
                sets[t as usize].insert(path);
            }
        }
    }
    sets
}

/// A `v1` AppArmorProfile named `name` from recorded observations (RC-21).
pub fn profile_from_observations(
    name: &str,
    observations: &[AppArmorObservation],
    options: &RecordOptions,
) -> AppArmorProfile {
    AppArmorProfile::new(name, abstract_from_observations(observations, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(p: &str) -> String {
        match normalize_path(p) {
            Normalized::Path(s) => s,
            other => format!("{other:?}"),
        }
    }

    // covers: RC-21
    #[test]
    fn rc_21_path_normalisation() {
        assert_eq!(n("/proc/1234/cgroup"), "/proc/@{pid}/cgroup");
        assert_eq!(
            n("/proc/12/task/13/attr/current"),
            "/proc/@{pid}/task/@{tid}/attr/current"
        );
        assert_eq!(n("/12/task/13/attr/exec"), "/@{pid}/task/@{tid}/attr/exec");
        assert_eq!(n("/12/mounts"), "/@{pid}/mounts");
        assert_eq!(
            n("/var/lib/containers/storage/overlay/abc_123/merged/etc/"),
            "/var/lib/containers/storage/overlay/*/merged/etc/"
        );
        assert_eq!(
            n("/run/x/123e4567-e89b-12d3-a456-426614174000/f"),
            "/run/x/*/f"
        );
        assert_eq!(n(&format!("/c/{}/x", "ab".repeat(20))), "/c/*/x");
        assert_eq!(n("/tmp/file-1234567.log"), "/tmp/file-*.log");
        assert_eq!(n("/tmp/file-12345.log"), "/tmp/file-12345.log");
        assert_eq!(n("/sys/devices/system/cpu/online"), "/sys/devices/**");
        assert_eq!(n("/usr/bin/runc"), "Dropped");
        assert_eq!(
            n("/run/containerd/io.containerd.runtime.v2.task/k8s.io/x"),
            "Dropped"
        );
        assert_eq!(n("/tmp/x (deleted)"), "Dropped");
        assert_eq!(
            normalize_path("/anon_hugepage (deleted)"),
            Normalized::HugePages
        );
        // Characters a policy path cannot hold become single-byte globs.
        assert_eq!(n("/tmp/a,b\"c{d}"), "/tmp/a?b?c?d?");
    }

    fn file(path: &str, access: FileUse) -> AppArmorObservation {
        AppArmorObservation::File {
            path: path.into(),
            access,
        }
    }

    // covers: RC-21
    #[test]
    fn rc_21_classification_sorting_and_collapse() {
        let obs = vec![
            file("/bin/sleep", FileUse::Exec),
            file("/bin/sleep", FileUse::MapExec),
            file("/usr/lib/libfoo.so", FileUse::MapExec),
            file("/lib/x86_64-linux-gnu/libc.so.6", FileUse::MapExec),
            file("/etc/passwd", FileUse::Read),
            file("/etc/ld.so.cache", FileUse::Read),
            file("/tmp/out", FileUse::Write),
            file("/dev/log", FileUse::Write),
            file("/var/data/a", FileUse::ReadWrite),
            file("/var/data/b", FileUse::Read),
            file("/var/data/b", FileUse::Write),
            file("/srv/one", FileUse::ReadWrite),
            file("/anon_hugepage (deleted)", FileUse::ReadWrite),
            AppArmorObservation::Capability("NET_BIND_SERVICE".into()),
            AppArmorObservation::Capability("chown".into()),
            AppArmorObservation::Capability("bogus".into()),
            AppArmorObservation::Socket(SocketUse::Tcp),
        ];
        let opts = RecordOptions {
            program: Some("/bin/sleep".into()),
        };
        let a = abstract_from_observations(&obs, &opts);
        let ex = a.executable.unwrap();
        assert_eq!(ex.allowed_executables, Some(vec!["/bin/sleep".into()]));
        assert_eq!(
            ex.allowed_libraries,
            Some(vec!["/usr/lib/libfoo.so".into()])
        );
        let fs = a.filesystem.unwrap();
        assert_eq!(fs.read_only_paths, Some(vec!["/etc/passwd".into()]));
        assert_eq!(fs.write_only_paths, Some(vec!["/tmp/out".into()]));
        assert_eq!(
            fs.read_write_paths,
            Some(vec!["/".into(), "/srv/one".into(), "/var/data/*".into()])
        );
        let net = a.network.unwrap();
        assert_eq!((net.raw(), net.tcp(), net.udp()), (false, true, false));
        assert_eq!(
            a.capability.unwrap().allowed_capabilities,
            ["chown", "net_bind_service"]
        );
    }

    #[test]
    fn nothing_observed_gives_an_empty_abstract() {
        assert_eq!(
            abstract_from_observations(&[], &RecordOptions::default()),
            Abstract::default()
        );
    }
}
