//! The subset of Kubernetes `ObjectMeta` that profiles carry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{name, Violations};

/// Object metadata: name, namespace, labels and annotations. Other keys that the API server
/// adds (`uid`, `resourceVersion`, `managedFields`…) are accepted on input and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Object name (a DNS-1123 subdomain for every SPO kind).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Namespace; empty for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels, kept sorted so output is deterministic.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations, kept sorted so output is deterministic.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ObjectMeta {
    /// Metadata with only a name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Validates the name as a DNS-1123 subdomain and the namespace as a DNS-1123 label.
    /// Paths are reported relative to the object (`metadata.name`).
    pub fn validate(&self) -> Violations {
        let mut v = name::check_dns1123_subdomain("metadata.name", &self.name);
        if let Some(ns) = &self.namespace {
            v.extend_prefixed("", name::check_dns1123_label("metadata.namespace", ns));
        }
        v
    }
}
