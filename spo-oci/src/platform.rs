//! Platform strings `os[/arch][/variant][:os_version]` (spoc.md §7) and layer titles.

use std::fmt;

use thiserror::Error;

/// A platform a profile is meant for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    /// `linux`, `windows`, …
    pub os: String,
    /// `amd64`, `arm64`, … (Go/OCI names).
    pub arch: String,
    /// `v7`, `v8`, … when given.
    pub variant: Option<String>,
    /// The OS version after `:` when given.
    pub os_version: Option<String>,
}

/// A platform string that does not parse.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid platform {input:?}: {reason} (expected os[/arch][/variant][:os_version])")]
pub struct PlatformError {
    /// The string given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// The OCI/Go name of the architecture this binary runs on.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// The OCI/Go name of the OS this binary runs on.
pub fn host_os() -> &'static str {
    std::env::consts::OS
}

impl Platform {
    /// `linux/<host arch>`.
    pub fn host() -> Self {
        Platform {
            os: host_os().into(),
            arch: host_arch().into(),
            variant: None,
            os_version: None,
        }
    }

    /// Parses `os[/arch][/variant][:os_version]`. Empty means the host platform; `linux`
    /// alone means the host architecture; an empty OS or architecture is an error.
    pub fn parse(input: &str) -> Result<Self, PlatformError> {
        let err = |reason| PlatformError {
            input: input.into(),
            reason,
        };
        let s = input.trim();
        if s.is_empty() {
            return Ok(Self::host());
        }
        let (main, os_version) = match s.split_once(':') {
            Some((_, "")) => return Err(err("empty OS version after ':'")),
            Some((m, v)) => (m, Some(v.to_owned())),
            None => (s, None),
        };
        let parts: Vec<&str> = main.split('/').collect();
        if parts.len() > 3 {
            return Err(err("too many '/' separated parts"));
        }
        let os = parts[0];
        if os.is_empty() {
            return Err(err("empty OS"));
        }
        let arch = match parts.get(1) {
            None => host_arch().to_owned(),
            Some(&"") => return Err(err("empty architecture")),
            Some(a) => normalize_arch(a).to_owned(),
        };
        let variant = match parts.get(2) {
            None => None,
            Some(&"") => return Err(err("empty variant")),
            Some(v) => Some((*v).to_owned()),
        };
        for part in [os, &arch]
            .into_iter()
            .chain(variant.as_deref())
            .chain(os_version.as_deref())
        {
            if !part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(err("only letters, digits, '.', '_' and '-' are allowed"));
            }
        }
        Ok(Platform {
            os: os.to_ascii_lowercase(),
            arch,
            variant,
            os_version,
        })
    }

    /// The layer title: `profile-<os>-<arch>[-<variant>][-<os_version>].yaml` (CLI-18).
    pub fn title(&self) -> String {
        let mut t = format!("profile-{}-{}", self.os, self.arch);
        if let Some(v) = &self.variant {
            t.push('-');
            t.push_str(v);
        }
        if let Some(v) = &self.os_version {
            t.push('-');
            t.push_str(v);
        }
        t.push_str(".yaml");
        t
    }
}

fn normalize_arch(a: &str) -> &str {
    match a {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        if let Some(v) = &self.os_version {
            write!(f, ":{v}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let p = Platform::parse("linux/arm64/v8:5.10").unwrap();
        assert_eq!(p.os, "linux");
        assert_eq!(p.arch, "arm64");
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert_eq!(p.os_version.as_deref(), Some("5.10"));
        assert_eq!(p.to_string(), "linux/arm64/v8:5.10");
        assert_eq!(p.title(), "profile-linux-arm64-v8-5.10.yaml");
        let p = Platform::parse("linux/amd64").unwrap();
        assert_eq!(p.title(), "profile-linux-amd64.yaml");
    }

    #[test]
    fn linux_alone_and_empty_mean_host() {
        assert_eq!(Platform::parse("linux").unwrap(), Platform::host());
        assert_eq!(Platform::parse("").unwrap(), Platform::host());
        assert_eq!(Platform::parse("linux/x86_64").unwrap().arch, "amd64");
    }

    #[test]
    fn empty_parts_are_errors() {
        for bad in [
            "/amd64",
            "linux/",
            "linux/amd64/",
            "linux:",
            "a/b/c/d",
            "linux/am d64",
        ] {
            let e = Platform::parse(bad).unwrap_err();
            assert_eq!(e.input, bad);
            assert!(e.to_string().contains("invalid platform"), "{e}");
        }
    }
}
