//! RawSelinuxProfile: checking the policy text (SE-25, SE-26) and wrapping it (SE-24).
//!
//! Upstream counts parentheses over the raw text. CIL, however, ignores parentheses inside
//! `;` comments and `"…"` strings, so `;(` + newline + `)` looks balanced to a naive counter
//! while it closes the wrapping block for the compiler. The check here therefore tokenizes
//! like the CIL lexer (comments, quoted strings, parentheses, symbols) and counts only real
//! parentheses. Directive words are matched case-insensitively in directive position only
//! (SE-26). Two deliberate differences from upstream, both toward the intended behaviour:
//! `(blockinherit <t>)` is allowed as a top-level statement when `<t>` is an allowed system
//! template (weak point 2: otherwise the canonical example has no `process` type), and
//! `in` is restricted too (it inserts statements into another block, i.e. escapes ours).

use spo_core::Violations;

use crate::cil::{Module, RawBlock};
use crate::model::RawSelinuxProfile;
use crate::names::PolicyName;
use crate::validate::Options;
use crate::Error;

/// Longest accepted policy, in characters ([1.0+] CRD limit).
pub const MAX_POLICY_CHARS: usize = 500_000;

/// Directives a raw policy may not use (spec §4.1, plus `in`).
pub const RESTRICTED_DIRECTIVES: [&str; 35] = [
    "block",
    "blockinherit",
    "blockstart",
    "booleanif",
    "category",
    "categoryorder",
    "class",
    "classmap",
    "classmapping",
    "classorder",
    "context",
    "dominance",
    "filecon",
    "genfscon",
    "in",
    "level",
    "levelrange",
    "mls",
    "netifcon",
    "nodecon",
    "optional",
    "policycap",
    "portcon",
    "role",
    "roletype",
    "sensitivity",
    "sensitivityorder",
    "sid",
    "sidcontext",
    "sidorder",
    "tunable",
    "tunableif",
    "typepermissive",
    "user",
    "userrole",
];

pub use crate::cil::RawBody;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Open,
    Close,
    Symbol(&'a str),
    Quoted(&'a str),
}

/// Splits CIL text into tokens with their 1-based line; comments and whitespace are dropped.
fn lex(text: &str) -> Result<Vec<(Tok<'_>, usize)>, (usize, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            // A CIL comment ends at '\n' *or* '\r' (`;[^\n\r]*`): a lone '\r' must end it
            // here too, or `;x\r)` would hide a real ')' from the count.
            b';' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'(' => {
                out.push((Tok::Open, line));
                i += 1;
            }
            b')' => {
                out.push((Tok::Close, line));
                i += 1;
            }
            b'"' => {
                let start = i + 1;
                let end = bytes[start..]
                    .iter()
                    .position(|&b| b == b'"' || b == b'\n')
                    .map(|p| start + p)
                    .filter(|&e| bytes[e] == b'"')
                    .ok_or((line, "unterminated quoted string".to_string()))?;
                out.push((Tok::Quoted(&text[start..end]), line));
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(
                        bytes[i],
                        b' ' | b'\t' | b'\r' | b'\n' | b'(' | b')' | b';' | b'"'
                    )
                {
                    i += 1;
                }
                out.push((Tok::Symbol(&text[start..i]), line));
            }
        }
    }
    Ok(out)
}

