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

/// Writes an executable script at `path` without this process ever holding it open for
/// writing: test threads fork concurrently, and a forked child that has not exec'd yet would
/// keep such a descriptor alive and make executing the script fail with ETXTBSY. The content
/// goes to a side file (never executed) and `cp` creates the executable.
pub fn write_executable(path: &Path, content: &str) {
    let side = path.with_extension("src");
    std::fs::write(&side, content).unwrap();
    let st = Command::new("cp").arg(&side).arg(path).status().unwrap();
    assert!(st.success(), "cp {} {}", side.display(), path.display());
    let st = Command::new("chmod")
        .arg("0755")
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}
