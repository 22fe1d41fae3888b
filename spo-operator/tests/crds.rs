//! deploy/crds is generated: the committed YAML equals the generator's output, and every
//! field path and type of our CRDs matches upstream's, except for the listed differences.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn upstream_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upstream-crds")
}

#[test]
fn committed_crds_match_the_generator() {
    let mut files = spo_operator::crd::all_crds();
    files.push((
        "kustomization.yaml".into(),
        spo_operator::crd::crds_kustomization(),
    ));
    for (file, yaml) in files {
        let path = repo().join("deploy/crds").join(&file);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == yaml,
            "{} differs from the generated CRD: run `cargo run -p spo-operator -- crds --out deploy/crds`",
            path.display()
        );
    }
}

/// `path → type` of a schema: `.a.b`, `[]` for array items, `{}` for map values.
fn paths(schema: &Value, at: String, out: &mut BTreeMap<String, String>) {
    let ty =
        schema["type"]
            .as_str()
            .unwrap_or(if schema.get("x-kubernetes-int-or-string").is_some() {
                "int-or-string"
            } else {
                "any"
            });
    out.insert(at.clone(), ty.to_string());
    if let Some(props) = schema["properties"].as_object() {
        for (k, v) in props {
            paths(v, format!("{at}.{k}"), out);
        }
    }
    if schema.get("items").is_some() {
        paths(&schema["items"], format!("{at}[]"), out);
    }
    if schema["additionalProperties"].is_object() {
        paths(&schema["additionalProperties"], format!("{at}{{}}"), out);
    }
}

fn load(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v: Value = serde::Deserialize::deserialize(doc).expect("yaml");
        if !v.is_null() {
            out.push(v);
        }
    }
    out
}

/// (crd, version) → (path → type), plus the non-schema facts as pseudo-paths.
fn index(crds: &[Value]) -> BTreeMap<(String, String), BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    for crd in crds {
        let kind = crd["spec"]["names"]["kind"]
            .as_str()
            .expect("kind")
            .to_string();
        for v in crd["spec"]["versions"].as_array().expect("versions") {
            let mut p = BTreeMap::new();
            paths(&v["schema"]["openAPIV3Schema"], String::new(), &mut p);
            p.insert(
                "@scope".into(),
                crd["spec"]["scope"].as_str().unwrap_or("").into(),
            );
            p.insert(
                "@shortNames".into(),
                crd["spec"]["names"]["shortNames"].to_string(),
            );
            p.insert("@served".into(), v["served"].to_string());
            p.insert("@storage".into(), v["storage"].to_string());
            p.insert(
                "@status-subresource".into(),
                v["subresources"]["status"].is_object().to_string(),
            );
            let cols: Vec<String> = v["additionalPrinterColumns"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    format!(
                        "{}={}",
                        c["name"].as_str().unwrap_or(""),
                        c["jsonPath"].as_str().unwrap_or("")
                    )
                })
                .collect();
            p.insert("@columns".into(), cols.join(","));
            m.insert(
                (kind.clone(), v["name"].as_str().expect("name").to_string()),
                p,
            );
        }
    }
    m
}

/// Differences we make on purpose, as `kind/version path: what`. Each has a reason.
const ALLOWED: &[&str] = &[
    // The raw OCI seccomp field: our one model also reads runtime JSON (spoc); harmless in a CRD.
    "SeccompProfile/* .spec.defaultErrnoRet: extra",
    // Upstream's `path` status field is declared and never set (weak point 6); kept.
    // One shared status type for all profile kinds: kind-specific fields appear on every kind.
    "*/* .status.localhostProfile: extra",
    "*/* .status.path: extra",
    "*/* .status.usage: extra",
    "*/* .status.activeWorkloads: extra",
    "*/* .status.activeWorkloads[]: extra",
    "*/* .status.conditions: extra",
    "*/* .status.conditions[]: extra",
    "*/* .status.conditions[].lastTransitionTime: extra",
    "*/* .status.conditions[].message: extra",
    "*/* .status.conditions[].observedGeneration: extra",
    "*/* .status.conditions[].reason: extra",
    "*/* .status.conditions[].status: extra",
    "*/* .status.conditions[].type: extra",
    "*/* .status.status: extra",
    // VER-08: the 0.10 spellings the conversion webhook translates, served on legacy versions.
    "SeccompProfile/v1beta1 .spec.disabled: extra",
    "RawSelinuxProfile/v1alpha2 .spec.disabled: extra",
    "SelinuxProfile/v1alpha2 .spec.disabled: extra",
    "SelinuxProfile/v1alpha2 .spec.permissive: extra",
    "AppArmorProfile/v1alpha1 .spec.disabled: extra",
    "AppArmorProfile/v1alpha1 .spec.complainMode: extra",
    // Era-A raw AppArmor policy text (`spec.policy`, ≤0.8) stays readable: one model for all eras.
    "AppArmorProfile/* .spec.policy: extra",
    // One model for both versions: v1's podSelector is accepted on v1alpha1 too.
    "ProfileBinding/v1alpha1 .spec.podSelector*: extra",
    // One SPOD model for both versions: v1's newer fields (OCI signature identity regexps,
    // the SELinux allow/deny lists) are accepted on v1alpha1 too. Every upstream SPOD path
    // (spec and status, both versions) is typed with upstream's type.
    "SecurityProfilesOperatorDaemon/v1alpha1 .spec.security.allowedIdentityRegexp: extra",
    "SecurityProfilesOperatorDaemon/v1alpha1 .spec.security.allowedOidcIssuerRegexp: extra",
    "SecurityProfilesOperatorDaemon/v1alpha1 .spec.selinux.options.allowedClasses*: extra",
    "SecurityProfilesOperatorDaemon/v1alpha1 .spec.selinux.options.allowedPermissions*: extra",
    "SecurityProfilesOperatorDaemon/v1alpha1 .spec.selinux.options.allowedTypes*: extra",
    "SecurityProfilesOperatorDaemon/v1alpha1 .spec.selinux.options.deniedClasses*: extra",
    "SecurityProfilesOperatorDaemon/v1alpha1 .spec.selinux.options.deniedPermissions*: extra",
    "SecurityProfilesOperatorDaemon/v1alpha1 .spec.selinux.options.deniedTypes*: extra",
    // The guides' flat 0.10 SPOD fields, typed as deprecated aliases (manager/config.rs
    // FLAT_ALIASES); the manager folds them into the grouped fields.
    "SecurityProfilesOperatorDaemon/* .spec.enableSelinux*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.selinuxTypeTag*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.selinuxOptions*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.enableLogEnricher*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.logEnricherFilters*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.logEnricherSource*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.enableJsonEnricher*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.jsonEnricherFilters*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.jsonEnricherOptions*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.enableBpfRecorder*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.staticWebhookConfig*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.webhookOptions*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.tolerations*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.affinity*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.priorityClassName*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.allowedSyscalls*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.allowedSeccompActions*: extra",
    "SecurityProfilesOperatorDaemon/* .spec.disableOciArtifactSignatureVerification*: extra",
];

