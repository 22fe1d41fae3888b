//! Running a child as the user who invoked `sudo` (CLI-09): uid/gid from `SUDO_UID` /
//! `SUDO_GID`, `HOME` from `/etc/passwd` and `USER`, `SUDO_*` removed.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// The invoking user of `sudo`, when spoc runs under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SudoUser {
    /// `SUDO_UID`.
    pub uid: u32,
    /// `SUDO_GID`.
    pub gid: u32,
    /// `SUDO_USER`.
    pub name: String,
}

/// Reads the `SUDO_*` variables; `None` unless all three are present and valid.
pub fn invoking_user() -> Option<SudoUser> {
    let uid = std::env::var("SUDO_UID").ok()?.parse().ok()?;
    let gid = std::env::var("SUDO_GID").ok()?.parse().ok()?;
    let name = std::env::var("SUDO_USER").ok()?;
    Some(SudoUser { uid, gid, name })
}

/// Makes `cmd` run as the sudo-invoking user unless `privileged`; returns that user.
pub fn drop_privileges(cmd: &mut Command, privileged: bool) -> Option<SudoUser> {
    if privileged {
        return None;
    }
    let user = invoking_user()?;
    // std clears supplementary groups when it changes the uid as root.
    cmd.uid(user.uid).gid(user.gid);
    if let Some(home) = spo_recorder::process::home_of(user.uid) {
        cmd.env("HOME", home);
    }
    cmd.env("USER", &user.name);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SUDO_") {
            cmd.env_remove(k);
        }
    }
    tracing::info!(user = %user.name, uid = user.uid, "running the command as the invoking user");
    Some(user)
}
