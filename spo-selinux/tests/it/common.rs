//! Helpers shared by the integration tests: fixtures, secilc and the udica templates.

use std::path::{Path, PathBuf};
use std::process::Command;

use spo_core::{parse_documents, Document};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

pub fn doc(yaml: &str) -> Document {
    parse_documents(yaml).unwrap().remove(0)
}

/// Compiles `base` plus `modules` with the real SELinux compiler. `-m` (multiple
/// declarations) mirrors libsemanage's default, which udica-style templates rely on when a
/// profile inherits both `container` and `net_container` (both declare `process`).
pub fn secilc(base: &Path, modules: &[PathBuf]) -> Result<(), String> {
    let out = Command::new("secilc")
        .args(["-m", "-o", "/dev/null", "-f", "/dev/null"])
        .arg(base)
        .args(modules)
        .output()
        .unwrap_or_else(|e| panic!("secilc must be installed (make deps installs it): {e}"));
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Writes each `(file name, text)` into `dir` and compiles them with `base`.
pub fn compile_texts(dir: &Path, base: &Path, modules: &[(String, String)]) -> Result<(), String> {
    let paths: Vec<PathBuf> = modules
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    secilc(base, &paths)
}

/// Compiles `decl` (declarations the module needs beyond the test base) and `module`
/// against the test base policy; `Err` carries secilc's message.
pub fn compile_with_decl(decl: &str, module: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    compile_texts(
        dir.path(),
        &test_base(),
        &[
            ("decl.cil".into(), decl.into()),
            ("m.cil".into(), module.into()),
        ],
    )
}

/// Our test base policy.
pub fn test_base() -> PathBuf {
    fixture("test-base-policy.cil")
}

/// udica 0.2.2's templates, fetched with pip by `scripts/fetch-udica.sh` into
/// `target/udica/templates` (`make test` runs it; we run it here too when missing). `None`,
/// with the reason printed, only when the download is impossible.
pub fn udica_templates() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = target.join("udica/templates");
    if !dir.join("base_container.cil").exists() {
        let status = Command::new("bash")
            .arg(root.join("scripts/fetch-udica.sh"))
            .arg(&target)
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            println!("SKIP: udica templates could not be downloaded with pip ({status:?})");
            return None;
        }
    }
    Some(dir)
}

/// Our base policy without its own `container`/`net_container` blocks, plus udica's real
/// `base_container.cil` (which defines `container`), written into `dir` as one file.
pub fn udica_base(dir: &Path, templates: &Path) -> PathBuf {
    let ours = read_fixture("test-base-policy.cil");
    let cut = ours.find("; ---- udica").expect("marker in test base");
    let udica = std::fs::read_to_string(templates.join("base_container.cil")).unwrap();
    let p = dir.join("udica-base.cil");
    std::fs::write(&p, format!("{}\n{udica}", &ours[..cut])).unwrap();
    p
}
