//! `spoc lint FILE|DIR…`: the lint rules of spo-seccomp, spo-selinux and spo-apparmor over
//! files and directories, reported as text, JSON, SARIF 2.1.0, JUnit XML or GitHub workflow
//! commands. Exit 0 clean, 1 findings at error level (after `--deny`), 2 unreadable input.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::Result;
use serde::Serialize;
use spo_core::lint::{Finding, Level, LintConfig, RuleInfo, Severity, SourceMap, Span};
use spo_core::{Document, Kind};
use spo_seccomp::SeccompProfile;

use crate::cli::{LintArgs, LintFormat};
use crate::input::DirResolver;
use crate::Outcome;

/// An input that cannot be read or parsed.
const UNREADABLE: RuleInfo = RuleInfo {
    id: "input/unreadable",
    severity: Severity::Error,
    summary: "the file cannot be read or is not YAML/JSON",
};
/// A document that parses but is not a valid object of its kind.
const UNDECODABLE: RuleInfo = RuleInfo {
    id: "input/invalid",
    severity: Severity::Error,
    summary: "the document is not a valid object of its kind (unknown field, wrong type, …)",
};

/// Every rule spoc lint knows, for SARIF and `--allow` checks.
pub fn all_rules() -> Vec<RuleInfo> {
    let mut v = vec![UNREADABLE, UNDECODABLE];
    v.extend_from_slice(spo_seccomp::lint::RULES);
    v.extend_from_slice(spo_selinux::lint::RULES);
    v.extend_from_slice(spo_apparmor::lint::RULES);
    v
}

/// The findings of one document.
#[derive(Debug, Clone)]
struct DocReport {
    /// 1-based document number.
    index: usize,
    kind: String,
    name: String,
    findings: Vec<Finding>,
}

/// The result for one file.
#[derive(Debug, Clone)]
struct FileReport {
    file: String,
    text: Option<String>,
    docs: Vec<DocReport>,
    /// Set when the file could not be read or parsed.
    unreadable: Option<Finding>,
}

impl FileReport {
    fn findings(&self) -> impl Iterator<Item = (Option<&DocReport>, &Finding)> {
        self.unreadable.iter().map(|f| (None, f)).chain(
            self.docs
                .iter()
                .flat_map(|d| d.findings.iter().map(move |f| (Some(d), f))),
        )
    }
}

/// Configurations and base-profile resolvers, cached per directory.
struct Context<'a> {
    args: &'a LintArgs,
    policy: Option<Policy>,
    explicit: Option<Rc<LintConfig>>,
    configs: HashMap<PathBuf, Rc<LintConfig>>,
    resolvers: HashMap<PathBuf, Rc<DirResolver>>,
}

impl<'a> Context<'a> {
    fn new(args: &'a LintArgs) -> Result<Self, String> {
        let policy = match &args.policy {
            Some(p) => Some(read_policy(p)?),
            None => None,
        };
        let explicit = match &args.config {
            Some(p) => Some(Rc::new(overlay(read_config(p)?, args, policy.as_ref()))),
            None if args.no_config => Some(Rc::new(overlay(
                LintConfig::default(),
                args,
                policy.as_ref(),
            ))),
            None => None,
        };
        Ok(Context {
            args,
            policy,
            explicit,
            configs: HashMap::new(),
            resolvers: HashMap::new(),
        })
    }

    /// The configuration for a file in `dir`: the nearest `.spoc-lint.yaml` walking up.
    fn config_for(&mut self, dir: &Path) -> Result<Rc<LintConfig>, String> {
        if let Some(c) = &self.explicit {
            return Ok(c.clone());
        }
        if let Some(c) = self.configs.get(dir) {
            return Ok(c.clone());
        }
        let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let mut found = None;
        for d in abs.ancestors() {
            for name in [".spoc-lint.yaml", ".spoc-lint.yml"] {
                let p = d.join(name);
                if p.is_file() {
                    found = Some(p);
                    break;
                }
            }
            if found.is_some() {
                break;
            }
        }
        let base = match found {
            Some(p) => read_config(&p)?,
            None => LintConfig::default(),
        };
        let c = Rc::new(overlay(base, self.args, self.policy.as_ref()));
        self.configs.insert(dir.to_path_buf(), c.clone());
        Ok(c)
    }

