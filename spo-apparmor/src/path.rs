//! The grammar of the strings a profile author writes into `spec.abstract` lists (§2, AA-11).
//!
//! Each entry is either an absolute path (with AppArmor globs `*`, `**`, `?` and variables
//! `@{name}`), or the documented escape hatch `ptrace (<access>),` (optionally followed by a
//! `# comment`) that upstream's own bundled profile relies on. Anything else is rejected with
//! a reason: nothing an author writes is interpolated into the policy as text, so nothing can
//! add a rule the model does not mean. Paths containing spaces are rendered quoted.

use std::fmt;

/// Characters a path may contain besides ASCII letters and digits.
const PATH_PUNCTUATION: &str = "_./*?+@{} -";

/// A validated AppArmor path or glob, printed quoted when it contains a space.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AaPath(String);

impl AaPath {
    /// Validates `text` as a path entry (see [`Entry::parse`]); `ptrace` entries are refused.
    pub fn parse(text: &str) -> Result<Self, String> {
        check_path(text)?;
        Ok(Self(text.to_string()))
    }

    /// A path written by this crate (the fixed deny block); never user input.
    pub(crate) fn trusted(text: &'static str) -> Self {
        Self(text.to_string())
    }

    /// The path as written (unquoted).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AaPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains(' ') {
            // Safe: '"' and '\\' can never be part of a validated path.
            write!(f, "\"{}\"", self.0)
        } else {
            f.write_str(&self.0)
        }
    }
}

/// Access of a `ptrace` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum PtraceAccess {
    /// `r`
    R,
    /// `w`
    W,
    /// `rw`
    Rw,
    /// `read`
    Read,
    /// `readby`
    Readby,
    /// `trace`
    Trace,
    /// `tracedby`
    Tracedby,
}

impl PtraceAccess {
    const ALL: [(&'static str, PtraceAccess); 7] = [
        ("r", PtraceAccess::R),
        ("w", PtraceAccess::W),
        ("rw", PtraceAccess::Rw),
        ("read", PtraceAccess::Read),
        ("readby", PtraceAccess::Readby),
        ("trace", PtraceAccess::Trace),
        ("tracedby", PtraceAccess::Tracedby),
    ];

    /// The keyword as AppArmor spells it.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(s, _)| *s)
            .unwrap_or("read")
    }

    fn from_word(word: &str) -> Option<Self> {
        Self::ALL.iter().find(|(s, _)| *s == word).map(|(_, a)| *a)
    }
}

/// One entry of an abstract list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Entry {
    /// A file path or glob.
    Path(AaPath),
    /// The escape hatch `ptrace (<access>),` — rendered as a real ptrace rule, never as a
    /// file rule and never denied.
    Ptrace(PtraceAccess),
}

impl Entry {
    /// Parses one list entry. `Ok(None)` for an empty string (skipped, as upstream does).
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        if text.starts_with("ptrace") {
            return parse_ptrace(text).map(|a| Some(Entry::Ptrace(a)));
        }
        AaPath::parse(text).map(|p| Some(Entry::Path(p)))
    }
}

/// `ptrace\s*\(<word>\),(\s*#<comment>)?` — the comment may not span lines.
fn parse_ptrace(text: &str) -> Result<PtraceAccess, String> {
    let bad = || {
        format!(
            "{text:?} is neither an absolute path nor the escape hatch `ptrace (<access>),` optionally followed by a `#` comment"
        )
    };
    let rest = text["ptrace".len()..].trim_start_matches(is_space);
    let rest = rest.strip_prefix('(').ok_or_else(bad)?;
    let close = rest.find(')').ok_or_else(bad)?;
    let word = &rest[..close];
    if word.is_empty() || !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let tail = rest[close + 1..].strip_prefix(',').ok_or_else(bad)?;
    let tail = tail.trim_start_matches(is_space);
    if !(tail.is_empty() || tail.starts_with('#')) || tail.contains(['\n', '\r']) {
        return Err(bad());
    }
    PtraceAccess::from_word(&word.to_ascii_lowercase()).ok_or_else(|| {
        format!(
            "ptrace access {word:?} is not one of {}",
            PtraceAccess::ALL.map(|(s, _)| s).join(", ")
        )
    })
}

fn is_space(c: char) -> bool {
    c.is_ascii_whitespace()
}

