//! Following an audit log (RC-27): from its end (default) or start, across rotation by
//! rename + create (auditd, logrotate `create`) and by copy + truncate (logrotate
//! `copytruncate`), without losing or repeating a line, with a partial last line buffered
//! until its newline arrives. Plain blocking I/O, polled: no thread, no inotify.
//!
//! * **Rename + create**: the path names a new file. The old file stays open and is drained
//!   (also on the following polls, until it has been idle for two polls — a writer may still
//!   be appending to it) before lines of the new file, which is read from its start.
//! * **Copy + truncate**: the file shrinks below the read position, or the bytes before the
//!   position no longer match what was read. The lines that were copied but not yet read
//!   are taken from the rotated copy (the first of [`TailOptions::rotated`] whose bytes
//!   before the position match), then the truncated file is read from its start. Lines
//!   written between logrotate's copy and its truncate are lost for every reader; that is
//!   inherent to copytruncate.

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::AuditError;

/// Where the audit lines are read from when no file is given (RC-27): `/var/log/audit/audit.log`
/// below `root` if it exists, else `/var/log/syslog`.
pub fn default_source(root: &Path) -> PathBuf {
    let audit = root.join("var/log/audit/audit.log");
    if audit.exists() {
        audit
    } else {
        root.join("var/log/syslog")
    }
}

/// How to tail.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TailOptions {
    /// Start at the beginning of the current file instead of its end.
    pub from_start: bool,
    /// Where a copytruncate rotation puts the copy, tried in order (default: `<path>.1`).
    pub rotated: Vec<PathBuf>,
    /// Read buffer size in bytes.
    pub buffer_size: usize,
    /// Longest accepted line; longer lines are dropped (counted) — audit records are at most
    /// ~9 KB.
    pub max_line: usize,
}

impl TailOptions {
    /// Sets [`TailOptions::from_start`].
    #[must_use]
    pub fn with_from_start(mut self, from_start: bool) -> Self {
        self.from_start = from_start;
        self
    }

    /// Sets [`TailOptions::rotated`].
    #[must_use]
    pub fn with_rotated(mut self, rotated: Vec<PathBuf>) -> Self {
        self.rotated = rotated;
        self
    }

    /// Sets [`TailOptions::buffer_size`].
    #[must_use]
    pub fn with_buffer_size(mut self, buffer_size: usize) -> Self {
        self.buffer_size = buffer_size;
        self
    }

    /// Sets [`TailOptions::max_line`].
    #[must_use]
    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line;
        self
    }
}

impl TailOptions {
    /// Defaults for `path`: from the end, copies at `<path>.1`, 256 KiB reads, 64 KiB lines.
    pub fn new(path: &Path) -> Self {
        let mut rotated = path.as_os_str().to_owned();
        rotated.push(".1");
        TailOptions {
            from_start: false,
            rotated: vec![PathBuf::from(rotated)],
            buffer_size: 256 * 1024,
            max_line: 64 * 1024,
        }
    }
}

/// Counters of a tailer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailStats {
    /// Bytes read.
    pub bytes: u64,
    /// Lines delivered.
    pub lines: u64,
    /// Rotations by rename + create seen.
    pub renames: u64,
    /// Truncations seen.
    pub truncations: u64,
    /// Truncations whose unread lines could not be found in a rotated copy.
    pub unrecovered_truncations: u64,
    /// Lines longer than [`TailOptions::max_line`], dropped.
    pub oversized_lines: u64,
}

const SIG_LEN: usize = 64;

struct Source {
    file: File,
    dev: u64,
    ino: u64,
    pos: u64,
    partial: Vec<u8>,
    skipping: bool,
    /// The last bytes read, ending at `pos`: detects truncate-and-regrow.
    sig: Vec<u8>,
    idle_polls: u32,
}

