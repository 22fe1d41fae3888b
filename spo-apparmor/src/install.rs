//! The install step — the only I/O of this crate, thin and separate (AA-12, AA-15).
//!
//! * [`write_policy`] / [`remove_policy`] put the text at `<dir>/<file>` where `<file>` is
//!   the profile name with `/` → `.` and leading/trailing dots trimmed
//!   ([`profile_file_name`]); writes are atomic (temporary file + rename) and symlinks are
//!   never followed.
//! * [`AppArmorLoader`] loads (replacing a profile of the same name) and removes kernel
//!   profiles; [`ApparmorParser`] implements it with `apparmor_parser` through a
//!   [`CommandRunner`], so tests substitute a fake runner and check the argv.
//! * [`ApparmorParser::compile`] compiles text without a kernel (`-Q -K [-M features]`) and
//!   returns the parser's diagnostics.
//! * [`Host`] answers "is AppArmor enabled" and "is profile X loaded" from a root
//!   directory (`/` in production, a temporary tree in tests).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::Error;

/// `/etc/apparmor.d`, where the daemon and `spoc install` write policies.
pub const DEFAULT_POLICY_DIR: &str = "/etc/apparmor.d";
/// Where `apparmor_parser` is looked for, in order.
pub const PARSER_CANDIDATES: [&str; 2] = ["/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"];
/// The feature file Debian ships for compiling without a kernel.
pub const DEFAULT_FEATURES_FILE: &str = "/usr/share/apparmor-features/features";

/// The file name of a profile's policy: `/` → `.`, leading and trailing `.` trimmed.
pub fn profile_file_name(name: &str) -> Result<String, Error> {
    let file = name.replace('/', ".");
    let file = file.trim_matches('.');
    if file.is_empty() {
        return Err(Error::FileName { name: name.into() });
    }
    Ok(file.to_string())
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { op, path, source }
}

fn check_dir(dir: &Path) -> Result<(), Error> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        _ => Err(Error::NotADirectory {
            path: dir.to_path_buf(),
        }),
    }
}

/// Writes `text` to `<dir>/<profile_file_name(name)>` with mode 0644, atomically: the text
/// goes to a new temporary file in `dir` (created exclusively, so no symlink is followed),
/// which is then renamed over the target (a symlink at the target is replaced, not
/// followed). Unchanged content is not rewritten. Returns the path.
pub fn write_policy(dir: &Path, name: &str, text: &str) -> Result<PathBuf, Error> {
    check_dir(dir)?;
    let file = profile_file_name(name)?;
    let target = dir.join(&file);
    spo_core::hostio::write_if_changed(dir, &file, text.as_bytes(), 0o644).map_err(|e| {
        Error::Io {
            op: e.op,
            path: e.path,
            source: e.source,
        }
    })?;
    Ok(target)
}

/// Deletes `<dir>/<file>`; a symlink is removed itself. `Ok(false)` when it did not exist.
pub fn remove_policy(dir: &Path, name: &str) -> Result<bool, Error> {
    let target = dir.join(profile_file_name(name)?);
    match std::fs::remove_file(&target) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err("remove", &target)(e)),
    }
}

pub use spo_core::hostio::{CommandOutput, CommandRunner, SystemRunner};

/// Loads and removes kernel profiles.
pub trait AppArmorLoader {
    /// Compiles the policy file and loads it, replacing a loaded profile of the same name.
    fn load(&self, policy_file: &Path) -> Result<(), Error>;
    /// Removes the profiles the policy file declares from the kernel.
    fn remove(&self, policy_file: &Path) -> Result<(), Error>;
}

/// One diagnostic of `apparmor_parser`, with the 1-based input line when it named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Line of the compiled text.
    pub line: Option<usize>,
    /// The message.
    pub message: String,
}

/// `apparmor_parser` driven through a [`CommandRunner`].
#[derive(Debug, Clone)]
pub struct ApparmorParser<R = SystemRunner> {
    /// The binary.
    pub binary: PathBuf,
    /// Feature file for compile-only runs (`-M`); the running kernel's features when `None`.
    pub features: Option<PathBuf>,
    /// How processes are run.
    pub runner: R,
}