    fn resolver_for(&mut self, file: &Path) -> Rc<DirResolver> {
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        self.resolvers
            .entry(dir)
            .or_insert_with(|| Rc::new(DirResolver::for_file(file, &self.args.profiles_dir)))
            .clone()
    }
}

fn read_config(path: &Path) -> Result<LintConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    LintConfig::from_yaml(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The policy fields of a SecurityProfilesOperatorDaemon.
#[derive(Debug, Clone, Default)]
struct Policy {
    allowed_syscalls: Vec<String>,
    allowed_actions: Vec<String>,
    allowed_system_profiles: Vec<String>,
}

fn read_policy(path: &Path) -> Result<Policy, String> {
    let at = |e: String| format!("{}: {e}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
    let docs = spo_core::parse_documents(&text).map_err(|e| at(e.to_string()))?;
    let doc = docs
        .iter()
        .find(|d| d.kind == Kind::SecurityProfilesOperatorDaemon)
        .ok_or_else(|| at("no SecurityProfilesOperatorDaemon in the file".into()))?;
    let list = |v: Option<&serde_json::Value>, field: &str| -> Result<Vec<String>, String> {
        match v {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| at(format!("{field}: expected a list of strings")))
                })
                .collect(),
            Some(_) => Err(at(format!("{field}: expected a list of strings"))),
        }
    };
    let spec = &doc.spec;
    let mut templates = list(
        spec.get("selinuxOptions")
            .and_then(|o| o.get("allowedSystemProfiles")),
        "spec.selinuxOptions.allowedSystemProfiles",
    )?;
    if templates.is_empty() {
        templates.push(spo_selinux::model::CONTAINER_TEMPLATE.to_string()); // the SPOD default
    }
    Ok(Policy {
        allowed_syscalls: list(spec.get("allowedSyscalls"), "spec.allowedSyscalls")?,
        allowed_actions: list(
            spec.get("allowedSeccompActions"),
            "spec.allowedSeccompActions",
        )?,
        allowed_system_profiles: templates,
    })
}

/// The policy file and the command-line flags on top of a file's configuration.
fn overlay(mut cfg: LintConfig, args: &LintArgs, policy: Option<&Policy>) -> LintConfig {
    if let Some(p) = policy {
        cfg.allowed_syscalls
            .extend(p.allowed_syscalls.iter().cloned());
        cfg.allowed_seccomp_actions
            .extend(p.allowed_actions.iter().cloned());
        cfg.allowed_system_profiles
            .get_or_insert_with(Vec::new)
            .extend(p.allowed_system_profiles.iter().cloned());
    }
    for r in &args.allow {
        cfg.set_level(r, Level::Allow);
    }
    for r in &args.warn {
        cfg.set_level(r, Level::Warn);
    }
    for r in &args.deny {
        cfg.set_level(r, Level::Deny);
    }
    cfg.allowed_syscalls
        .extend(args.allowed_syscalls.iter().cloned());
    cfg.allowed_seccomp_actions
        .extend(args.allowed_actions.iter().cloned());
    if !args.allowed_system_profiles.is_empty() {
        cfg.allowed_system_profiles
            .get_or_insert_with(Vec::new)
            .extend(args.allowed_system_profiles.iter().cloned());
    }
    cfg
}

/// Every file to lint: files as given, directories walked recursively (sorted, hidden entries
/// skipped) for `*.yaml`, `*.yml` and `*.json`.
fn collect(paths: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            out.push(dir.to_path_buf()); // reported as unreadable
            return;
        };
        let mut items: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        items.sort();
        for p in items {
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out);
        } else {
            out.push(p.clone());
        }
    }
    out
}

enum Loaded {
    Profile(usize, Box<SeccompProfile>, bool),
    Doc(Box<Document>),
    Invalid(usize, String, String),
}

fn unreadable(file: String, what: String) -> FileReport {
    FileReport {
        file,
        text: None,
        docs: Vec::new(),
        unreadable: Some(Finding::new(&UNREADABLE, "", what)),
    }
}

