//! The install step against a real directory (SC-06, SC-11, SC-12, ARCH-12).

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use spo_core::ObjectMeta;
use spo_seccomp::install::{file_name, install, localhost_profile, uninstall, InstallOutcome};
use spo_seccomp::{Action, ProfileState, SeccompProfile, SeccompSpec};

fn profile(name: &str) -> SeccompProfile {
    SeccompProfile::new(ObjectMeta::named(name), SeccompSpec::new(Action::Log))
}

// covers: SC-06, SC-07
#[test]
fn sc_06_sc_07_paths() {
    assert_eq!(file_name("profile1"), "profile1.json");
    assert_eq!(file_name("profile1.json"), "profile1.json");
    assert_eq!(localhost_profile("profile1"), "operator/profile1.json");
}

// covers: SC-11, SC-12, ARCH-12, SC-09
#[test]
fn sc_11_sc_12_writes_once_with_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("operator");
    let p = profile("demo");
    let path = match install(&root, &p).unwrap() {
        InstallOutcome::Written(path) => path,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        r#"{"state":"Enabled","defaultAction":"SCMP_ACT_LOG"}"#
    );
    assert_eq!(
        std::fs::metadata(&root).unwrap().permissions().mode() & 0o7777,
        0o744
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777,
        0o644
    );
    let before = std::fs::metadata(&path).unwrap();
    assert_eq!(
        install(&root, &p).unwrap(),
        InstallOutcome::Unchanged(path.clone())
    );
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec()),
        "rewritten"
    );
    // A change is written atomically: new inode, no temporary files left behind.
    let mut changed = p.clone();
    changed.spec.default_action = Action::Errno;
    assert!(matches!(
        install(&root, &changed).unwrap(),
        InstallOutcome::Written(_)
    ));
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), before.ino());
    let names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("demo.json")]);
}

// covers: ARCH-12
#[test]
fn symlinks_under_the_root_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("operator");
    std::fs::create_dir(&root).unwrap();
    let outside = tmp.path().join("outside.txt");
    std::fs::write(&outside, "precious").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("demo.json")).unwrap();
    let out = install(&root, &profile("demo")).unwrap();
    assert!(matches!(out, InstallOutcome::Written(_)), "{out:?}");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    let meta = std::fs::symlink_metadata(root.join("demo.json")).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the symlink was replaced by a file"
    );
}

#[test]
fn names_that_escape_the_root_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["../evil", "a/b", "", ".hidden"] {
        let err = install(tmp.path(), &profile(bad)).unwrap_err();
        assert!(
            err.to_string().contains("cannot be installed"),
            "{bad}: {err}"
        );
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

// covers: SC-13, SC-14
#[test]
fn sc_13_sc_14_disabled_and_partial_profiles_leave_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut p = profile("demo");
    install(root, &p).unwrap();
    p.spec.state = Some(ProfileState::Disabled);
    match install(root, &p).unwrap() {
        InstallOutcome::NotInstalled { removed, .. } => assert!(removed),
        other => panic!("{other:?}"),
    }
    assert!(!root.join("demo.json").exists());
    let mut partial = profile("rec");
    partial
        .metadata
        .labels
        .insert("spo.x-k8s.io/partial".into(), "true".into());
    assert!(matches!(
        install(root, &partial).unwrap(),
        InstallOutcome::NotInstalled { removed: false, .. }
    ));
    assert!(!uninstall(root, "missing").unwrap());
}
