//! `spoc man [VERB]` / `spoc man --dir DIR`: man pages generated from the clap definitions,
//! so they never drift from `--help`.

use anyhow::{bail, Result};
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::Outcome;

fn page(cmd: clap::Command, title: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .title(title.to_ascii_uppercase())
        .render(&mut out)?;
    Ok(out)
}

/// Prints one page or writes them all.
pub fn run(args: &ManArgs) -> Result<Outcome> {
    let root = Cli::command().name("spoc");
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir)?;
        crate::output::write_atomic(&dir.join("spoc.1"), &page(root.clone(), "spoc")?, 0o644)?;
        for sub in root.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("spoc-{}", sub.get_name());
            let text = page(sub.clone().bin_name(name.replace('-', " ")), &name)?;
            crate::output::write_atomic(&dir.join(format!("{name}.1")), &text, 0o644)?;
        }
        return Ok(Outcome::Ok);
    }
    let text = match args.verb.as_deref() {
        None => page(root, "spoc")?,
        Some(verb) => match root.find_subcommand(verb) {
            Some(sub) => {
                let name = format!("spoc-{}", sub.get_name());
                page(sub.clone().bin_name(name.replace('-', " ")), &name)?
            }
            None => bail!("spoc has no verb {verb:?}"),
        },
    };
    crate::output::print_stdout(&String::from_utf8_lossy(&text))?;
    Ok(Outcome::Ok)
}
