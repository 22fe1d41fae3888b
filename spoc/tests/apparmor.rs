//! spoc with AppArmorProfiles: convert, validate, merge, install and remove (CLI-14..CLI-17,
//! AA-01, AA-11, AA-12, AA-14, AA-15). Loading needs AppArmor in the kernel, which this
//! machine lacks, so install/remove run against a fake host tree and a fake parser script
//! that records its argv; compile checks use the real apparmor_parser when installed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spo-apparmor/tests/fixtures")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

fn spoc(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spoc"));
    c.args(args)
        .env_remove("SPOC_APPARMOR_PARSER")
        .env_remove("SPOC_APPARMOR_DIR")
        .env_remove("SPOC_HOST_ROOT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn parser_installed() -> bool {
    let found = ["/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"]
        .iter()
        .any(|p| Path::new(p).is_file());
    if !found {
        eprintln!("SKIP part: apparmor_parser is not installed");
    }
    found
}

// covers: CLI-14, AA-02
#[test]
fn cli_14_convert_renders_the_worked_example_byte_for_byte() {
    let out = spoc(&["convert", &fixture("worked-example.yaml")], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected =
        std::fs::read_to_string(fixtures().join("worked-example.enforce.apparmor")).unwrap();
    assert_eq!(text(&out.stdout), expected);

    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("policy");
    let out = spoc(
        &[
            "c",
            "-p",
            "/usr/bin/sleep",
            "-o",
            dest.to_str().unwrap(),
            &fixture("worked-example.yaml"),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&dest).unwrap();
    assert!(written.contains(
        "\nprofile /usr/bin/sleep flags=(enforce,attach_disconnected,mediate_deleted) {\n"
    ));
    assert_eq!(
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

// covers: AA-04, VER-08
#[test]
fn aa_04_legacy_complain_mode_converts_without_deny_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("p.yaml");
    std::fs::write(
        &f,
        "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: AppArmorProfile\nmetadata: {name: legacy}\nspec:\n  complainMode: true\n  abstract:\n    filesystem: {readOnlyPaths: [/etc/hosts]}\n    network: {allowRaw: false}\n",
    )
    .unwrap();
    let out = spoc(&["convert", f.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let policy = text(&out.stdout);
    assert!(policy.contains("flags=(complain,"));
    assert!(
        !policy.lines().any(|l| l.trim_start().starts_with("deny ")),
        "{policy}"
    );
}

// covers: AA-11, AA-01
#[test]
fn aa_11_validate_lists_every_violation_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.yaml");
    std::fs::write(
        &f,
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nmetadata: {name: bad}\nspec:\n  abstract:\n    filesystem:\n      readOnlyPaths: [/ok, \"/x r,\\n  capability sys_admin,\", relative]\n    capability:\n      allowedCapabilities: [CAP_SYS_ADMIN]\n---\napiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: AppArmorProfile\nmetadata: {name: raw}\nspec:\n  policy: |\n    profile other {\n    }\n",
    )
    .unwrap();
    let out = spoc(&["validate", f.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for path in [
        "spec.abstract.filesystem.readOnlyPaths[1]",
        "spec.abstract.filesystem.readOnlyPaths[2]",
        "spec.abstract.capability.allowedCapabilities[0]",
        "spec.policy",
    ] {
        assert!(stdout.contains(path), "{path} missing in:\n{stdout}");
    }
    // And convert refuses instead of rendering anything.
    let out = spoc(&["convert", f.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

// covers: AA-11 (the real parser's verdict, mapped to the input field)
#[test]
fn aa_11_validate_reports_parser_errors_against_the_field() {
    if !parser_installed() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("var.yaml");
    std::fs::write(
        &f,
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nmetadata: {name: var}\nspec:\n  abstract:\n    filesystem:\n      readOnlyPaths: [/etc/ok, \"/x/@{undeclared}/y\"]\n",
    )
    .unwrap();
    let out = spoc(&["validate", f.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("spec.abstract.filesystem.readOnlyPaths[1]: apparmor_parser:"),
        "{stdout}"
    );
    assert!(stdout.contains("undeclared"), "{stdout}");
    // The upstream examples compile.
    let mut args = vec!["validate".to_string()];
    for f in [
        "apparmorprofile.yaml",
        "apparmorprofile-sleep-crun.yaml",
        "spo-apparmor.yaml",
        "worked-example.yaml",
    ] {
        args.push(fixture(f));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = spoc(&args, &[]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

// covers: CLI-15, CLI-16
#[test]
fn cli_15_merge_unites_and_check_compares() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.yaml");
    let b = tmp.path().join("b.yaml");
    let head = "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\n";
    std::fs::write(&a, format!("{head}metadata: {{name: a}}\nspec:\n  abstract:\n    filesystem:\n      readOnlyPaths: [/etc/passwd]\n      readWritePaths: [\"/var/log/**\"]\n")).unwrap();
    std::fs::write(&b, format!("{head}metadata: {{name: b}}\nspec:\n  abstract:\n    filesystem:\n      writeOnlyPaths: [/etc/passwd, /var/log/x]\n    capability:\n      allowedCapabilities: [chown]\n")).unwrap();
    let out = spoc(
        &[
            "merge",
            "--output",
            "json",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["metadata"]["name"], "a");
    let fs = &v["spec"]["abstract"]["filesystem"];
    assert_eq!(
        fs["readWritePaths"],
        serde_json::json!(["/etc/passwd", "/var/log/**"])
    );
    assert_eq!(fs["readOnlyPaths"], serde_json::json!([]));
    assert_eq!(
        v["spec"]["abstract"]["capability"]["allowedCapabilities"],
        serde_json::json!(["chown"])
    );

    let out = spoc(
        &["merge", "--check", a.to_str().unwrap(), b.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Base profile needs an update."));
    let out = spoc(
        &["merge", "--check", a.to_str().unwrap(), a.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Base profile is up-to-date."));

    let seccomp = tmp.path().join("s.yaml");
    std::fs::write(&seccomp, "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: s}\nspec: {defaultAction: SCMP_ACT_LOG}\n").unwrap();
    let out = spoc(
        &["merge", a.to_str().unwrap(), seccomp.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot merge AppArmorProfile with SeccompProfile"));
}

/// A fake host: `sys/.../enabled`, a securityfs profile list, a policy dir and a parser
/// script that logs its argv and "loads" profiles into the list.
struct FakeHost {
    tmp: tempfile::TempDir,
}

impl FakeHost {
    fn new(enabled: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("sys/module/apparmor/parameters")).unwrap();
        std::fs::create_dir_all(root.join("sys/kernel/security/apparmor")).unwrap();
        std::fs::write(root.join("sys/module/apparmor/parameters/enabled"), enabled).unwrap();
        std::fs::write(root.join("sys/kernel/security/apparmor/profiles"), "").unwrap();
        std::fs::create_dir(tmp.path().join("apparmor.d")).unwrap();
        let script = tmp.path().join("apparmor_parser");
        common::write_executable(
            &script,
            &format!(
                "#!/bin/sh\necho \"$@\" >> {log}\nprofiles={root}/sys/kernel/security/apparmor/profiles\ncase \"$1\" in\n  -r) sed -n 's/^profile \\([^ ]*\\) .*/\\1 (enforce)/p' \"$3\" >> $profiles ;;\n  -R) : > $profiles ;;\nesac\n",
                log = tmp.path().join("argv.log").display(),
                root = root.display()
            ),
        );
        Self { tmp }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "SPOC_APPARMOR_PARSER",
                self.tmp
                    .path()
                    .join("apparmor_parser")
                    .display()
                    .to_string(),
            ),
            (
                "SPOC_APPARMOR_DIR",
                self.tmp.path().join("apparmor.d").display().to_string(),
            ),
            (
                "SPOC_HOST_ROOT",
                self.tmp.path().join("root").display().to_string(),
            ),
        ]
    }

    fn run(&self, args: &[&str]) -> Output {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        spoc(args, &env)
    }

    fn argv(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("argv.log")).unwrap_or_default()
    }

    fn dir(&self) -> PathBuf {
        self.tmp.path().join("apparmor.d")
    }
}

// covers: CLI-17, AA-12, AA-15
#[test]
fn cli_17_install_and_remove_under_the_executable_name() {
    let host = FakeHost::new("Y\n");
    let profile = fixture("worked-example.yaml");
    let out = host.run(&["install", &profile, "/usr/local/bin/app"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = host.dir().join("usr.local.bin.app");
    let policy = std::fs::read_to_string(&file).unwrap();
    assert!(policy.contains("\nprofile /usr/local/bin/app flags=(enforce,"));
    assert_eq!(host.argv(), format!("-r -W {}\n", file.display()));

    let out = host.run(&["rm", &profile, "/usr/local/bin/app"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!file.exists());
    assert!(host.argv().ends_with(&format!("-R {}\n", file.display())));
    // Not loaded any more: nothing to do.
    let out = host.run(&["remove", &profile, "/usr/local/bin/app"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("not loaded"));
}

// covers: CLI-17 (PATH lookup of metadata.name)
#[test]
fn cli_17_install_finds_metadata_name_in_path() {
    let host = FakeHost::new("Y");
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("sleep.yaml");
    std::fs::write(&f, "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nmetadata: {name: sleep}\nspec: {abstract: {}}\n").unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    common::write_executable(&bin.join("sleep"), "#!/bin/sh\n");
    let mut env = host.env();
    env.push(("PATH", format!("{}:/usr/bin:/bin", bin.display())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = spoc(&["i", f.to_str().unwrap()], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected_name = format!("{}/sleep", bin.display());
    let file = host
        .dir()
        .join(expected_name.replace('/', ".").trim_matches('.'));
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains(&format!("profile {expected_name} flags=")));
}

// covers: AA-14, CLI-17
#[test]
fn aa_14_install_without_apparmor_fails_clearly() {
    let host = FakeHost::new("N\n");
    let out = host.run(&["install", &fixture("worked-example.yaml")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("insufficient permissions or AppArmor is unavailable"),
        "{}",
        text(&out.stderr)
    );
    assert!(host.argv().is_empty());
    assert_eq!(std::fs::read_dir(host.dir()).unwrap().count(), 0);
    // This machine's kernel has no AppArmor: the real host path gives the same answer.
    if std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .map_or(true, |s| !s.starts_with('Y'))
    {
        let out = spoc(
            &["install", &fixture("worked-example.yaml")],
            &[("SPOC_APPARMOR_DIR", "/nonexistent")],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("AppArmor is not enabled"),
            "{}",
            text(&out.stderr)
        );
    }
}

// covers: CLI-17 (argument errors)
#[test]
fn cli_17_argument_errors() {
    let out = spoc(&["install", "a", "b", "c"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("too many arguments"));
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("s.yaml");
    std::fs::write(&f, "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: s}\nspec: {defaultAction: SCMP_ACT_LOG}\n").unwrap();
    let out = spoc(&["remove", f.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot remove SeccompProfile profile"),
        "{}",
        text(&out.stderr)
    );
}

// covers: AA-01 (era A raw policy: loaded verbatim, compiled, errors point into spec.policy)
#[test]
fn aa_01_raw_policy_is_converted_verbatim_and_compiled() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("raw.yaml");
    let manifest = |rule: &str| {
        format!("apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: AppArmorProfile\nmetadata: {{name: raw}}\nspec:\n  policy: |\n    #include <tunables/global>\n    profile raw flags=(attach_disconnected) {{\n      #include <abstractions/base>\n      {rule}\n    }}\n")
    };
    std::fs::write(&f, manifest("/etc/hosts r,")).unwrap();
    let out = spoc(&["convert", f.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "#include <tunables/global>\nprofile raw flags=(attach_disconnected) {\n  #include <abstractions/base>\n  /etc/hosts r,\n}\n"
    );
    // Installed under another name, the policy would not define the profile (AA-01).
    let out = spoc(&["convert", "-p", "other", f.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("spec.policy"),
        "{}",
        text(&out.stderr)
    );
    if !parser_installed() {
        return;
    }
    std::fs::write(&f, manifest("/etc/hosts rq,")).unwrap();
    let out = spoc(&["validate", f.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("spec.policy (line 4): apparmor_parser: syntax error"),
        "{}",
        text(&out.stdout)
    );
}
