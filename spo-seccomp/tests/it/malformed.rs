//! A corpus of malformed profiles: each fails, and the error names the field its first line
//! (`# expect: <path>`) announces.

use spo_seccomp::validate::validate;
use spo_seccomp::SeccompProfile;

use crate::fixtures::dir;

// covers: SC-01, SC-02, SC-03, SC-04, SC-05
#[test]
fn every_malformed_profile_fails_naming_its_field() {
    let mut files: Vec<_> = std::fs::read_dir(dir("fail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 30, "corpus has only {} files", files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no expect line", f.display()))
            .to_string();
        let what = match SeccompProfile::from_yaml(&text) {
            Err(e) => e.to_string(),
            Ok(mut ps) => {
                let v = validate(&ps.remove(0));
                assert!(!v.is_empty(), "{}: accepted", f.display());
                v.as_slice()
                    .iter()
                    .map(|x| format!("{}: {}", x.path, x.reason))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        assert!(
            what.contains(&format!("{expect}:"))
                || what.contains(&format!("{expect}."))
                || what.contains(&format!("{expect}[")),
            "{}: expected the error to name {expect:?}, got:\n{what}",
            f.display()
        );
    }
}