/// The leading run of `[A-Za-z0-9_-]` of a symbol, lower-cased (the upstream "word").
fn directive_word(sym: &str) -> String {
    sym.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Checks a raw policy (SE-25, SE-26); every problem is reported against `spec.policy`.
/// `allowed_templates` are the system templates a top-level `(blockinherit …)` may name.
pub fn check_policy(policy: &str, allowed_templates: &[String]) -> Violations {
    const PATH: &str = "spec.policy";
    let mut v = Violations::new();
    if policy.trim().is_empty() {
        v.push(PATH, "must not be empty");
        return v;
    }
    let chars = policy.chars().count();
    if chars > MAX_POLICY_CHARS {
        v.push(
            PATH,
            format!("is {chars} characters long; at most {MAX_POLICY_CHARS} are allowed"),
        );
    }
    if let Some(pos) = policy.find('\0') {
        let line = policy[..pos].matches('\n').count() + 1;
        v.push(PATH, format!("line {line}: contains a NUL byte"));
        return v;
    }
    let toks = match lex(policy) {
        Ok(t) => t,
        Err((line, reason)) => {
            v.push(PATH, format!("line {line}: {reason}"));
            return v;
        }
    };
    let mut depth: usize = 0;
    let mut i = 0;
    while i < toks.len() {
        let (tok, line) = &toks[i];
        match tok {
            Tok::Open => {
                depth += 1;
                match toks.get(i + 1) {
                    Some((Tok::Quoted(q), _)) => v.push(
                        PATH,
                        format!("line {line}: a quoted string {q:?} in directive position is not allowed"),
                    ),
                    Some((Tok::Symbol(sym), _)) => {
                        let word = directive_word(sym);
                        // Only the exact (lower-case) keyword gets the template exception;
                        // `BlockInherit`, `blockinherit.x`... stay restricted words.
                        if *sym == "blockinherit" && depth == 1 {
                            if let Some(reason) = check_blockinherit(&toks[i..], allowed_templates) {
                                v.push(PATH, format!("line {line}: {reason}"));
                            }
                        } else if RESTRICTED_DIRECTIVES.contains(&word.as_str()) {
                            v.push(PATH, format!("line {line}: directive {sym:?} is not allowed"));
                        }
                    }
                    _ => {}
                }
            }
            Tok::Close => {
                if depth == 0 {
                    v.push(
                        PATH,
                        format!("line {line}: ')' closes more parentheses than were opened"),
                    );
                    return v;
                }
                depth -= 1;
            }
            Tok::Symbol(_) | Tok::Quoted(_) => {}
        }
        i += 1;
    }
    if depth > 0 {
        v.push(PATH, format!("unbalanced parentheses: {depth} left open"));
    }
    v
}

/// `(blockinherit <template>)` with exactly one allowed template name.
fn check_blockinherit(toks: &[(Tok<'_>, usize)], allowed: &[String]) -> Option<String> {
    match (toks.get(2), toks.get(3)) {
        (Some((Tok::Symbol(name), _)), Some((Tok::Close, _)))
            if allowed.iter().any(|a| a == name) =>
        {
            None
        }
        (Some((Tok::Symbol(name), _)), Some((Tok::Close, _))) => Some(format!(
            "blockinherit of {name:?} is not allowed: only templates in allowedSystemProfiles ({}) may be inherited",
            allowed.join(", ")
        )),
        _ => Some("blockinherit must name exactly one template".into()),
    }
}

/// Validates a RawSelinuxProfile: its name (as a policy name) and its policy text.
pub fn validate_raw(profile: &RawSelinuxProfile, opts: &Options) -> Violations {
    let mut v = match PolicyName::for_object(&profile.metadata, opts.naming) {
        Ok(_) => Violations::new(),
        Err(v) => v,
    };
    v.extend_prefixed(
        "",
        check_policy(&profile.spec.policy, &opts.blockinherit_templates()),
    );
    v
}

/// Validates and wraps a RawSelinuxProfile into its module (SE-24): block name = policy
/// name, so `<name>.process` is the type the block really declares.
pub fn raw_to_cil(profile: &RawSelinuxProfile, opts: &Options) -> Result<Module, Error> {
    let invalid = |violations| Error::Invalid {
        kind: "RawSelinuxProfile",
        name: profile.metadata.name.clone(),
        violations,
    };
    let v = validate_raw(profile, opts);
    if !v.is_empty() {
        return Err(invalid(v));
    }
    let name = PolicyName::for_object(&profile.metadata, opts.naming).map_err(invalid)?;
    let policy = &profile.spec.policy;
    let start = policy.len() - policy.trim_start().len();
    let first_line_offset = policy[..start].matches('\n').count();
    Ok(Module::Raw(RawBlock {
        name,
        body: RawBody::new(policy.trim().to_string(), first_line_offset),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["container".to_string()]
    }

    fn reasons(policy: &str) -> Vec<String> {
        check_policy(policy, &allowed())
            .into_iter()
            .map(|v| v.reason)
            .collect()
    }

    // covers: SE-25
    #[test]
    fn se_25_rejects_empty_nul_unbalanced_and_escapes() {
        assert_eq!(reasons("  \n "), ["must not be empty"]);
        assert!(reasons("(allow process x (file (read)))\0")[0].contains("NUL"));
        assert!(reasons("(allow process x (file (read))")[0].contains("1 left open"));
        assert!(reasons("(allow a b (c (d))))\n(allow a b (c (d)))")[0].contains("line 1: ')'"));
        // Parentheses hidden from CIL by a comment or a string count as CIL counts them.
        assert!(!reasons(";(\n)\n(type injected_t)\n(macro m () ;)\n").is_empty());
        assert!(!reasons("(typetransition a b c \"(\" d))").is_empty());
        assert!(reasons("(typetransition a b c \"(\" d)").is_empty());
        assert!(reasons("(allow a b (c (d))) ; ) comment (").is_empty());
        // A carriage return ends a CIL comment.
        assert!(!reasons("(blockinherit container) ;c\r)(type injected_t)(macro m ()").is_empty());
        assert!(reasons("(allow a b (c (d))) ;c\r\n(allow a b (c (d)))").is_empty());
        assert!(reasons("(allow a \"unterminated\n)")
            .iter()
            .any(|r| r.contains("unterminated")));
    }

    // covers: SE-26
    #[test]
    fn se_26_directives_match_case_insensitively_only_in_directive_position() {
        assert!(reasons("(allow typepermissive file (read))").is_empty());
        assert!(reasons("(  TypePermissive process)")[0].contains("TypePermissive"));
        assert!(reasons("(\n  ; comment\n  block x)")[0].contains("\"block\""));
        assert!(!reasons("(block.x y)").is_empty());
        assert!(!reasons("(in container (allow process x (file (read))))").is_empty());
        assert!(!reasons("(\"block\" x)").is_empty());
        for d in RESTRICTED_DIRECTIVES {
            if d != "blockinherit" {
                assert_eq!(reasons(&format!("({d} x)")).len(), 1, "{d}");
            }
        }
    }

    #[test]
    fn se_25_policies_longer_than_the_crd_limit_are_rejected() {
        let stmt = "(allow process x_t (file (read)))\n";
        let big = stmt.repeat(MAX_POLICY_CHARS / stmt.len() + 1);
        let r = reasons(&big);
        assert_eq!(r.len(), 1);
        assert!(r[0].contains("at most 500000"), "{r:?}");
        assert!(reasons(&big[..MAX_POLICY_CHARS - MAX_POLICY_CHARS % stmt.len()]).is_empty());
    }

    #[test]
    fn blockinherit_of_allowed_templates_at_top_level_only() {
        assert!(reasons("(blockinherit container)\n(allow process x (file (read)))").is_empty());
        assert!(reasons("(blockinherit net_container)")[0].contains("allowedSystemProfiles"));
        assert!(!reasons("(optional o (blockinherit container))").is_empty());
        assert!(!reasons("(blockinherit container extra)").is_empty());
        assert!(!reasons("(BlockInherit container)").is_empty());
        assert!(!reasons("(blockinherit.x container)").is_empty());
    }
}
