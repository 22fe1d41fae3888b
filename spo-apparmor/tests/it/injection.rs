//! An injection corpus: every attempt is rejected with a violation naming the field, never
//! rendered (AA-11, apparmor.md §7 weak point 3). And a property: whatever string is put in
//! a path list, either it is rejected or it changes exactly its own rule lines.

use proptest::prelude::*;
use spo_apparmor::{
    render, validate, Abstract, AppArmorProfile, CapabilityRules, Error, FilesystemRules,
};

fn with_read_only(path: &str) -> AppArmorProfile {
    AppArmorProfile::new(
        "victim",
        Abstract {
            filesystem: Some(FilesystemRules {
                read_only_paths: Some(vec!["/ok".into(), path.into()]),
                ..FilesystemRules::default()
            }),
            ..Abstract::default()
        },
    )
}

const PATH_ATTACKS: [&str; 16] = [
    "/x r,\n  capability sys_admin,",
    "/x r,\r  capability sys_admin,",
    "/tmp/a, /etc/shadow",
    "/usr/bin/nginx\" - r,",
    "/usr/bin/'x'",
    "/usr/bin/$(whoami)",
    "/usr/bin/${HOME}",
    "/etc/shadow # comment",
    "/{etc,root}/**",
    "/a/../../etc/shadow",
    "relative/path",
    "ptrace (read) /etc/shadow r,",
    "ptrace (read),\n  capability sys_admin,",
    "ptrace (read), /etc/shadow r,",
    "/x -> /y",
    "/x\t/y",
];

// covers: AA-11
#[test]
fn aa_11_path_injection_corpus_is_rejected_with_the_field_path() {
    for attack in PATH_ATTACKS {
        let p = with_read_only(attack);
        let v = validate(&p, None);
        assert_eq!(v.len(), 1, "{attack:?}: {v}");
        assert_eq!(
            v.as_slice()[0].path,
            "spec.abstract.filesystem.readOnlyPaths[1]"
        );
        assert!(
            matches!(render(&p, None), Err(Error::Invalid { .. })),
            "{attack:?} rendered"
        );
    }
}

// covers: AA-11
#[test]
fn aa_11_executable_traversal_names_and_capabilities_are_rejected() {
    let mut p = with_read_only("/ok2");
    let abs = p.spec.abstract_.as_mut().unwrap();
    abs.executable = Some(spo_apparmor::ExecutableRules {
        allowed_executables: Some(vec!["/usr/bin/../etc/shadow".into(), "/..x".into()]),
        allowed_libraries: Some(vec!["/var/log/\"app\".log".into()]),
    });
    abs.capability = Some(CapabilityRules {
        allowed_capabilities: vec![
            "chown, net_admin".into(),
            "CAP_CHOWN".into(),
            "audit".into(),
            "sys_admin,\n  network,".into(),
        ],
    });
    let v = validate(&p, Some("x flags=(complain) {"));
    let paths: Vec<&str> = v.as_slice().iter().map(|v| v.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "--program-name",
            "spec.abstract.executable.allowedExecutables[0]",
            "spec.abstract.executable.allowedExecutables[1]",
            "spec.abstract.executable.allowedLibraries[0]",
            "spec.abstract.capability.allowedCapabilities[0]",
            "spec.abstract.capability.allowedCapabilities[1]",
            "spec.abstract.capability.allowedCapabilities[2]",
            "spec.abstract.capability.allowedCapabilities[3]",
        ],
        "{v}"
    );
    // All violations are reported at once, the Kubernetes name rule included.
    p.metadata.name = "Bad Name\nprofile evil {".into();
    let v = validate(&p, None);
    assert!(
        v.as_slice()
            .iter()
            .filter(|v| v.path == "metadata.name")
            .count()
            >= 2,
        "{v}"
    );
}

/// Rule lines of a rendered policy, excluding the fixed deny block.
fn rule_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("  ") && !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_string)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    // covers: AA-11
    #[test]
    fn aa_11_any_accepted_path_only_changes_its_own_lines(
        s in "(/|/[a-z]{1,5}/|ptrace ?\\(|)[ -~\\n\\r\\t\"',$#{}()@\\[\\]^-]{0,24}"
    ) {
        let benign = render(&with_read_only("/benign"), None).unwrap();
        match render(&with_read_only(&s), None) {
            Err(Error::Invalid { .. }) => {
                prop_assert!(validate(&with_read_only(&s), None).len() == 1);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
            Ok(text) if s.is_empty() => {
                prop_assert_eq!(rule_lines(&text).len() + 2, rule_lines(&benign).len());
            }
            Ok(text) => {
                let a = rule_lines(&benign);
                let b = rule_lines(&text);
                prop_assert_eq!(a.len(), b.len(), "{}", text);
                prop_assert_eq!(text.lines().count(), benign.lines().count());
                let differing: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).map(|(_, y)| y.clone()).collect();
                if s.starts_with("ptrace") {
                    // The escape hatch becomes one ptrace rule (and its deny line vanishes).
                    prop_assert!(differing.iter().any(|l| l.starts_with("  ptrace (")), "{:?}", differing);
                } else {
                    let shown = if s.contains(' ') { format!("\"{s}\"") } else { s.clone() };
                    prop_assert_eq!(
                        differing,
                        vec![format!("  {shown} r,"), format!("  deny {shown} wlk,")]
                    );
                }
            }
        }
    }
}

/// The property above must see accepted inputs too, or it proves nothing.
#[test]
fn aa_11_property_inputs_include_accepted_paths() {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = "(/|/[a-z]{1,5}/|ptrace ?\\(|)[ -~\\n\\r\\t\"',$#{}()@\\[\\]^-]{0,24}";
    let accepted = (0..512)
        .filter(|_| {
            let s = strategy.new_tree(&mut runner).unwrap().current();
            render(&with_read_only(&s), None).is_ok()
        })
        .count();
    assert!(accepted > 20, "only {accepted} accepted");
}