fn lint_file(ctx: &mut Context<'_>, path: &Path) -> FileReport {
    let file = path.display().to_string();
    let text = match crate::input::read_text(path) {
        Ok(t) => t,
        Err(e) => return unreadable(file, format!("{e:#}")),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let cfg = match ctx.config_for(&dir) {
        Ok(c) => c,
        Err(e) => return unreadable(file, format!("configuration: {e}")),
    };
    let loaded = match load(&text, path) {
        Ok(l) => l,
        Err(e) => return unreadable(file, e),
    };
    let mut docs = Vec::new();
    for item in loaded {
        let doc = match item {
            Loaded::Profile(index, p, raw) => {
                let mut findings = if p
                    .spec
                    .base_profile_name
                    .as_deref()
                    .is_some_and(|b| !b.is_empty() && !b.starts_with("oci://"))
                {
                    let r = ctx.resolver_for(path);
                    spo_seccomp::lint::lint_resolving(&p, &cfg, r.as_ref())
                } else {
                    spo_seccomp::lint::lint(&p, &cfg)
                };
                if raw {
                    for f in &mut findings {
                        if let Some(rest) = f.path.strip_prefix("spec.") {
                            f.path = rest.to_string();
                        } else if f.path == "spec" {
                            f.path.clear();
                        }
                    }
                }
                DocReport {
                    index,
                    kind: Kind::SeccompProfile.to_string(),
                    name: p.metadata.name.clone(),
                    findings,
                }
            }
            Loaded::Doc(d) => lint_doc(&d, &cfg),
            Loaded::Invalid(index, kind, message) => DocReport {
                index,
                kind,
                name: String::new(),
                findings: vec![Finding::new(&UNDECODABLE, "", message)],
            },
        };
        docs.push(doc);
    }
    let mut report = FileReport {
        file,
        text: None,
        docs,
        unreadable: None,
    };
    if report.docs.iter().any(|d| !d.findings.is_empty()) {
        add_spans(&mut report, &text);
        report.text = Some(text);
    }
    report
}

fn lint_doc(d: &Document, cfg: &LintConfig) -> DocReport {
    let mut out = DocReport {
        index: d.index,
        kind: d.kind.to_string(),
        name: d.metadata.name.clone(),
        findings: Vec::new(),
    };
    let invalid = |e: String| vec![Finding::new(&UNDECODABLE, "", e)];
    out.findings = match d.kind {
        Kind::SeccompProfile => match SeccompProfile::from_document(d) {
            Ok(p) => spo_seccomp::lint::lint(&p, cfg),
            Err(e) => invalid(e.to_string()),
        },
        Kind::SelinuxProfile => match spo_selinux::SelinuxProfile::from_document(d) {
            Ok(p) => spo_selinux::lint::lint(&p, cfg),
            Err(e) => invalid(e.to_string()),
        },
        Kind::AppArmorProfile => match spo_apparmor::AppArmorProfile::from_document(d) {
            Ok(p) => spo_apparmor::lint::lint(&p, cfg),
            Err(e) => invalid(e.to_string()),
        },
        _ => Vec::new(),
    };
    out
}

/// Items of a file: SeccompProfiles on the fast path, raw seccomp JSON, or manifests of SPO
/// kinds; documents of other API groups (Deployments, …) are skipped.
fn load(text: &str, path: &Path) -> Result<Vec<Loaded>, String> {
    if let Some(profiles) = SeccompProfile::from_yaml_fast(text) {
        return Ok(profiles
            .into_iter()
            .enumerate()
            .map(|(i, p)| Loaded::Profile(i + 1, Box::new(p), false))
            .collect());
    }
    let raw = spo_core::parse_stream(text).map_err(|e| e.to_string())?;
    if raw.len() == 1 && !raw[0].has_kind() && raw[0].value.get("defaultAction").is_some() {
        let parsed = spo_seccomp::spec_from_raw_json(text).or_else(|e| {
            // Docker/moby profiles carry `archMap`, `includes`, `excludes`, `comment`.
            docker_view(&raw[0].value)
                .and_then(|t| spo_seccomp::spec_from_raw_json(&t).ok())
                .ok_or(e)
        });
        return Ok(vec![match parsed {
            Ok(spec) => Loaded::Profile(
                1,
                Box::new(SeccompProfile::new(
                    spo_core::ObjectMeta::named(crate::input::name_from_path(path)),
                    spec,
                )),
                true,
            ),
            Err(e) => Loaded::Invalid(1, "SeccompProfile".into(), e.to_string()),
        }]);
    }
    let mut out = Vec::new();
    for r in raw {
        let ours = r
            .value
            .get("apiVersion")
            .and_then(|v| v.as_str())
            .is_some_and(|v| v.starts_with(spo_core::GROUP));
        if !ours {
            continue;
        }
        let index = r.index;
        let kind = r
            .value
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("")
            .to_string();
        match Document::from_raw(r) {
            Ok(d) => out.push(Loaded::Doc(Box::new(d))),
            Err(e) => out.push(Loaded::Invalid(index, kind, e.to_string())),
        }
    }
    Ok(out)
}

/// The Docker/moby dialect of raw seccomp JSON as plain OCI JSON, for an unprivileged
/// container on the profile's first architecture: `archMap`'s first entry becomes
/// `architectures` (architectures spo does not know are left out), rules
/// that apply only with capabilities or on other architectures are dropped (their indices
/// shift, so findings on rules after them point at the document), `comment` is removed.
pub fn docker_view(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let mut v = value.clone();
    let obj = v.as_object_mut()?;
    let arch_map = obj.remove("archMap");
    let mut arches: Vec<String> = Vec::new();
    if let Some(Value::Array(entries)) = &arch_map {
        // At run time the filter covers the node's architecture and its sub-architectures:
        // the first entry's.
        for e in entries.iter().take(1) {
            if let Some(a) = e.get("architecture").and_then(Value::as_str) {
                arches.push(a.to_string());
            }
            if let Some(Value::Array(sub)) = e.get("subArchitectures") {
                arches.extend(sub.iter().filter_map(Value::as_str).map(str::to_owned));
            }
        }
        arches
            .retain(|a| serde_json::from_value::<spo_core::Arch>(Value::from(a.as_str())).is_ok());
        if !obj.contains_key("architectures") && !arches.is_empty() {
            obj.insert("architectures".into(), arches.clone().into());
        }
    }
    let primary = arches
        .first()
        .cloned()
        .unwrap_or_else(|| "SCMP_ARCH_X86_64".into());
    let docker_arch = |a: &str| match a {
        "amd64" | "x86_64" => "SCMP_ARCH_X86_64",
        "386" | "x86" => "SCMP_ARCH_X86",
        "x32" => "SCMP_ARCH_X32",
        "arm64" | "aarch64" => "SCMP_ARCH_AARCH64",
        "arm" => "SCMP_ARCH_ARM",
        "ppc64le" => "SCMP_ARCH_PPC64LE",
        "s390x" => "SCMP_ARCH_S390X",
        "s390" => "SCMP_ARCH_S390",
        "riscv64" => "SCMP_ARCH_RISCV64",
        _ => "",
    };
    let mentions_primary = |cond: Option<&Value>| {
        cond.and_then(|c| c.get("arches"))
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .any(|x| docker_arch(x) == primary)
            })
    };
    let has = |cond: Option<&Value>, key: &str| {
        cond.and_then(|c| c.get(key))
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    if let Some(Value::Array(rules)) = obj.get_mut("syscalls") {
        rules.retain(|r| {
            let inc = r.get("includes");
            let exc = r.get("excludes");
            !has(inc, "caps")
                && (!has(inc, "arches") || mentions_primary(inc))
                && !mentions_primary(exc)
        });
        for r in rules.iter_mut() {
            if let Some(o) = r.as_object_mut() {
                for k in ["includes", "excludes", "comment"] {
                    o.remove(k);
                }
                o.retain(|_, v| !v.is_null());
            }
        }
    }
    obj.remove("comment");
    serde_json::to_string(&v).ok()
}

