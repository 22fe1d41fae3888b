//! The version-tolerant manifest decoder: multi-document YAML (or JSON) in, typed documents out.
//!
//! Decoding is two-step. [`parse_stream`] splits the text into documents and parses each into a
//! JSON value, remembering where it starts so errors can name a line. [`Document::from_raw`]
//! checks `apiVersion` and `kind` (VER-01: `v1` and the kind's legacy version are accepted)
//! and keeps `spec` as a JSON value; the LSM crates then call [`Document::apply_legacy_aliases`]
//! to translate era-B field names (VER-08) and [`Document::decode_spec`] to get their typed
//! spec, with errors that carry the full field path.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::{Kind, Version, GROUP};
use crate::error::{DecodeError, EncodeError};
use crate::meta::ObjectMeta;

/// One document of a stream, parsed but not yet interpreted.
#[derive(Debug, Clone, PartialEq)]
pub struct RawDocument {
    /// 1-based position in the stream (empty documents are not counted).
    pub index: usize,
    /// 1-based line where the document's content starts.
    pub line: usize,
    /// The parsed content.
    pub value: Value,
}

impl RawDocument {
    /// True when the document carries a `kind` key (a manifest rather than raw JSON).
    pub fn has_kind(&self) -> bool {
        self.value.get("kind").is_some()
    }
}

