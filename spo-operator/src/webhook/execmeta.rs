//! Exec metadata (OP-24, OP-26, OP-27): `kubectl exec` requests, new ephemeral containers and
//! `kubectl debug node/…` pods carry `SPO_EXEC_REQUEST_UID=<admission request UID>`, and the
//! response carries the same audit annotation, so the API server's audit log joins with the
//! JSON enricher's `requestUID`. Unknown kinds and decode errors are admitted unchanged.

use k8s_openapi::api::core::v1::{EnvVar, Pod};
use serde_json::Value;

use super::admission::{json_patch, AdmissionRequest, AdmissionResponse};

/// The variable and audit annotation name.
pub const ENV_NAME: &str = "SPO_EXEC_REQUEST_UID";

fn set_env(env: &mut Option<Vec<EnvVar>>, uid: &str) {
    let list = env.get_or_insert_with(Vec::new);
    list.retain(|e| e.name != ENV_NAME);
    list.push(EnvVar {
        name: ENV_NAME.into(),
        value: Some(uid.into()),
        value_from: None,
    });
}

/// The exec command with the UID assignment: an existing `SPO_EXEC_REQUEST_UID=…` element is
/// replaced, otherwise `env SPO_EXEC_REQUEST_UID=<uid>` is prepended (OP-26).
pub fn exec_command(command: &[String], uid: &str) -> Vec<String> {
    let assign = format!("{ENV_NAME}={uid}");
    let prefix = format!("{ENV_NAME}=");
    if command.iter().any(|c| c.starts_with(&prefix)) {
        command
            .iter()
            .map(|c| {
                if c.starts_with(&prefix) {
                    assign.clone()
                } else {
                    c.clone()
                }
            })
            .collect()
    } else {
        let mut out = vec!["env".to_string(), assign];
        out.extend(command.iter().cloned());
        out
    }
}

fn with_audit(mut r: AdmissionResponse, uid: &str) -> AdmissionResponse {
    if !r.patch.is_empty() {
        r.audit.push((ENV_NAME.into(), uid.into()));
    }
    r
}

