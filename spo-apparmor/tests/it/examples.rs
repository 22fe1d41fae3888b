//! Upstream example manifests (copied into tests/fixtures, see NOTICE there): they decode,
//! validate, render and compile with the real parser.

use spo_apparmor::{render, validate, Mode};

use crate::support::{compile, fixture, has_deny_rule, parser, profiles};

const UPSTREAM: [&str; 6] = [
    "apparmorprofile.yaml",
    "apparmorprofile-sleep-complain-mode.yaml",
    "apparmorprofile-sleep-crun.yaml",
    "apparmorprofile-sleep-runc.yaml",
    "spo-apparmor.yaml",
    "bpfrecorder-apparmor.yaml",
];

// covers: AA-02, AA-11
#[test]
fn aa_02_upstream_examples_decode_validate_render_and_compile() {
    let parser = parser();
    for file in UPSTREAM {
        for p in profiles(&fixture(file)) {
            let v = validate(&p, None);
            assert!(v.is_empty(), "{file}: {v}");
            let text = render(&p, None).unwrap();
            assert!(text.contains(&format!("\nprofile {} flags=(", p.metadata.name)));
            if let Some(parser) = &parser {
                if let Err(d) = compile(parser, &text) {
                    panic!("{file}: rejected by apparmor_parser: {d:?}\n{text}");
                }
            }
        }
    }
}

// covers: AA-04
#[test]
fn aa_04_upstream_complain_example_is_complain() {
    let p = profiles(&fixture("apparmorprofile-sleep-complain-mode.yaml")).remove(0);
    assert_eq!(p.spec.mode(), Mode::Complain);
    assert!(!has_deny_rule(&render(&p, None).unwrap()));
}

#[test]
fn spo_own_profile_uses_the_ptrace_escape_hatch_as_a_real_rule() {
    let p = profiles(&fixture("spo-apparmor.yaml")).remove(0);
    let text = render(&p, None).unwrap();
    assert!(text.contains("\n  ptrace (read),\n"), "{text}");
    assert!(!text.contains("injection hack"));
}

/// The parser check can fail: a broken policy is reported with its line.
#[test]
fn the_real_parser_rejects_broken_policy_with_a_line_number() {
    let Some(parser) = parser() else { return };
    let d = compile(&parser, "profile x {\n  /a r,\n  /b rq,\n}\n").unwrap_err();
    assert_eq!(d[0].line, Some(3), "{d:?}");
}

// covers: AA-16 (pods refer to the kernel profile by name; the name is metadata.name)
#[test]
fn aa_16_upstream_pod_refers_to_the_rendered_profile_name() {
    let pod: serde_yaml::Value = serde_yaml::from_str(&fixture("pod-apparmor.yaml")).unwrap();
    let reference = pod["metadata"]["annotations"]
        ["container.apparmor.security.beta.kubernetes.io/test-container"]
        .as_str()
        .unwrap();
    let name = reference.strip_prefix("localhost/").unwrap();
    let p = profiles(&fixture("apparmorprofile.yaml")).remove(0);
    let text = render(&p, None).unwrap();
    assert!(
        text.contains(&format!("\nprofile {name} flags=(")),
        "{text}"
    );
}
