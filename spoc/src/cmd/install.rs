//! `spoc install [PROFILE [EXECUTABLE]]`: render an AppArmorProfile and load it like the
//! daemon does — policy file under /etc/apparmor.d, `apparmor_parser -r`, name check
//! (CLI-17, AA-12).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use spo_apparmor::install::{ApparmorParser, Existing, Host, SystemRunner};
use spo_apparmor::AppArmorProfile;
use spo_core::Kind;

use crate::cli::InstallArgs;
use crate::input::{self, Item};
use crate::Outcome;

/// Default profile file (spoc.md §6).
pub const DEFAULT_PROFILE: &str = "/tmp/profile.yaml";

/// The target of `install`/`remove`: the profile and the name to use in the kernel.
pub struct Target {
    /// The decoded profile.
    pub profile: AppArmorProfile,
    /// The kernel profile name.
    pub name: String,
}

/// Splits `[PROFILE [EXECUTABLE]]`, refusing more than two arguments with a usage error.
fn split_args<'a>(args: &'a InstallArgs, verb: &str) -> (PathBuf, Option<&'a str>) {
    if args.args.len() > 2 {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let mut cmd = cli
            .find_subcommand_mut(verb)
            .cloned()
            .unwrap_or(cli)
            .bin_name(format!("spoc {verb}"));
        cmd.error(clap::error::ErrorKind::TooManyValues, "too many arguments")
            .exit();
    }
    let profile = args
        .args
        .first()
        .map_or_else(|| PathBuf::from(DEFAULT_PROFILE), PathBuf::from);
    (profile, args.args.get(1).map(String::as_str))
}

/// `name` found as an executable file in `$PATH`, as an absolute path.
fn path_lookup(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|c| {
            std::fs::metadata(c).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Reads the profile and decides the kernel profile name: EXECUTABLE if given, else the
/// absolute path `PATH` gives for `metadata.name`, else `metadata.name` (spoc.md §6).
pub fn target(args: &InstallArgs, verb: &str) -> Result<Target> {
    let (file, executable) = split_args(args, verb);
    let items = input::load(&file)?;
    let Some(item) = items.first() else {
        bail!("no profile(s) provided")
    };
    let doc = match item {
        Item::Manifest(d) if d.kind == Kind::AppArmorProfile => d,
        other => bail!("cannot {verb} {} profile", other.kind()),
    };
    let profile =
        AppArmorProfile::from_document(doc).with_context(|| file.display().to_string())?;
    let name = match executable {
        Some(e) => e.to_string(),
        None => path_lookup(&profile.metadata.name)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| profile.metadata.name.clone()),
    };
    if name.is_empty() {
        bail!(
            "{}: the profile has no name (metadata.name is empty and no EXECUTABLE was given)",
            file.display()
        );
    }
    Ok(Target { profile, name })
}

/// The parser to load with.
pub fn parser(args: &InstallArgs) -> Result<ApparmorParser> {
    match &args.apparmor_parser {
        Some(p) => Ok(ApparmorParser::new(p, SystemRunner)),
        None => ApparmorParser::find().context(
            "apparmor_parser not found in /usr/sbin or /sbin (install the apparmor package)",
        ),
    }
}

/// The host whose /sys is consulted.
pub fn host(args: &InstallArgs) -> Host {
    Host {
        root: args.host_root.clone(),
    }
}

/// Installs the profile.
pub fn run(args: &InstallArgs) -> Result<Outcome> {
    let t = target(args, "install")?;
    let text = spo_apparmor::render(&t.profile, Some(&t.name))?;
    let file = spo_apparmor::install::install(
        &host(args),
        Path::new(&args.apparmor_dir),
        &parser(args)?,
        &t.name,
        &text,
        Existing::Replace,
    )?;
    eprintln!("Installed AppArmor profile {} ({})", t.name, file.display());
    Ok(Outcome::Ok)
}
