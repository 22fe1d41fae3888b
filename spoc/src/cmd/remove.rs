//! `spoc remove [PROFILE [EXECUTABLE]]`: unload an AppArmor profile installed by
//! `spoc install` and delete its policy file (CLI-17, AA-15).

use std::path::Path;

use anyhow::Result;

use crate::cli::InstallArgs;
use crate::cmd::install::{host, parser, target};
use crate::Outcome;

/// Removes the profile; a profile that is not loaded is left alone.
pub fn run(args: &InstallArgs) -> Result<Outcome> {
    let t = target(args, "remove")?;
    let removed = spo_apparmor::install::remove(
        &host(args),
        Path::new(&args.apparmor_dir),
        &parser(args)?,
        &t.name,
    )?;
    if removed {
        eprintln!("Removed AppArmor profile {}", t.name);
    } else {
        eprintln!(
            "AppArmor profile {} is not loaded: nothing to remove",
            t.name
        );
    }
    Ok(Outcome::Ok)
}