impl Source {
    fn open(path: &Path, from_end: bool) -> Result<Option<Source>, AuditError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(AuditError::io(path, source)),
        };
        let meta = file.metadata().map_err(|e| AuditError::io(path, e))?;
        let mut src = Source {
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            pos: 0,
            partial: Vec::new(),
            skipping: false,
            sig: Vec::new(),
            idle_polls: 0,
        };
        if from_end && meta.len() > 0 {
            // Start after the last complete line: an unterminated last line is still being
            // written and is delivered whole once its newline arrives.
            let len = meta.len();
            let back = len.min(64 * 1024);
            let mut tail = vec![0u8; usize::try_from(back).unwrap_or(0)];
            src.file
                .read_exact_at(&mut tail, len - back)
                .map_err(|e| AuditError::io(path, e))?;
            src.pos = match memchr::memrchr(b'\n', &tail) {
                Some(i) => len - back + i as u64 + 1,
                None if back == len => 0,
                None => len,
            };
            src.load_sig(path)?;
        }
        Ok(Some(src))
    }

    fn load_sig(&mut self, path: &Path) -> Result<(), AuditError> {
        let n = usize::try_from(self.pos.min(SIG_LEN as u64)).unwrap_or(0);
        let mut sig = vec![0u8; n];
        self.file
            .read_exact_at(&mut sig, self.pos - n as u64)
            .map_err(|e| AuditError::io(path, e))?;
        self.sig = sig;
        Ok(())
    }

    /// True when the bytes before `pos` are no longer the ones read (or the file shrank).
    fn truncated(&self, path: &Path) -> Result<bool, AuditError> {
        let len = self
            .file
            .metadata()
            .map_err(|e| AuditError::io(path, e))?
            .len();
        if len < self.pos {
            return Ok(true);
        }
        if self.sig.is_empty() || len == self.pos {
            return Ok(false);
        }
        let mut now = vec![0u8; self.sig.len()];
        match self
            .file
            .read_exact_at(&mut now, self.pos - self.sig.len() as u64)
        {
            Ok(()) => Ok(now != self.sig),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(true),
            Err(e) => Err(AuditError::io(path, e)),
        }
    }

    /// Reads from `pos` to the end of `file` (this source's or a rotated copy), delivering
    /// complete lines. Returns the bytes read.
    fn drain(
        &mut self,
        from: Option<&File>,
        path: &Path,
        buf: &mut [u8],
        opts: &TailOptions,
        stats: &mut TailStats,
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<u64, AuditError> {
        let mut total = 0u64;
        loop {
            let file = from.unwrap_or(&self.file);
            let n = match file.read_at(buf, self.pos) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(AuditError::io(path, e)),
            };
            let data = &buf[..n];
            self.pos += n as u64;
            total += n as u64;
            self.split(data, opts, stats, f);
            // Keep the signature of the last bytes read.
            if n >= SIG_LEN {
                self.sig.clear();
                self.sig.extend_from_slice(&data[n - SIG_LEN..]);
            } else {
                self.sig.extend_from_slice(data);
                let excess = self.sig.len().saturating_sub(SIG_LEN);
                self.sig.drain(..excess);
            }
        }
        stats.bytes += total;
        Ok(total)
    }

    fn split(
        &mut self,
        mut data: &[u8],
        opts: &TailOptions,
        stats: &mut TailStats,
        f: &mut dyn FnMut(&[u8]),
    ) {
        // Finish a carried-over line first.
        if self.skipping || !self.partial.is_empty() {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    if !self.skipping {
                        self.partial.extend_from_slice(&data[..i]);
                        if self.partial.len() > opts.max_line {
                            stats.oversized_lines += 1;
                        } else {
                            f(&self.partial);
                            stats.lines += 1;
                        }
                    }
                    self.partial.clear();
                    self.skipping = false;
                    data = &data[i + 1..];
                }
                None => {
                    if !self.skipping {
                        self.partial.extend_from_slice(data);
                        if self.partial.len() > opts.max_line {
                            stats.oversized_lines += 1;
                            self.partial.clear();
                            self.skipping = true;
                        }
                    }
                    return;
                }
            }
        }
        let mut it = memchr::memchr_iter(b'\n', data);
        let mut start = 0;
        for nl in &mut it {
            let line = &data[start..nl];
            if line.len() > opts.max_line {
                stats.oversized_lines += 1;
            } else {
                f(line);
                stats.lines += 1;
            }
            start = nl + 1;
        }
        let rest = &data[start..];
        if rest.len() > opts.max_line {
            stats.oversized_lines += 1;
            self.skipping = true;
        } else {
            self.partial.extend_from_slice(rest);
        }
    }

    /// Delivers an unterminated last line (the file will not grow any more).
    fn flush_partial(&mut self, stats: &mut TailStats, f: &mut dyn FnMut(&[u8])) {
        if !self.partial.is_empty() && !self.skipping {
            f(&self.partial);
            stats.lines += 1;
        }
        self.partial.clear();
        self.skipping = false;
    }
}

/// Follows one log file by path. See the module docs.
pub struct Tailer {
    path: PathBuf,
    opts: TailOptions,
    cur: Option<Source>,
    old: Option<Source>,
    buf: Vec<u8>,
    stats: TailStats,
}

