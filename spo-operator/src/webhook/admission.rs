//! The AdmissionReview envelope (`admission.k8s.io/v1` and `v1beta1`, which upstream registers)
//! and JSON patches computed from typed objects: a handler deserialises the object into its
//! k8s-openapi type, changes it, and [`json_patch`] diffs the two serialisations.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The request part of an AdmissionReview (fields the handlers use).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    /// Request UID, echoed in the response.
    #[serde(default)]
    pub uid: String,
    /// The object's kind.
    #[serde(default)]
    pub kind: GroupVersionKind,
    /// Sub-resource (`exec`, `ephemeralcontainers`), empty for the object itself.
    #[serde(default)]
    pub sub_resource: Option<String>,
    /// Object name (may be empty on CREATE with `generateName`).
    #[serde(default)]
    pub name: Option<String>,
    /// Namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    #[serde(default)]
    pub operation: String,
    /// The new object.
    #[serde(default)]
    pub object: Option<Value>,
    /// The old object (UPDATE, DELETE).
    #[serde(default)]
    pub old_object: Option<Value>,
    /// Dry-run request: no side effects allowed.
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// `group`/`version`/`kind`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct GroupVersionKind {
    /// API group (empty for core).
    #[serde(default)]
    pub group: String,
    /// Version.
    #[serde(default)]
    pub version: String,
    /// Kind.
    #[serde(default)]
    pub kind: String,
}

/// One JSON patch operation (RFC 6902; `add`, `replace`, `remove`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOp {
    /// `add`, `replace` or `remove`.
    pub op: &'static str,
    /// JSON pointer.
    pub path: String,
    /// The value (absent for `remove`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// What a handler decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdmissionResponse {
    /// Admit or refuse.
    pub allowed: bool,
    /// HTTP-like code for refusals (403 invalid, 500 internal).
    pub code: u16,
    /// Message (refusals) — the field path and reason for validation.
    pub message: String,
    /// JSON patch for mutations; empty = unchanged.
    pub patch: Vec<PatchOp>,
    /// Audit annotations (`SPO_EXEC_REQUEST_UID`).
    pub audit: Vec<(String, String)>,
}

impl AdmissionResponse {
    /// Admitted unchanged; `message` is a note for logs and the response's status.
    pub fn allow(message: impl Into<String>) -> Self {
        Self {
            allowed: true,
            code: 200,
            message: message.into(),
            ..Default::default()
        }
    }
    /// Refused with a code and message.
    pub fn deny(code: u16, message: impl Into<String>) -> Self {
        Self {
            allowed: false,
            code,
            message: message.into(),
            ..Default::default()
        }
    }
    /// Admitted with a patch (unchanged when the patch is empty).
    pub fn patched(patch: Vec<PatchOp>) -> Self {
        Self {
            allowed: true,
            code: 200,
            message: if patch.is_empty() {
                "unchanged".into()
            } else {
                "patched".into()
            },
            patch,
            audit: Vec::new(),
        }
    }
}

/// A review that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// Not an AdmissionReview of a known version.
    #[error("not an AdmissionReview (apiVersion {0:?})")]
    NotAReview(String),
    /// `request` missing or malformed.
    #[error("AdmissionReview.request: {0}")]
    Request(String),
}

/// Parses an AdmissionReview body: returns its `apiVersion` (answered in kind) and request.
pub fn parse_review(body: &[u8]) -> Result<(String, AdmissionRequest), ReviewError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ReviewError::Request(e.to_string()))?;
    let api = v["apiVersion"].as_str().unwrap_or_default().to_string();
    if api != "admission.k8s.io/v1" && api != "admission.k8s.io/v1beta1" {
        return Err(ReviewError::NotAReview(api));
    }
    let req = v
        .get("request")
        .cloned()
        .ok_or_else(|| ReviewError::Request("missing".into()))?;
    let req: AdmissionRequest =
        serde_json::from_value(req).map_err(|e| ReviewError::Request(e.to_string()))?;
    Ok((api, req))
}

