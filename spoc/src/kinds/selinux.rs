//! SelinuxProfile / RawSelinuxProfile glue: validation (optionally compiled with `secilc`
//! against a base policy), conversion to CIL, merging.
//!
//! spoc has no API server, so SelinuxProfile parents come from manifest files: with
//! [`validate_in`] from the given directories (a parent that is not there is a violation,
//! SE-06); with [`validate`] and [`convert`] a parent is assumed to exist with the default
//! spec (only its name matters for the CIL). Offline there is no SPOD either: `validate`
//! applies the SPOD defaults (`allowedSystemProfiles: [container]`, built-in deny list),
//! `convert` allows any system template (it only translates).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use spo_core::{Document, Kind, Violations};
use spo_selinux::diagnostics::secilc_check;
use spo_selinux::inherit::ParentResolver;
use spo_selinux::install::SystemRunner;
use spo_selinux::{
    raw_to_cil, to_cil, AllowedSystemProfiles, Module, Options, RawSelinuxProfile, ResolveError,
    SelinuxProfile,
};

use crate::input::{self, Item};

/// A library error as anyhow, keeping decode errors findable in the chain (so callers can
/// turn them into violations with their field path).
fn lib_err(e: spo_selinux::Error) -> anyhow::Error {
    match e {
        spo_selinux::Error::Decode(d) => anyhow::Error::new(d),
        other => anyhow::Error::new(other),
    }
}

/// Parents assumed to exist: each name resolves to a profile with the default spec.
struct AssumePresent;

impl ParentResolver for AssumePresent {
    fn lookup(&self, name: &str, _: Option<&str>) -> Result<Option<SelinuxProfile>, ResolveError> {
        Ok(Some(SelinuxProfile::named(name)))
    }
}

/// SelinuxProfiles found in `*.yaml`, `*.yml`, `*.json` files of directories, by name.
#[derive(Debug, Default)]
pub struct DirParents {
    profiles: BTreeMap<String, SelinuxProfile>,
}

impl DirParents {
    /// Indexes `dirs` (missing directories and unparseable files are skipped).
    pub fn new(dirs: &[PathBuf]) -> Self {
        let mut profiles = BTreeMap::new();
        for f in input::manifest_files(dirs.iter().map(PathBuf::as_path)) {
            let Ok(items) = input::load(&f) else { continue };
            for item in items {
                if let Item::Manifest(d) = item {
                    if d.kind == Kind::SelinuxProfile {
                        if let Ok(p) = SelinuxProfile::from_document(&d) {
                            profiles.entry(p.metadata.name.clone()).or_insert(p);
                        }
                    }
                }
            }
        }
        Self { profiles }
    }
}

impl ParentResolver for DirParents {
    fn lookup(&self, name: &str, _: Option<&str>) -> Result<Option<SelinuxProfile>, ResolveError> {
        Ok(self.profiles.get(name).cloned())
    }
}

/// Validates a SelinuxProfile or RawSelinuxProfile with the SPOD defaults; SelinuxProfile
/// parents are assumed to exist. Decode errors are `Err`; violations are `Ok(list)`. With
/// `selinux_base`, a valid profile is also compiled with `secilc` against that base (when
/// `secilc` is installed); compiler errors become violations on the field that produced the
/// failing CIL line, or on `cil`.
// `spoc validate` calls validate_in (parents from files); this is the file-less entry point.
#[allow(dead_code)]
pub fn validate(doc: &Document, selinux_base: Option<&Path>) -> Result<Violations> {
    validate_with(doc, selinux_base, &AssumePresent)
}

/// [`validate`], with SelinuxProfile parents looked up in `dirs` (SE-06: a parent that is
/// not found is a violation).
pub fn validate_in(
    doc: &Document,
    selinux_base: Option<&Path>,
    dirs: &[PathBuf],
) -> Result<Violations> {
    validate_with(doc, selinux_base, &DirParents::new(dirs))
}

fn validate_with(
    doc: &Document,
    base: Option<&Path>,
    parents: &dyn ParentResolver,
) -> Result<Violations> {
    let opts = Options::default();
    let module = match doc.kind {
        Kind::SelinuxProfile => {
            let p = SelinuxProfile::from_document(doc).map_err(lib_err)?;
            let v = spo_selinux::validate(&p, &opts, parents).map_err(lib_err)?;
            if !v.is_empty() {
                return Ok(v);
            }
            to_cil(&p, &opts, parents).map_err(lib_err)?
        }
        Kind::RawSelinuxProfile => {
            let p = RawSelinuxProfile::from_document(doc).map_err(lib_err)?;
            let v = spo_selinux::validate_raw(&p, &opts);
            if !v.is_empty() {
                return Ok(v);
            }
            raw_to_cil(&p, &opts).map_err(lib_err)?
        }
        other => bail!("{other} is not an SELinux kind"),
    };
    match base {
        Some(base) => compile_check(&module, doc, base, parents),
        None => Ok(Violations::new()),
    }
}

