//! Validation that reports every problem of an AppArmorProfile (AA-01, AA-11).

use spo_core::Violations;

use crate::model::AppArmorProfile;
use crate::render::{build_policy, effective_name};

pub use crate::checks::{check_profile_name, check_raw_policy, declared_profiles};

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
