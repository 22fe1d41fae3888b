//! `spoc lint` end to end: every rule's failing and clean fixture, the five report formats
//! (SARIF checked against the SARIF 2.1.0 schema with Python's jsonschema, JUnit read back with
//! junitparser), configuration files, flags, the suppression annotation, exit codes.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{spoc, text};
use serde_json::Value;
use spo_core::lint::{RuleInfo, Severity};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint")
}

fn all_rules() -> Vec<RuleInfo> {
    let mut v = Vec::new();
    v.extend_from_slice(spo_seccomp::lint::RULES);
    v.extend_from_slice(spo_selinux::lint::RULES);
    v.extend_from_slice(spo_apparmor::lint::RULES);
    v
}

fn lint_json(args: &[&str]) -> (i32, Vec<Value>) {
    let mut a = vec!["lint", "--format", "json"];
    a.extend_from_slice(args);
    let out = spoc(&a);
    let code = out.status.code().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    (code, v.as_array().unwrap().clone())
}

fn rules_of(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

// covers: issue 11 (every rule has a failing and a clean fixture; exit codes)
#[test]
fn every_rule_has_a_failing_and_a_clean_fixture() {
    let rules = all_rules();
    assert!(rules.len() >= 24, "{}", rules.len());
    for r in &rules {
        let dir = fixtures().join(r.id);
        let fail = dir.join("fail.yaml");
        let pass = dir.join("pass.yaml");
        assert!(fail.is_file() && pass.is_file(), "fixtures for {}", r.id);
        let (code, findings) = lint_json(&[fail.to_str().unwrap()]);
        assert!(
            rules_of(&findings).iter().any(|x| x == r.id),
            "{}: fail.yaml gave {findings:?}",
            r.id
        );
        let expected = if r.severity == Severity::Error { 1 } else { 0 };
        assert_eq!(code, expected, "{}: exit code", r.id);
        let f = findings.iter().find(|f| f["rule"] == r.id).unwrap();
        assert!(f["line"].as_u64().unwrap() >= 1, "{}: {f}", r.id);
        assert!(!f["message"].as_str().unwrap().is_empty());
        assert!(f["help"].is_string(), "{}: help missing", r.id);
        let (code, findings) = lint_json(&[pass.to_str().unwrap()]);
        assert!(findings.is_empty(), "{}: pass.yaml gave {findings:?}", r.id);
        assert_eq!(code, 0, "{}", r.id);
    }
}

// covers: issue 11 (--deny warnings, --allow, --warn)
#[test]
fn deny_warnings_and_per_rule_levels() {
    let fail = fixtures().join("seccomp/dangerous-syscall/fail.yaml");
    let f = fail.to_str().unwrap();
    let (code, v) = lint_json(&[f]);
    assert_eq!((code, v[0]["severity"].as_str()), (0, Some("warning")));
    let (code, v) = lint_json(&["--deny", "warnings", f]);
    assert_eq!((code, v[0]["severity"].as_str()), (1, Some("error")));
    let (code, v) = lint_json(&["--allow", "seccomp/dangerous-syscall", f]);
    assert_eq!((code, v.len()), (0, 0));
    let err = fixtures().join("seccomp/cannot-start/fail.yaml");
    let (code, v) = lint_json(&["--warn", "seccomp/cannot-start", err.to_str().unwrap()]);
    assert_eq!((code, v[0]["severity"].as_str()), (0, Some("warning")));
}

// covers: issue 11 (the nearest .spoc-lint.yaml walking up; a bad one is exit 2)
#[test]
fn config_file_is_found_by_walking_up() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let src = std::fs::read_to_string(fixtures().join("seccomp/complain-mode/fail.yaml")).unwrap();
    let file = common::write(&sub, "p.yaml", &src);
    let f = file.to_str().unwrap();
    assert_eq!(lint_json(&[f]).0, 0);
    common::write(tmp.path(), ".spoc-lint.yaml", "deny: [warnings]\n");
    assert_eq!(lint_json(&[f]).0, 1);
    common::write(&sub, ".spoc-lint.yaml", "allow: [seccomp/complain-mode]\n");
    assert_eq!(lint_json(&[f]), (0, vec![]));
    // --no-config ignores them; --config names one.
    assert_eq!(lint_json(&["--no-config", f]).1.len(), 1);
    let cfg = common::write(tmp.path(), "strict.yaml", "deny: [seccomp/complain-mode]\n");
    assert_eq!(lint_json(&["--config", cfg.to_str().unwrap(), f]).0, 1);
    common::write(&sub, ".spoc-lint.yaml", "alow: [x]\n");
    let out = spoc(&["lint", f]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("alow"), "{}", text(&out.stdout));
}

