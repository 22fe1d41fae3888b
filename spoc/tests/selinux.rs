//! spoc with SelinuxProfile / RawSelinuxProfile: convert to CIL, validate (with the real
//! SELinux compiler), merge.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{spoc, text, write};

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spo-selinux/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn sp(name: &str, spec: &str) -> String {
    format!("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SelinuxProfile\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

/// The CIL of upstream's errorlogger example (spec selinux.md §3.1), as spo-selinux's golden
/// fixture holds it.
fn example_1() -> String {
    std::fs::read_to_string(fixture("pass/01-errorlogger.cil")).unwrap()
}

// covers: SE-08, SE-13, SE-24
#[test]
fn convert_prints_cil_for_the_upstream_examples() {
    let out = spoc(&["convert", &fixture("selinuxprofile.yaml")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), example_1());
    let out = spoc(&["convert", &fixture("rawselinuxprofile.yaml")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("(block errorlogger\n    (blockinherit container)\n"));
    assert!(text(&out.stdout).ends_with("( sock_file ( getattr read write append open  )))\n)"));
}

#[test]
fn convert_writes_cil_files_0600_and_refuses_invalid_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = format!("{}/out/", dir.path().display());
    let out = spoc(&["convert", &fixture("selinuxprofile.yaml"), "-o", &out_dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.path().join("out/errorlogger.cil");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), example_1());
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let bad = write(
        dir.path(),
        "bad.yaml",
        &sp(
            "bad",
            "  allow:\n    'x)(allow process kernel_t (file (read))':\n      file: [read]\n",
        ),
    );
    let out = spoc(&["convert", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("spec.allow.x)(allow"),
        "{}",
        text(&out.stderr)
    );
}

// covers: SE-04, SE-06, SE-07, SE-25
#[test]
fn validate_reports_every_violation_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "p.yaml",
        &format!(
            "{}\n---\n{}",
            sp("a", "  inherit:\n  - name: net_container\n  - kind: SelinuxProfile\n    name: nope\n  allow:\n    'a b': {file: [read]}\n    kernel_t: {file: [read]}\n"),
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: RawSelinuxProfile\nmetadata: {name: r}\nspec:\n  policy: \"(block inner (type t))\"\n"
        ),
    );
    let out = spoc(&["validate", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    for needle in [
        "spec.inherit[0].name: system profile net_container not in",
        "spec.inherit[1].name: couldn't find inherit reference",
        "spec.allow.a b: label",
        "spec.allow.kernel_t: type kernel_t is on the deny list",
        "spec.policy: line 1: directive \"block\" is not allowed",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }
}

// covers: SE-06, SE-11
#[test]
fn validate_finds_parents_next_to_the_file_and_compiles_with_secilc() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "foo.yaml",
        &sp(
            "foo",
            "  allow:\n    http_port_t: {tcp_socket: [name_connect]}\n",
        ),
    );
    let child = write(
        dir.path(),
        "child.yaml",
        &sp("child", "  inherit: [{kind: SelinuxProfile, name: foo}]\n  allow:\n    '@self': {tcp_socket: [listen]}\n    http_port_t: {tcp_socket: [name_bind]}\n"),
    );
    let base = fixture("test-base-policy.cil");
    let out = spoc(&["validate", "--selinux-base", &base, child.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // Compiler errors come back as violations on the field that produced the line.
    let bad = write(
        dir.path(),
        "bad.yaml",
        &sp(
            "bad",
            "  allow:\n    http_port_t: {tcp_socket: [no_such_perm]}\n",
        ),
    );
    let out = spoc(&[
        "--output",
        "json",
        "validate",
        "--selinux-base",
        &base,
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v[0]["violations"][0]["path"],
        "spec.allow.http_port_t.tcp_socket"
    );
    assert!(v[0]["violations"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("no_such_perm"));
}

#[test]
fn validate_decode_errors_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "p.yaml",
        &sp("a", "  allow:\n    x_t: {file: read}\n"),
    );
    let out = spoc(&["validate", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("spec.allow.x_t.file"),
        "{}",
        text(&out.stdout)
    );
}

// Merging SelinuxProfiles: union of allow maps (recording.md §5).
#[test]
fn merge_unions_selinux_profiles_and_check_reports_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.yaml",
        &sp("a", "  allow:\n    x_t: {file: [read]}\n"),
    );
    let b = write(
        dir.path(),
        "b.yaml",
        &sp(
            "b",
            "  allow:\n    x_t: {file: [write]}\n    y_t: {dir: [search]}\n",
        ),
    );
    let out = spoc(&[
        "--output",
        "json",
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "SelinuxProfile");
    assert_eq!(v["metadata"]["name"], "a");
    assert_eq!(
        v["spec"]["allow"]["x_t"]["file"],
        serde_json::json!(["read", "write"])
    );
    let out = spoc(&["merge", "--check", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let out = spoc(&["merge", "--check", b.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let c = write(
        dir.path(),
        "c.yaml",
        &sp(
            "c",
            "  allow:\n    x_t: {file: [read, write]}\n    y_t: {dir: [search]}\n",
        ),
    );
    let out = spoc(&[
        "merge",
        "--check",
        c.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn validate_with_base_maps_an_unknown_type_to_its_rule() {
    // The test base does not declare var_log_t: secilc fails on the first rule using it and
    // the failure is reported on that rule's field.
    let base = fixture("test-base-policy.cil");
    let out = spoc(&[
        "--output",
        "json",
        "validate",
        "--selinux-base",
        &base,
        &fixture("selinuxprofile.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v[0]["violations"][0]["path"], "spec.allow.var_log_t.dir",
        "{v}"
    );
    // The raw example compiles once var_log_t exists: declare it in an extended base.
    let dir = tempfile::tempdir().unwrap();
    let extended = write(
        dir.path(),
        "base.cil",
        &format!(
            "{}\n(type var_log_t)\n",
            std::fs::read_to_string(&base).unwrap()
        ),
    );
    for f in ["selinuxprofile.yaml", "rawselinuxprofile.yaml"] {
        let out = spoc(&[
            "validate",
            "--selinux-base",
            extended.to_str().unwrap(),
            &fixture(f),
        ]);
        assert!(
            out.status.success(),
            "{f}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}