/// The mutating handler at `/mutate-v1-exec-metadata`.
pub fn review(req: &AdmissionRequest) -> AdmissionResponse {
    let Some(obj) = &req.object else {
        return AdmissionResponse::allow("no object");
    };
    let uid = req.uid.as_str();
    let sub = req.sub_resource.as_deref().unwrap_or("");
    let kind = obj["kind"].as_str().unwrap_or("");
    if sub == "exec" || kind == "PodExecOptions" {
        if !obj.is_object() {
            return AdmissionResponse::allow("not PodExecOptions");
        }
        let cmd: Vec<String> = obj["command"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let mut after = obj.clone();
        after["command"] = Value::from(exec_command(&cmd, uid));
        let mut patch = json_patch(obj, &after);
        // A single `add /command` as upstream sends it (replaces the whole list).
        if !patch.is_empty() {
            patch = vec![super::admission::PatchOp {
                op: "add",
                path: "/command".into(),
                value: Some(after["command"].clone()),
            }];
        }
        return with_audit(AdmissionResponse::patched(patch), uid);
    }
    let Ok(mut pod) = serde_json::from_value::<Pod>(obj.clone()) else {
        return AdmissionResponse::allow("not a pod");
    };
    let Ok(before) = serde_json::to_value(&pod) else {
        return AdmissionResponse::allow("not a pod");
    };
    let Some(spec) = pod.spec.as_mut() else {
        return AdmissionResponse::allow("no spec");
    };
    if sub == "ephemeralcontainers" {
        // OP-27: containers without a status yet are the new ones.
        let started: Vec<String> = pod
            .status
            .as_ref()
            .and_then(|s| s.ephemeral_container_statuses.as_ref())
            .map(|l| l.iter().map(|s| s.name.clone()).collect())
            .unwrap_or_default();
        for c in spec.ephemeral_containers.iter_mut().flatten() {
            if !started.contains(&c.name) {
                set_env(&mut c.env, uid);
            }
        }
    } else if sub.is_empty() && req.operation == "CREATE" {
        let debug = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("app.kubernetes.io/managed-by"))
            .is_some_and(|v| v == "kubectl-debug");
        if !debug {
            return AdmissionResponse::allow("not a debug pod");
        }
        if let Some(c) = spec.containers.first_mut() {
            set_env(&mut c.env, uid);
        }
    } else {
        return AdmissionResponse::allow("nothing to do");
    }
    match serde_json::to_value(&pod) {
        Ok(after) => with_audit(AdmissionResponse::patched(json_patch(&before, &after)), uid),
        Err(_) => AdmissionResponse::allow("not a pod"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::admission::apply_patch;
    use serde_json::json;

    fn req(sub: &str, op: &str, obj: Value) -> AdmissionRequest {
        AdmissionRequest {
            uid: "req-1".into(),
            operation: op.into(),
            sub_resource: (!sub.is_empty()).then(|| sub.to_string()),
            object: Some(obj),
            ..Default::default()
        }
    }

    // covers: OP-26
    #[test]
    fn exec_prepends_env_or_replaces_the_assignment() {
        let obj = json!({"kind": "PodExecOptions", "apiVersion": "v1", "command": ["sh", "-c", "id"], "container": "c"});
        let r = review(&req("exec", "CONNECT", obj.clone()));
        let mut out = obj.clone();
        apply_patch(&mut out, &r.patch).expect("applies");
        assert_eq!(
            out["command"],
            json!(["env", "SPO_EXEC_REQUEST_UID=req-1", "sh", "-c", "id"])
        );
        assert_eq!(r.audit, vec![(ENV_NAME.to_string(), "req-1".to_string())]);
        let spoofed = json!({"kind": "PodExecOptions", "command": ["env", "SPO_EXEC_REQUEST_UID=fake", "id"]});
        let r = review(&req("exec", "CONNECT", spoofed.clone()));
        let mut out = spoofed;
        apply_patch(&mut out, &r.patch).expect("applies");
        assert_eq!(
            out["command"],
            json!(["env", "SPO_EXEC_REQUEST_UID=req-1", "id"])
        );
    }

    // covers: OP-27
    #[test]
    fn new_ephemeral_containers_and_debug_pods_get_the_env() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i"}],
                     "ephemeralContainers": [{"name": "old", "image": "d"}, {"name": "new", "image": "d", "env": [{"name": "SPO_EXEC_REQUEST_UID", "value": "x"}]}]},
            "status": {"ephemeralContainerStatuses": [{"name": "old", "image": "d", "imageID": "", "ready": false, "restartCount": 0}]}});
        let r = review(&req("ephemeralcontainers", "UPDATE", pod.clone()));
        let mut out = pod.clone();
        apply_patch(&mut out, &r.patch).expect("applies");
        assert!(out["spec"]["ephemeralContainers"][0].get("env").is_none());
        assert_eq!(
            out["spec"]["ephemeralContainers"][1]["env"],
            json!([{"name": ENV_NAME, "value": "req-1"}])
        );
        assert!(!r.audit.is_empty());

        let debug = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "node-debugger", "labels": {"app.kubernetes.io/managed-by": "kubectl-debug"}},
            "spec": {"containers": [{"name": "debugger", "image": "busybox"}]}});
        let r = review(&req("", "CREATE", debug.clone()));
        let mut out = debug;
        apply_patch(&mut out, &r.patch).expect("applies");
        assert_eq!(out["spec"]["containers"][0]["env"][0]["value"], "req-1");
        let plain = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}});
        let r = review(&req("", "CREATE", plain));
        assert!(r.patch.is_empty() && r.allowed && r.audit.is_empty());
        assert!(review(&req("exec", "CONNECT", json!("garbage"))).allowed);
    }
}
