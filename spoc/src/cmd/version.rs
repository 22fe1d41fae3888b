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
    if args.json {
        println!("{}", serde_json::to_string_pretty(&i)?);
    } else {
        println!("spoc {}", i.version);
        println!("gitCommit:         {}", i.git_commit);
        println!("rustVersion:       {}", i.rust_version);
        println!("platform:          {}", i.platform);
        println!("libseccompVersion: {}", i.libseccomp_version);
    }
    Ok(Outcome::Ok)
}
