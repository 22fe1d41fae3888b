//! Snapshot tests over fixture folders: `pass/*.yaml` render to `pass/*.cil` (and all of them
//! compile together with `secilc`), `fail/*.yaml` produce `fail/*.expected` (violations or
//! the decode error). `UPDATE_FIXTURES=1 cargo test` rewrites the expected files; review the
//! diff before committing.

use std::path::{Path, PathBuf};

use spo_core::{parse_documents, Document, Kind};
use spo_selinux::{
    raw_to_cil, to_cil, validate, validate_raw, AllowedSystemProfiles, Options, ParentResolver,
    RawSelinuxProfile, SelinuxProfile,
};

use crate::common::*;

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Result<Document, String> {
    let text = std::fs::read_to_string(path).unwrap();
    parse_documents(&text)
        .map_err(|e| e.to_string())
        .map(|mut d| d.remove(0))
}

fn profiles_in(files: &[PathBuf]) -> Vec<SelinuxProfile> {
    files
        .iter()
        .filter_map(|f| load(f).ok())
        .filter(|d| d.kind == Kind::SelinuxProfile)
        .filter_map(|d| SelinuxProfile::from_document(&d).ok())
        .collect()
}

/// Compares `actual` with the file `expected`, or rewrites it under `UPDATE_FIXTURES=1`.
fn snapshot(expected: &Path, actual: &str) {
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(expected, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(expected).unwrap_or_else(|_| {
        panic!(
            "{} missing (UPDATE_FIXTURES=1 creates it)",
            expected.display()
        )
    });
    assert_eq!(actual, want, "{} differs", expected.display());
}

// covers: SE-08, SE-09, SE-10, SE-11, SE-12, SE-13, SE-14, SE-24
#[test]
fn pass_fixtures_render_their_snapshots_and_compile_together() {
    let dir = fixture("pass");
    let files = yaml_files(&dir);
    assert!(files.len() >= 8);
    let parents = profiles_in(&files);
    let opts = Options::default().with_allowed_system_profiles(AllowedSystemProfiles::List(vec![
        "container".into(),
        "net_container".into(),
    ]));
    let mut texts = vec![(
        "decl.cil".to_string(),
        std::fs::read_to_string(dir.join("decl.cil")).unwrap(),
    )];
    for f in &files {
        let doc = load(f).unwrap();
        let module = match doc.kind {
            Kind::SelinuxProfile => to_cil(
                &SelinuxProfile::from_document(&doc).unwrap(),
                &opts,
                &parents,
            ),
            _ => raw_to_cil(&RawSelinuxProfile::from_document(&doc).unwrap(), &opts),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let text = module.render();
        snapshot(&f.with_extension("cil"), &text);
        texts.push((module.name().file_name(), text));
    }
    let tmp = tempfile::tempdir().unwrap();
    if let Err(e) = compile_texts(tmp.path(), &test_base(), &texts) {
        panic!("secilc rejected the pass/ fixtures:\n{e}");
    }
}

/// What a failing fixture produces: the decode error, or one violation per line.
fn outcome(doc: Result<Document, String>, parents: &dyn ParentResolver) -> String {
    let doc = match doc {
        Ok(d) => d,
        Err(e) => return format!("decode error: {e}\n"),
    };
    let opts = Options::default();
    let violations = match doc.kind {
        Kind::SelinuxProfile => match SelinuxProfile::from_document(&doc) {
            Ok(p) => validate(&p, &opts, parents).unwrap(),
            Err(e) => return format!("decode error: {e}\n"),
        },
        _ => match RawSelinuxProfile::from_document(&doc) {
            Ok(p) => validate_raw(&p, &opts),
            Err(e) => return format!("decode error: {e}\n"),
        },
    };
    assert!(!violations.is_empty(), "{} is valid", doc.metadata.name);
    format!("{violations}\n")
}

// covers: SE-04, SE-05, SE-06, SE-07, SE-15, SE-25, SE-26, VER-08
#[test]
fn fail_fixtures_report_their_expected_violations() {
    let files = yaml_files(&fixture("fail"));
    assert!(files.len() >= 13);
    let parents = profiles_in(&files);
    for f in &files {
        snapshot(&f.with_extension("expected"), &outcome(load(f), &parents));
    }
}
