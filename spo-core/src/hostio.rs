//! The host-I/O helpers every install path and spoc's output files share: atomic
//! write-if-changed, and the one [`CommandRunner`] through which host tools (`secilc`,
//! `semodule`, `apparmor_parser`) are run — the seam tests replace with a fake.
//!
//! [`write_if_changed`] works relative to a directory descriptor: the existing file is read
//! with `O_NOFOLLOW` (a symlink is replaced, never read or written through), the new content
//! goes to an exclusively created temporary file in the same directory with the final mode
//! set by `fchmod` (no umask surprises), is `fsync`ed, renamed over the target, and the
//! directory is `fsync`ed so the rename itself survives a crash. Nothing is written when the
//! file already has exactly these bytes and this mode. The rest of spo-core does no I/O.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::io::Errno;

/// A host file operation failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot {op} {}", path.display())]
pub struct HostIoError {
    /// What was being done (`open directory`, `create`, `write`, `rename`...).
    pub op: &'static str,
    /// The path concerned.
    pub path: PathBuf,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

/// What [`write_if_changed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteOutcome {
    /// The file was created or replaced.
    Written,
    /// It already held exactly these bytes with this mode; nothing was touched.
    Unchanged,
}

fn err(op: &'static str, path: &Path) -> impl FnOnce(Errno) -> HostIoError {
    let path = path.to_path_buf();
    move |e| HostIoError {
        op,
        path,
        source: e.into(),
    }
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> HostIoError {
    let path = path.to_path_buf();
    move |source| HostIoError { op, path, source }
}

/// The bytes and mode of `file` in `dir`, when it is a regular file (not followed if a
/// symlink).
fn existing(dir: &OwnedFd, file: &str) -> Option<(Vec<u8>, u32)> {
    let fd = rfs::openat(
        dir,
        file,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let st = rfs::fstat(&fd).ok()?;
    if rfs::FileType::from_raw_mode(st.st_mode) != rfs::FileType::RegularFile {
        return None;
    }
    let mut buf = Vec::new();
    std::fs::File::from(fd).read_to_end(&mut buf).ok()?;
    Some((buf, st.st_mode & 0o7777))
}

/// Writes `bytes` to `<dir>/<file>` with `mode`, atomically, unless it already holds them
/// (see the module docs). `file` is one path component; `dir` must exist.
pub fn write_if_changed(
    dir: &Path,
    file: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<WriteOutcome, HostIoError> {
    let path = dir.join(file);
    if file.is_empty() || file.contains('/') || file == "." || file == ".." {
        return Err(HostIoError {
            op: "write",
            path,
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        });
    }
    let dir_fd = rfs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(err("open directory", dir))?;
    if existing(&dir_fd, file).is_some_and(|(old, m)| old == bytes && m == mode) {
        return Ok(WriteOutcome::Unchanged);
    }
    let tmp = format!(".{file}.spo-tmp-{}", std::process::id());
    let _ = rfs::unlinkat(&dir_fd, tmp.as_str(), rfs::AtFlags::empty());
    let fd = rfs::openat(
        &dir_fd,
        tmp.as_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(mode),
    )
    .map_err(err("create a temporary file for", &path))?;
    let result = (|| {
        rfs::fchmod(&fd, Mode::from_raw_mode(mode)).map_err(err("set the mode of", &path))?;
        let mut f = std::fs::File::from(fd);
        f.write_all(bytes).map_err(io_err("write", &path))?;
        f.sync_all().map_err(io_err("sync", &path))?;
        rfs::renameat(&dir_fd, tmp.as_str(), &dir_fd, file).map_err(err("rename onto", &path))
    })();
    if let Err(e) = result {
        let _ = rfs::unlinkat(&dir_fd, tmp.as_str(), rfs::AtFlags::empty());
        return Err(e);
    }
    rfs::fsync(&dir_fd).map_err(err("sync directory", dir))?;
    Ok(WriteOutcome::Written)
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandOutput {
    /// Exit status; -1 when killed by a signal.
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CommandOutput {
    /// True when the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }
}

/// Runs a program; the seam tests replace.
pub trait CommandRunner {
    /// Runs `program` with `args`, feeding `stdin` when given, and waits for it.
    fn run(
        &self,
        program: &Path,
        args: &[std::ffi::OsString],
        stdin: Option<&[u8]>,
    ) -> std::io::Result<CommandOutput>;
}

/// Runs real processes with [`std::process::Command`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRunner;

impl CommandRunner for SystemRunner {
    fn run(
        &self,
        program: &Path,
        args: &[std::ffi::OsString],
        stdin: Option<&[u8]>,
    ) -> std::io::Result<CommandOutput> {
        use std::process::{Command, Stdio};
        let mut child = Command::new(program)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A tool that exits early closes the pipe; its exit status tells why.
            let _ = pipe.write_all(input);
        }
        let out = child.wait_with_output()?;
        Ok(CommandOutput {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_once_with_the_mode_and_replaces_symlinks() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        assert_eq!(
            write_if_changed(d.path(), "a.json", b"x", 0o640).unwrap(),
            WriteOutcome::Written
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
            0o640
        );
        assert_eq!(
            write_if_changed(d.path(), "a.json", b"x", 0o640).unwrap(),
            WriteOutcome::Unchanged
        );
        // Same bytes, other mode: rewritten.
        assert_eq!(
            write_if_changed(d.path(), "a.json", b"x", 0o600).unwrap(),
            WriteOutcome::Written
        );
        // A symlink at the target is replaced, its target untouched.
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = d.path().join("l.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_if_changed(d.path(), "l.json", b"new", 0o644).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(!std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        // No temporary files left behind; bad names refused.
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(write_if_changed(d.path(), "../x", b"", 0o644).is_err());
        assert!(write_if_changed(&d.path().join("missing"), "a", b"", 0o644).is_err());
    }
}
