//! The public API as a crate outside spo-core sees it: `#[non_exhaustive]` options are built
//! with `Default` and `with_*` setters, and matches on public enums carry a wildcard arm.
#![allow(clippy::unwrap_used)]

use spo_core::lint::{Level, LintConfig, Severity};
use spo_core::{Arch, Era, Kind};

// covers: #9 (non_exhaustive option structs stay buildable outside the crate)
#[test]
fn lint_config_built_with_setters_equals_the_parsed_file() {
    let built = LintConfig::default()
        .with_deny(vec!["warnings".into()])
        .with_allow(vec!["SC-L001".into()])
        .with_allowed_syscalls(vec!["read".into(), "write".into()])
        .with_allowed_system_profiles(Some(vec!["container".into()]));
    let parsed = LintConfig::from_yaml(
        "deny: [warnings]\nallow: [SC-L001]\nallowedSyscalls: [read, write]\nallowedSystemProfiles: [container]\n",
    )
    .unwrap();
    assert_eq!(built, parsed);
    assert!(built.deny_warnings());
    assert_eq!(built.level("SC-L001"), Some(Level::Allow));
    assert!(built.is_allowed("SC-L001"));
}

/// What a downstream tool writes: every known variant by name, a wildcard for later ones.
fn era_label(era: Era) -> &'static str {
    match era {
        Era::V1 => "v1",
        Era::Legacy => "0.10",
        _ => "newer",
    }
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        _ => "note",
    }
}

// covers: #9 (non_exhaustive public enums are matched with a wildcard outside the crate)
#[test]
fn public_enums_match_with_a_wildcard_outside_the_crate() {
    assert_eq!(era_label(Era::default()), era_label(Era::V1));
    assert_eq!(era_label(Era::Legacy), "0.10");
    assert_eq!(severity_label(Severity::Info), "note");
    let kind = match Kind::SeccompProfile {
        Kind::SeccompProfile => Kind::SeccompProfile.as_str(),
        _ => "other",
    };
    assert_eq!(kind, "SeccompProfile");
    let arch = match Arch::X86_64 {
        Arch::X86_64 => "amd64",
        _ => "other",
    };
    assert_eq!(arch, "amd64");
}