fn add_spans(report: &mut FileReport, text: &str) {
    let map = SourceMap::parse(text);
    let lines: Vec<usize> = spo_core::parse_stream(text)
        .map(|docs| docs.iter().map(|d| d.line).collect())
        .unwrap_or_default();
    for d in &mut report.docs {
        let start = lines.get(d.index.wrapping_sub(1)).copied().unwrap_or(1);
        let Some(doc) = map.doc_at_line(start) else {
            continue;
        };
        for f in &mut d.findings {
            f.span = if f.path.is_empty() {
                Some(Span {
                    line: start,
                    column: 1,
                })
            } else {
                map.locate(doc, &f.path).or(Some(Span {
                    line: start,
                    column: 1,
                }))
            };
        }
    }
}

/// Lints `files` on all cores (each worker with its own configuration and resolver caches),
/// keeping their order.
fn lint_files(ctx: &mut Context<'_>, files: &[PathBuf]) -> Vec<FileReport> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len() / 64)
        .max(1);
    if workers == 1 {
        return files.iter().map(|f| lint_file(ctx, f)).collect();
    }
    let chunk = files.len().div_ceil(workers);
    let (args, policy, explicit) = (
        ctx.args,
        ctx.policy.clone(),
        ctx.explicit.as_deref().cloned(),
    );
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|c| {
                let (policy, explicit) = (policy.clone(), explicit.clone());
                s.spawn(move || {
                    let mut ctx = Context {
                        args,
                        policy,
                        explicit: explicit.map(Rc::new),
                        configs: HashMap::new(),
                        resolvers: HashMap::new(),
                    };
                    c.iter().map(|f| lint_file(&mut ctx, f)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(files.chunks(chunk))
            .flat_map(|(h, c)| {
                h.join().unwrap_or_else(|_| {
                    c.iter()
                        .map(|f| unreadable(f.display().to_string(), "the linter panicked".into()))
                        .collect()
                })
            })
            .collect()
    })
}

/// Lints every path; prints the report in the chosen format.
pub fn run(args: &LintArgs) -> Result<Outcome> {
    let mut ctx = match Context::new(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("spoc: lint configuration: {e}");
            return Ok(Outcome::Code(2));
        }
    };
    let known: Vec<&str> = all_rules().iter().map(|r| r.id).collect();
    for r in args.allow.iter().chain(&args.warn).chain(&args.deny) {
        if r != "warnings" && !known.contains(&r.as_str()) {
            eprintln!("spoc: warning: unknown lint rule {r:?}");
        }
    }
    let files = collect(&args.paths);
    let reports = lint_files(&mut ctx, &files);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.report_format {
        LintFormat::Text => write_text(&mut out, &reports, std::io::stdout().is_terminal())?,
        LintFormat::Json => write_json(&mut out, &reports)?,
        LintFormat::Sarif => write_sarif(&mut out, &reports)?,
        LintFormat::Junit => write_junit(&mut out, &reports)?,
        LintFormat::Github => write_github(&mut out, &reports)?,
    }
    out.flush()?;
    let count = |s: Severity| {
        reports
            .iter()
            .flat_map(|r| r.findings())
            .filter(|(_, f)| f.severity == s)
            .count()
    };
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    if args.report_format == LintFormat::Text {
        eprintln!(
            "{} file{} linted: {errors} error{}, {warnings} warning{}, {infos} note{}",
            reports.len(),
            plural(reports.len()),
            plural(errors),
            plural(warnings),
            plural(infos)
        );
    }
    Ok(if reports.iter().any(|r| r.unreadable.is_some()) {
        Outcome::Code(2)
    } else if errors > 0 {
        Outcome::Code(1)
    } else {
        Outcome::Ok
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn write_text(out: &mut impl Write, reports: &[FileReport], color: bool) -> Result<()> {
    let color = color && std::env::var_os("NO_COLOR").is_none();
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    for r in reports {
        let lines: Vec<&str> = r
            .text
            .as_deref()
            .map(|t| t.lines().collect())
            .unwrap_or_default();
        for (doc, f) in r.findings() {
            let (label, code) = match f.severity {
                Severity::Error => ("error", "1;31"),
                Severity::Warning => ("warning", "1;33"),
                _ => ("note", "1;36"),
            };
            writeln!(
                out,
                "{}{} {}",
                paint(code, &format!("{label}[{}]", f.rule)),
                paint("1", ":"),
                paint("1", &f.message)
            )?;
            let at = match f.span {
                Some(s) => format!("{}:{}:{}", r.file, s.line, s.column),
                None => r.file.clone(),
            };
            let what = match doc {
                Some(d) if !f.path.is_empty() => format!(" ({} {:?}: {})", d.kind, d.name, f.path),
                Some(d) => format!(" ({} {:?})", d.kind, d.name),
                None => String::new(),
            };
            writeln!(out, "  {} {at}{what}", paint("1;34", "-->"))?;
            if let Some(s) = f.span {
                if let Some(src) = lines.get(s.line.wrapping_sub(1)) {
                    let num = s.line.to_string();
                    let pad = " ".repeat(num.len());
                    writeln!(out, "{pad} {}", paint("1;34", "|"))?;
                    writeln!(out, "{} {} {src}", paint("1;34", &num), paint("1;34", "|"))?;
                    let caret = format!("{}^", " ".repeat(s.column.saturating_sub(1)));
                    writeln!(out, "{pad} {} {}", paint("1;34", "|"), paint(code, &caret))?;
                }
            }
            if let Some(h) = &f.help {
                writeln!(out, "  = {}: {h}", paint("1", "help"))?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

/// One finding of the JSON report.
#[derive(Debug, Serialize)]
struct JsonFinding<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    rule: &'a str,
    severity: Severity,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

fn write_json(out: &mut impl Write, reports: &[FileReport]) -> Result<()> {
    let items: Vec<JsonFinding<'_>> = reports
        .iter()
        .flat_map(|r| {
            r.findings().map(move |(d, f)| JsonFinding {
                file: &r.file,
                document: d.map(|d| d.index),
                kind: d.map(|d| d.kind.as_str()),
                name: d.map(|d| d.name.as_str()),
                rule: &f.rule,
                severity: f.severity,
                path: &f.path,
                line: f.span.map(|s| s.line),
                column: f.span.map(|s| s.column),
                message: &f.message,
                help: f.help.as_deref(),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items)?;
    writeln!(out)?;
    Ok(())
}

/// A relative URI reference for a file path (SARIF `artifactLocation.uri`).
fn file_uri(path: &str) -> String {
    let p = path.strip_prefix("./").unwrap_or(path);
    let mut s = String::with_capacity(p.len());
    for b in p.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                s.push(char::from(b))
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

/// The documentation anchor of a rule (mdBook heading ids).
fn rule_anchor(id: &str) -> String {
    id.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

fn write_sarif(out: &mut impl Write, reports: &[FileReport]) -> Result<()> {
    use serde_sarif::sarif as s;
    let rules = all_rules();
    let level = |sev: Severity| match sev {
        Severity::Error => "error",
        Severity::Warning => "warning",
        _ => "note",
    };
    let descriptors: Vec<s::ReportingDescriptor> = rules
        .iter()
        .map(|r| {
            s::ReportingDescriptor::builder()
                .id(r.id)
                .short_description(
                    s::MultiformatMessageString::builder()
                        .text(r.summary)
                        .build(),
                )
                .help(
                    s::MultiformatMessageString::builder()
                        .text(format!(
                            "{} — see docs/src/lint-rules.md#{} in the spo repository",
                            r.summary,
                            rule_anchor(r.id)
                        ))
                        .build(),
                )
                .default_configuration(
                    s::ReportingConfiguration::builder()
                        .level(serde_json::Value::from(level(r.severity)))
                        .build(),
                )
                .build()
        })
        .collect();
    let mut results = Vec::new();
    for r in reports {
        for (doc, f) in r.findings() {
            let mut region = s::Region::builder().build();
            if let Some(sp) = f.span {
                region.start_line = i64::try_from(sp.line).ok();
                region.start_column = i64::try_from(sp.column).ok();
            }
            let mut artifact = s::ArtifactLocation::builder()
                .uri(file_uri(&r.file))
                .build();
            if !r.file.starts_with('/') {
                // Relative to the checkout, as code scanning expects.
                artifact.uri_base_id = Some("%SRCROOT%".to_string());
            }
            let physical = s::PhysicalLocation::builder()
                .artifact_location(artifact)
                .region(region)
                .build();
            let mut location = s::Location::builder().physical_location(physical).build();
            if let Some(d) = doc {
                if !f.path.is_empty() {
                    location.logical_locations = Some(vec![s::LogicalLocation::builder()
                        .fully_qualified_name(format!("{}/{}:{}", d.kind, d.name, f.path))
                        .build()]);
                }
            }
            let text = match &f.help {
                Some(h) => format!("{} (help: {h})", f.message),
                None => f.message.clone(),
            };
            let mut result = s::Result::builder()
                .message(s::Message::builder().text(text).build())
                .rule_id(f.rule.clone())
                .locations(vec![location])
                .build();
            result.level = Some(match f.severity {
                Severity::Error => s::ResultLevel::Error,
                Severity::Warning => s::ResultLevel::Warning,
                _ => s::ResultLevel::Note,
            });
            result.rule_index = rules
                .iter()
                .position(|x| x.id == f.rule)
                .and_then(|i| i64::try_from(i).ok());
            results.push(result);
        }
    }
    let driver = s::ToolComponent::builder()
        .name("spoc")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/kubernetes-sigs/security-profiles-operator")
        .rules(descriptors)
        .build();
    let run = s::Run::builder()
        .tool(s::Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let sarif = s::Sarif::builder()
        .schema(s::SCHEMA_URL)
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_writer_pretty(&mut *out, &sarif)?;
    writeln!(out)?;
    Ok(())
}

fn write_junit(out: &mut impl Write, reports: &[FileReport]) -> Result<()> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("spoc lint");
    for r in reports {
        let mut suite = TestSuite::new(r.file.clone());
        let mut cases: Vec<(String, Vec<&Finding>)> = Vec::new();
        if let Some(f) = &r.unreadable {
            cases.push(("read".to_string(), vec![f]));
        }
        for d in &r.docs {
            cases.push((
                format!("{} {} (document {})", d.kind, d.name, d.index),
                d.findings.iter().collect(),
            ));
        }
        for (name, findings) in cases {
            let describe = |f: &Finding| {
                let at = f
                    .span
                    .map(|s| format!("{}:{}:{}", r.file, s.line, s.column))
                    .unwrap_or_else(|| r.file.clone());
                let help = f
                    .help
                    .as_deref()
                    .map(|h| format!(" (help: {h})"))
                    .unwrap_or_default();
                format!(
                    "{} [{}] {at} {}: {}{help}",
                    f.severity, f.rule, f.path, f.message
                )
            };
            let errors: Vec<&&Finding> = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .collect();
            let all: Vec<String> = findings.iter().map(|f| describe(f)).collect();
            let status = if errors.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(format!(
                    "{} error{}: {}",
                    errors.len(),
                    plural(errors.len()),
                    errors[0].message
                ));
                st.set_type(errors[0].rule.clone());
                st.set_description(all.join("\n"));
                st
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(r.file.clone());
            if errors.is_empty() && !all.is_empty() {
                case.set_system_out(all.join("\n"));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.serialize(&mut *out)?;
    writeln!(out)?;
    Ok(())
}

/// Escapes data of a workflow command (`%`, CR, LF), and with `property` also `:` and `,`.
fn gh_escape(s: &str, property: bool) -> String {
    let mut o = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        o = o.replace(':', "%3A").replace(',', "%2C");
    }
    o
}

fn write_github(out: &mut impl Write, reports: &[FileReport]) -> Result<()> {
    for r in reports {
        for (_, f) in r.findings() {
            let cmd = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                _ => "notice",
            };
            let mut props = format!("file={}", gh_escape(&r.file, true));
            if let Some(s) = f.span {
                props.push_str(&format!(",line={},col={}", s.line, s.column));
            }
            props.push_str(&format!(",title={}", gh_escape(&f.rule, true)));
            let msg = match &f.help {
                Some(h) => format!("{}\nhelp: {h}", f.message),
                None => f.message.clone(),
            };
            writeln!(out, "::{cmd} {props}::{}", gh_escape(&msg, false))?;
        }
    }
    Ok(())
}
