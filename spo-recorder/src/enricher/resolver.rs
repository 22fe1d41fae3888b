//! Container ID → Kubernetes identity (spec §4.3 step 3) behind a trait: the operator backs
//! it with the API server (pod list of the node); spoc and tests use [`StaticResolver`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::audit::AuditError;

/// Who a container is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerInfo {
    /// Pod namespace.
    #[serde(default)]
    pub namespace: String,
    /// Pod name.
    #[serde(default)]
    pub pod: String,
    /// Container name.
    #[serde(default)]
    pub container: String,
    /// The record profile id from the pod's `io.containers.trace-logs/<ctr>` (else
    /// `io.containers.trace-avcs/<ctr>`) annotation, when the container is being recorded.
    #[serde(default)]
    pub record_profile: Option<String>,
}

/// Maps a container ID to its pod and container. Implementations may block (the enricher
/// caches answers per PID) and must not panic.
pub trait ContainerResolver {
    /// The identity of `container_id` (64 hex characters), or `None` when unknown (yet).
    fn resolve(&self, container_id: &str) -> Option<Arc<ContainerInfo>>;
}

/// Knows no container: every attributed line has an ID but empty pod fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoResolver;

impl ContainerResolver for NoResolver {
    fn resolve(&self, _: &str) -> Option<Arc<ContainerInfo>> {
        None
    }
}

/// A fixed map, e.g. read from a JSON file
/// `{"<64-hex id>": {"namespace": "…", "pod": "…", "container": "…", "recordProfile": "…"}}`.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    map: HashMap<String, Arc<ContainerInfo>>,
}

impl StaticResolver {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces one container.
    pub fn insert(&mut self, container_id: impl Into<String>, info: ContainerInfo) {
        self.map.insert(container_id.into(), Arc::new(info));
    }

    /// Decodes the JSON map format described on the type.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, AuditError> {
        let raw: HashMap<String, ContainerInfo> =
            serde_json::from_str(text).map_err(|e| AuditError::ContainerMap {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        Ok(StaticResolver {
            map: raw.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
        })
    }

    /// Reads and decodes a JSON map file.
    pub fn from_file(path: &Path) -> Result<Self, AuditError> {
        let text = std::fs::read_to_string(path).map_err(|e| AuditError::io(path, e))?;
        Self::from_json(&text, path)
    }
}

impl ContainerResolver for StaticResolver {
    fn resolve(&self, container_id: &str) -> Option<Arc<ContainerInfo>> {
        self.map.get(container_id).cloned()
    }
}

impl<R: ContainerResolver + ?Sized> ContainerResolver for Box<R> {
    fn resolve(&self, container_id: &str) -> Option<Arc<ContainerInfo>> {
        (**self).resolve(container_id)
    }
}

impl<R: ContainerResolver + ?Sized> ContainerResolver for Arc<R> {
    fn resolve(&self, container_id: &str) -> Option<Arc<ContainerInfo>> {
        (**self).resolve(container_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_map_from_json() {
        let r = StaticResolver::from_json(
            r#"{"abc": {"namespace": "default", "pod": "p", "container": "c", "recordProfile": "rec_c_x_1"}}"#,
            Path::new("m.json"),
        )
        .unwrap();
        let i = r.resolve("abc").unwrap();
        assert_eq!(i.pod, "p");
        assert_eq!(i.record_profile.as_deref(), Some("rec_c_x_1"));
        assert!(r.resolve("def").is_none());
        let e =
            StaticResolver::from_json("{\"a\": {\"bogus\": 1}}", Path::new("m.json")).unwrap_err();
        assert!(
            e.to_string().starts_with("m.json: invalid container map"),
            "{e}"
        );
    }
}