impl ApparmorParser<SystemRunner> {
    /// The parser at its usual place, if installed.
    pub fn find() -> Option<Self> {
        PARSER_CANDIDATES
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .map(|p| Self::new(p, SystemRunner))
    }
}

impl<R: CommandRunner> ApparmorParser<R> {
    /// A parser at `binary` run by `runner`, using [`DEFAULT_FEATURES_FILE`] when it exists.
    pub fn new(binary: impl Into<PathBuf>, runner: R) -> Self {
        let features = Path::new(DEFAULT_FEATURES_FILE);
        Self {
            binary: binary.into(),
            features: features.is_file().then(|| features.to_path_buf()),
            runner,
        }
    }

    fn run(
        &self,
        action: &'static str,
        args: Vec<OsString>,
        stdin: Option<&[u8]>,
    ) -> Result<CommandOutput, Error> {
        tracing::debug!(program = %self.binary.display(), ?args, action, "running apparmor_parser");
        let out = self
            .runner
            .run(&self.binary, &args, stdin)
            .map_err(|source| Error::Spawn {
                program: self.binary.clone(),
                source,
            })?;
        if out.status != 0 {
            return Err(Error::Parser {
                program: self.binary.clone(),
                action,
                status: out.status,
                stderr: out.stderr.trim().to_string(),
            });
        }
        Ok(out)
    }

    /// The arguments of a compile-only run reading stdin: `-Q -K [-M <features>]`.
    pub fn compile_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["-Q".into(), "-K".into()];
        if let Some(f) = &self.features {
            args.push("-M".into());
            args.push(f.clone().into_os_string());
        }
        args
    }

    /// Compiles `text` without touching the kernel. `Ok(vec![])` when it compiles, else the
    /// parser's diagnostics; `Err` only when the parser could not be run.
    pub fn compile(&self, text: &str) -> Result<Vec<Diagnostic>, Error> {
        match self.run("compile", self.compile_args(), Some(text.as_bytes())) {
            Ok(_) => Ok(Vec::new()),
            Err(Error::Parser { stderr, .. }) => Ok(parse_diagnostics(&stderr)),
            Err(e) => Err(e),
        }
    }

    /// The profile names `text` declares (`-N`), as the parser reads them.
    pub fn profile_names(&self, text: &str) -> Result<Vec<String>, Error> {
        let mut args = self.compile_args();
        args.insert(0, "-N".into());
        let out = self.run("list names", args, Some(text.as_bytes()))?;
        Ok(out.stdout.lines().map(str::to_string).collect())
    }
}

impl<R: CommandRunner> AppArmorLoader for ApparmorParser<R> {
    fn load(&self, policy_file: &Path) -> Result<(), Error> {
        // -r: replace (or add) in the kernel, like the daemon's replace interface (AA-12).
        self.run(
            "load",
            vec!["-r".into(), "-W".into(), policy_file.into()],
            None,
        )
        .map(|_| ())
    }

    fn remove(&self, policy_file: &Path) -> Result<(), Error> {
        self.run("remove", vec!["-R".into(), policy_file.into()], None)
            .map(|_| ())
    }
}

/// Turns `apparmor_parser` stderr into diagnostics; lines of the form
/// `AppArmor parser error … at line N: message` carry N.
pub fn parse_diagnostics(stderr: &str) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let line = l.find(" at line ").and_then(|at| {
                let rest = &l[at + " at line ".len()..];
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|n| n.parse().ok())
            });
            let message = match (line, l.find(": ")) {
                (Some(_), Some(i)) => l[i + 2..].to_string(),
                _ => l.trim_start_matches("apparmor_parser: ").to_string(),
            };
            Diagnostic { line, message }
        })
        .collect();
    if out.is_empty() {
        out.push(Diagnostic {
            line: None,
            message: "apparmor_parser rejected the policy".into(),
        });
    }
    out
}

