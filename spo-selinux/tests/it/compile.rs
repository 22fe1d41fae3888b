//! Generated CIL against the real compiler: random valid profiles (property test, batched
//! secilc runs) and udica's real `container` template.

use std::collections::BTreeMap;

use proptest::prelude::*;
use spo_core::ObjectMeta;
use spo_selinux::{
    raw_to_cil, to_cil, Mode, Module, Options, PolicyRef, RawSelinuxProfile, RawSelinuxProfileSpec,
    SelinuxProfile, SelinuxProfileSpec, State,
};

use crate::common::*;

/// Types the test base declares (denied ones left out) and `@self`.
const LABELS: [&str; 7] = [
    "@self",
    "http_port_t",
    "http_cache_port_t",
    "container_file_t",
    "proc_t",
    "cpu_online_t",
    "container_runtime_t",
];

/// Classes of the test base with permissions (deny-listed permissions left out).
fn classes() -> Vec<(&'static str, Vec<&'static str>)> {
    let file = vec![
        "ioctl", "read", "write", "create", "getattr", "setattr", "lock", "append", "map",
        "unlink", "link", "rename", "execute", "open", "watch",
    ];
    let mut dir = file.clone();
    dir.extend(["add_name", "remove_name", "reparent", "search", "rmdir"]);
    let sock = vec![
        "ioctl",
        "read",
        "write",
        "create",
        "getattr",
        "bind",
        "connect",
        "listen",
        "accept",
        "getopt",
        "setopt",
        "shutdown",
        "name_bind",
        "node_bind",
    ];
    vec![
        ("file", file.clone()),
        ("dir", dir),
        ("sock_file", file),
        ("tcp_socket", sock.clone()),
        ("udp_socket", sock),
        (
            "key",
            vec![
                "view", "read", "write", "search", "link", "setattr", "create",
            ],
        ),
        (
            "process",
            vec!["signal", "sigchld", "getattr", "setsched", "getcap"],
        ),
    ]
}

fn rule() -> impl Strategy<Value = (String, String, Vec<String>)> {
    let classes = classes();
    (0..LABELS.len(), 0..classes.len()).prop_flat_map(move |(l, c)| {
        let (class, perms) = classes[c].clone();
        let perms: Vec<String> = perms.iter().map(|s| s.to_string()).collect();
        // Duplicates on purpose: the printer must de-duplicate.
        proptest::collection::vec(proptest::sample::select(perms), 1..6)
            .prop_map(move |p| (LABELS[l].to_string(), class.to_string(), p))
    })
}

fn spec() -> impl Strategy<Value = SelinuxProfileSpec> {
    (
        proptest::collection::vec(rule(), 0..12),
        any::<bool>(),
        any::<bool>(),
        0..3usize,
    )
        .prop_map(|(rules, permissive, disabled, inherit)| {
            let mut allow: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
            for (l, c, p) in rules {
                allow.entry(l).or_default().entry(c).or_default().extend(p);
            }
            SelinuxProfileSpec {
                state: if disabled {
                    State::Disabled
                } else {
                    State::Enabled
                },
                inherit: match inherit {
                    0 => vec![],
                    1 => vec![PolicyRef {
                        kind: String::new(),
                        name: "container".into(),
                    }],
                    _ => vec![PolicyRef::system("container")],
                },
                mode: if permissive {
                    Mode::Permissive
                } else {
                    Mode::Enforcing
                },
                allow,
            }
        })
}

const BATCH: usize = 64;

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// 4 × 64 = 256 random valid profiles; every one renders deterministically and secilc
    /// accepts each batch of 64 modules (one invocation per batch), against our test base and
    /// against udica's real `container` template. Every 8th profile inherits the previous
    /// profile instead of a template (SE-11).
    // covers: SE-08, SE-09, SE-11, SE-12, SE-13, SE-14
    #[test]
    fn random_valid_profiles_compile_with_secilc(specs in proptest::collection::vec(spec(), BATCH)) {
        let mut profiles: Vec<SelinuxProfile> = Vec::new();
        let mut modules: Vec<Module> = Vec::new();
        for (i, mut spec) in specs.into_iter().enumerate() {
            if i % 8 == 7 {
                spec.inherit = vec![PolicyRef::profile(format!("p{}", i - 1))];
            }
            let p = SelinuxProfile {
                metadata: ObjectMeta::named(format!("p{i}")),
                version: spo_core::Version::V1,
                spec,
            };
            let m = to_cil(&p, &Options::default(), &profiles).unwrap();
            prop_assert_eq!(m.render(), to_cil(&p, &Options::default(), &profiles).unwrap().render());
            let text = m.render();
            let head = format!("(block p{i}\n");
            prop_assert!(text.starts_with(&head) && text.ends_with("\n)\n"));
            prop_assert_eq!(text.contains("(blockinherit container)"), i % 8 != 7);
            profiles.push(p);
            modules.push(m);
        }
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<(String, String)> =
            modules.iter().map(|m| (m.name().file_name(), m.render())).collect();
        if let Err(e) = compile_texts(dir.path(), &test_base(), &texts) {
            let all: String = texts.iter().map(|t| t.1.as_str()).collect();
            prop_assert!(false, "secilc rejected the batch:\n{}\n{}", e, all);
        }
        // The same batch against udica's real `container` template.
        if let Some(templates) = udica_templates() {
            let base = udica_base(dir.path(), &templates);
            if let Err(e) = compile_texts(dir.path(), &base, &texts) {
                prop_assert!(false, "secilc rejected the batch against udica's template:\n{}", e);
            }
        }
    }
}

