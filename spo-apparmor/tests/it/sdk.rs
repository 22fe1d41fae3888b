//! The public API as a crate outside spo-apparmor sees it (issue 9): the `#[non_exhaustive]`
//! `RecordOptions` is built with `Default` and a setter; public enums match with a wildcard.

use spo_apparmor::record::abstract_from_observations;
use spo_apparmor::RecordOptions;
use spo_core::events::{AppArmorObservation, FileUse};

fn libraries(options: &RecordOptions) -> Vec<String> {
    let obs = [
        AppArmorObservation::File {
            path: "/usr/bin/app".into(),
            access: FileUse::MapExec,
        },
        AppArmorObservation::File {
            path: "/usr/lib/libz.so.1".into(),
            access: FileUse::MapExec,
        },
    ];
    abstract_from_observations(&obs, options)
        .executable
        .and_then(|e| e.allowed_libraries)
        .unwrap_or_default()
}

// covers: RC-21 (the recorded program is not a library; option built outside the crate)
#[test]
fn record_options_built_with_a_setter() {
    assert_eq!(
        libraries(&RecordOptions::default()),
        ["/usr/bin/app", "/usr/lib/libz.so.1"]
    );
    let opts = RecordOptions::default().with_program(Some("/usr/bin/app".into()));
    assert_eq!(libraries(&opts), ["/usr/lib/libz.so.1"]);
}

// covers: #9 (public enums are matched with a wildcard arm outside the crate)
#[test]
fn modes_match_with_a_wildcard() {
    let word = |m: spo_apparmor::model::Mode| match m {
        spo_apparmor::model::Mode::Enforce => "enforce",
        spo_apparmor::model::Mode::Complain => "complain",
        _ => "other",
    };
    assert_eq!(word(spo_apparmor::model::Mode::default()), "enforce");
}
