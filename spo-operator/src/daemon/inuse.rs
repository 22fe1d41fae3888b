//! Which operator seccomp profiles a pod references (in-use protection, `seccomp.md` §6.4,
//! SC-35; and VER-09's namespaced paths). Pure functions on a Pod.

use k8s_openapi::api::core::v1::{Pod, SeccompProfile as PodSeccomp};

/// One reference from a pod to an operator seccomp profile file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileUse {
    /// The file name under `operator/`, e.g. `nginx.json`.
    pub file: String,
    /// `Some(ns)` for the era-A path `operator/<ns>/<name>.json` (VER-09).
    pub namespace: Option<String>,
}

impl ProfileUse {
    /// Profile names that install this file: `x.json` is written by a profile named `x` or
    /// `x.json` (SC-06), so both are candidates.
    pub fn candidate_names(&self) -> [String; 2] {
        let stem = self.file.strip_suffix(".json").unwrap_or(&self.file);
        [stem.to_string(), self.file.clone()]
    }
}

/// Parses a `localhostProfile` path relative to `<kubelet>/seccomp`: `operator/<file>.json`
/// or the era-A `operator/<ns>/<file>.json`.
pub fn parse_localhost(path: &str) -> Option<ProfileUse> {
    let rest = path.strip_prefix("operator/")?;
    if !rest.ends_with(".json") {
        return None;
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let ok = |s: &str| !s.is_empty() && s != "." && s != "..";
    match parts.as_slice() {
        [file] if ok(file) => Some(ProfileUse {
            file: file.to_string(),
            namespace: None,
        }),
        [ns, file] if ok(ns) && ok(file) => Some(ProfileUse {
            file: file.to_string(),
            namespace: Some(ns.to_string()),
        }),
        _ => None,
    }
}

fn from_field(sp: Option<&PodSeccomp>) -> Option<ProfileUse> {
    let sp = sp?;
    if sp.type_ != "Localhost" {
        return None;
    }
    parse_localhost(sp.localhost_profile.as_deref()?)
}

/// Every operator profile file the pod references: pod and (init/ephemeral) container
/// `securityContext.seccompProfile`, and the legacy `seccomp.security.alpha.kubernetes.io`
/// annotations. Sorted, without duplicates.
pub fn profile_uses(pod: &Pod) -> Vec<ProfileUse> {
    let mut out = Vec::new();
    if let Some(spec) = &pod.spec {
        out.extend(from_field(
            spec.security_context
                .as_ref()
                .and_then(|s| s.seccomp_profile.as_ref()),
        ));
        let containers = spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten());
        for c in containers {
            out.extend(from_field(
                c.security_context
                    .as_ref()
                    .and_then(|s| s.seccomp_profile.as_ref()),
            ));
        }
        for c in spec.ephemeral_containers.iter().flatten() {
            out.extend(from_field(
                c.security_context
                    .as_ref()
                    .and_then(|s| s.seccomp_profile.as_ref()),
            ));
        }
    }
    if let Some(ann) = &pod.metadata.annotations {
        for (k, v) in ann {
            let legacy = k == "seccomp.security.alpha.kubernetes.io/pod"
                || k.starts_with("container.seccomp.security.alpha.kubernetes.io/");
            if legacy {
                if let Some(p) = v.strip_prefix("localhost/") {
                    out.extend(parse_localhost(p));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// True when a pod that has not finished references `file` (in either path form). A pod
/// being deleted still counts until its object is gone (its containers may still run).
pub fn pod_uses_file(pod: &Pod, file: &str) -> bool {
    let finished = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .is_some_and(|p| p == "Succeeded" || p == "Failed");
    !finished && profile_uses(pod).iter().any(|u| u.file == file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).expect("pod")
    }

    // covers: SC-35 (pod, container, init container, legacy annotation), VER-09
    #[test]
    fn finds_every_reference_form() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "p", "annotations": {
                "seccomp.security.alpha.kubernetes.io/pod": "localhost/operator/legacy.json"}},
            "spec": {
                "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "operator/a.json"}},
                "containers": [{"name": "c", "securityContext": {"seccompProfile":
                    {"type": "Localhost", "localhostProfile": "operator/my-ns/b.json"}}}],
                "initContainers": [{"name": "i", "securityContext": {"seccompProfile":
                    {"type": "Localhost", "localhostProfile": "other/c.json"}}}]
            }
        }));
        let uses = profile_uses(&p);
        let files: Vec<_> = uses
            .iter()
            .map(|u| (u.file.as_str(), u.namespace.as_deref()))
            .collect();
        assert_eq!(
            files,
            vec![
                ("a.json", None),
                ("b.json", Some("my-ns")),
                ("legacy.json", None)
            ]
        );
        assert!(pod_uses_file(&p, "b.json"));
        assert!(!pod_uses_file(&p, "c.json"));
        assert_eq!(
            uses[0].candidate_names(),
            ["a".to_string(), "a.json".to_string()]
        );
    }

    #[test]
    fn rejects_paths_that_leave_the_directory() {
        assert_eq!(parse_localhost("operator/../x.json"), None);
        assert_eq!(parse_localhost("operator/a/b/c.json"), None);
        assert_eq!(parse_localhost("operator/x.yaml"), None);
    }
}
