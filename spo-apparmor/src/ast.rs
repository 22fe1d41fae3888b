//! A small AppArmor policy AST and its deterministic printer.
//!
//! Only this crate builds rules: file paths are [`AaPath`]s (validated or crate-written),
//! comments are `&'static str`, so user input can never become policy syntax. Each line
//! may remember the spec field it came from, so a parser error on a line can be reported
//! against the input (`spec.abstract.filesystem.readOnlyPaths[2]`).

use std::fmt::Write as _;

use crate::capability::Capability;
use crate::model::Mode;
use crate::path::{AaPath, PtraceAccess};

/// File permissions, as the template spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FilePerms {
    /// `ixr`: execute inheriting the profile, read.
    Ixr,
    /// `mr`: map executable, read.
    Mr,
    /// `r`
    R,
    /// `w`
    W,
    /// `wlk`: write, link, lock.
    Wlk,
    /// `rwlk`
    Rwlk,
    /// `rwklx`
    Rwklx,
}

impl FilePerms {
    /// The permission string.
    pub fn as_str(self) -> &'static str {
        match self {
            FilePerms::Ixr => "ixr",
            FilePerms::Mr => "mr",
            FilePerms::R => "r",
            FilePerms::W => "w",
            FilePerms::Wlk => "wlk",
            FilePerms::Rwlk => "rwlk",
            FilePerms::Rwklx => "rwklx",
        }
    }
}

/// Network rule kinds the model can express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetworkKind {
    /// `network raw,`
    Raw,
    /// `network tcp,`
    Tcp,
    /// `network udp,`
    Udp,
}

/// One AppArmor rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `[deny ]<path> <perms>,`
    File {
        /// A deny rule.
        deny: bool,
        /// The path or glob.
        path: AaPath,
        /// Permissions.
        perms: FilePerms,
    },
    /// `[deny ]network <kind>,`
    Network {
        /// A deny rule.
        deny: bool,
        /// raw, tcp or udp.
        kind: NetworkKind,
    },
    /// `capability <name>,`
    Capability(Capability),
    /// `ptrace (<access>),`
    Ptrace(PtraceAccess),
    /// `mount,`
    Mount,
    /// `remount,`
    Remount,
    /// `umount,`
    Umount,
}

impl Rule {
    /// True for `deny` rules (never present in complain mode, AA-04).
    pub fn is_deny(&self) -> bool {
        matches!(
            self,
            Rule::File { deny: true, .. } | Rule::Network { deny: true, .. }
        )
    }

    fn write(&self, out: &mut String) {
        let deny = |d: bool| if d { "deny " } else { "" };
        // Writing to a String cannot fail.
        let _ = match self {
            Rule::File {
                deny: d,
                path,
                perms,
            } => {
                write!(out, "{}{} {},", deny(*d), path, perms.as_str())
            }
            Rule::Network { deny: d, kind } => {
                let k = match kind {
                    NetworkKind::Raw => "raw",
                    NetworkKind::Tcp => "tcp",
                    NetworkKind::Udp => "udp",
                };
                write!(out, "{}network {k},", deny(*d))
            }
            Rule::Capability(c) => write!(out, "capability {c},"),
            Rule::Ptrace(a) => write!(out, "ptrace ({}),", a.as_str()),
            Rule::Mount => write!(out, "mount,"),
            Rule::Remount => write!(out, "remount,"),
            Rule::Umount => write!(out, "umount,"),
        };
    }
}

/// One line inside the profile block (printed with two spaces of indentation unless blank).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Line {
    /// An empty line.
    Blank,
    /// A line of exactly two spaces (the template leaves some).
    Indent,
    /// `# <text>`.
    Comment(&'static str),
    /// `#include <<what>>`.
    Include(&'static str),
    /// A rule, an optional trailing comment (text after the comma, spacing included) and the
    /// spec field it renders.
    Rule {
        /// The rule.
        rule: Rule,
        /// Trailing comment, e.g. `"   # deny write …"`.
        comment: Option<&'static str>,
        /// Field path of the input it came from.
        origin: Option<String>,
    },
}

impl Line {
    /// A rule line without comment.
    pub fn rule(rule: Rule, origin: Option<String>) -> Self {
        Line::Rule {
            rule,
            comment: None,
            origin,
        }
    }
}

/// A whole policy file: preamble, then one profile. Only
/// [`build_policy`](crate::render::build_policy) makes one, from validated input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub(crate) name: String,
    pub(crate) mode: Mode,
    pub(crate) body: Vec<Line>,
}

/// Rendered text plus, for every 1-based line, the spec field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The policy text.
    pub text: String,
    /// `origins[n - 1]` is the origin of line `n`.
    pub origins: Vec<Option<String>>,
}

impl Rendered {
    /// The spec field of 1-based `line`, if any.
    pub fn origin_of_line(&self, line: usize) -> Option<&str> {
        line.checked_sub(1)
            .and_then(|i| self.origins.get(i))
            .and_then(|o| o.as_deref())
    }
}

const HEADER_COMMENT: &str =
    "# Generated by https://github.com/kubernetes-sigs/security-profiles-operator, do not edit by hand.";

impl Policy {
    /// The profile name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Enforce or complain.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The lines between `{` and `}`.
    pub fn body(&self) -> &[Line] {
        &self.body
    }

    /// Iterates over every rule.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.body.iter().filter_map(|l| match l {
            Line::Rule { rule, .. } => Some(rule),
            _ => None,
        })
    }

    /// Prints the policy (§3 layout) and records line origins.
    pub fn render(&self) -> Rendered {
        let mut text = String::new();
        let mut origins = Vec::new();
        let mut push = |line: &str, origin: Option<String>| {
            text.push_str(line);
            text.push('\n');
            origins.push(origin);
        };
        push("", None);
        push(HEADER_COMMENT, None);
        push("#include <tunables/global>", None);
        push(
            &format!(
                "profile {} flags=({},attach_disconnected,mediate_deleted) {{",
                self.name,
                self.mode.flag()
            ),
            Some("metadata.name".into()),
        );
        for line in &self.body {
            match line {
                Line::Blank => push("", None),
                Line::Indent => push("  ", None),
                Line::Comment(c) => push(&format!("  # {c}"), None),
                Line::Include(what) => push(&format!("  #include <{what}>"), None),
                Line::Rule {
                    rule,
                    comment,
                    origin,
                } => {
                    let mut s = String::from("  ");
                    rule.write(&mut s);
                    if let Some(c) = comment {
                        s.push_str(c);
                    }
                    push(&s, origin.clone());
                }
            }
        }
        push("}", None);
        Rendered { text, origins }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render().text)
    }
}
