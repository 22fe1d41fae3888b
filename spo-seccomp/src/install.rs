//! Writing a profile to a node's seccomp directory (SC-06, SC-07, SC-11, SC-12, ARCH-12).
//!
//! Everything below `root` is opened relative to a directory descriptor with `O_NOFOLLOW`,
//! so a symlink planted under the root cannot redirect the write. The file is written to a
//! temporary name, synced and renamed over the old one (atomic), and only when its bytes
//! change. `root` itself is the caller's choice (upstream's `operator` directory is itself a
//! symlink to `/var/lib/security-profiles-operator`).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::io::Errno;

use crate::error::SeccompError;
use crate::json::{to_disk_json, Era};
use crate::model::{ProfileState, SeccompProfile};

/// Mode of the profile directory (SC-12).
pub const DIR_MODE: u32 = 0o744;
/// Mode of profile files (SC-12).
pub const FILE_MODE: u32 = 0o644;

/// The file name of a profile: `<name>.json`, without doubling an existing `.json` (SC-06).
pub fn file_name(name: &str) -> String {
    if name.ends_with(".json") {
        name.to_string()
    } else {
        format!("{name}.json")
    }
}

/// `status.localhostProfile` of a cluster-scoped profile: `operator/<name>.json` (SC-07).
pub fn localhost_profile(name: &str) -> String {
    format!("operator/{}", file_name(name))
}

/// What [`install`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstallOutcome {
    /// The file was created or its content changed.
    Written(PathBuf),
    /// The file already had exactly these bytes; nothing was written (SC-11).
    Unchanged(PathBuf),
    /// The profile is disabled or partial (SC-13, SC-14): no file; an existing one was
    /// removed when `removed` is true (upstream leaves it behind, a known weak point).
    NotInstalled {
        /// The path the file would have.
        path: PathBuf,
        /// Whether a stale file was removed.
        removed: bool,
    },
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(Errno) -> SeccompError + 'a {
    move |e| SeccompError::Io {
        op,
        path: path.to_path_buf(),
        source: e.into(),
    }
}

fn check_name(name: &str) -> Result<String, SeccompError> {
    let bad = |reason| SeccompError::BadName {
        name: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(bad("empty name"));
    }
    if name.contains('/') || name.contains('\0') {
        return Err(bad(
            "contains '/' or NUL and would leave the profile directory",
        ));
    }
    let file = file_name(name);
    if file.starts_with('.') {
        return Err(bad("starts with '.'"));
    }
    Ok(file)
}

fn open_root(root: &Path) -> Result<OwnedFd, SeccompError> {
    match rfs::mkdir(root, Mode::from_raw_mode(DIR_MODE)) {
        Ok(()) => {
            // mkdir is subject to the umask; SC-12 wants exactly 0744.
            rfs::chmod(root, Mode::from_raw_mode(DIR_MODE)).map_err(io("chmod", root))?;
        }
        Err(Errno::EXIST) => {}
        Err(e) => return Err(io("create directory", root)(e)),
    }
    rfs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io("open directory", root))
}

/// Writes `bytes` to `<root>/<file>` atomically unless the file already holds them (the
/// shared [`spo_core::hostio::write_if_changed`]; `root` is created with [`DIR_MODE`]).
/// Returns true when it wrote.
pub fn write_if_changed(
    root: &Path,
    file: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<bool, SeccompError> {
    drop(open_root(root)?);
    match spo_core::hostio::write_if_changed(root, file, bytes, mode) {
        Ok(o) => Ok(o == spo_core::hostio::WriteOutcome::Written),
        Err(e) => Err(SeccompError::Io {
            op: e.op,
            path: e.path,
            source: e.source,
        }),
    }
}

/// Installs a *resolved* profile as `<root>/<name>.json` (compact 1.0 JSON, SC-08/SC-09).
/// Disabled and partial profiles are not installed, and a file left from an earlier enabled
/// version is removed.
pub fn install(root: &Path, profile: &SeccompProfile) -> Result<InstallOutcome, SeccompError> {
    let file = check_name(&profile.metadata.name)?;
    let path = root.join(&file);
    let partial = profile
        .metadata
        .labels
        .get(spo_core::LABEL_PARTIAL)
        .is_some_and(|v| v == "true");
    if partial || profile.spec.effective_state() == ProfileState::Disabled {
        let removed = uninstall(root, &profile.metadata.name)?;
        return Ok(InstallOutcome::NotInstalled { path, removed });
    }
    let json = to_disk_json(&profile.spec, Era::V1);
    if write_if_changed(root, &file, json.as_bytes(), FILE_MODE)? {
        Ok(InstallOutcome::Written(path))
    } else {
        Ok(InstallOutcome::Unchanged(path))
    }
}

/// Removes `<root>/<name>.json`; a missing file or root is fine. Returns true when a file
/// was removed.
pub fn uninstall(root: &Path, name: &str) -> Result<bool, SeccompError> {
    let file = check_name(name)?;
    let dir = match rfs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(d) => d,
        Err(Errno::NOENT) => return Ok(false),
        Err(e) => return Err(io("open directory", root)(e)),
    };
    match rfs::unlinkat(&dir, file.as_str(), rfs::AtFlags::empty()) {
        Ok(()) => Ok(true),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(io("remove", &root.join(&file))(e)),
    }
}
