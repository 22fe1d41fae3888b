//! Writing results: stdout or an atomically replaced file, in YAML or JSON.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use crate::cli::Format;

/// Writing the output failed (ENOSPC, EIO...): exit status 2, one line, never a panic.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to {what}")]
pub struct WriteFailed {
    /// Where the output was going.
    pub what: String,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

/// Renders manifests in `format`: a YAML stream, or JSON (one value, or an array).
pub fn render(values: &[Value], format: Format) -> Result<String> {
    Ok(match format {
        Format::Yaml => spo_core::to_yaml_stream(values)?,
        Format::Jsonl => {
            let mut s = String::new();
            for v in values {
                s.push_str(&serde_json::to_string(v)?);
                s.push('\n');
            }
            s
        }
        Format::Json => {
            let mut s = if values.len() == 1 {
                serde_json::to_string_pretty(&values[0])?
            } else {
                serde_json::to_string_pretty(values)?
            };
            s.push('\n');
            s
        }
    })
}

/// Writes `text` to `path` atomically (temporary file in the same directory, then rename)
/// with `mode`, or to stdout when `path` is `None` or `-`.
pub fn write(path: Option<&Path>, text: &str, mode: u32) -> Result<()> {
    match path {
        None => print_stdout(text),
        Some(p) if p == Path::new("-") || p == Path::new("/dev/stdout") => print_stdout(text),
        Some(p) => write_atomic(p, text.as_bytes(), mode),
    }
}

/// Writes `text` to stderr, ignoring failures (there is nowhere left to report them).
pub fn print_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Writes `text` to stdout in one go. A closed pipe (`spoc ... | head`) ends quietly.
pub fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(WriteFailed {
            what: "stdout".into(),
            source: e,
        }
        .into()),
        Ok(()) => Ok(()),
    }
}

/// Atomic file write through the shared [`spo_core::hostio::write_if_changed`]: a crash
/// leaves either the old or the new content, never a mix; unchanged content is not rewritten.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .ok_or_else(|| WriteFailed {
            what: path.display().to_string(),
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        })?;
    spo_core::hostio::write_if_changed(dir, file, bytes, mode).map_err(|e| WriteFailed {
        what: path.display().to_string(),
        source: e.source,
    })?;
    Ok(())
}

/// Fails unless a file can be written at `path` (its directory exists and takes new files;
/// `path` is not a directory), so a long recording is not lost at the end for a typo.
pub fn check_writable(path: &Path) -> Result<()> {
    if path == Path::new("-") || path == Path::new("/dev/stdout") {
        return Ok(());
    }
    let failed = |source| WriteFailed {
        what: path.display().to_string(),
        source,
    };
    if path.is_dir() {
        return Err(failed(std::io::Error::from(std::io::ErrorKind::IsADirectory)).into());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".spoc-check-")
        .tempfile_in(dir)
        .map_err(failed)?;
    Ok(())
}
