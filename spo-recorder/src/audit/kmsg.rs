//! `/dev/kmsg` as an audit source (no auditd): each `read` returns one record
//! `<prio>,<seq>,<usec>,<flags>;<message>`; the message is handed on as a line (the parser
//! finds `audit: type=1326` in it). Kernel printk rate limiting drops most of a burst unless
//! `/proc/sys/kernel/printk_ratelimit` is 0 (see [`printk_ratelimited`]).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::AuditError;

/// Reads kernel log records without blocking.
#[derive(Debug)]
pub struct KmsgReader {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    /// Records overwritten in the ring buffer before they were read.
    pub lost: u64,
}

impl KmsgReader {
    /// Opens `path` (normally `/dev/kmsg`) positioned after the newest record.
    pub fn open_at_end(path: &Path) -> Result<Self, AuditError> {
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| AuditError::io(path, e))?;
        file.seek(SeekFrom::End(0))
            .map_err(|e| AuditError::io(path, e))?;
        Ok(KmsgReader {
            path: path.to_path_buf(),
            file,
            buf: vec![0u8; 16 * 1024],
            lost: 0,
        })
    }

    /// Delivers every record available now (the message part, without the header).
    /// Returns the number of records.
    pub fn poll(&mut self, f: &mut dyn FnMut(&[u8])) -> Result<usize, AuditError> {
        let mut n = 0;
        loop {
            match self.file.read(&mut self.buf) {
                Ok(0) => break,
                Ok(len) => {
                    let rec = &self.buf[..len];
                    let msg = match memchr::memchr(b';', rec) {
                        Some(i) => &rec[i + 1..],
                        None => rec,
                    };
                    // Continuation lines (" KEY=value") follow the message; keep line one.
                    let end = memchr::memchr(b'\n', msg).unwrap_or(msg.len());
                    f(&msg[..end]);
                    n += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // EPIPE: records were overwritten; the next read continues after them.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => self.lost += 1,
                Err(e) => return Err(AuditError::io(&self.path, e)),
            }
        }
        Ok(n)
    }
}

/// True when printk rate limiting is on (`/proc/sys/kernel/printk_ratelimit` ≠ 0 below
/// `proc_root`): audit records sent to the kernel log in a burst are then mostly dropped.
pub fn printk_ratelimited(proc_root: &Path) -> bool {
    std::fs::read_to_string(proc_root.join("sys/kernel/printk_ratelimit"))
        .map(|s| s.trim() != "0")
        .unwrap_or(true)
}
