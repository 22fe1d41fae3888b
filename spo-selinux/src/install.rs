//! The thin install step: write `<dir>/<policyName>.cil` (SE-02, SE-21) and hand modules to
//! the policy manager (`semodule`). The only I/O in this crate; the directory and the
//! command runner are parameters.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::cil::Module;
use crate::names::PolicyName;
use crate::Error;

/// Mode of written CIL files (SE-21).
pub const CIL_FILE_MODE: u32 = 0o600;

/// What [`write_policy`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteOutcome {
    /// The file was created or its content replaced.
    Written,
    /// The file already had exactly this content; nothing was touched.
    Unchanged,
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `cil` to `<dir>/<policyName>.cil` with mode 0600, only when the content or mode
/// differs (SE-21), through the shared [`spo_core::hostio::write_if_changed`]: atomic (a
/// synced temporary file renamed over the target, then the directory synced), so readers
/// (selinuxd) never see a partial file, and a symlink at the target is replaced rather than
/// followed.
pub fn write_policy(dir: &Path, name: &PolicyName, cil: &str) -> Result<WriteOutcome, Error> {
    use spo_core::hostio::{write_if_changed, WriteOutcome as Host};
    match write_if_changed(dir, &name.file_name(), cil.as_bytes(), CIL_FILE_MODE) {
        Ok(Host::Unchanged) => Ok(WriteOutcome::Unchanged),
        Ok(_) => {
            tracing::debug!(path = %dir.join(name.file_name()).display(), "wrote SELinux policy file");
            Ok(WriteOutcome::Written)
        }
        Err(e) => Err(Error::Io {
            action: "cannot write policy file",
            path: e.path,
            source: e.source,
        }),
    }
}

/// Removes `<dir>/<policyName>.cil` (or a symlink in its place); `true` when something was
/// removed, `false` when it was already gone.
pub fn remove_policy(dir: &Path, name: &PolicyName) -> Result<bool, Error> {
    let path = dir.join(name.file_name());
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err("cannot remove policy file", &path)(e)),
    }
}

/// Writes `module` to `<dir>/<policyName>.cil` and, only when the file changed, installs it
/// with `installer` (SE-21: an unchanged profile causes no policy rebuild).
pub fn install_module(
    dir: &Path,
    module: &Module,
    installer: &dyn PolicyInstaller,
) -> Result<WriteOutcome, Error> {
    let outcome = write_policy(dir, module.name(), &module.render())?;
    if outcome == WriteOutcome::Written {
        installer.install(&dir.join(module.name().file_name()))?;
    }
    Ok(outcome)
}

/// Removes policy `name`: the module from the policy store, then its file (SE-22). A file
/// that is already gone is not an error; the store removal result is returned as is.
pub fn uninstall_module(
    dir: &Path,
    name: &PolicyName,
    installer: &dyn PolicyInstaller,
) -> Result<bool, Error> {
    installer.remove(name)?;
    remove_policy(dir, name)
}

pub use spo_core::hostio::{CommandOutput, CommandRunner, SystemRunner};

/// Installs and removes policy modules on a node.
pub trait PolicyInstaller {
    /// Installs (or replaces) the module in `cil_file`; its name is the file stem.
    fn install(&self, cil_file: &Path) -> Result<(), Error>;
    /// Removes the module `name`.
    fn remove(&self, name: &PolicyName) -> Result<(), Error>;
    /// Whether the policy manager can take modules now (SE-20); `Ok` by default.
    fn ready(&self) -> Result<(), Error> {
        Ok(())
    }
    /// Reloads the running policy after modules were committed without a reload (SE-23);
    /// nothing by default.
    fn reload(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// [`PolicyInstaller`] backed by `semodule` (`-i FILE`, `-r NAME`).
#[derive(Debug, Clone)]
pub struct Semodule<R> {
    runner: R,
    /// The program, default `semodule`.
    pub program: PathBuf,
    /// `-p ROOT`: alternate policy root (tests, chroots).
    pub root: Option<PathBuf>,
    /// `-s STORE`: policy store name.
    pub store: Option<String>,
    /// `-N`: do not reload the policy after the commit (the reload is a separate step, §6).
    pub no_reload: bool,
}

impl<R: CommandRunner> Semodule<R> {
    /// `semodule` on the running system, via `runner`.
    pub fn new(runner: R) -> Self {
        Self {
            runner,
            program: PathBuf::from("semodule"),
            root: None,
            store: None,
            no_reload: false,
        }
    }

    /// The command runner.
    pub fn runner(&self) -> &R {
        &self.runner
    }

    /// The arguments for one operation (`-i FILE` or `-r NAME`).
    pub fn args(&self, op: &str, operand: &OsStr) -> Vec<OsString> {
        let mut args = self.store_args();
        if self.no_reload {
            args.push("-N".into());
        }
        args.push(op.into());
        args.push(operand.to_os_string());
        args
    }

    /// `-p ROOT` and `-s STORE` when set: the arguments every operation starts with.
    fn store_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(root) = &self.root {
            args.push("-p".into());
            args.push(root.clone().into_os_string());
        }
        if let Some(store) = &self.store {
            args.push("-s".into());
            args.push(store.into());
        }
        args
    }

    fn exec(&self, args: Vec<OsString>) -> Result<(), Error> {
        let out = self
            .runner
            .run(&self.program, &args, None)
            .map_err(|source| Error::Spawn {
                program: self.program.display().to_string(),
                source,
            })?;
        if out.success() {
            return Ok(());
        }
        let mut command = self.program.display().to_string();
        for a in &args {
            command.push(' ');
            command.push_str(&a.to_string_lossy());
        }
        Err(Error::Command {
            command,
            status: format!("exit status: {}", out.status),
            stderr: out.stderr.trim().to_string(),
        })
    }
}

impl<R: CommandRunner> PolicyInstaller for Semodule<R> {
    fn install(&self, cil_file: &Path) -> Result<(), Error> {
        self.exec(self.args("-i", cil_file.as_os_str()))
    }

    fn remove(&self, name: &PolicyName) -> Result<(), Error> {
        self.exec(self.args("-r", OsStr::new(name.as_str())))
    }

    /// `semodule [-p ROOT] [-s STORE] -l`: the store can be opened (it is created on first
    /// use when its parent directory exists).
    fn ready(&self) -> Result<(), Error> {
        let mut args = self.store_args();
        args.push("-l".into());
        self.exec(args)
    }

    /// `semodule [-p ROOT] [-s STORE] -R`.
    fn reload(&self) -> Result<(), Error> {
        let mut args = self.store_args();
        args.push("-R".into());
        self.exec(args)
    }
}
