//! Errors of spo-core: decoding and encoding manifests.

use thiserror::Error;

/// Why a manifest stream or a document could not be decoded. Every variant names the document
/// (1-based position in the stream) and, where known, its line or the field path.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The text is not valid YAML/JSON.
    #[error("document {document}, line {line}, column {column}: invalid YAML: {message}")]
    Syntax {
        /// 1-based document number.
        document: usize,
        /// 1-based line in the whole stream.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// The document is not a mapping (e.g. a list or a scalar).
    #[error("document {document} (line {line}): expected a mapping with apiVersion and kind")]
    NotAMapping {
        /// 1-based document number.
        document: usize,
        /// 1-based first line of the document.
        line: usize,
    },
    /// `apiVersion` or `kind` is missing or not a string.
    #[error("document {document} (line {line}): missing or non-string field {field:?}")]
    MissingField {
        /// 1-based document number.
        document: usize,
        /// 1-based first line of the document.
        line: usize,
        /// `apiVersion` or `kind`.
        field: &'static str,
    },
    /// `apiVersion` names another API group.
    #[error("document {document} (line {line}): apiVersion {api_version:?} is not in group security-profiles-operator.x-k8s.io")]
    WrongGroup {
        /// 1-based document number.
        document: usize,
        /// 1-based first line of the document.
        line: usize,
        /// The apiVersion found.
        api_version: String,
    },
    /// `kind` is not one of the SPO kinds.
    #[error("document {document} (line {line}): unknown kind {kind:?}")]
    UnknownKind {
        /// 1-based document number.
        document: usize,
        /// 1-based first line of the document.
        line: usize,
        /// The kind found.
        kind: String,
    },
    /// The version is not served for this kind.
    #[error("document {document} (line {line}): {kind} is not served in version {version:?} (served: {served})")]
    UnsupportedVersion {
        /// 1-based document number.
        document: usize,
        /// 1-based first line of the document.
        line: usize,
        /// The kind.
        kind: String,
        /// The version found.
        version: String,
        /// The versions that are served, comma-separated.
        served: String,
    },
    /// A field has the wrong type, an unknown name or an invalid value.
    #[error("document {document} ({kind} {name:?}): {path}: {message}")]
    Field {
        /// 1-based document number.
        document: usize,
        /// The document's kind.
        kind: String,
        /// `metadata.name`, possibly empty.
        name: String,
        /// Field path, e.g. `spec.syscalls[0].action`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A single document of a kind was expected (`from_yaml_one`).
    #[error("expected exactly one {kind} document, found {found}")]
    Count {
        /// The kind looked for.
        kind: String,
        /// How many the text holds.
        found: usize,
    },
    /// The document is of another kind than the caller needs.
    #[error("document {document}: expected kind {expected}, found {found}")]
    WrongKind {
        /// 1-based document number.
        document: usize,
        /// What the caller needs.
        expected: String,
        /// What the document is.
        found: String,
    },
}

/// Why a value could not be turned into YAML or JSON text.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// Serialising to JSON failed.
    #[error("cannot encode as JSON")]
    Json(#[source] serde_json::Error),
    /// Serialising to YAML failed.
    #[error("cannot encode as YAML")]
    Yaml(#[source] serde_yaml::Error),
}