/// Splits `text` into YAML documents on `---` lines and parses each one. Documents that are
/// empty or contain only comments are skipped. JSON is YAML, so a JSON file is one document.
pub fn parse_stream(text: &str) -> Result<Vec<RawDocument>, DecodeError> {
    let mut docs = Vec::new();
    let mut start_line = 1usize;
    let mut chunk_start = 0usize;
    let mut offset = 0usize;
    let push = |chunk: &str, first_line: usize, docs: &mut Vec<RawDocument>| {
        parse_chunk(chunk, first_line, docs.len() + 1).map(|v| {
            if let Some((value, line)) = v {
                docs.push(RawDocument {
                    index: docs.len() + 1,
                    line,
                    value,
                });
            }
        })
    };
    for (line_no, line) in (1usize..).zip(text.split_inclusive('\n')) {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if trimmed == "---" || trimmed.starts_with("--- ") || trimmed == "..." {
            push(&text[chunk_start..offset], start_line, &mut docs)?;
            chunk_start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    push(&text[chunk_start..], start_line, &mut docs)?;
    Ok(docs)
}

/// Parses one chunk; `None` when it holds no content. Returns the value and the line of its
/// first non-blank, non-comment line.
fn parse_chunk(
    chunk: &str,
    first_line: usize,
    document: usize,
) -> Result<Option<(Value, usize)>, DecodeError> {
    let content_line = chunk
        .lines()
        .position(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .map(|p| first_line + p);
    let Some(content_line) = content_line else {
        return Ok(None);
    };
    if let Err(at) = crate::limits::check_nesting(chunk, crate::limits::MAX_NESTING) {
        return Err(DecodeError::Syntax {
            document,
            line: first_line + at.line - 1,
            column: at.column,
            message: format!(
                "collections nest deeper than {} levels",
                crate::limits::MAX_NESTING
            ),
        });
    }
    let parsed = match crate::yaml_subset::parse(chunk) {
        Some(v) => Ok(v),
        None => serde_yaml::from_str::<Value>(chunk),
    };
    match parsed {
        Ok(Value::Null) => Ok(None),
        Ok(v) => Ok(Some((v, content_line))),
        Err(e) => {
            let (line, column) = e
                .location()
                .map(|l| (first_line + l.line() - 1, l.column()))
                .unwrap_or((content_line, 1));
            let mut message = e.to_string();
            // The parser appends its own chunk-relative position; ours is absolute.
            if let Some(at) = message.find(" at line ") {
                message.truncate(at);
            }
            Err(DecodeError::Syntax {
                document,
                line,
                column,
                message,
            })
        }
    }
}

/// A manifest of an SPO kind with a supported version; `spec` is still untyped.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 1-based position in the stream.
    pub index: usize,
    /// 1-based first line.
    pub line: usize,
    /// The API version used by the document.
    pub version: Version,
    /// The kind.
    pub kind: Kind,
    /// Decoded metadata.
    pub metadata: ObjectMeta,
    /// The spec, `Null` when absent.
    pub spec: Value,
    /// The status, when present (ignored by profile decoding).
    pub status: Option<Value>,
}

const TOP_LEVEL: [&str; 5] = ["apiVersion", "kind", "metadata", "spec", "status"];

impl Document {
    /// Interprets a raw document: checks group, kind and version, decodes metadata.
    pub fn from_raw(raw: RawDocument) -> Result<Self, DecodeError> {
        let RawDocument { index, line, value } = raw;
        let Value::Object(mut map) = value else {
            return Err(DecodeError::NotAMapping {
                document: index,
                line,
            });
        };
        let get_str = |map: &Map<String, Value>, field: &'static str| {
            map.get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(DecodeError::MissingField {
                    document: index,
                    line,
                    field,
                })
        };
        let api_version = get_str(&map, "apiVersion")?;
        let kind_str = get_str(&map, "kind")?;
        let kind: Kind = kind_str.parse().map_err(|()| DecodeError::UnknownKind {
            document: index,
            line,
            kind: kind_str.clone(),
        })?;
        let (group, version_str) = api_version.split_once('/').unwrap_or(("", &api_version));
        if group != GROUP {
            return Err(DecodeError::WrongGroup {
                document: index,
                line,
                api_version,
            });
        }
        let version = version_str
            .parse::<Version>()
            .ok()
            .filter(|v| kind.served_versions().contains(v))
            .ok_or_else(|| DecodeError::UnsupportedVersion {
                document: index,
                line,
                kind: kind.to_string(),
                version: version_str.to_string(),
                served: kind.served_versions().map(Version::as_str).join(", "),
            })?;
        let raw_name = map
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let field_err = |path: String, message: String| DecodeError::Field {
            document: index,
            kind: kind.to_string(),
            name: raw_name.clone(),
            path,
            message,
        };
        if let Some(unknown) = map.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
            return Err(field_err(unknown.clone(), "unknown field".into()));
        }
        let metadata = match map.remove("metadata") {
            None | Some(Value::Null) => ObjectMeta::default(),
            Some(m) => serde_path_to_error::deserialize::<_, ObjectMeta>(&m).map_err(|e| {
                field_err(
                    join_path("metadata", &e.path().to_string()),
                    inner_message(&e),
                )
            })?,
        };
        Ok(Document {
            index,
            line,
            version,
            kind,
            metadata,
            spec: map.remove("spec").unwrap_or(Value::Null),
            status: map.remove("status"),
        })
    }

    /// Fails unless the document is of `kind`.
    pub fn expect_kind(&self, kind: Kind) -> Result<(), DecodeError> {
        if self.kind == kind {
            Ok(())
        } else {
            Err(DecodeError::WrongKind {
                document: self.index,
                expected: kind.to_string(),
                found: self.kind.to_string(),
            })
        }
    }

    /// An error about a field of this document; `path` is relative to the document root.
    pub fn field_error(&self, path: impl Into<String>, message: impl Into<String>) -> DecodeError {
        DecodeError::Field {
            document: self.index,
            kind: self.kind.to_string(),
            name: self.metadata.name.clone(),
            path: path.into(),
            message: message.into(),
        }
    }

    /// Decodes `spec` into `T`; on failure the error names the full path
    /// (`spec.syscalls[1].action`) and what is wrong with it.
    pub fn decode_spec<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        serde_path_to_error::deserialize::<_, T>(&self.spec).map_err(|e| {
            self.field_error(join_path("spec", &e.path().to_string()), inner_message(&e))
        })
    }

    /// Translates era-B field names and values into the canonical shape (VER-08). Aliases
    /// apply only when the document uses its legacy version; on `v1` the old names stay and
    /// are then rejected as unknown fields by the typed decoder.
    pub fn apply_legacy_aliases(&mut self, aliases: &[LegacyAlias]) -> Result<(), DecodeError> {
        if !self.version.is_legacy() {
            return Ok(());
        }
        for alias in aliases {
            match *alias {
                LegacyAlias::Bool {
                    legacy,
                    field,
                    when_true,
                    when_false,
                } => self.apply_bool_alias(legacy, field, when_true, when_false)?,
                LegacyAlias::Value { field, map } => {
                    if let Some(Value::String(s)) = self.spec.get_mut(field) {
                        if let Some((_, new)) = map.iter().find(|(old, _)| old == s) {
                            *s = (*new).to_string();
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn apply_bool_alias(
        &mut self,
        legacy: &str,
        field: &str,
        when_true: &str,
        when_false: &str,
    ) -> Result<(), DecodeError> {
        let Some(map) = self.spec.as_object_mut() else {
            return Ok(());
        };
        let Some(old) = map.remove(legacy) else {
            return Ok(());
        };
        let path = format!("spec.{legacy}");
        let flag = match old {
            Value::Bool(b) => b,
            Value::Null => return Ok(()),
            other => {
                return Err(self.field_error(path, format!("expected a boolean, found {other}")))
            }
        };
        let translated = if flag { when_true } else { when_false };
        match map.get(field) {
            Some(Value::String(existing)) if existing != translated => {
                let msg = format!(
                    "legacy field {legacy}: {flag} contradicts {field}: {existing}; set only one"
                );
                Err(self.field_error(path, msg))
            }
            _ => {
                map.insert(field.to_string(), Value::String(translated.to_string()));
                Ok(())
            }
        }
    }
}

/// A rename from an era-B spec field to its canonical form (VER-08).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum LegacyAlias {
    /// A legacy boolean (`disabled`) replaced by an enum string (`state`).
    Bool {
        /// Legacy field name, e.g. `disabled`.
        legacy: &'static str,
        /// Canonical field name, e.g. `state`.
        field: &'static str,
        /// Canonical value for `true`, e.g. `Disabled`.
        when_true: &'static str,
        /// Canonical value for `false`, e.g. `Enabled`.
        when_false: &'static str,
    },
    /// Legacy spellings of an enum field's values (`logs` → `Logs`).
    Value {
        /// The spec field.
        field: &'static str,
        /// `(legacy, canonical)` pairs.
        map: &'static [(&'static str, &'static str)],
    },
}

fn join_path(prefix: &str, inner: &str) -> String {
    if inner.is_empty() || inner == "." {
        prefix.to_string()
    } else if inner.starts_with('[') {
        format!("{prefix}{inner}")
    } else {
        format!("{prefix}.{inner}")
    }
}

fn inner_message(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    e.inner().to_string()
}

/// Parses every document of `text` as an SPO manifest.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, DecodeError> {
    parse_stream(text)?
        .into_iter()
        .map(Document::from_raw)
        .collect()
}

/// Builds the JSON value of a manifest `{apiVersion, kind, metadata, spec}`.
pub fn manifest_value<S: Serialize>(
    kind: Kind,
    version: Version,
    metadata: &ObjectMeta,
    spec: &S,
) -> Result<Value, EncodeError> {
    let mut map = Map::new();
    map.insert(
        "apiVersion".into(),
        Value::String(crate::api::api_version(version)),
    );
    map.insert("kind".into(), Value::String(kind.to_string()));
    map.insert(
        "metadata".into(),
        serde_json::to_value(metadata).map_err(EncodeError::Json)?,
    );
    map.insert(
        "spec".into(),
        serde_json::to_value(spec).map_err(EncodeError::Json)?,
    );
    Ok(Value::Object(map))
}

/// Renders values as a YAML stream, documents separated by `---`.
pub fn to_yaml_stream(values: &[Value]) -> Result<String, EncodeError> {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_yaml::to_string(v).map_err(EncodeError::Yaml)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "# leading comment\n---\napiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata:\n  name: a\nspec:\n  disabled: true\n  defaultAction: SCMP_ACT_LOG\n---\n\n---\napiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {name: b}\nspec: {defaultAction: SCMP_ACT_ERRNO}\n";

    #[test]
    fn splits_multi_document_streams_and_skips_empty_ones() {
        let docs = parse_documents(TWO).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].metadata.name, "a");
        assert_eq!(docs[0].line, 3);
        assert_eq!(docs[1].index, 2);
        assert_eq!(docs[1].line, 13);
        assert_eq!(docs[1].version, Version::V1);
    }

    // covers: VER-08
    #[test]
    fn ver_08_legacy_bool_alias_translates_only_on_legacy_versions() {
        let mut docs = parse_documents(TWO).unwrap();
        let aliases = [LegacyAlias::Bool {
            legacy: "disabled",
            field: "state",
            when_true: "Disabled",
            when_false: "Enabled",
        }];
        docs[0].apply_legacy_aliases(&aliases).unwrap();
        assert_eq!(docs[0].spec["state"], "Disabled");
        assert!(docs[0].spec.get("disabled").is_none());
    }

    #[test]
    fn ver_08_contradicting_alias_is_an_error_naming_the_field() {
        let text = "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata: {name: a}\nspec: {disabled: true, state: Enabled}\n";
        let mut doc = parse_documents(text).unwrap().remove(0);
        let err = doc
            .apply_legacy_aliases(&[LegacyAlias::Bool {
                legacy: "disabled",
                field: "state",
                when_true: "Disabled",
                when_false: "Enabled",
            }])
            .unwrap_err();
        assert!(err.to_string().contains("spec.disabled"), "{err}");
    }

    // covers: VER-01
    #[test]
    fn ver_01_rejects_versions_not_served_for_the_kind() {
        let text = "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: SeccompProfile\nmetadata: {name: a}\n";
        let err = parse_documents(text).unwrap_err();
        assert!(
            matches!(&err, DecodeError::UnsupportedVersion { served, .. } if served == "v1, v1beta1"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_name_the_absolute_line() {
        let text = "apiVersion: x/v1\nkind: A\n---\napiVersion: b\nkind: [unclosed\n";
        match parse_stream(text).unwrap_err() {
            DecodeError::Syntax { document, line, .. } => {
                assert_eq!(document, 2);
                assert!(line >= 5, "line {line}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn errors_name_missing_kind_wrong_group_unknown_fields() {
        let e = parse_documents("apiVersion: v1\n").unwrap_err();
        assert!(matches!(e, DecodeError::MissingField { field: "kind", .. }));
        let e = parse_documents("apiVersion: v1\nkind: SeccompProfile\n").unwrap_err();
        assert!(matches!(e, DecodeError::WrongGroup { .. }));
        let e = parse_documents("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: Pod\n")
            .unwrap_err();
        assert!(matches!(e, DecodeError::UnknownKind { .. }));
        let e = parse_documents(
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nspex: {}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("spex: unknown field"), "{e}");
        let e = parse_documents(
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata: {labels: {a: [1]}}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("metadata.labels.a"), "{e}");
        let e = parse_documents("- a\n- b\n").unwrap_err();
        assert!(matches!(e, DecodeError::NotAMapping { .. }));
    }

    #[test]
    fn manifests_round_trip_through_yaml() {
        let meta = ObjectMeta::named("x");
        let v = manifest_value(
            Kind::SeccompProfile,
            Version::V1,
            &meta,
            &serde_json::json!({"defaultAction": "SCMP_ACT_LOG"}),
        )
        .unwrap();
        let text = to_yaml_stream(&[v.clone(), v]).unwrap();
        let docs = parse_documents(&text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].spec["defaultAction"], "SCMP_ACT_LOG");
    }
}

/// The one document of `kind` in `text` (other kinds are ignored); an error when there is
/// none or more than one. The single-document entry of every profile crate's
/// `from_yaml_one`.
pub fn one_document(text: &str, kind: Kind) -> Result<Document, DecodeError> {
    let mut docs: Vec<Document> = parse_documents(text)?
        .into_iter()
        .filter(|d| d.kind == kind)
        .collect();
    if docs.len() != 1 {
        return Err(DecodeError::Count {
            kind: kind.to_string(),
            found: docs.len(),
        });
    }
    Ok(docs.remove(0))
}

/// Which upstream release line a format follows: 1.0+ or 0.10 (the one "v1 or 0.10"
/// switch of the SDK; spo-seccomp's `json::Era` and `merge::UnionMode` are this type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Era {
    /// 1.0 and later.
    #[default]
    V1,
    /// 0.10.
    Legacy,
}
