//! CRD generation: one `CustomResourceDefinition` per kind, every served version with the
//! schema of the kind's model (schemars, rewritten to a Kubernetes structural schema), scope,
//! short names, printer columns and the status subresource. Used by `spo-operator crds` (which
//! writes `deploy/crds/`) and by the drift test.

use schemars::generate::SchemaSettings;
use schemars::transform::AddNullable;
use schemars::{Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::api::{self, SpoResource};

/// A resource with a spec and a status schema.
pub trait HasSchemas {
    /// Schema of `spec`.
    fn spec_schema(g: &mut SchemaGenerator) -> Schema;
    /// Schema of `status`.
    fn status_schema(g: &mut SchemaGenerator) -> Schema;
}

fn generator() -> SchemaGenerator {
    SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(AddNullable::default())
        .with_transform(kube::core::schema::StructuralSchemaRewriter)
        .with_transform(kube::core::schema::OptionalEnum)
        .into_generator()
}

/// Removes what a structural schema must not or need not carry: `nullable` markers of
/// optional fields (absence is how they are omitted), `default: null`, titles and `$ref`
/// leftovers; keeps real defaults (`state: Enabled`).
fn clean(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("title");
            m.remove("$schema");
            m.remove("nullable");
            // v1.20 reads an empty-string default as null and rejects it.
            let empty = |d: &Value| match d {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
                _ => false,
            };
            if m.get("default").is_some_and(empty) {
                m.remove("default");
            }
            if let Some(Value::Array(e)) = m.get_mut("enum") {
                e.retain(|x| !x.is_null());
            }
            // `Option<u32>` etc. come out as `type: [integer, null]`.
            if let Some(Value::Array(t)) = m.get("type") {
                let t: Vec<Value> = t
                    .iter()
                    .filter(|x| !x.is_null() && *x != "null")
                    .cloned()
                    .collect();
                if t.len() == 1 {
                    m.insert("type".into(), t[0].clone());
                }
            }
            for (_, x) in m.iter_mut() {
                clean(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(clean),
        _ => {}
    }
}

/// The `openAPIV3Schema` of a kind.
pub fn open_api_schema<K: HasSchemas + SpoResource>() -> Value {
    let mut g = generator();
    let mut spec = K::spec_schema(&mut g);
    let mut status = K::status_schema(&mut g);
    // Subschemas are not transformed by the generator: apply the transforms here.
    for t in g.transforms_mut() {
        t.transform(&mut spec);
        t.transform(&mut status);
    }
    let mut spec = spec.to_value();
    let mut status = status.to_value();
    clean(&mut spec);
    clean(&mut status);
    json!({
        "description": K::DESCRIPTION,
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
        "required": ["spec"],
    })
}

/// The schema a legacy version serves: the v1 schema plus the 0.10 spellings the conversion
/// webhook translates (VER-08), so old manifests are neither pruned nor rejected.
pub fn legacy_schema(kind: &str, mut schema: Value) -> Value {
    let boolean = json!({"type": "boolean", "description": "0.10 spelling, translated to the v1 field by the conversion webhook (VER-08)."});
    let spec = &mut schema["properties"]["spec"]["properties"];
    let add_enum = |field: &str, extra: &[&str], spec: &mut Value| {
        if let Some(Value::Array(e)) = spec.get_mut(field).and_then(|f| f.get_mut("enum")) {
            for x in extra {
                e.push(json!(x));
            }
        }
    };
    match kind {
        "SeccompProfile" | "RawSelinuxProfile" => {
            spec["disabled"] = boolean;
        }
        "SelinuxProfile" => {
            spec["disabled"] = boolean.clone();
            spec["permissive"] = boolean;
        }
        "AppArmorProfile" => {
            spec["disabled"] = boolean.clone();
            spec["complainMode"] = boolean;
        }
        "ProfileRecording" => {
            add_enum("recorder", &["logs", "bpf"], spec);
            add_enum("mergeStrategy", &["none", "containers"], spec);
            add_enum("kind", &["ApparmorProfile"], spec);
        }
        _ => {}
    }
    schema
}

/// The CRD of a kind, as a JSON value (apiextensions.k8s.io/v1).
pub fn crd<K: HasSchemas + SpoResource>() -> Value {
    let mut schema = open_api_schema::<K>();
    if K::KIND == "SecurityProfilesOperatorDaemon" {
        // The guides' flat 0.10 field names, typed as deprecated aliases.
        if let Some(props) = schema["properties"]["spec"]["properties"].as_object_mut() {
            props.extend(crate::manager::config::flat_alias_schemas());
        }
    }
    let singular = K::KIND.to_lowercase();
    let columns: Vec<Value> = K::COLUMNS
        .iter()
        .map(|(name, ty, path, prio)| {
            let mut c = Map::new();
            c.insert("jsonPath".into(), json!(path));
            c.insert("name".into(), json!(name));
            if *prio != 0 {
                c.insert("priority".into(), json!(prio));
            }
            c.insert("type".into(), json!(ty));
            Value::Object(c)
        })
        .collect();
    let versions: Vec<Value> = K::VERSIONS
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut ver = Map::new();
            if !columns.is_empty() {
                ver.insert("additionalPrinterColumns".into(), json!(columns));
            }
            ver.insert("name".into(), json!(v));
            let version_schema = if i == 0 {
                schema.clone()
            } else {
                legacy_schema(K::KIND, schema.clone())
            };
            ver.insert("schema".into(), json!({"openAPIV3Schema": version_schema}));
            ver.insert("served".into(), json!(true));
            ver.insert("storage".into(), json!(i == 0));
            ver.insert("subresources".into(), json!({"status": {}}));
            Value::Object(ver)
        })
        .collect();
    let mut names = Map::new();
    names.insert("kind".into(), json!(K::KIND));
    names.insert("listKind".into(), json!(format!("{}List", K::KIND)));
    names.insert("plural".into(), json!(K::PLURAL));
    if !K::SHORT_NAMES.is_empty() {
        names.insert("shortNames".into(), json!(K::SHORT_NAMES));
    }
    names.insert("singular".into(), json!(singular));
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{}.{}", K::PLURAL, api::GROUP)},
        "spec": {
            "group": api::GROUP,
            "names": names,
            "scope": if K::CLUSTER_SCOPED { "Cluster" } else { "Namespaced" },
            "versions": versions,
        }
    })
}

/// Every CRD, as `(file name, YAML)`, in a fixed order.
pub fn all_crds() -> Vec<(String, String)> {
    fn one<K: HasSchemas + SpoResource>() -> (String, String) {
        let file = format!("{}.yaml", K::KIND.to_lowercase());
        let yaml = serde_yaml::to_string(&crd::<K>()).unwrap_or_default();
        (file, yaml)
    }
    vec![
        one::<api::SeccompProfile>(),
        one::<api::SelinuxProfile>(),
        one::<api::RawSelinuxProfile>(),
        one::<api::AppArmorProfile>(),
        one::<api::SecurityProfileNodeStatus>(),
        one::<api::ProfileBinding>(),
        one::<api::ProfileRecording>(),
        one::<api::SecurityProfilesOperatorDaemon>(),
    ]
}

/// `kustomization.yaml` of the CRD directory, listing [`all_crds`]' files.
pub fn crds_kustomization() -> String {
    let mut out = String::from(
        "# Generated by `spo-operator crds`; do not edit.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for (file, _) in all_crds() {
        out.push_str(&format!("- {file}\n"));
    }
    out
}
