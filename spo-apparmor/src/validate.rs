//! Validation that reports every problem of an AppArmorProfile (AA-01, AA-11).

use spo_core::Violations;

use crate::model::AppArmorProfile;
use crate::render::{build_policy, effective_name};

/// The AppArmor profile-name rule (§2): `^[a-zA-Z0-9_./-]+$`; additionally `//` is refused
/// because it separates a parent profile from a child (hat) profile.
pub fn check_profile_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the AppArmor profile name must not be empty".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_./-".contains(*c)))
    {
        return Err(format!(
            "{name:?} contains {bad:?}; AppArmor profile names may only use letters, digits, '_', '.', '/' and '-'"
        ));
    }
    if name == "unconfined" {
        return Err("\"unconfined\" is reserved by AppArmor for unconfined tasks".into());
    }
    if name.chars().all(|c| c == '.' || c == '/') {
        return Err(format!(
            "{name:?} gives no policy file name (only '.' and '/')"
        ));
    }
    if name.contains("//") {
        return Err(format!(
            "{name:?} contains '//', which AppArmor reads as a child (hat) profile"
        ));
    }
    Ok(())
}

/// The names of the profiles a raw policy declares: `profile <name> …` (name possibly
/// quoted) and attachment-style `/path … {` headers. Comments and `#include` lines are
/// skipped.
pub fn declared_profiles(policy: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in policy.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let mut tokens = line.split_whitespace();
        match tokens.next() {
            Some("profile") => {
                if let Some(rest) = line.strip_prefix("profile") {
                    let rest = rest.trim_start();
                    let name = if let Some(q) = rest.strip_prefix('"') {
                        q.split('"').next().unwrap_or_default()
                    } else {
                        rest.split(|c: char| c.is_whitespace() || c == '{')
                            .next()
                            .unwrap_or_default()
                    };
                    if !name.is_empty() {
                        names.push(name.to_string());
                    }
                }
            }
            Some(first) if first.starts_with('/') && line.ends_with('{') => {
                names.push(first.trim_end_matches('{').to_string());
            }
            _ => {}
        }
    }
    names
}

/// AA-01: a raw policy must declare `profile <name>` for the name it is installed under.
pub fn check_raw_policy(policy: &str, name: &str, name_field: &str) -> Violations {
    let mut v = Violations::new();
    if let Err(reason) = check_profile_name(name) {
        v.push(name_field, reason);
    }
    let declared = declared_profiles(policy);
    if !declared.iter().any(|d| d == name) {
        let found = if declared.is_empty() {
            "none".to_string()
        } else {
            declared.join(", ")
        };
        v.push(
            "spec.policy",
            format!(
                "does not declare `profile {name}` (declared: {found}); AppArmorProfile name must match defined policy"
            ),
        );
    }
    v
}

/// Every violation of `profile`: the Kubernetes name rule for `metadata.name`, then the
/// AppArmor rules for the name it renders under (`program_name` or `metadata.name`), every
/// path and every capability (AA-11), or the declaration rule of a raw policy (AA-01).
pub fn validate(profile: &AppArmorProfile, program_name: Option<&str>) -> Violations {
    let mut v = profile.metadata.validate();
    let (name, field) = effective_name(profile, program_name);
    if let Some(policy) = profile.spec.raw_policy() {
        if !profile.version.is_legacy() {
            v.push(
                "spec.policy",
                "raw policies exist only in v1alpha1 (era A); v1 describes the profile in spec.abstract",
            );
        }
        v.extend_prefixed("", check_raw_policy(policy, name, field));
        return v;
    }
    if let Err(violations) = build_policy(
        name,
        field,
        profile.spec.mode(),
        &profile.abstract_or_default(),
    ) {
        v.extend_prefixed("", violations);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: AA-11
    #[test]
    fn aa_11_profile_names() {
        for ok in ["test-profile", "/usr/bin/my_prog.sh", "a.b"] {
            assert!(check_profile_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a\nprofile x {",
            "a,b",
            "a//b",
            "a{",
            "näme",
            "unconfined",
            "..",
            "/",
        ] {
            assert!(check_profile_name(bad).is_err(), "{bad:?}");
        }
    }

    // covers: AA-01
    #[test]
    fn aa_01_raw_policy_must_declare_the_profile_name() {
        let policy = "#include <tunables/global>\nprofile hello flags=(complain) {\n  /** r,\n}\n";
        assert_eq!(declared_profiles(policy), ["hello"]);
        assert!(check_raw_policy(policy, "hello", "metadata.name").is_empty());
        let v = check_raw_policy(policy, "other", "metadata.name");
        assert_eq!(v.len(), 1);
        assert_eq!(v.as_slice()[0].path, "spec.policy");
        assert!(v.as_slice()[0].reason.contains("declared: hello"), "{v}");
        assert_eq!(
            declared_profiles("profile \"q n\" {\n}\n/usr/bin/x {\n}\n"),
            ["q n", "/usr/bin/x"]
        );
    }
}