/// The AdmissionReview answering `uid` in `api_version`.
pub fn review_response(api_version: &str, uid: &str, r: &AdmissionResponse) -> Value {
    let mut resp = Map::new();
    resp.insert("uid".into(), json!(uid));
    resp.insert("allowed".into(), json!(r.allowed));
    resp.insert(
        "status".into(),
        json!({"code": r.code, "message": r.message, "status": if r.allowed {"Success"} else {"Failure"}}),
    );
    if !r.patch.is_empty() {
        let bytes = serde_json::to_vec(&r.patch).unwrap_or_default();
        resp.insert(
            "patch".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
        );
        resp.insert("patchType".into(), json!("JSONPatch"));
    }
    if !r.audit.is_empty() {
        let m: Map<String, Value> = r.audit.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        resp.insert("auditAnnotations".into(), Value::Object(m));
    }
    json!({"apiVersion": api_version, "kind": "AdmissionReview", "response": resp})
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The JSON patch turning `before` into `after`: objects are compared key by key, arrays of
/// equal length element by element (an array whose length changed is replaced whole), other
/// values replaced. Both sides should come from the same typed serialisation.
pub fn json_patch(before: &Value, after: &Value) -> Vec<PatchOp> {
    let mut ops = Vec::new();
    diff(&mut ops, String::new(), before, after);
    ops
}

fn diff(ops: &mut Vec<PatchOp>, path: String, a: &Value, b: &Value) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = format!("{path}/{}", escape(k));
                match y.get(k) {
                    Some(vb) => diff(ops, p, va, vb),
                    None => ops.push(PatchOp {
                        op: "remove",
                        path: p,
                        value: None,
                    }),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    ops.push(PatchOp {
                        op: "add",
                        path: format!("{path}/{}", escape(k)),
                        value: Some(vb.clone()),
                    });
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(ops, format!("{path}/{i}"), va, vb);
            }
        }
        _ => ops.push(PatchOp {
            op: "replace",
            path,
            value: Some(b.clone()),
        }),
    }
}

/// Applies `ops` to `doc` (for tests and the load generator's checks). Errors name the path.
pub fn apply_patch(doc: &mut Value, ops: &[PatchOp]) -> Result<(), String> {
    for op in ops {
        let (parent, last) = match op.path.rfind('/') {
            Some(i) => (&op.path[..i], &op.path[i + 1..]),
            None => return Err(format!("{}: not a pointer", op.path)),
        };
        let last = last.replace("~1", "/").replace("~0", "~");
        let target = doc
            .pointer_mut(parent)
            .ok_or_else(|| format!("{}: parent missing", op.path))?;
        match (op.op, target) {
            ("remove", Value::Object(m)) => {
                m.remove(&last);
            }
            (_, Value::Object(m)) => {
                m.insert(last, op.value.clone().unwrap_or(Value::Null));
            }
            ("remove", Value::Array(a)) => {
                let i: usize = last.parse().map_err(|_| format!("{}: index", op.path))?;
                if i < a.len() {
                    a.remove(i);
                }
            }
            (_, Value::Array(a)) => {
                let i: usize = last.parse().map_err(|_| format!("{}: index", op.path))?;
                if let Some(slot) = a.get_mut(i) {
                    *slot = op.value.clone().unwrap_or(Value::Null);
                } else {
                    a.push(op.value.clone().unwrap_or(Value::Null));
                }
            }
            _ => return Err(format!("{}: parent is not a container", op.path)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_round_trips_and_escapes() {
        let a = json!({"metadata": {"annotations": {"a/b": "1"}}, "spec": {"containers": [{"name": "c"}]}});
        let b = json!({"metadata": {"annotations": {"a/b": "2", "x~y": "3"}}, "spec": {"containers": [{"name": "c", "securityContext": {"privileged": false}}]}});
        let ops = json_patch(&a, &b);
        assert!(ops.iter().any(|o| o.path == "/metadata/annotations/a~1b"));
        assert!(ops.iter().any(|o| o.path == "/metadata/annotations/x~0y"));
        let mut c = a.clone();
        apply_patch(&mut c, &ops).expect("applies");
        assert_eq!(c, b);
    }

    #[test]
    fn both_review_versions_are_answered_in_kind() {
        for api in ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] {
            let body = json!({"apiVersion": api, "kind": "AdmissionReview", "request": {"uid": "u1", "operation": "CREATE"}});
            let (v, req) = parse_review(body.to_string().as_bytes()).expect("parses");
            assert_eq!(v, api);
            let out = review_response(&v, &req.uid, &AdmissionResponse::deny(403, "spec.x: bad"));
            assert_eq!(out["apiVersion"], api);
            assert_eq!(out["response"]["uid"], "u1");
            assert_eq!(out["response"]["allowed"], false);
            assert_eq!(out["response"]["status"]["message"], "spec.x: bad");
        }
        assert!(parse_review(b"{\"apiVersion\":\"v1\"}").is_err());
    }
}
