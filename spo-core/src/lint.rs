//! Lint findings shared by every profile kind (issue 11).
//!
//! Each LSM crate exposes `lint(&profile, &LintConfig) -> Vec<Finding>` and a table of its
//! rules ([`RuleInfo`]). A [`Finding`] names its rule, severity, the field path in the
//! manifest and, once the caller has mapped it onto the source text with [`SourceMap`], the
//! line and column. [`LintConfig`] holds per-rule levels (from a `.spoc-lint.yaml` or the
//! command line) and the policy inputs some rules need (`allowedSyscalls`, …); the inline
//! suppression annotation [`SUPPRESS_ANNOTATION`] turns rules off for one object.
//!
//! ```
//! use spo_core::lint::{Finding, LintConfig, Level, RuleInfo, Severity};
//!
//! const RULE: RuleInfo = RuleInfo {
//!     id: "demo/example",
//!     severity: Severity::Warning,
//!     summary: "an example rule",
//! };
//! let f = Finding::new(&RULE, "spec.x", "x is odd").with_help("make x even");
//! let mut cfg = LintConfig::default();
//! assert_eq!(cfg.finish(vec![f.clone()], None).len(), 1);
//! cfg.set_level("demo/example", Level::Allow);
//! assert!(cfg.finish(vec![f], None).is_empty());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ObjectMeta;

/// Annotation that suppresses rules for one object: a comma-separated list of rule IDs, or
/// `all`. Example: `spo.x-k8s.io/lint-allow: "seccomp/dangerous-syscall"`.
pub const SUPPRESS_ANNOTATION: &str = "spo.x-k8s.io/lint-allow";

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; never fails a run unless configured.
    Info,
    /// Likely a mistake or a weakened profile.
    #[default]
    Warning,
    /// The profile does not do what it says, or cannot work.
    Error,
}

impl Severity {
    /// `info`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "info" | "note" => Ok(Severity::Info),
            "warning" | "warn" | "warnings" => Ok(Severity::Warning),
            "error" | "errors" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity {other:?} (expected info, warning or error)"
            )),
        }
    }
}

/// The static description of a rule: stable ID, default severity, one-line summary. The
/// documentation page is `docs/src/lint-rules.md`, one section per ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// Stable ID, `<kind>/<name>`, e.g. `seccomp/unknown-syscall`.
    pub id: &'static str,
    /// Severity when no configuration changes it.
    pub severity: Severity,
    /// One-line summary.
    pub summary: &'static str,
}

/// A position in the source file, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub column: usize,
}

/// One problem found in a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule ID.
    pub rule: String,
    /// The severity (after configuration).
    pub severity: Severity,
    /// Field path in the manifest, e.g. `spec.syscalls[2].names[0]`.
    pub path: String,
    /// Where the path is in the source file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Finding {
    /// A finding of `rule` at its default severity.
    pub fn new(rule: &RuleInfo, path: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            rule: rule.id.to_string(),
            severity: rule.severity,
            path: path.into(),
            span: None,
            message: message.into(),
            help: None,
        }
    }

    /// The same finding with a help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same finding with another severity.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

/// What the configuration makes of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Level {
    /// Off.
    Allow,
    /// Reported as info.
    Info,
    /// Reported as a warning.
    Warn,
    /// Reported as an error.
    Deny,
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "allow" | "off" => Ok(Level::Allow),
            "info" => Ok(Level::Info),
            "warn" | "warning" => Ok(Level::Warn),
            "deny" | "error" => Ok(Level::Deny),
            other => Err(format!(
                "unknown level {other:?} (expected allow, info, warn or deny)"
            )),
        }
    }
}

/// Lint configuration: rule levels and the policy inputs of the policy rules. Read from a
/// `.spoc-lint.yaml` (see [`LintConfig::from_yaml`]) and extended by command-line flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct LintConfig {
    /// Rule IDs (or `warnings`: every warning) reported as errors.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Rule IDs turned off.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Rule IDs reported as warnings.
    #[serde(default)]
    pub warn: Vec<String>,
    /// Rule IDs reported as info.
    #[serde(default)]
    pub info: Vec<String>,
    /// SPOD-style `allowedSyscalls`: when non-empty, allowing rules outside it are findings.
    #[serde(default)]
    pub allowed_syscalls: Vec<String>,
    /// Actions counted as allowing for `allowedSyscalls` (default: ALLOW, LOG, TRACE, NOTIFY).
    #[serde(default)]
    pub allowed_seccomp_actions: Vec<String>,
    /// SELinux system templates a profile may inherit; `None` means not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_system_profiles: Option<Vec<String>>,
}

