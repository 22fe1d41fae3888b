//! `spoc diff`, `spoc subset` and `spoc intersect` end to end (issue 11).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{spoc, text};
use serde_json::Value;

const HEAD: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: NAME}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  architectures: [SCMP_ARCH_X86_64]\n  syscalls:\n";

fn profile(dir: &Path, name: &str, rules: &str) -> String {
    let p = common::write(
        dir,
        &format!("{name}.yaml"),
        &(HEAD.replace("NAME", name) + rules),
    );
    p.to_str().unwrap().to_string()
}

// covers: issue 11 (semantic diff: normalised, per syscall; exit 0 equal / 1 different)
#[test]
fn diff_is_semantic() {
    let t = tempfile::tempdir().unwrap();
    let a = profile(t.path(), "a", "  - {action: SCMP_ACT_ALLOW, names: [read, write, close]}\n  - {action: SCMP_ACT_ERRNO, names: [clone3]}\n");
    let same = profile(t.path(), "same", "  - {action: SCMP_ACT_ALLOW, names: [close]}\n  - {action: SCMP_ACT_ALLOW, names: [write, read, read]}\n  - {action: SCMP_ACT_ERRNO, names: [clone3], errnoRet: 1}\n");
    let out = spoc(&["diff", &a, &same]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");
    let b = profile(t.path(), "b", "  - {action: SCMP_ACT_ALLOW, names: [read, mkdir]}\n  - {action: SCMP_ACT_ERRNO, names: [clone3], errnoRet: 38}\n  - {action: SCMP_ACT_ALLOW, names: [personality], args: [{index: 0, value: 8, op: SCMP_CMP_EQ}]}\n");
    let out = spoc(&["diff", &a, &b]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        // An ERRNO(EPERM) rule is the default action: clone3 gains a rule.
        "+ clone3: SCMP_ACT_ERRNO(38)\n- close: SCMP_ACT_ALLOW\n+ mkdir: SCMP_ACT_ALLOW\n+ personality: SCMP_ACT_ALLOW if arg0 == 0x8\n- write: SCMP_ACT_ALLOW\n"
    );
    let out = spoc(&["--output", "json", "diff", &a, &b]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["changes"].as_array().unwrap().len(), 5);
    assert_eq!(v["changes"][0]["kind"], "added");
    assert_eq!(v["changes"][0]["after"][0]["outcome"]["errno"], 38);
    // A changed action.
    let c = profile(
        t.path(),
        "c",
        "  - {action: SCMP_ACT_LOG, names: [read, write, close]}\n",
    );
    let out = spoc(&["diff", &a, &c]);
    assert!(
        text(&out.stdout).contains("~ read: SCMP_ACT_ALLOW → SCMP_ACT_LOG\n"),
        "{}",
        text(&out.stdout)
    );
    // Different kinds and unreadable files: exit 2.
    let se = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lint/selinux/wildcard/fail.yaml");
    assert_eq!(
        spoc(&["diff", &a, se.to_str().unwrap()]).status.code(),
        Some(2)
    );
    assert_eq!(
        spoc(&["diff", &a, "/nonexistent.yaml"]).status.code(),
        Some(2)
    );
}

// covers: issue 11 (diff of SELinux profiles)
#[test]
fn diff_of_selinux_profiles() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint/selinux/sensitive-type");
    let out = spoc(&[
        "diff",
        dir.join("fail.yaml").to_str().unwrap(),
        dir.join("pass.yaml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "- allow shadow_t file read\n- allow shadow_t file write\n+ allow shadow_t file getattr\n"
    );
}

// covers: issue 11 (subset with argument conditions and witnesses; intersect)
#[test]
fn subset_witnesses_and_intersection() {
    let t = tempfile::tempdir().unwrap();
    let base = profile(
        t.path(),
        "baseline",
        "  - {action: SCMP_ACT_ALLOW, names: [read, write, personality]}\n",
    );
    let pulled = profile(t.path(), "pulled", "  - {action: SCMP_ACT_ALLOW, names: [read]}\n  - {action: SCMP_ACT_ALLOW, names: [personality], args: [{index: 0, value: 8, op: SCMP_CMP_EQ}]}\n");
    let out = spoc(&["subset", &pulled, &base]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = spoc(&["subset", &base, &pulled]);
    assert_eq!(out.status.code(), Some(1));
    let t2 = text(&out.stdout);
    assert!(t2.contains("2 calls A allows and B does not"), "{t2}");
    assert!(
        t2.contains(
            "SCMP_ARCH_X86_64 personality(arg0=0x0): A SCMP_ACT_ALLOW, B SCMP_ACT_ERRNO(1)"
        ),
        "{t2}"
    );
    assert!(
        t2.contains("SCMP_ARCH_X86_64 write(): A SCMP_ACT_ALLOW, B SCMP_ACT_ERRNO(1)"),
        "{t2}"
    );
    let out = spoc(&["--output", "json", "subset", &base, &pulled]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["subset"], false);
    assert_eq!(v["exact"], true);

    let out_file = t.path().join("both.yaml");
    let out = spoc(&[
        "intersect",
        &base,
        &pulled,
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let both = out_file.to_str().unwrap();
    // The intersection is within both, and (here) equal to the smaller one.
    for (x, y) in [
        (both, pulled.as_str()),
        (both, base.as_str()),
        (pulled.as_str(), both),
    ] {
        assert_eq!(spoc(&["subset", x, y]).status.code(), Some(0), "{x} ⊆ {y}");
    }
}
