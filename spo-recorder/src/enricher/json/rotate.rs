//! The JSON enricher's output file (RC-44): rotated by size, pruned by count and age. Lines
//! are written whole with one `write` each, and rotation happens only between lines, so no
//! line is split or lost.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::time::backup_stamp;
use crate::audit::AuditError;

/// Rotation limits, as the operator passes them (`--audit-log-maxsize` …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotateOptions {
    /// Rotate before a line would make the file larger than this many MB (0 → 100).
    pub max_size_mb: u64,
    /// Keep at most this many rotated files (0 → all).
    pub max_backups: u32,
    /// Delete rotated files older than this many days (0 → no age limit).
    pub max_age_days: u32,
}

impl RotateOptions {
    /// Sets [`RotateOptions::max_size_mb`].
    #[must_use]
    pub fn with_max_size_mb(mut self, max_size_mb: u64) -> Self {
        self.max_size_mb = max_size_mb;
        self
    }

    /// Sets [`RotateOptions::max_backups`].
    #[must_use]
    pub fn with_max_backups(mut self, max_backups: u32) -> Self {
        self.max_backups = max_backups;
        self
    }

    /// Sets [`RotateOptions::max_age_days`].
    #[must_use]
    pub fn with_max_age_days(mut self, max_age_days: u32) -> Self {
        self.max_age_days = max_age_days;
        self
    }
}

impl RotateOptions {
    /// Checks raw option values: negative numbers are rejected (spec §7).
    pub fn from_raw(
        max_size_mb: i64,
        max_backups: i64,
        max_age_days: i64,
    ) -> Result<Self, AuditError> {
        let neg = |option, v: i64| AuditError::Option {
            option,
            reason: format!("must not be negative, got {v}"),
        };
        Ok(RotateOptions {
            max_size_mb: u64::try_from(max_size_mb)
                .map_err(|_| neg("audit-log-maxsize", max_size_mb))?,
            max_backups: u32::try_from(max_backups)
                .map_err(|_| neg("audit-log-maxbackup", max_backups))?,
            max_age_days: u32::try_from(max_age_days)
                .map_err(|_| neg("audit-log-maxage", max_age_days))?,
        })
    }

    fn max_bytes(&self) -> u64 {
        let mb = if self.max_size_mb == 0 {
            100
        } else {
            self.max_size_mb
        };
        mb.saturating_mul(1024 * 1024)
    }
}

/// A size-rotated log file.
#[derive(Debug)]
pub struct RotatingWriter {
    path: PathBuf,
    file: File,
    size: u64,
    max_bytes: u64,
    opts: RotateOptions,
    last_backup_millis: u128,
}

fn open_append(path: &Path) -> Result<File, AuditError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| AuditError::io(path, e))
}

impl RotatingWriter {
    /// Opens (appends to) `path`, creating its directory with mode 0700.
    pub fn open(path: &Path, opts: RotateOptions) -> Result<Self, AuditError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| AuditError::io(dir, e))?;
        }
        let file = open_append(path)?;
        let size = file.metadata().map_err(|e| AuditError::io(path, e))?.len();
        Ok(RotatingWriter {
            path: path.to_path_buf(),
            file,
            size,
            max_bytes: opts.max_bytes(),
            opts,
            last_backup_millis: 0,
        })
    }

    /// Like [`RotatingWriter::open`] with a size limit in bytes (tests; the operator uses MB).
    pub fn with_max_bytes(
        path: &Path,
        opts: RotateOptions,
        max_bytes: u64,
    ) -> Result<Self, AuditError> {
        let mut w = Self::open(path, opts)?;
        w.max_bytes = max_bytes.max(1);
        Ok(w)
    }

    /// Appends one line (a newline is added when missing), rotating first when the line
    /// would push the file past the limit.
    pub fn write_line(&mut self, line: &[u8]) -> Result<(), AuditError> {
        let needs_nl = !line.ends_with(b"\n");
        let len = line.len() as u64 + u64::from(needs_nl);
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate()?;
        }
        let mut buf;
        let data = if needs_nl {
            buf = Vec::with_capacity(line.len() + 1);
            buf.extend_from_slice(line);
            buf.push(b'\n');
            &buf[..]
        } else {
            line
        };
        self.file
            .write_all(data)
            .map_err(|e| AuditError::io(&self.path, e))?;
        self.size += len;
        Ok(())
    }

    /// The log's directory, file stem and extension (with its dot, or empty).
    fn name_parts(&self) -> (&Path, String, String) {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = self
            .path
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        (dir, stem, ext)
    }

    /// The name a backup gets: `<stem>-<timestamp><.ext>` next to the file.
    fn backup_name(&mut self, now: SystemTime) -> PathBuf {
        let millis = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let (dir, stem, ext) = self.name_parts();
        // Two rotations within one millisecond: take the next free millisecond, so names
        // stay unique and still sort in rotation order.
        let mut millis = millis.max(self.last_backup_millis + 1);
        let mut candidate = dir.join(format!("{stem}-{}{ext}", backup_stamp(millis)));
        while candidate.exists() {
            millis += 1;
            candidate = dir.join(format!("{stem}-{}{ext}", backup_stamp(millis)));
        }
        self.last_backup_millis = millis;
        candidate
    }

    /// Renames the current file to a backup, starts a new one, prunes old backups.
    pub fn rotate(&mut self) -> Result<(), AuditError> {
        self.file
            .flush()
            .map_err(|e| AuditError::io(&self.path, e))?;
        let backup = self.backup_name(SystemTime::now());
        std::fs::rename(&self.path, &backup).map_err(|e| AuditError::io(&self.path, e))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        self.prune()
    }

    /// The rotated files of this log, oldest first.
    pub fn backups(&self) -> Result<Vec<PathBuf>, AuditError> {
        let (dir, stem, ext) = self.name_parts();
        let prefix = format!("{stem}-");
        let mut out: Vec<(SystemTime, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| AuditError::io(dir, e))? {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(&prefix) || !name.ends_with(&ext) || entry.path() == self.path {
                continue;
            }
            // The timestamp part starts with a digit (YYYY-…).
            if !name[prefix.len()..].starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            let mtime = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            out.push((mtime, entry.path()));
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out.into_iter().map(|(_, p)| p).collect())
    }

    fn prune(&self) -> Result<(), AuditError> {
        let mut backups = self.backups()?;
        if self.opts.max_age_days > 0 {
            let limit = Duration::from_secs(u64::from(self.opts.max_age_days) * 86_400);
            let now = SystemTime::now();
            backups.retain(|p| {
                let old = std::fs::metadata(p)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|m| now.duration_since(m).ok())
                    .is_some_and(|age| age > limit);
                if old {
                    let _ = std::fs::remove_file(p);
                }
                !old
            });
        }
        if self.opts.max_backups > 0 {
            let keep = self.opts.max_backups as usize;
            if backups.len() > keep {
                for p in &backups[..backups.len() - keep] {
                    std::fs::remove_file(p).map_err(|e| AuditError::io(p, e))?;
                }
            }
        }
        Ok(())
    }
}