// covers: issue 11 (inline suppression by annotation)
#[test]
fn annotation_suppresses_named_rules_only() {
    let tmp = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(fixtures().join("seccomp/dangerous-syscall/pass.yaml"))
        .unwrap()
        .replace("seccomp/dangerous-syscall", "seccomp/complain-mode");
    let f = common::write(tmp.path(), "p.yaml", &src);
    let (_, v) = lint_json(&[f.to_str().unwrap()]);
    assert_eq!(rules_of(&v), ["seccomp/dangerous-syscall"]);
}

// covers: issue 11 (recursive directories, multi-document YAML, other kinds skipped, exit 2)
#[test]
fn directories_multi_documents_and_unreadable_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = tmp.path().join("x/y");
    std::fs::create_dir_all(&deep).unwrap();
    let a = std::fs::read_to_string(fixtures().join("seccomp/complain-mode/fail.yaml")).unwrap();
    let b = std::fs::read_to_string(fixtures().join("selinux/permissive/fail.yaml")).unwrap();
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n";
    common::write(
        &deep,
        "multi.yaml",
        &format!("{deployment}---\n{a}---\n{b}"),
    );
    common::write(&deep, "notes.txt", "not a profile");
    let (code, v) = lint_json(&[tmp.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(
        rules_of(&v),
        ["seccomp/complain-mode", "selinux/permissive"]
    );
    // Document 2 starts on line 5: `defaultAction` is its line 6 → file line 10.
    assert_eq!(v[0]["document"], 2);
    assert_eq!(v[0]["line"], 10);
    assert_eq!(v[1]["document"], 3);
    let content = std::fs::read_to_string(deep.join("multi.yaml")).unwrap();
    let lines: Vec<&str> = content.lines().collect();
    let l = v[1]["line"].as_u64().unwrap() as usize;
    assert!(
        lines[l - 1].contains("mode: Permissive"),
        "{}",
        lines[l - 1]
    );

    common::write(&deep, "broken.yaml", "kind: [unclosed\n");
    let (code, v) = lint_json(&[tmp.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(rules_of(&v).contains(&"input/unreadable".to_string()));
    assert_eq!(lint_json(&["/nonexistent/p.yaml"]).0, 2);
}

// covers: issue 11 (rustc-like text: file:line:col, source line, caret, rule, help; no colour
// when not a terminal)
#[test]
fn text_report_is_rustc_like() {
    let fail = fixtures().join("seccomp/unknown-syscall/fail.yaml");
    let out = spoc(&["lint", fail.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out.stdout);
    let expected = format!(
        "error[seccomp/unknown-syscall]: syscall \"wirte\" does not exist on any architecture\n  --> {}:12:13 (SeccompProfile \"typo\": spec.syscalls[1].names[0])\n   |\n12 |     names: [wirte]\n   |             ^\n  = help: did you mean \"write\"?\n",
        fail.display()
    );
    assert!(t.starts_with(&expected), "{t}");
    assert!(!t.contains('\x1b'));
    assert!(text(&out.stderr).contains("1 file linted: 1 error, 0 warnings, 0 notes"));
}

fn python(script: &str, arg: &Path) -> (bool, String) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(arg)
        .output()
        .expect("python3 (installed by make deps)");
    (
        out.status.success(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

// covers: issue 11 (SARIF 2.1.0 validates against the schema)
#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let out = spoc(&["lint", "--format", "sarif", fixtures().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = common::write(tmp.path(), "report.sarif", &text(&out.stdout));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 24);
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
    }
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let script = format!(
        "import json, sys, jsonschema\n\
         schema = json.load(open({:?}))\n\
         doc = json.load(open(sys.argv[1]))\n\
         jsonschema.Draft7Validator.check_schema(schema)\n\
         errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))\n\
         for e in errors: print(list(e.path), e.message)\n\
         sys.exit(1 if errors else 0)\n",
        schema.display().to_string()
    );
    let (ok, msg) = python(&script, &report);
    assert!(ok, "{msg}");
    // Relative paths, as in a CI checkout: URIs relative to %SRCROOT%.
    let out = Command::new(env!("CARGO_BIN_EXE_spoc"))
        .args(["lint", "--format", "sarif", "seccomp"])
        .current_dir(fixtures())
        .output()
        .unwrap();
    let rel: Value = serde_json::from_slice(&out.stdout).unwrap();
    let loc = &rel["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uriBaseId"], "%SRCROOT%");
    assert!(
        loc["uri"].as_str().unwrap().starts_with("seccomp/"),
        "{loc}"
    );
    let rel_file = common::write(tmp.path(), "rel.sarif", &text(&out.stdout));
    let (ok, msg) = python(&script, &rel_file);
    assert!(ok, "{msg}");
    // The check can fail: a result without a message is rejected.
    let mut bad = v.clone();
    bad["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    let bad_file = common::write(tmp.path(), "bad.sarif", &bad.to_string());
    assert!(!python(&script, &bad_file).0);
}

// covers: issue 11 (JUnit XML read back by a real JUnit parser)
#[test]
fn junit_is_read_back_by_junitparser() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixtures().join("seccomp");
    let out = spoc(&["lint", "--format", "junit", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report = common::write(tmp.path(), "report.xml", &text(&out.stdout));
    let script = "import sys\n\
        from junitparser import JUnitXml, Failure\n\
        xml = JUnitXml.fromfile(sys.argv[1])\n\
        cases = failures = 0\n\
        names = []\n\
        for suite in xml:\n\
        \x20   for case in suite:\n\
        \x20       cases += 1\n\
        \x20       for r in case.result:\n\
        \x20           if isinstance(r, Failure):\n\
        \x20               failures += 1\n\
        \x20               names.append(r.type)\n\
        print(cases, failures, ' '.join(sorted(set(names))))\n";
    let (ok, msg) = python(script, &report);
    assert!(ok, "{msg}");
    let mut parts = msg.split_whitespace();
    let cases: usize = parts.next().unwrap().parse().unwrap();
    let failures: usize = parts.next().unwrap().parse().unwrap();
    let types: Vec<&str> = parts.collect();
    // 13 rules × (fail + pass) + the base profile of the base-profile fixture.
    assert_eq!(cases, 27, "{msg}");
    // Error rules' failing fixtures fail; warnings and infos pass with output.
    let error_rules = spo_seccomp::lint::RULES
        .iter()
        .filter(|r| r.severity == Severity::Error)
        .count();
    assert_eq!(failures, error_rules, "{msg}");
    assert!(types.contains(&"seccomp/cannot-start"), "{msg}");
}

// covers: issue 11 (GitHub workflow commands)
#[test]
fn github_workflow_commands() {
    let dir = fixtures().join("apparmor/ptrace");
    let out = spoc(&["lint", "--format", "github", dir.to_str().unwrap()]);
    let t = text(&out.stdout);
    let fail = dir.join("fail.yaml");
    assert_eq!(
        t.lines().next().unwrap(),
        format!(
            "::warning file={},line=8,col=29,title=apparmor/ptrace::capability sys_ptrace: the workload may read and control other processes%0Ahelp: remove it unless the workload is a debugger or profiler",
            fail.display().to_string().replace(':', "%3A").replace(',', "%2C")
        )
    );
}

// covers: issue 11 (real profiles: Docker's JSON dialect is read, not rejected)
#[test]
fn docker_default_profile_is_linted() {
    let moby = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/moby-default.json");
    let (code, v) = lint_json(&[moby.to_str().unwrap()]);
    let rules = rules_of(&v);
    assert!(!rules.iter().any(|r| r.starts_with("input/")), "{v:?}");
    assert!(rules.iter().any(|r| r == "seccomp/dangerous-syscall"));
    // Rules that apply only with capabilities (e.g. CAP_SYS_ADMIN's mount) are left out.
    assert!(!v
        .iter()
        .any(|f| f["message"].as_str().unwrap().starts_with("\"mount\"")));
    // Syscalls newer than the syscall table (mseal, …) are errors: exit 1 or 0.
    assert!(code == 0 || code == 1, "{code}");
}

// covers: issue 11 (one documentation section per rule)
#[test]
fn every_rule_has_a_documentation_section() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/src/lint-rules.md"),
    )
    .unwrap();
    for r in all_rules() {
        let heading = format!("\n## {}\n", r.id);
        let at = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("no section for {}", r.id));
        let section = &doc[at + heading.len()..];
        let section = &section[..section.find("\n## ").unwrap_or(section.len())];
        for part in ["**What.**", "**Why.**", "**How to fix.**", "**Example.**"] {
            assert!(section.contains(part), "{}: {part}", r.id);
        }
    }
}

// covers: SC-37, SC-38, SC-39 (allowedSyscalls / allowedSeccompActions from a SPOD manifest),
// issue 11 (policy file)
#[test]
fn policy_from_a_spod_manifest() {
    let t = tempfile::tempdir().unwrap();
    let spod = common::write(
        t.path(),
        "spod.yaml",
        "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: SecurityProfilesOperatorDaemon\nmetadata: {name: spod, namespace: security-profiles-operator}\nspec:\n  allowedSyscalls: [execve, exit_group, read, write]\n",
    );
    let spod = spod.to_str().unwrap();
    let fail = fixtures().join("seccomp/disallowed-syscall/fail.yaml");
    let se = fixtures().join("selinux/template-not-allowed/fail.yaml");
    let (code, v) = lint_json(&[
        "--no-config",
        "--policy",
        spod,
        fail.to_str().unwrap(),
        se.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        rules_of(&v),
        ["seccomp/disallowed-syscall", "selinux/template-not-allowed"]
    );
    assert_eq!(v[0]["message"], "syscall not allowed: mkdir");
    // SC-38: an allowing default action is a violation; SC-39: an action outside the four.
    let deny_list = fixtures().join("seccomp/deny-list/fail.yaml");
    let (_, v) = lint_json(&["--no-config", "--policy", spod, deny_list.to_str().unwrap()]);
    assert!(v
        .iter()
        .any(|f| f["rule"] == "seccomp/disallowed-syscall" && f["path"] == "spec.defaultAction"));
    let (_, v) = lint_json(&[
        "--no-config",
        "--allowed-syscalls",
        "read",
        "--allowed-actions",
        "SCMP_ACT_ERRNO",
        fixtures()
            .join("seccomp/cannot-start/pass.yaml")
            .to_str()
            .unwrap(),
    ]);
    assert!(
        v.iter()
            .any(|f| f["message"] == "seccomp action not allowed: SCMP_ACT_ERRNO"),
        "{v:?}"
    );
    // Not a SPOD: exit 2 with the reason.
    let out = spoc(&[
        "lint",
        "--policy",
        fail.to_str().unwrap(),
        fail.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no SecurityProfilesOperatorDaemon"));
}

// covers: issue 11 (many files are linted on all cores; the report keeps the file order)
#[test]
fn many_files_keep_their_order() {
    let t = tempfile::tempdir().unwrap();
    let warn = std::fs::read_to_string(fixtures().join("seccomp/complain-mode/fail.yaml")).unwrap();
    let err = std::fs::read_to_string(fixtures().join("seccomp/cannot-start/fail.yaml")).unwrap();
    for i in 0..150 {
        let body = if i % 3 == 0 { &err } else { &warn };
        common::write(t.path(), &format!("p{i:03}.yaml"), body);
    }
    let (code, v) = lint_json(&[t.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v.len(), 150);
    for (i, f) in v.iter().enumerate() {
        assert!(f["file"]
            .as_str()
            .unwrap()
            .ends_with(&format!("p{i:03}.yaml")));
        let expected = if i % 3 == 0 {
            "seccomp/cannot-start"
        } else {
            "seccomp/complain-mode"
        };
        assert_eq!(f["rule"], expected);
    }
}
