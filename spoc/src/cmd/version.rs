//! `spoc version` (CLI-01).

use anyhow::Result;
use serde::Serialize;

use crate::cli::VersionArgs;
use crate::Outcome;

/// Build and runtime facts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Info {
    version: &'static str,
    git_commit: &'static str,
    rust_version: &'static str,
    platform: String,
    libseccomp_version: String,
}

fn info() -> Info {
    #[cfg(feature = "libseccomp")]
    let libseccomp_version = libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_else(|_| "unknown".into());
    #[cfg(not(feature = "libseccomp"))]
    let libseccomp_version = "not built in".to_string();
    Info {
        version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("SPOC_GIT_COMMIT").unwrap_or("unknown"),
        rust_version: env!("CARGO_PKG_RUST_VERSION"),
        platform: format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        libseccomp_version,
    }
}

/// Prints version information as text or JSON.
pub fn run(args: &VersionArgs) -> Result<Outcome> {
    let i = info();
    let text = if args.json {
        serde_json::to_string_pretty(&i)? + "\n"
    } else {
        format!(
            "spoc {}\ngitCommit:         {}\nrustVersion:       {}\nplatform:          {}\n\
             libseccompVersion: {}\n",
            i.version, i.git_commit, i.rust_version, i.platform, i.libseccomp_version
        )
    };
    crate::output::print_stdout(&text)?;
    Ok(Outcome::Ok)
}