// covers: SE-08, SE-09, SE-14, SE-24
#[test]
fn generated_cil_compiles_against_udicas_real_container_template() {
    let Some(templates) = udica_templates() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = udica_base(dir.path(), &templates);
    let mut texts = Vec::new();
    let mut parents = Vec::new();
    for (i, (name, inherit, mode)) in [
        ("plain", vec![], Mode::Enforcing),
        (
            "permissive",
            vec![PolicyRef::system("container")],
            Mode::Permissive,
        ),
        ("child", vec![PolicyRef::profile("plain")], Mode::Enforcing),
    ]
    .into_iter()
    .enumerate()
    {
        let mut p = SelinuxProfile::named(name);
        p.spec.inherit = inherit;
        p.spec.mode = mode;
        p.spec.allow.insert(
            "@self".into(),
            BTreeMap::from([("tcp_socket".into(), vec!["listen".into()])]),
        );
        p.spec.allow.insert(
            "http_port_t".into(),
            BTreeMap::from([("tcp_socket".into(), vec!["name_bind".into()])]),
        );
        let m = to_cil(&p, &Options::default(), &parents).unwrap();
        texts.push((format!("{i}-{}", m.name().file_name()), m.render()));
        parents.push(p);
    }
    let raw = RawSelinuxProfile {
        metadata: ObjectMeta::named("raw"),
        version: spo_core::Version::V1,
        spec: RawSelinuxProfileSpec {
            state: State::Enabled,
            policy: read_fixture("rawselinuxprofile.yaml")
                .split("policy: |\n")
                .nth(1)
                .unwrap()
                .lines()
                .map(|l| l.trim_start())
                .collect::<Vec<_>>()
                .join("\n"),
        },
    };
    let m = raw_to_cil(&raw, &Options::default()).unwrap();
    texts.push(("raw.cil".into(), m.render()));
    texts.push(("decl.cil".into(), "(type var_log_t)\n".into()));
    if let Err(e) = compile_texts(dir.path(), &base, &texts) {
        panic!("secilc rejected modules against udica's base_container.cil:\n{e}");
    }
    // The same modules fail without the template: the check is real.
    let bare = dir.path().join("bare.cil");
    let ours = read_fixture("test-base-policy.cil");
    std::fs::write(&bare, &ours[..ours.find("; ---- udica").unwrap()]).unwrap();
    assert!(compile_texts(dir.path(), &bare, &texts).is_err());
}

// covers: SE-10
#[test]
fn example_5_compiles_against_udicas_real_net_container_template() {
    let Some(templates) = udica_templates() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = udica_base(dir.path(), &templates);
    // udica's net_container.cil holds several blocks; its first one, `net_container`, only
    // needs the `sandbox_net_domain` attribute besides `container`.
    let net = std::fs::read_to_string(templates.join("net_container.cil")).unwrap();
    let end = net.find("\n)\n").unwrap() + 3;
    let net_block = format!("(typeattribute sandbox_net_domain)\n{}", &net[..end]);
    assert!(net_block.contains("(block net_container"));
    let mut p = SelinuxProfile::named("net-container-policy");
    p.spec.inherit = vec![PolicyRef {
        kind: String::new(),
        name: "net_container".into(),
    }];
    p.spec.allow.insert(
        "container_file_t".into(),
        BTreeMap::from([("sock_file".into(), vec!["write".into()])]),
    );
    let opts = Options::default().with_allowed_system_profiles(
        spo_selinux::AllowedSystemProfiles::List(vec!["container".into(), "net_container".into()]),
    );
    let m = to_cil(&p, &opts, &Vec::new()).unwrap();
    assert!(m.render().starts_with(
        "(block net-container-policy\n(blockinherit container)\n(blockinherit net_container)\n"
    ));
    let texts = vec![
        ("net.cil".to_string(), net_block),
        ("m.cil".to_string(), m.render()),
    ];
    if let Err(e) = compile_texts(dir.path(), &base, &texts) {
        panic!("secilc rejected Example 5 against udica's net_container:\n{e}");
    }
}

// covers: SE-28, RC-10
#[test]
fn se_28_recording_module_declares_the_permissive_recording_type() {
    let m = spo_selinux::record::recording_module().unwrap();
    assert_eq!(m.name().usage(), spo_selinux::RECORDING_TYPE);
    assert_eq!(
        m.render(),
        "(block selinuxrecording\n(blockinherit container)\n(typepermissive process)\n)\n"
    );
    let dir = tempfile::tempdir().unwrap();
    // A rule on the recording type from outside the block proves the type exists.
    let probe = "(allow selinuxrecording.process http_port_t (tcp_socket (name_bind)))\n";
    compile_texts(
        dir.path(),
        &test_base(),
        &[
            ("rec.cil".into(), m.render()),
            ("probe.cil".into(), probe.into()),
        ],
    )
    .unwrap();
}
