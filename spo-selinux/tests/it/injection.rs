//! Nothing a profile author writes reaches CIL as syntax: every injection attempt is a
//! validation violation, and no module is produced.

use std::collections::BTreeMap;

use proptest::prelude::*;
use spo_core::ObjectMeta;
use spo_selinux::{
    raw_to_cil, to_cil, validate, Error, NoParents, Options, PolicyRef, RawSelinuxProfile,
    RawSelinuxProfileSpec, SelinuxProfile, State,
};

use crate::common::*;

const PAYLOADS: [&str; 16] = [
    "x_t)))\n(allow process kernel_t (file (read",
    "a)(typepermissive process",
    "a b",
    "a\tb",
    "a\nb",
    "a\r\nb",
    "\"quoted\"",
    "'single'",
    "a;comment",
    "vаr_log_t",        // Cyrillic а
    "var\u{FF3F}log_t", // fullwidth low line
    "a\u{FF08}b",       // fullwidth parenthesis
    "a\u{2028}b",       // line separator
    "a\u{0}b",
    "",
    "@self)",
];

fn base() -> SelinuxProfile {
    let mut p = SelinuxProfile::named("victim");
    p.spec.allow.insert(
        "http_port_t".into(),
        BTreeMap::from([("tcp_socket".into(), vec!["name_bind".into()])]),
    );
    p
}

fn assert_rejected(p: &SelinuxProfile, what: &str, payload: &str) {
    let opts =
        Options::default().with_allowed_system_profiles(spo_selinux::AllowedSystemProfiles::Any);
    let v = validate(p, &opts, &vec![base()]).unwrap();
    assert!(!v.is_empty(), "{what} {payload:?} passed validation");
    match to_cil(p, &opts, &vec![base()]) {
        Err(Error::Invalid { violations, .. }) => assert_eq!(violations, v),
        other => panic!("{what} {payload:?}: expected Invalid, got {other:?}"),
    }
}

// covers: SE-07
#[test]
fn se_07_injection_in_labels_classes_permissions_is_rejected() {
    for payload in PAYLOADS {
        let mut p = base();
        p.spec.allow.insert(
            payload.into(),
            BTreeMap::from([("file".into(), vec!["read".into()])]),
        );
        assert_rejected(&p, "label", payload);
        let mut p = base();
        p.spec.allow.insert(
            "x_t".into(),
            BTreeMap::from([(payload.into(), vec!["read".into()])]),
        );
        assert_rejected(&p, "class", payload);
        let mut p = base();
        p.spec.allow.insert(
            "x_t".into(),
            BTreeMap::from([("file".into(), vec!["read".into(), payload.into()])]),
        );
        assert_rejected(&p, "permission", payload);
    }
}

#[test]
fn injection_in_names_and_inherit_entries_is_rejected() {
    for payload in PAYLOADS {
        let mut p = base();
        p.metadata.name = payload.into();
        assert_rejected(&p, "metadata.name", payload);
        if !payload.is_empty() {
            let mut p = base();
            p.metadata.name = format!("ok{payload}");
            assert_rejected(&p, "metadata.name", payload);
        }
        let mut p = base();
        p.spec.inherit = vec![PolicyRef::system(payload)];
        assert_rejected(&p, "system inherit", payload);
        let mut p = base();
        p.spec.inherit = vec![PolicyRef::profile(payload)];
        assert_rejected(&p, "profile inherit", payload);
        // An empty kind means System (SE-03), so only non-empty payloads apply here.
        if !payload.is_empty() {
            let mut p = base();
            p.spec.inherit = vec![PolicyRef {
                kind: payload.into(),
                name: "container".into(),
            }];
            assert_rejected(&p, "inherit kind", payload);
        }
    }
    // A parent whose own name is not a CIL name cannot be inherited either.
    let mut parent = base();
    parent.metadata.name = "bad.name".into();
    let mut p = base();
    p.spec.inherit = vec![PolicyRef::profile("bad.name")];
    assert!(!validate(&p, &Options::default(), &vec![parent])
        .unwrap()
        .is_empty());
}