/// Whether `secilc` can be run.
pub fn secilc_available() -> bool {
    spo_selinux::diagnostics::secilc_available(&SystemRunner)
}

/// The modules `module` needs besides the base: its SelinuxProfile parents, transitively.
fn parent_modules(doc: &Document, parents: &dyn ParentResolver) -> Result<Vec<Module>> {
    let lenient = Options::default().with_allowed_system_profiles(AllowedSystemProfiles::Any);
    let mut out: Vec<Module> = Vec::new();
    let mut todo: Vec<String> = Vec::new();
    if doc.kind == Kind::SelinuxProfile {
        let p = SelinuxProfile::from_document(doc).map_err(lib_err)?;
        todo.extend(parent_names(&p));
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(p) = parents
            .lookup(&name, None)
            .map_err(|e| anyhow::anyhow!(e))?
        else {
            continue;
        };
        todo.extend(parent_names(&p));
        // A parent that does not translate is reported when it is validated itself.
        if let Ok(m) = to_cil(&p, &lenient, parents) {
            out.push(m);
        }
    }
    Ok(out)
}

fn parent_names(p: &SelinuxProfile) -> Vec<String> {
    p.spec
        .inherit
        .iter()
        .filter(|r| r.parent_kind() == spo_selinux::ParentKind::SelinuxProfile)
        .map(|r| r.name.clone())
        .collect()
}

/// Compiles `module` (plus its parents) against `base` with `secilc` (spo-selinux's
/// [`secilc_check`]); skipped with a warning when secilc is not installed.
fn compile_check(
    module: &Module,
    doc: &Document,
    base: &Path,
    parents: &dyn ParentResolver,
) -> Result<Violations> {
    if !secilc_available() {
        tracing::warn!("secilc is not installed: --selinux-base not checked");
        return Ok(Violations::new());
    }
    let parent_modules = parent_modules(doc, parents)?;
    Ok(secilc_check(&SystemRunner, base, &parent_modules, module)?)
}

/// The CIL of a SelinuxProfile or RawSelinuxProfile. Any system template may be inherited
/// (no SPOD offline); SelinuxProfile parents are referenced by name. Invalid profiles are an
/// error listing every violation.
pub fn convert(doc: &Document) -> Result<String> {
    let opts = Options::default().with_allowed_system_profiles(AllowedSystemProfiles::Any);
    let module = match doc.kind {
        Kind::SelinuxProfile => {
            let p = SelinuxProfile::from_document(doc).map_err(lib_err)?;
            to_cil(&p, &opts, &AssumePresent).map_err(lib_err)?
        }
        Kind::RawSelinuxProfile => {
            let p = RawSelinuxProfile::from_document(doc).map_err(lib_err)?;
            raw_to_cil(&p, &Options::default()).map_err(lib_err)?
        }
        other => bail!("{other} is not an SELinux kind"),
    };
    Ok(module.render())
}