impl std::fmt::Debug for Tailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tailer")
            .field("path", &self.path)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Tailer {
    /// Opens `path` (it may not exist yet: it is picked up when it appears, from its start).
    pub fn open(path: &Path, opts: TailOptions) -> Result<Tailer, AuditError> {
        let cur = Source::open(path, !opts.from_start)?;
        let buf = vec![0u8; opts.buffer_size.max(4096)];
        Ok(Tailer {
            path: path.to_path_buf(),
            cur,
            old: None,
            opts,
            buf,
            stats: TailStats::default(),
        })
    }

    /// The followed path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters so far.
    pub fn stats(&self) -> TailStats {
        self.stats
    }

    /// Reads everything available now and calls `f` for every complete line (without its
    /// newline), in file order. Returns the number of bytes read.
    pub fn poll(&mut self, f: &mut dyn FnMut(&[u8])) -> Result<u64, AuditError> {
        let mut total = 0;
        // 1. A previous file that was renamed away: drain it until it stays idle.
        if let Some(old) = self.old.as_mut() {
            let n = old.drain(
                None,
                &self.path,
                &mut self.buf,
                &self.opts,
                &mut self.stats,
                f,
            )?;
            total += n;
            if n == 0 {
                old.idle_polls += 1;
                if old.idle_polls >= 2 {
                    old.flush_partial(&mut self.stats, f);
                    self.old = None;
                }
            } else {
                old.idle_polls = 0;
            }
        }
        // 2. Has the path been replaced (rename + create) or created?
        let at_path = match std::fs::metadata(&self.path) {
            Ok(m) => Some((m.dev(), m.ino())),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(AuditError::io(&self.path, e)),
        };
        let replaced = match (&self.cur, at_path) {
            (Some(c), Some(id)) => (c.dev, c.ino) != id,
            (None, Some(_)) => true,
            _ => false,
        };
        if replaced {
            if let Some(mut prev) = self.cur.take() {
                self.stats.renames += 1;
                total += prev.drain(
                    None,
                    &self.path,
                    &mut self.buf,
                    &self.opts,
                    &mut self.stats,
                    f,
                )?;
                if let Some(mut older) = self.old.take() {
                    older.flush_partial(&mut self.stats, f);
                }
                self.old = Some(prev);
            }
            // A file that appears after we started is read from its beginning.
            self.cur = Source::open(&self.path, false)?;
        }
        // 3. The current file: truncated in place?
        if let Some(cur) = self.cur.as_mut() {
            if cur.truncated(&self.path)? {
                self.stats.truncations += 1;
                let mut recovered = false;
                for copy_path in &self.opts.rotated {
                    let Ok(copy) = File::open(copy_path) else {
                        continue;
                    };
                    if !copy_matches(&copy, cur) {
                        continue;
                    }
                    total += cur.drain(
                        Some(&copy),
                        copy_path,
                        &mut self.buf,
                        &self.opts,
                        &mut self.stats,
                        f,
                    )?;
                    recovered = true;
                    break;
                }
                if !recovered {
                    self.stats.unrecovered_truncations += 1;
                }
                cur.flush_partial(&mut self.stats, f);
                cur.pos = 0;
                cur.sig.clear();
            }
            total += cur.drain(
                None,
                &self.path,
                &mut self.buf,
                &self.opts,
                &mut self.stats,
                f,
            )?;
        }
        Ok(total)
    }

    /// Delivers unterminated last lines of every open file (end of a `--no-follow` read).
    pub fn finish(&mut self, f: &mut dyn FnMut(&[u8])) {
        if let Some(old) = self.old.as_mut() {
            old.flush_partial(&mut self.stats, f);
        }
        if let Some(cur) = self.cur.as_mut() {
            cur.flush_partial(&mut self.stats, f);
        }
    }

    /// Polls until `stop` returns true, sleeping `interval` whenever nothing was read.
    pub fn follow(
        &mut self,
        interval: std::time::Duration,
        stop: &dyn Fn() -> bool,
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<(), AuditError> {
        while !stop() {
            if self.poll(f)? == 0 {
                std::thread::sleep(interval);
            }
        }
        Ok(())
    }
}

/// Whether a rotated copy holds what `src` read so far: it is at least as long as the read
/// position and the last bytes before that position are the ones `src` saw.
fn copy_matches(copy: &File, src: &Source) -> bool {
    let Ok(meta) = copy.metadata() else {
        return false;
    };
    if meta.len() < src.pos {
        return false;
    }
    if src.sig.is_empty() {
        return src.pos == 0;
    }
    let mut b = vec![0u8; src.sig.len()];
    copy.read_exact_at(&mut b, src.pos - src.sig.len() as u64)
        .is_ok()
        && b == src.sig
}
