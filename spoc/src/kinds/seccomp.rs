//! SeccompProfile glue: validation with base resolution and allow-lists, conversion, merging.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use spo_core::{Violation, Violations};
use spo_seccomp::merge::UnionMode;
use spo_seccomp::resolve::{resolve, ResolveError};
use spo_seccomp::{Action, SeccompProfile};

use crate::input::{DirResolver, Item};

/// Validation options taken from flags.
pub struct ValidateOpts<'a> {
    /// Extra directories for base profiles.
    pub profiles_dir: &'a [PathBuf],
    /// SPOD-style allow-list (empty = not checked).
    pub allowed_syscalls: &'a [String],
    /// Allowing actions for the allow-list.
    pub allowed_actions: &'a [String],
}

/// Validates one SeccompProfile item of `file`. Returns violations and warnings.
pub fn validate(
    item: &Item,
    file: &Path,
    opts: &ValidateOpts<'_>,
) -> Result<(Violations, Vec<String>)> {
    let profile = item.seccomp_cow()?;
    let profile = profile.as_ref();
    let raw = matches!(item, Item::RawSeccomp { .. });
    let mut v = if let Item::RawSeccomp { problems, .. } = item {
        let mut v = problems.clone();
        v.extend_prefixed("", spo_seccomp::validate::validate_spec(&profile.spec));
        v
    } else {
        spo_seccomp::validate::validate(profile)
    };
    let prefix = if raw { "" } else { "spec." };
    let mut warnings: Vec<String> = spo_seccomp::validate::warnings(&profile.spec)
        .into_iter()
        .map(|w| format!("{prefix}{}: {}", w.path, w.reason))
        .collect();
    let mut resolved = std::borrow::Cow::Borrowed(profile);
    if profile
        .spec
        .base_profile_name
        .as_deref()
        .is_some_and(|b| !b.is_empty())
    {
        // `oci://` bases are pulled through the registry (crate::cmd::oci::fetch_base).
        {
            let resolver = DirResolver::for_file(file, opts.profiles_dir);
            match resolve(profile, &resolver, UnionMode::V1) {
                Ok(r) => resolved = std::borrow::Cow::Owned(r),
                Err(e @ ResolveError::NotFound { .. }) => {
                    warnings.push(format!("{e}; base syscalls not checked"))
                }
                Err(e) => v.push(
                    "spec.baseProfileName",
                    format!("{:#}", anyhow::Error::new(e)),
                ),
            }
        }
    }
    // The kernel refuses filters over 4,096 BPF instructions: find out before any run.
    #[cfg(feature = "libseccomp")]
    if v.is_empty() {
        match spo_seccomp::compile::size_violations(&resolved.spec) {
            Ok(sv) => v.extend_prefixed(if raw { "" } else { "spec" }, sv),
            Err(e) => warnings.push(format!("the filter was not compiled: {e}")),
        }
    }
    if !opts.allowed_syscalls.is_empty() {
        let actions = parse_actions(opts.allowed_actions)?;
        v.extend_prefixed(
            "",
            spo_seccomp::allowed::check_allowed(&resolved.spec, opts.allowed_syscalls, &actions),
        );
    }
    Ok((v, warnings))
}

fn parse_actions(names: &[String]) -> Result<Vec<Action>> {
    names
        .iter()
        .map(|n| {
            n.parse::<Action>()
                .map_err(|()| anyhow!("--allowed-actions: unknown action {n:?}"))
        })
        .collect()
}

/// Resolves the base chain of `profile` read from `file` (for `convert --resolve` and `run`).
pub fn resolve_from_files(
    profile: &SeccompProfile,
    file: &Path,
    dirs: &[PathBuf],
) -> Result<SeccompProfile> {
    if profile
        .spec
        .base_profile_name
        .as_deref()
        .is_none_or(str::is_empty)
    {
        return Ok(profile.clone());
    }
    let resolver = DirResolver::for_file(file, dirs);
    Ok(resolve(profile, &resolver, UnionMode::V1)?)
}

/// A decode error as a violation (path when the error names one).
pub fn decode_violation(e: &anyhow::Error) -> Violation {
    for cause in e.chain() {
        if let Some(spo_core::DecodeError::Field { path, message, .. }) =
            cause.downcast_ref::<spo_core::DecodeError>()
        {
            return Violation::new(path.clone(), message.clone());
        }
        if let Some(spo_seccomp::SeccompError::Decode(spo_core::DecodeError::Field {
            path,
            message,
            ..
        })) = cause.downcast_ref::<spo_seccomp::SeccompError>()
        {
            return Violation::new(path.clone(), message.clone());
        }
        if let Some(spo_seccomp::SeccompError::RawJson {
            path,
            message,
            line,
            ..
        }) = cause.downcast_ref::<spo_seccomp::SeccompError>()
        {
            return Violation::new(path.clone(), format!("{message} (line {line})"));
        }
    }
    Violation::new("", format!("{e:#}"))
}