// covers: SE-25, SE-26
#[test]
fn se_25_raw_policy_escapes_are_rejected_and_would_really_escape() {
    let escapes = [
        // closes our block, declares globally, reopens with an unrestricted directive
        ")\n(type injected_t)\n(macro m ()",
        // the same hidden from a naive counter by a comment
        ";(\n)\n(type injected_t)\n(macro m () ;)\n",
        // hidden by a comment that a carriage return ends for CIL
        "(blockinherit container) ;c\r)(type injected_t)(macro m ()",
        // hidden by a quoted string
        "(typetransition a b c \"(\" d))\n(type injected_t)\n(macro m () \")\" ",
        "(in container (allow process kernel_t (file (read))))",
        "(BLOCK inner (type t))",
        "(blockinherit net_container)",
        "(typepermissive process)",
        "(allow process x_t (file (read)))\u{0}",
        "   \n\t ",
    ];
    for policy in escapes {
        let raw = RawSelinuxProfile {
            metadata: ObjectMeta::named("victim"),
            version: spo_core::Version::V1,
            spec: RawSelinuxProfileSpec {
                state: State::Enabled,
                policy: policy.into(),
            },
        };
        match raw_to_cil(&raw, &Options::default()) {
            Err(Error::Invalid { violations, .. }) => {
                assert!(
                    violations
                        .as_slice()
                        .iter()
                        .all(|v| v.path == "spec.policy"),
                    "{violations}"
                )
            }
            other => panic!("{policy:?} was accepted: {other:?}"),
        }
    }
    // The comment trick really escapes the block for the compiler (so the lexer-aware check
    // matters): wrapped by hand, secilc accepts it and declares a global type.
    let probe = "(allow injected_t injected_t (file (read)))\n";
    let wrapped =
        "(block victim\n    (blockinherit container) ;(\n    )(type injected_t)(macro m () ;)\n)";
    compile_with_decl(wrapped, probe).expect("the escape compiles, proving it is one");
    let wrapped =
        "(block victim\n    (blockinherit container) ;c\r)(type injected_t)(macro m ()\n)";
    compile_with_decl(wrapped, probe)
        .expect("the carriage-return escape compiles, proving it is one");
}

proptest! {
    /// Arbitrary text in any rule position either fails validation or is a plain token that
    /// appears verbatim; the rendered module stays balanced with one statement per line.
    // covers: SE-07, SE-13
    #[test]
    fn arbitrary_text_never_breaks_the_module(label in ".{0,12}", class in ".{0,8}", perm in ".{0,8}") {
        let mut p = SelinuxProfile::named("prop");
        p.spec.allow.insert(label.clone(), BTreeMap::from([(class.clone(), vec![perm.clone()])]));
        match to_cil(&p, &Options::default(), &NoParents) {
            Ok(m) => {
                let text = m.render();
                prop_assert_eq!(text.matches('(').count(), text.matches(')').count());
                prop_assert_eq!(text.lines().count(), 4);
                for s in [&class, &perm] {
                    prop_assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
                }
            }
            Err(Error::Invalid { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

/// Fragments that stress comment, string and line-ending handling.
const FRAGMENTS: [&str; 16] = [
    "(",
    ")",
    ";",
    "\"",
    "\r",
    "\n",
    " ",
    "\t",
    "allow",
    "x_t",
    "type",
    "macro",
    "m",
    "()",
    "(allow process x_t (file (read)))",
    ";c\r",
];

/// How many top-level statements CIL's own parser sees (`secil2tree -A parse`); `None` when
/// it does not parse at all (then nothing can escape either).
fn cil_top_level_statements(dir: &std::path::Path, text: &str) -> Option<usize> {
    let path = dir.join("w.cil");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new("secil2tree")
        .args(["-A", "parse"])
        .arg(&path)
        .output()
        .expect("secil2tree (Debian package secilc) must be installed");
    if !out.status.success() {
        return None;
    }
    // Top-level nodes are the lines with exactly four spaces before '('.
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| *l == "    (")
            .count(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Differential check against CIL's parser: whenever the raw check accepts a policy, the
    /// wrapped module is exactly one top-level block for the real CIL parser — no text can
    /// close it early.
    // covers: SE-25, SE-26
    #[test]
    fn accepted_raw_policies_never_escape_their_block(parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS.to_vec()), 1..24)) {
        let policy: String = parts.concat();
        let raw = RawSelinuxProfile {
            metadata: ObjectMeta::named("victim"),
            version: spo_core::Version::V1,
            spec: RawSelinuxProfileSpec { state: State::Enabled, policy },
        };
        if let Ok(m) = raw_to_cil(&raw, &Options::default()) {
            let dir = tempfile::tempdir().unwrap();
            if let Some(n) = cil_top_level_statements(dir.path(), &m.render()) {
                prop_assert_eq!(n, 1, "escaped: {:?}", m.render());
            }
        }
    }
}
