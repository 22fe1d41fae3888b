//! Name and raw-policy checks shared by rendering and validation (kept apart from both so
//! neither imports the other in a circle).

use spo_core::Violations;

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