impl LintConfig {
    /// Sets [`LintConfig::deny`].
    #[must_use]
    pub fn with_deny(mut self, deny: Vec<String>) -> Self {
        self.deny = deny;
        self
    }

    /// Sets [`LintConfig::allow`].
    #[must_use]
    pub fn with_allow(mut self, allow: Vec<String>) -> Self {
        self.allow = allow;
        self
    }

    /// Sets [`LintConfig::warn`].
    #[must_use]
    pub fn with_warn(mut self, warn: Vec<String>) -> Self {
        self.warn = warn;
        self
    }

    /// Sets [`LintConfig::info`].
    #[must_use]
    pub fn with_info(mut self, info: Vec<String>) -> Self {
        self.info = info;
        self
    }

    /// Sets [`LintConfig::allowed_syscalls`].
    #[must_use]
    pub fn with_allowed_syscalls(mut self, allowed_syscalls: Vec<String>) -> Self {
        self.allowed_syscalls = allowed_syscalls;
        self
    }

    /// Sets [`LintConfig::allowed_seccomp_actions`].
    #[must_use]
    pub fn with_allowed_seccomp_actions(mut self, allowed_seccomp_actions: Vec<String>) -> Self {
        self.allowed_seccomp_actions = allowed_seccomp_actions;
        self
    }

    /// Sets [`LintConfig::allowed_system_profiles`].
    #[must_use]
    pub fn with_allowed_system_profiles(
        mut self,
        allowed_system_profiles: Option<Vec<String>>,
    ) -> Self {
        self.allowed_system_profiles = allowed_system_profiles;
        self
    }
}

impl LintConfig {
    /// Parses a `.spoc-lint.yaml`. Errors name the line or field.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(LintConfig::default());
        }
        let de = serde_yaml::Deserializer::from_str(text);
        let cfg: LintConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            if path == "." || path.is_empty() {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            }
        })?;
        Ok(cfg)
    }

    /// Sets the level of one rule (later calls win), or with `("warnings", Deny)` turns
    /// every warning into an error.
    pub fn set_level(&mut self, rule: &str, level: Level) {
        for l in [
            &mut self.allow,
            &mut self.info,
            &mut self.warn,
            &mut self.deny,
        ] {
            l.retain(|r| r != rule);
        }
        let list = match level {
            Level::Allow => &mut self.allow,
            Level::Info => &mut self.info,
            Level::Warn => &mut self.warn,
            Level::Deny => &mut self.deny,
        };
        list.push(rule.to_string());
    }

    /// The configured level of `rule`, if any (`deny` wins over `warn`, `info` and `allow`
    /// when a file lists a rule twice; [`LintConfig::set_level`] replaces earlier levels).
    pub fn level(&self, rule: &str) -> Option<Level> {
        let has = |l: &[String]| l.iter().any(|r| r == rule);
        if has(&self.deny) {
            Some(Level::Deny)
        } else if has(&self.warn) {
            Some(Level::Warn)
        } else if has(&self.info) {
            Some(Level::Info)
        } else if has(&self.allow) {
            Some(Level::Allow)
        } else {
            None
        }
    }

    /// True when `--deny warnings` (or `deny: [warnings]`) is set.
    pub fn deny_warnings(&self) -> bool {
        self.deny.iter().any(|r| r == "warnings")
    }

    /// True when `rule` is turned off, so a linter may skip computing it.
    pub fn is_allowed(&self, rule: &str) -> bool {
        self.level(rule) == Some(Level::Allow)
    }

    /// Applies levels, `deny warnings` and the suppression annotation of `meta` to raw
    /// findings; sorted by path (stable).
    pub fn finish(&self, findings: Vec<Finding>, meta: Option<&ObjectMeta>) -> Vec<Finding> {
        let suppressed = meta.map(suppressed_rules).unwrap_or_default();
        let deny_warnings = self.deny_warnings();
        let mut out: Vec<Finding> = findings
            .into_iter()
            .filter(|f| !suppressed.iter().any(|s| s == "all" || *s == f.rule))
            .filter_map(|mut f| {
                match self.level(&f.rule) {
                    Some(Level::Allow) => return None,
                    Some(Level::Info) => f.severity = Severity::Info,
                    Some(Level::Warn) => f.severity = Severity::Warning,
                    Some(Level::Deny) => f.severity = Severity::Error,
                    None => {}
                }
                if deny_warnings && f.severity == Severity::Warning {
                    f.severity = Severity::Error;
                }
                Some(f)
            })
            .collect();
        // Stable: findings of one path keep the order the rules produced them in.
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }
}

