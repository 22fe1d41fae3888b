//! Policy names (SE-01, SE-02) and the identifier rules that keep profile text out of CIL
//! syntax (SE-07).

use std::fmt;

use spo_core::{name, ObjectMeta, Violations};

/// How a policy (module) name is derived from an object (spec §1.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Naming {
    /// Era B/C (0.9+, cluster-scoped): `<name>`.
    #[default]
    ClusterScoped,
    /// Era A (≤0.8, namespaced): `<name>_<namespace>`.
    Namespaced,
}

/// True for a label, class or permission token: `^[a-zA-Z0-9.\-_]+$` (SE-07). ASCII only, so
/// parentheses, quotes, whitespace, `;` and Unicode look-alikes never pass.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// True for a name CIL accepts in a declaration (a block name): an ASCII letter, then ASCII
/// letters, digits, `_` or `-` (libsepol's `cil_verify_name`). Dots would make a nested path.
pub fn is_cil_decl_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A validated policy (module and block) name: safe as a CIL block name and as a file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyName(String);

impl PolicyName {
    /// Checks `name` as a CIL block name (see [`is_cil_decl_name`]).
    pub fn new(name: &str) -> Result<Self, String> {
        if is_cil_decl_name(name) {
            Ok(Self(name.to_string()))
        } else {
            Err(format!(
                "{name:?} cannot name an SELinux policy: it must start with a letter and contain only letters, digits, '-' and '_'"
            ))
        }
    }

    /// Derives the policy name of an object (SE-02): `<name>` or, era A, `<name>_<namespace>`.
    /// Violations name `metadata.name` / `metadata.namespace`.
    pub fn for_object(meta: &ObjectMeta, naming: Naming) -> Result<Self, Violations> {
        let mut v = name::check_dns1123_subdomain("metadata.name", &meta.name);
        let candidate = match naming {
            Naming::ClusterScoped => meta.name.clone(),
            Naming::Namespaced => {
                let ns = meta.namespace.as_deref().unwrap_or_default();
                v.extend_prefixed("", name::check_dns1123_label("metadata.namespace", ns));
                format!("{}_{}", meta.name, ns)
            }
        };
        if v.is_empty() {
            if let Err(reason) = Self::new(&candidate) {
                v.push("metadata.name", reason);
            }
        }
        match v.into_result() {
            Ok(()) => Ok(Self(candidate)),
            Err(v) => Err(v),
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SELinux type workloads use (SE-01): `<policyName>.process`.
    pub fn usage(&self) -> String {
        format!("{}.process", self.0)
    }

    /// The CIL file name (SE-02): `<policyName>.cil`.
    pub fn file_name(&self) -> String {
        format!("{}.cil", self.0)
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: SE-01, SE-02
    #[test]
    fn se_01_se_02_names_per_era() {
        let mut meta = ObjectMeta::named("nginx-secure");
        let p = PolicyName::for_object(&meta, Naming::ClusterScoped).unwrap();
        assert_eq!(p.as_str(), "nginx-secure");
        assert_eq!(p.usage(), "nginx-secure.process");
        assert_eq!(p.file_name(), "nginx-secure.cil");
        meta.namespace = Some("web".into());
        let p = PolicyName::for_object(&meta, Naming::Namespaced).unwrap();
        assert_eq!(p.usage(), "nginx-secure_web.process");
        assert_eq!(p.file_name(), "nginx-secure_web.cil");
    }

    #[test]
    fn names_that_cil_cannot_declare_are_violations() {
        for bad in ["a.b", "1abc", "", "a(b", "Ab"] {
            let err =
                PolicyName::for_object(&ObjectMeta::named(bad), Naming::ClusterScoped).unwrap_err();
            assert_eq!(err.as_slice()[0].path, "metadata.name", "{bad}");
        }
        let err = PolicyName::for_object(&ObjectMeta::named("a"), Naming::Namespaced).unwrap_err();
        assert_eq!(err.as_slice()[0].path, "metadata.namespace");
    }

    // covers: SE-07
    #[test]
    fn se_07_tokens_are_ascii_identifiers_only() {
        for ok in ["var_log_t", "a.b-c_1", "X"] {
            assert!(is_token(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a(",
            ")",
            "\"x\"",
            "a;b",
            "a\nb",
            "vаr_log_t",
            "@self",
            "a\u{0}",
        ] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }
}
