//! Helpers shared by the spoc CLI test binaries.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built spoc binary with `args`.
pub fn spoc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spoc"))
        .args(args)
        .output()
        .unwrap()
}

/// Bytes as text, lossily.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Writes `content` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}
