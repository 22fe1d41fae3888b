//! Validation results that list *every* problem, each with the path of the field it concerns.

use std::fmt;

/// One validation problem: where it is (`spec.syscalls[2].names[0]`) and why it is wrong.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Violation {
    /// Field path in the manifest, e.g. `metadata.name` or `spec.syscalls[0].action`.
    pub path: String,
    /// Human-readable reason, e.g. `unknown syscall "opne" on SCMP_ARCH_X86_64`.
    pub reason: String,
}

impl Violation {
    /// Builds a violation from a path and a reason.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// An ordered list of violations; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// An empty list.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Records one violation.
    pub fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Violation::new(path, reason));
    }

    /// Appends every violation of `other`, with `prefix` put before each path
    /// (`prefix` + `.` + path, or only `prefix` when the inner path is empty).
    pub fn extend_prefixed(&mut self, prefix: &str, other: Violations) {
        for v in other.0 {
            let path = match (prefix.is_empty(), v.path.is_empty()) {
                (true, _) => v.path,
                (false, true) => prefix.to_string(),
                (false, false) if v.path.starts_with('[') => format!("{prefix}{}", v.path),
                (false, false) => format!("{prefix}.{}", v.path),
            };
            self.0.push(Violation::new(path, v.reason));
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of violations.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The violations in the order they were found.
    pub fn as_slice(&self) -> &[Violation] {
        &self.0
    }

    /// Consumes the list.
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<Vec<Violation>> for Violations {
    fn from(v: Vec<Violation>) -> Self {
        Self(v)
    }
}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_paths() {
        let mut inner = Violations::new();
        inner.push("names[0]", "empty");
        inner.push("", "whole entry bad");
        inner.push("[3]", "indexed");
        let mut outer = Violations::new();
        outer.extend_prefixed("spec.syscalls[1]", inner);
        let paths: Vec<_> = outer.as_slice().iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.syscalls[1].names[0]",
                "spec.syscalls[1]",
                "spec.syscalls[1][3]"
            ]
        );
        assert_eq!(
            outer.to_string().lines().next(),
            Some("spec.syscalls[1].names[0]: empty")
        );
    }
}