/// Merges SelinuxProfiles (union of allow maps; metadata, inherit and mode of the first)
/// into a manifest in the first document's API version.
pub fn merge(docs: &[Document]) -> Result<serde_json::Value> {
    let Some(first) = docs.first() else {
        bail!("no profile(s) provided")
    };
    let profiles = docs
        .iter()
        .map(|d| SelinuxProfile::from_document(d).map_err(lib_err))
        .collect::<Result<Vec<_>>>()?;
    let Some(merged) = spo_selinux::merge(&profiles) else {
        bail!("no profile(s) provided")
    };
    Ok(spo_core::manifest_value(
        Kind::SelinuxProfile,
        first.version,
        &merged.metadata,
        &merged.spec,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        spo_core::parse_documents(text).unwrap().remove(0)
    }

    const BASE: &str = "../spo-selinux/tests/fixtures/test-base-policy.cil";

    fn sp(name: &str, spec: &str) -> Document {
        doc(&format!(
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SelinuxProfile\nmetadata: {{name: {name}}}\nspec: {spec}\n"
        ))
    }

    // covers: SE-07, SE-04
    #[test]
    fn validate_lists_violations_and_decode_errors_are_err() {
        let v = validate(
            &sp(
                "a",
                "{inherit: [{name: net_container}], allow: {'x y': {file: [read]}}}",
            ),
            None,
        )
        .unwrap();
        let paths: Vec<_> = v.as_slice().iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["spec.inherit[0].name", "spec.allow.x y"]);
        let err = validate(&sp("a", "{allow: {x: {file: read}}}"), None).unwrap_err();
        assert!(err.chain().any(|c| matches!(c.downcast_ref::<spo_core::DecodeError>(), Some(spo_core::DecodeError::Field { path, .. }) if path == "spec.allow.x.file")), "{err:#}");
    }

    #[test]
    fn validate_with_base_compiles_and_maps_secilc_errors_to_fields() {
        let base = Path::new(BASE);
        let ok = sp(
            "nginx-secure",
            "{allow: {'@self': {tcp_socket: [listen]}, http_port_t: {tcp_socket: [name_bind]}}}",
        );
        assert!(validate(&ok, Some(base)).unwrap().is_empty());
        let bad = sp(
            "bad",
            "{allow: {http_port_t: {tcp_socket: [nobind]}, nosuch_t: {file: [read]}}}",
        );
        let v = validate(&bad, Some(base)).unwrap();
        assert!(!v.is_empty());
        assert!(v.as_slice()[0].path.starts_with("spec.allow."), "{v}");
        assert!(v.as_slice()[0].reason.contains("secilc"), "{v}");
        // A SelinuxProfile parent is compiled along (assumed present: default spec).
        let child = sp("child", "{inherit: [{kind: SelinuxProfile, name: parent}], allow: {http_port_t: {tcp_socket: [name_bind]}}}");
        assert!(validate(&child, Some(base)).unwrap().is_empty());
        let raw = doc("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: RawSelinuxProfile\nmetadata: {name: raw}\nspec:\n  policy: |\n    (blockinherit container)\n    (allow process http_port_t (tcp_socket (nobind)))\n");
        let v = validate(&raw, Some(base)).unwrap();
        assert_eq!(v.as_slice()[0].path, "spec.policy (line 2)", "{v}");
    }

    // covers: SE-06
    #[test]
    fn validate_in_resolves_parents_from_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("foo.yaml"),
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SelinuxProfile\nmetadata: {name: foo}\nspec: {allow: {http_port_t: {tcp_socket: [name_connect]}}}\n",
        )
        .unwrap();
        let dirs = vec![dir.path().to_path_buf()];
        let child = sp("child", "{inherit: [{kind: SelinuxProfile, name: foo}]}");
        assert!(validate_in(&child, Some(Path::new(BASE)), &dirs)
            .unwrap()
            .is_empty());
        let orphan = sp("child", "{inherit: [{kind: SelinuxProfile, name: nope}]}");
        let v = validate_in(&orphan, None, &dirs).unwrap();
        assert!(
            v.as_slice()[0]
                .reason
                .contains("couldn't find inherit reference"),
            "{v}"
        );
    }

    // covers: SE-08, SE-10, SE-24
    #[test]
    fn convert_renders_cil_for_both_kinds() {
        let text = convert(&sp("net", "{inherit: [{name: net_container}]}")).unwrap();
        assert_eq!(
            text,
            "(block net\n(blockinherit container)\n(blockinherit net_container)\n)\n"
        );
        let raw = doc("apiVersion: security-profiles-operator.x-k8s.io/v1alpha2\nkind: RawSelinuxProfile\nmetadata: {name: r}\nspec: {policy: \"(allow process http_port_t (tcp_socket (name_bind)))\\n\"}\n");
        assert_eq!(
            convert(&raw).unwrap(),
            "(block r\n    (allow process http_port_t (tcp_socket (name_bind)))\n)"
        );
        let err = convert(&sp("x", "{allow: {'a)': {file: [read]}}}")).unwrap_err();
        assert!(format!("{err:#}").contains("spec.allow.a)"), "{err:#}");
    }

    #[test]
    fn merge_unions_allow_maps_in_the_first_version() {
        let a = doc("apiVersion: security-profiles-operator.x-k8s.io/v1alpha2\nkind: SelinuxProfile\nmetadata: {name: a}\nspec: {permissive: true, allow: {x_t: {file: [read]}}}\n");
        let b = sp(
            "b",
            "{allow: {x_t: {file: [write, read]}, y_t: {dir: [search]}}}",
        );
        let v = merge(&[a, b]).unwrap();
        assert_eq!(
            v["apiVersion"],
            "security-profiles-operator.x-k8s.io/v1alpha2"
        );
        assert_eq!(v["metadata"]["name"], "a");
        assert_eq!(v["spec"]["mode"], "Permissive");
        assert_eq!(
            v["spec"]["allow"]["x_t"]["file"],
            serde_json::json!(["read", "write"])
        );
        assert_eq!(
            v["spec"]["allow"]["y_t"]["dir"],
            serde_json::json!(["search"])
        );
        assert!(merge(&[]).is_err());
    }
}
