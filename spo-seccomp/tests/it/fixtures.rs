//! Every SeccompProfile of upstream's examples decodes, validates and round-trips.

use std::path::PathBuf;

use spo_core::Version;
use spo_seccomp::json::{to_disk_json, Era};
use spo_seccomp::validate::validate;
use spo_seccomp::SeccompProfile;

pub fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

fn upstream_profiles() -> Vec<(String, SeccompProfile)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir("upstream"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for doc in spo_core::parse_documents(&text).unwrap() {
            if doc.kind == spo_core::Kind::SeccompProfile {
                let p = SeccompProfile::from_document(&doc)
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                out.push((f.file_name().unwrap().to_string_lossy().into_owned(), p));
            }
        }
    }
    out
}

// covers: SC-01, SC-02, SC-08, VER-08
#[test]
fn upstream_examples_decode_validate_and_round_trip() {
    let profiles = upstream_profiles();
    assert!(
        profiles.len() >= 10,
        "only {} profiles found",
        profiles.len()
    );
    for (file, p) in &profiles {
        let v = validate(p);
        assert!(v.is_empty(), "{file} {}: {v}", p.metadata.name);
        // YAML round trip in both API versions.
        for version in [Version::V1, Version::V1Beta1] {
            let yaml = p.to_yaml(version).unwrap();
            let back = SeccompProfile::from_yaml(&yaml).unwrap().remove(0);
            assert_eq!(back.spec, p.spec, "{file} via {version}");
            assert_eq!(back.metadata, p.metadata);
        }
        // On-disk JSON parses back to the same spec (with the defaulted state).
        let json = to_disk_json(&p.spec, Era::V1);
        let spec = spo_seccomp::spec_from_raw_json(&json).unwrap();
        assert_eq!(spec.syscalls, p.spec.syscalls);
        assert_eq!(spec.default_action, p.spec.default_action);
    }
    let names: Vec<&str> = profiles
        .iter()
        .map(|(_, p)| p.metadata.name.as_str())
        .collect();
    assert!(names.contains(&"runc-v1.4.2"), "{names:?}");
}

// covers: SC-13, VER-08
#[test]
fn ver_08_legacy_disabled_becomes_state_and_back() {
    let text = "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata: {name: old}\nspec: {disabled: true, defaultAction: SCMP_ACT_LOG}\n";
    let p = SeccompProfile::from_yaml(text).unwrap().remove(0);
    assert_eq!(p.spec.state, Some(spo_seccomp::ProfileState::Disabled));
    let legacy = p.to_yaml(Version::V1Beta1).unwrap();
    assert!(legacy.contains("disabled: true"), "{legacy}");
    assert!(!legacy.contains("state"), "{legacy}");
    let v1 = p.to_yaml(Version::V1).unwrap();
    assert!(v1.contains("state: Disabled"), "{v1}");
}
