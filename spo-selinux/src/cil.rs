//! CIL as a small AST with a deterministic printer.
//!
//! Every name in the tree is a [`Name`], which can only be built from text that passes the
//! SE-07 token rule, so the printer never emits a parenthesis, quote, comment or whitespace
//! that came from a profile. The only other text the printer copies is a RawSelinuxProfile
//! body, which [`RawBody`] admits only after the raw checks (SE-25).

use std::fmt::{self, Write as _};
use std::sync::Arc;

use crate::names::{is_token, PolicyName};

/// A CIL name or dotted name path (`var_log_t`, `nginx-secure.process`): `[A-Za-z0-9._-]+`.
/// Shared (`Arc`), so repeating a name across thousands of rules costs no allocation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Arc<str>);

impl Name {
    /// Accepts `s` when it is a token (SE-07); `None` otherwise.
    pub fn new(s: &str) -> Option<Self> {
        is_token(s).then(|| Self(Arc::from(s)))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared text (no copy).
    pub(crate) fn shared(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }
}

impl From<&PolicyName> for Name {
    fn from(p: &PolicyName) -> Self {
        Self(Arc::from(p.as_str()))
    }
}

/// The manifest field a statement came from (for mapping compiler errors back).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The implicit `(blockinherit container)` (`spec.inherit`).
    Inherit,
    /// `spec.inherit[i]`.
    InheritEntry(usize),
    /// `spec.mode`.
    Mode,
    /// `spec.allow.<label>.<class>`.
    Allow {
        /// The label as written (`@self` stays `@self`).
        label: Arc<str>,
        /// The class.
        class: Arc<str>,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Inherit => f.write_str("spec.inherit"),
            Origin::InheritEntry(i) => write!(f, "spec.inherit[{i}]"),
            Origin::Mode => f.write_str("spec.mode"),
            Origin::Allow { label, class } => write!(f, "spec.allow.{label}.{class}"),
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One statement inside a profile block.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Statement {
    /// `(blockinherit <name>)` (SE-09..SE-11).
    BlockInherit(Name),
    /// `(typepermissive <type>)` (SE-12).
    TypePermissive(Name),
    /// `(allow <source> <target> ( <class> ( <perm> … )))` (SE-13).
    Allow {
        /// Source type.
        source: Name,
        /// Target type.
        target: Name,
        /// Object class.
        class: Name,
        /// Permissions, printed in the given order.
        perms: Vec<Name>,
    },
}

impl Statement {
    fn write_to(&self, out: &mut String) {
        // Writing into a String cannot fail.
        let _ = match self {
            Statement::BlockInherit(n) => write!(out, "(blockinherit {n})"),
            Statement::TypePermissive(n) => write!(out, "(typepermissive {n})"),
            Statement::Allow {
                source,
                target,
                class,
                perms,
            } => {
                let _ = write!(out, "(allow {source} {target} ( {class} (");
                for p in perms {
                    out.push(' ');
                    out.push_str(p.as_str());
                }
                out.push_str(" )))");
                Ok(())
            }
        };
    }
}

/// The module of a SelinuxProfile: one block of statements, each remembering the spec field
/// it came from (to map compiler errors back, see [`Module::origin_of_line`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The block (policy) name.
    pub name: PolicyName,
    /// Statements and the field each came from.
    pub statements: Vec<(Statement, Origin)>,
}

/// The module of a RawSelinuxProfile: the checked policy text wrapped in a block (SE-24).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBlock {
    /// The block (policy) name; equals the module name so `<name>.process` is the real type
    /// (fixes upstream weak point 1).
    pub name: PolicyName,
    /// The checked body.
    pub body: RawBody,
}

/// A CIL module produced by spo.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Module {
    /// From a SelinuxProfile.
    Profile(Block),
    /// From a RawSelinuxProfile.
    Raw(RawBlock),
}

impl Module {
    /// The policy (module) name.
    pub fn name(&self) -> &PolicyName {
        match self {
            Module::Profile(b) => &b.name,
            Module::Raw(r) => &r.name,
        }
    }