fn allowed(kind: &str, version: &str, path: &str, what: &str) -> bool {
    ALLOWED.iter().any(|a| {
        let (head, rest) = a.split_once(' ').expect("entry");
        let (k, v) = head.split_once('/').expect("kind/version");
        let (pat, pwhat) = rest.split_once(": ").expect("path: what");
        let path_ok = match pat.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => pat == path,
        };
        (k == "*" || k == kind) && (v == "*" || v == version) && path_ok && pwhat == what
    })
}

// covers: VER-01 (served versions), the CRD shapes of every kind
#[test]
fn field_paths_match_upstream_except_listed_differences() {
    let mut upstream = Vec::new();
    for e in std::fs::read_dir(upstream_dir()).expect("upstream CRDs") {
        let p = e.expect("entry").path();
        upstream.extend(load(&std::fs::read_to_string(&p).expect("read")));
    }
    let ours: Vec<Value> = spo_operator::crd::all_crds()
        .iter()
        .flat_map(|(_, y)| load(y))
        .collect();
    let (up, us) = (index(&upstream), index(&ours));
    let up_keys: BTreeSet<_> = up.keys().collect();
    let us_keys: BTreeSet<_> = us.keys().collect();
    assert_eq!(up_keys, us_keys, "kinds/versions differ");
    let mut diffs = Vec::new();
    for (key, theirs) in &up {
        let mine = &us[key];
        let (kind, version) = key;
        for (path, ty) in theirs {
            match mine.get(path) {
                None if !allowed(kind, version, path, "missing") => {
                    diffs.push(format!("{kind}/{version} {path}: missing (upstream {ty})"))
                }
                Some(t) if t != ty && !allowed(kind, version, path, &format!("type {t}")) => {
                    diffs.push(format!("{kind}/{version} {path}: type {t} (upstream {ty})"))
                }
                _ => {}
            }
        }
        for path in mine.keys() {
            if !theirs.contains_key(path) && !allowed(kind, version, path, "extra") {
                diffs.push(format!("{kind}/{version} {path}: extra"));
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} unexpected differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

// covers: VER-04 (typed flat aliases), OP-17 — the SPOD's whole spec is typed: the API server
// prunes and refuses unknown fields like any typed CRD; no preserve-unknown-fields anywhere
// (Kubernetes core types come with their own structural schemas).
#[test]
fn spod_schema_is_fully_typed() {
    let (_, yaml) = spo_operator::crd::all_crds()
        .into_iter()
        .find(|(f, _)| f == "securityprofilesoperatordaemon.yaml")
        .expect("SPOD CRD");
    let crd = &load(&yaml)[0];
    for v in crd["spec"]["versions"].as_array().expect("versions") {
        let schema = &v["schema"]["openAPIV3Schema"];
        assert!(
            !schema
                .to_string()
                .contains("x-kubernetes-preserve-unknown-fields"),
            "{}: preserve-unknown-fields left",
            v["name"]
        );
        let spec = &schema["properties"]["spec"]["properties"];
        assert_eq!(spec["hostProcVolumePath"]["pattern"], "^/proc(/.*)?$");
        assert_eq!(
            spec["scheduling"]["properties"]["tolerations"]["items"]["properties"]
                ["tolerationSeconds"]["type"],
            "integer"
        );
        assert_eq!(
            spec["selinux"]["properties"]["enableRawSelinuxProfiles"]["type"],
            "boolean"
        );
        assert!(
            spec["enableLogEnricher"]["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("Deprecated")),
            "flat alias kept, deprecated"
        );
    }
}
