//! Kubernetes object-name rules (RFC 1123 subdomain and label), as the API server applies them.

use crate::Violations;

/// Longest DNS-1123 subdomain (object names).
pub const MAX_SUBDOMAIN_LEN: usize = 253;
/// Longest DNS-1123 label (label values, namespaces, recording names).
pub const MAX_LABEL_LEN: usize = 63;

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Checks `value` as a DNS-1123 label: at most 63 characters of `[a-z0-9-]`, starting and
/// ending with an alphanumeric character. Violations are reported against `path`.
pub fn check_dns1123_label(path: &str, value: &str) -> Violations {
    let mut v = Violations::new();
    check_label_into(&mut v, path, value, MAX_LABEL_LEN, "DNS-1123 label");
    v
}

fn check_label_into(v: &mut Violations, path: &str, value: &str, max: usize, what: &str) {
    if value.is_empty() {
        v.push(path, format!("must not be empty (a {what})"));
        return;
    }
    if value.len() > max {
        v.push(
            path,
            format!(
                "{:?} is {} characters long; a {what} has at most {max}",
                value,
                value.len()
            ),
        );
    }
    let bytes = value.as_bytes();
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        v.push(
            path,
            format!(
                "{value:?} contains {bad:?}; a {what} consists of lower-case letters, digits and '-'"
            ),
        );
    } else if !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        v.push(
            path,
            format!("{value:?} must start and end with a lower-case letter or digit"),
        );
    }
}

/// Checks `value` as a DNS-1123 subdomain (the rule for most object names): at most 253
/// characters, dot-separated labels of `[a-z0-9-]` each starting and ending alphanumeric.
pub fn check_dns1123_subdomain(path: &str, value: &str) -> Violations {
    let mut v = Violations::new();
    if value.is_empty() {
        v.push(path, "must not be empty (a DNS-1123 subdomain)");
        return v;
    }
    if value.len() > MAX_SUBDOMAIN_LEN {
        v.push(
            path,
            format!(
                "is {} characters long; a DNS-1123 subdomain has at most {MAX_SUBDOMAIN_LEN}",
                value.len()
            ),
        );
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        v.push(
            path,
            format!(
                "{value:?} contains {bad:?}; a DNS-1123 subdomain consists of lower-case letters, digits, '-' and '.'"
            ),
        );
        return v;
    }
    if value
        .split('.')
        .any(|l| l.is_empty() || !is_alnum(l.as_bytes()[0]) || !is_alnum(l.as_bytes()[l.len() - 1]))
    {
        v.push(
            path,
            format!(
                "{value:?} must consist of '.'-separated parts that start and end with a lower-case letter or digit"
            ),
        );
    }
    v
}

/// True when `value` is a valid DNS-1123 subdomain.
pub fn is_dns1123_subdomain(value: &str) -> bool {
    check_dns1123_subdomain("", value).is_empty()
}

/// True when `value` is a valid DNS-1123 label.
pub fn is_dns1123_label(value: &str) -> bool {
    check_dns1123_label("", value).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains() {
        for ok in ["a", "profile1", "runc-v1.2.0", "a.b-c.d", &"a".repeat(253)] {
            assert!(is_dns1123_subdomain(ok), "{ok}");
        }
        for bad in [
            "",
            "A",
            "-a",
            "a-",
            "a..b",
            ".a",
            "a/b",
            "a_b",
            "ä",
            &"a".repeat(254),
        ] {
            assert!(!is_dns1123_subdomain(bad), "{bad}");
        }
    }

    #[test]
    fn labels() {
        assert!(is_dns1123_label("nginx-1"));
        assert!(!is_dns1123_label("a.b"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        let v = check_dns1123_label("metadata.name", "Bad_Name");
        assert_eq!(v.as_slice()[0].path, "metadata.name");
        assert!(v.as_slice()[0].reason.contains("'B'"), "{v}");
    }
}