/// Host facts, read below a root directory (`/` in production).
#[derive(Debug, Clone)]
pub struct Host {
    /// The root, e.g. `/` or a test tree.
    pub root: PathBuf,
}

impl Host {
    /// The real host.
    pub fn system() -> Self {
        Self { root: "/".into() }
    }

    fn enabled_file(&self) -> PathBuf {
        self.root.join("sys/module/apparmor/parameters/enabled")
    }

    /// AppArmor support: `sys/module/apparmor/parameters/enabled` starts with `Y` (§4.1).
    pub fn apparmor_enabled(&self) -> bool {
        std::fs::read_to_string(self.enabled_file()).is_ok_and(|s| s.trim_start().starts_with('Y'))
    }

    /// Fails with [`Error::NotEnabled`] unless AppArmor is enabled (AA-14).
    pub fn require_apparmor(&self) -> Result<(), Error> {
        if self.apparmor_enabled() {
            Ok(())
        } else {
            Err(Error::NotEnabled {
                path: self.enabled_file(),
            })
        }
    }

    /// True when `sys/kernel/security/apparmor/profiles` lists `<name> (`.
    pub fn profile_loaded(&self, name: &str) -> Result<bool, Error> {
        let file = self.root.join("sys/kernel/security/apparmor/profiles");
        let text = std::fs::read_to_string(&file).map_err(io_err("read", &file))?;
        let prefix = format!("{name} (");
        Ok(text.lines().any(|l| l.starts_with(&prefix)))
    }
}

/// What [`install`] should do when the profile is already loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Existing {
    /// Replace it (AA-12).
    Replace,
    /// Refuse with "profile exists" (AA-13: a newly created object).
    Refuse,
}

/// Installs policy `text` for profile `name`: checks AppArmor, writes the file under `dir`,
/// loads it with `loader` and verifies that a kernel profile of that name is now loaded
/// (the §1 name rule). Returns the policy file.
pub fn install(
    host: &Host,
    dir: &Path,
    loader: &dyn AppArmorLoader,
    name: &str,
    text: &str,
    existing: Existing,
) -> Result<PathBuf, Error> {
    host.require_apparmor()?;
    if existing == Existing::Refuse && host.profile_loaded(name).unwrap_or(false) {
        return Err(Error::ProfileExists { name: name.into() });
    }
    let file = write_policy(dir, name, text)?;
    loader.load(&file)?;
    if !host.profile_loaded(name)? {
        return Err(Error::NameMismatch { name: name.into() });
    }
    Ok(file)
}

/// Removes profile `name`: when loaded, unloads it and deletes its file (AA-15); when not
/// loaded, does nothing and returns `false`.
pub fn remove(
    host: &Host,
    dir: &Path,
    loader: &dyn AppArmorLoader,
    name: &str,
) -> Result<bool, Error> {
    host.require_apparmor()?;
    if !host.profile_loaded(name)? {
        tracing::info!(profile = name, "profile is not loaded: skipping removal");
        return Ok(false);
    }
    let file = dir.join(profile_file_name(name)?);
    loader.remove(&file)?;
    remove_policy(dir, name)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: AA-12
    #[test]
    fn aa_12_file_name_replaces_slashes_and_trims_dots() {
        assert_eq!(
            profile_file_name("/usr/bin/sleep").unwrap(),
            "usr.bin.sleep"
        );
        assert_eq!(profile_file_name("test-profile").unwrap(), "test-profile");
        assert_eq!(profile_file_name(".a.").unwrap(), "a");
        assert!(profile_file_name("/./").is_err());
    }

    #[test]
    fn diagnostics_keep_line_numbers() {
        let d = parse_diagnostics(
            "AppArmor parser error at line 4: syntax error, unexpected TOK_ID, expecting TOK_MODE\n",
        );
        assert_eq!(d[0].line, Some(4));
        assert_eq!(
            d[0].message,
            "syntax error, unexpected TOK_ID, expecting TOK_MODE"
        );
        let d = parse_diagnostics("Found reference to variable nope, but is never declared\n");
        assert_eq!(d[0].line, None);
    }
}