    /// Renders the module text.
    ///
    /// A SelinuxProfile renders as `(block <name>\n`, one statement per line, `)\n` (SE-08).
    /// A RawSelinuxProfile renders as `(block <name>\n    <body, each newline followed by
    /// four spaces>\n)` without a trailing newline (SE-24).
    pub fn render(&self) -> String {
        match self {
            Module::Profile(b) => {
                let mut out = String::with_capacity(32 + b.statements.len() * 64);
                out.push_str("(block ");
                out.push_str(b.name.as_str());
                out.push('\n');
                for (s, _) in &b.statements {
                    s.write_to(&mut out);
                    out.push('\n');
                }
                out.push_str(")\n");
                out
            }
            Module::Raw(r) => {
                let body = r.body.as_str();
                let mut out = String::with_capacity(body.len() + body.len() / 8 + 32);
                out.push_str("(block ");
                out.push_str(r.name.as_str());
                out.push_str("\n    ");
                for (i, line) in body.split('\n').enumerate() {
                    if i > 0 {
                        out.push_str("\n    ");
                    }
                    out.push_str(line);
                }
                out.push_str("\n)");
                out
            }
        }
    }

    /// The manifest field a 1-based line of [`render`](Self::render)'s output came from, for
    /// mapping `secilc` errors back to the profile: `metadata.name` for the block line,
    /// `spec.allow.<label>.<class>` / `spec.inherit...` / `spec.mode` for statements and
    /// `spec.policy (line N)` for raw bodies.
    pub fn origin_of_line(&self, line: usize) -> Option<String> {
        if line == 1 {
            return Some("metadata.name".into());
        }
        match self {
            Module::Profile(b) => b.statements.get(line - 2).map(|(_, o)| o.to_string()),
            Module::Raw(r) => {
                let body_lines = r.body.as_str().split('\n').count();
                (line - 2 < body_lines).then(|| {
                    format!(
                        "spec.policy (line {})",
                        line - 1 + r.body.first_line_offset()
                    )
                })
            }
        }
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// A raw policy body that passed `raw::check_policy`: trimmed, balanced, free of restricted
/// directives. Only this crate builds one, after those checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBody {
    text: String,
    first_line_offset: usize,
}

impl RawBody {
    /// A checked body (the raw module calls this after its checks).
    pub(crate) fn new(text: String, first_line_offset: usize) -> Self {
        RawBody {
            text,
            first_line_offset,
        }
    }

    /// The trimmed policy text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How many lines the trim removed at the start (to map lines back to `spec.policy`).
    pub fn first_line_offset(&self) -> usize {
        self.first_line_offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    // covers: SE-08, SE-13
    #[test]
    fn se_08_se_13_printer_layout() {
        let m = Module::Profile(Block {
            name: PolicyName::new("demo").unwrap(),
            statements: vec![
                (Statement::BlockInherit(n("container")), Origin::Inherit),
                (Statement::TypePermissive(n("process")), Origin::Mode),
                (
                    Statement::Allow {
                        source: n("process"),
                        target: n("var_log_t"),
                        class: n("dir"),
                        perms: vec![n("open"), n("read")],
                    },
                    Origin::Allow {
                        label: "var_log_t".into(),
                        class: "dir".into(),
                    },
                ),
            ],
        });
        assert_eq!(
            m.render(),
            "(block demo\n(blockinherit container)\n(typepermissive process)\n(allow process var_log_t ( dir ( open read )))\n)\n"
        );
        assert_eq!(m.origin_of_line(1).as_deref(), Some("metadata.name"));
        assert_eq!(
            m.origin_of_line(4).as_deref(),
            Some("spec.allow.var_log_t.dir")
        );
        assert_eq!(m.origin_of_line(5), None);
    }

    #[test]
    fn names_refuse_cil_syntax() {
        for bad in ["a b", "(", ")", "a;", "\"", "é", ""] {
            assert!(Name::new(bad).is_none(), "{bad:?}");
        }
    }
}