fn describe(c: char) -> String {
    match c {
        '\n' => "a newline".into(),
        '\r' => "a carriage return".into(),
        '\t' => "a tab".into(),
        '"' => "a double quote".into(),
        '\'' => "a single quote".into(),
        ',' => "a comma (it would end the rule)".into(),
        '$' => "'$'".into(),
        '#' => "'#' (it would start a comment)".into(),
        c => format!("{c:?}"),
    }
}

fn check_path(text: &str) -> Result<(), String> {
    if !text.starts_with('/') {
        return Err(format!(
            "{text:?} is not an absolute path (relative paths are not allowed)"
        ));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || PATH_PUNCTUATION.contains(*c)))
    {
        return Err(format!(
            "{text:?} contains {}; paths may only use letters, digits, space and {PATH_PUNCTUATION:?}",
            describe(bad)
        ));
    }
    check_braces(text)?;
    if text.split('/').any(|part| part == "..") {
        return Err(format!("{text:?} contains '..' (directory traversal)"));
    }
    Ok(())
}

/// `{` and `}` may only appear as an AppArmor variable `@{name}`: alternations need commas,
/// which are not allowed, and an unbalanced brace breaks the policy.
fn check_braces(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                if i == 0 || bytes[i - 1] != b'@' {
                    return Err(format!(
                        "{text:?}: '{{' is only allowed in an AppArmor variable such as @{{pid}}"
                    ));
                }
                let close = text[i..]
                    .find('}')
                    .map(|c| c + i)
                    .ok_or_else(|| format!("{text:?}: unclosed variable reference '@{{'"))?;
                let name = &text[i + 1..close];
                let valid = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(format!(
                        "{text:?}: {name:?} is not a valid AppArmor variable name"
                    ));
                }
                i = close + 1;
            }
            b'}' => {
                return Err(format!("{text:?}: unbalanced '}}'"));
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// The extra rule for executables and libraries (§2): no `/../`, and not starting with `/..`.
pub fn check_executable(text: &str) -> Result<(), String> {
    if text.starts_with("/..") || text.contains("/../") {
        return Err(format!("{text:?} contains '..' (directory traversal)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: AA-11
    #[test]
    fn aa_11_accepts_the_documented_path_shapes() {
        for ok in [
            "/",
            "/usr/bin/nginx",
            "/proc/@{pid}/cgroup",
            "/@{HOME}/.bashrc",
            "/var/log/**",
            "/etc/nginx/conf.d/*.conf",
            "/lib/tls/i686/cmov/lib*.so?",
            "/opt/my-app/v1.2+3/run_app",
            "/My Documents/test file",
            "/run/crun/.empty-directory/",
            "/foo@bar",
        ] {
            assert!(matches!(Entry::parse(ok), Ok(Some(Entry::Path(_)))), "{ok}");
        }
        assert_eq!(Entry::parse(""), Ok(None));
        assert_eq!(
            Entry::parse("ptrace (read),  # ugly template injection hack"),
            Ok(Some(Entry::Ptrace(PtraceAccess::Read)))
        );
        assert_eq!(
            Entry::parse("ptrace(trace),"),
            Ok(Some(Entry::Ptrace(PtraceAccess::Trace)))
        );
    }

    // covers: AA-11
    #[test]
    fn aa_11_rejects_injection_and_bad_syntax() {
        for bad in [
            "usr/bin/nginx",
            "/usr/bin/nginx\" - r,",
            "/usr/bin/$(whoami)",
            "/usr/bin/nginx, /etc/passwd",
            "/usr/bin/nginx ; rm -rf /",
            "/var/log/app.log\n  audit network inet,",
            "/a/../etc/shadow",
            "/a/..",
            "/a/{b}",
            "/a/@{pid",
            "/a/}",
            "/a/@{1x}",
            "/a # comment",
            "ptrace (read) /etc/shadow r,",
            "ptrace (read),\n  capability sys_admin,",
            "ptrace (read), /x r,",
            "ptrace (peer=unconfined),",
            "ptrace (bogus),",
            "'/single'",
            "\\/x",
        ] {
            assert!(Entry::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_executable("/..x").is_err());
        assert!(check_executable("/usr/bin/../x").is_err());
        assert!(check_executable("/usr/bin/x").is_ok());
    }

    #[test]
    fn paths_with_spaces_are_quoted() {
        assert_eq!(AaPath::parse("/a b").unwrap().to_string(), "\"/a b\"");
        assert_eq!(AaPath::parse("/a").unwrap().to_string(), "/a");
    }
}