/// The rule IDs the [`SUPPRESS_ANNOTATION`] of `meta` turns off.
pub fn suppressed_rules(meta: &ObjectMeta) -> Vec<String> {
    meta.annotations
        .get(SUPPRESS_ANNOTATION)
        .map(|v| {
            v.split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Field paths of a YAML/JSON stream mapped to their positions, per document, to give
/// findings a line and column. Paths look like `spec.syscalls[0].names[1]`; a mapping entry
/// is located at its key, a sequence item at its first character.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    docs: Vec<BTreeMap<String, Span>>,
    starts: Vec<usize>,
}

#[derive(Debug)]
enum Frame {
    Map {
        path: String,
        key: Option<String>,
        /// A sequence item whose position is that of its first key (a block mapping's start
        /// event is marked late).
        item: bool,
    },
    Seq {
        path: String,
        next: usize,
    },
}

struct Builder {
    docs: Vec<BTreeMap<String, Span>>,
    starts: Vec<usize>,
    stack: Vec<Frame>,
}

impl Builder {
    fn child_path(&mut self) -> Option<String> {
        match self.stack.last_mut()? {
            Frame::Map { path, key, .. } => {
                let k = key.take()?;
                Some(join_key(path, &k))
            }
            Frame::Seq { path, next } => {
                let p = format!("{path}[{next}]");
                *next += 1;
                Some(p)
            }
        }
    }

    fn value_start(&mut self, span: Span, record: bool) -> (Option<String>, bool) {
        let in_seq = matches!(self.stack.last(), Some(Frame::Seq { .. }));
        let p = self.child_path();
        if let (Some(p), true, true) = (&p, in_seq, record) {
            if let Some(doc) = self.docs.last_mut() {
                doc.entry(p.clone()).or_insert(span);
            }
        }
        (p, in_seq)
    }
}

fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl yaml_rust2::parser::MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: yaml_rust2::Event, mark: yaml_rust2::scanner::Marker) {
        use yaml_rust2::Event;
        let span = Span {
            line: mark.line(),
            column: mark.col() + 1,
        };
        match ev {
            Event::DocumentStart => {
                self.docs.push(BTreeMap::new());
                self.starts.push(usize::MAX);
                self.stack.clear();
            }
            Event::DocumentEnd | Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            _ if self.starts.last() == Some(&usize::MAX) => {
                if let Some(s) = self.starts.last_mut() {
                    *s = span.line;
                }
                self.on_event(ev, mark);
            }
            Event::MappingStart(..) => {
                let (path, item) = if self.stack.is_empty() {
                    (Some(String::new()), false)
                } else {
                    self.value_start(span, false)
                };
                self.stack.push(Frame::Map {
                    path: path.unwrap_or_default(),
                    key: None,
                    item,
                });
            }
            Event::SequenceStart(..) => {
                let path = if self.stack.is_empty() {
                    Some(String::new())
                } else {
                    self.value_start(span, true).0
                };
                self.stack.push(Frame::Seq {
                    path: path.unwrap_or_default(),
                    next: 0,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { path, key, item }) = self.stack.last_mut() {
                    if key.is_none() {
                        let p = join_key(path, &value);
                        if let Some(doc) = self.docs.last_mut() {
                            if *item {
                                doc.entry(path.clone()).or_insert(span);
                                *item = false;
                            }
                            doc.entry(p).or_insert(span);
                        }
                        *key = Some(value);
                        return;
                    }
                }
                self.value_start(span, true);
            }
            Event::Alias(_) => {
                self.value_start(span, true);
            }
        }
    }
}

impl SourceMap {
    /// Maps every document of `text`; documents after a syntax error are not mapped.
    pub fn parse(text: &str) -> SourceMap {
        let mut b = Builder {
            docs: Vec::new(),
            starts: Vec::new(),
            stack: Vec::new(),
        };
        let mut parser = yaml_rust2::parser::Parser::new_from_str(text);
        // A syntax error leaves what was mapped so far; the decoder reports the error itself.
        let _ = parser.load(&mut b, true);
        SourceMap {
            docs: b.docs,
            starts: b.starts,
        }
    }

    /// The 0-based index of the document whose content starts at `line` (the first document
    /// starting at or after it), for callers that know where a document starts but count
    /// documents differently (e.g. skipping empty ones).
    pub fn doc_at_line(&self, line: usize) -> Option<usize> {
        self.starts
            .iter()
            .position(|s| *s >= line && *s != usize::MAX)
    }

    /// The position of `path` in document `doc` (0-based); when the path itself is absent
    /// (e.g. a field a rule wants added), the position of its nearest present ancestor.
    pub fn locate(&self, doc: usize, path: &str) -> Option<Span> {
        let map = self.docs.get(doc)?;
        let mut p = path;
        loop {
            if let Some(s) = map.get(p) {
                return Some(*s);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
            if p.is_empty() {
                return None;
            }
        }
    }

    /// Number of documents mapped.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when nothing was mapped.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> RuleInfo {
        RuleInfo {
            id: "x/y",
            severity: Severity::Warning,
            summary: "s",
        }
    }

    #[test]
    fn source_map_locates_block_and_flow_yaml_and_json() {
        let text = "apiVersion: v1\nkind: SeccompProfile\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names:\n    - read\n    - wirte\n---\n{\"spec\": {\"syscalls\": [{\"names\": [\"a\", \"b\"]}]}}\n";
        let m = SourceMap::parse(text);
        assert_eq!(m.len(), 2);
        assert_eq!(
            m.locate(0, "spec.syscalls[0].names[1]"),
            Some(Span { line: 9, column: 7 })
        );
        assert_eq!(
            m.locate(0, "spec.defaultAction"),
            Some(Span { line: 4, column: 3 })
        );
        assert_eq!(
            m.locate(0, "spec.syscalls[0]"),
            Some(Span { line: 6, column: 5 })
        );
        // Absent: the nearest ancestor.
        assert_eq!(
            m.locate(0, "spec.syscalls[0].args"),
            Some(Span { line: 6, column: 5 })
        );
        assert_eq!(
            m.locate(1, "spec.syscalls[0].names[1]"),
            Some(Span {
                line: 11,
                column: 40
            })
        );
        assert_eq!(m.locate(0, "nothing.here"), None);
        assert_eq!(m.doc_at_line(1), Some(0));
        assert_eq!(m.doc_at_line(2), Some(1));
        assert_eq!(m.doc_at_line(11), Some(1));
    }

    #[test]
    fn config_levels_deny_warnings_and_annotation() {
        let cfg = LintConfig::from_yaml("deny: [warnings]\nallow: [a/b]\ninfo: [c/d]\n").unwrap();
        assert!(cfg.deny_warnings());
        let f = Finding::new(&rule(), "spec", "m");
        assert_eq!(
            cfg.finish(vec![f.clone()], None)[0].severity,
            Severity::Error
        );
        let mut ab = f.clone();
        ab.rule = "a/b".into();
        assert!(cfg.finish(vec![ab], None).is_empty());
        let mut cd = f.clone();
        cd.rule = "c/d".into();
        assert_eq!(cfg.finish(vec![cd], None)[0].severity, Severity::Info);
        let mut meta = ObjectMeta::named("p");
        meta.annotations
            .insert(SUPPRESS_ANNOTATION.into(), "q/r, x/y".into());
        assert!(LintConfig::default()
            .finish(vec![f], Some(&meta))
            .is_empty());
    }

    #[test]
    fn config_errors_name_the_field() {
        let e = LintConfig::from_yaml("deny: [a]\nbogus: 1\n").unwrap_err();
        assert!(e.contains("bogus"), "{e}");
        let e = LintConfig::from_yaml("deny: 3\n").unwrap_err();
        assert!(e.contains("deny"), "{e}");
    }
}
