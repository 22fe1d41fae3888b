//! A generated corpus of valid profiles: every one validates, renders, contains no `deny` in
//! complain mode, and compiles with the real `apparmor_parser -Q -K` (AA-02..AA-11).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use spo_apparmor::capability::CAPABILITIES;
use spo_apparmor::{
    render, validate, Abstract, AllowedProtocols, AppArmorProfile, CapabilityRules,
    ExecutableRules, FilesystemRules, Mode, NetworkRules,
};

use crate::support::{compile, has_deny_rule, parser};

/// Number of generated profiles compiled by the real parser (~0.1 s each, two threads).
const CORPUS_SIZE: usize = 128;

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9_+-][a-zA-Z0-9_.+ -]{0,10}",
        1 => Just("*".to_string()),
        1 => Just("**".to_string()),
        1 => "[a-z]{1,4}[?*][a-z]{0,3}",
        1 => prop_oneof![Just("@{pid}"), Just("@{tid}"), Just("@{HOME}"), Just("@{PROC}"), Just("@{uid}")]
            .prop_map(str::to_string),
    ]
}

fn path() -> impl Strategy<Value = String> {
    (prop::collection::vec(component(), 0..6), any::<bool>()).prop_map(|(parts, dir)| {
        let mut p = format!("/{}", parts.join("/"));
        if dir && !p.ends_with('/') {
            p.push('/');
        }
        p
    })
}

fn entry() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => path(),
        1 => Just(String::new()),
        1 => prop_oneof![
            Just("ptrace (read),"),
            Just("ptrace (trace),  # escape hatch"),
            Just("ptrace(readby),"),
        ]
        .prop_map(str::to_string),
    ]
}

fn list() -> impl Strategy<Value = Option<Vec<String>>> {
    prop::option::of(prop::collection::vec(entry(), 0..5))
}

fn capability() -> impl Strategy<Value = String> {
    (
        prop::sample::select(CAPABILITIES.to_vec()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(c, upper, pad)| {
            let c = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_string()
            };
            if pad {
                format!(" {c} ")
            } else {
                c
            }
        })
}

fn k8s_name() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?"
        .prop_filter("DNS-1123", |n| spo_core::name::is_dns1123_subdomain(n))
}

/// `--program-name`: an executable path (what `spoc record` and `spoc install` use).
fn program_name() -> impl Strategy<Value = String> {
    "(/[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,8}){1,4}"
}

pub fn abstract_() -> impl Strategy<Value = Abstract> {
    let exec = prop::option::of((list(), list()).prop_map(|(e, l)| ExecutableRules {
        allowed_executables: e,
        allowed_libraries: l,
    }));
    let fs = prop::option::of(
        (list(), list(), list()).prop_map(|(ro, wo, rw)| FilesystemRules {
            read_only_paths: ro,
            write_only_paths: wo,
            read_write_paths: rw,
        }),
    );
    let net = prop::option::of(
        (
            prop::option::of(any::<bool>()),
            prop::option::of((
                prop::option::of(any::<bool>()),
                prop::option::of(any::<bool>()),
            )),
        )
            .prop_map(|(raw, protos)| NetworkRules {
                allow_raw: raw,
                allowed_protocols: protos.map(|(t, u)| AllowedProtocols {
                    allow_tcp: t,
                    allow_udp: u,
                }),
            }),
    );
    let caps =
        prop::option::of(
            prop::collection::vec(capability(), 0..6).prop_map(|c| CapabilityRules {
                allowed_capabilities: c,
            }),
        );
    (exec, fs, net, caps).prop_map(|(executable, filesystem, network, capability)| Abstract {
        executable,
        filesystem,
        network,
        capability,
    })
}

fn profile() -> impl Strategy<Value = (AppArmorProfile, Option<String>)> {
    (
        k8s_name(),
        abstract_(),
        any::<bool>(),
        prop::option::weighted(0.3, program_name()),
    )
        .prop_map(|(n, a, complain, program)| {
            let mut p = AppArmorProfile::new(n, a);
            if complain {
                p.spec.mode = Some(Mode::Complain);
            }
            (p, program)
        })
}

/// Deterministic corpus: the same seed every run.
fn corpus() -> Vec<(AppArmorProfile, Option<String>)> {
    let mut runner = TestRunner::deterministic();
    let strategy = profile();
    (0..CORPUS_SIZE)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

// covers: AA-02, AA-04, AA-11
#[test]
fn aa_02_generated_corpus_validates_renders_and_has_no_deny_in_complain_mode() {
    let corpus = corpus();
    assert_eq!(corpus.len(), CORPUS_SIZE);
    let mut complain = 0;
    for (p, program) in &corpus {
        let v = validate(p, program.as_deref());
        assert!(v.is_empty(), "{v}\n{p:#?}");
        let text = render(p, program.as_deref()).unwrap();
        if p.spec.mode() == Mode::Complain {
            complain += 1;
            assert!(
                !has_deny_rule(&text),
                "AA-04: deny in complain mode:\n{text}"
            );
        }
    }
    assert!(complain > 10 && complain < CORPUS_SIZE - 10, "{complain}");
}

// covers: AA-02, AA-03, AA-05, AA-06, AA-07, AA-09, AA-10, AA-11
#[test]
fn aa_02_every_generated_profile_compiles_with_the_real_parser() {
    let Some(parser) = parser() else { return };
    let texts: Vec<String> = corpus()
        .iter()
        .map(|(p, program)| render(p, program.as_deref()).unwrap())
        .collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        let halves: Vec<_> = texts
            .chunks(texts.len().div_ceil(2))
            .map(|chunk| {
                let parser = &parser;
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|t| compile(parser, t).err().map(|d| format!("{d:?}\n{t}")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} rejected:\n{}",
        failures.len(),
        texts.len(),
        failures.join("\n----\n")
    );
}
