//! Validation at `kubectl apply` time: SeccompProfile, SelinuxProfile, RawSelinuxProfile
//! (upstream's `rawselinuxprofile-validation.spo.io`, SE-25) and AppArmorProfile are decoded
//! with the LSM crates' version-tolerant decoders and checked with their validators — the
//! same ones the daemon runs before installing. A refusal names the field path.
//!
//! A SelinuxProfile parent that is another SelinuxProfile is not required to exist yet: a
//! `kubectl apply -f dir/` creates objects in file order, so the daemon reports a missing
//! parent later (SE-06) instead of the webhook refusing one apply order.

use serde_json::{Map, Value};
use spo_core::{Document, RawDocument};

use super::admission::{AdmissionRequest, AdmissionResponse};

/// Keeps only the metadata the profile decoders know (the server adds uid, managedFields…).
fn trimmed(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(Value::Object(meta)) = obj.get("metadata") {
        let mut m = Map::new();
        for k in ["name", "namespace", "labels", "annotations"] {
            if let Some(v) = meta.get(k) {
                m.insert(k.into(), v.clone());
            }
        }
        out["metadata"] = Value::Object(m);
    }
    if let Value::Object(map) = &mut out {
        map.remove("status");
    }
    out
}

/// Every violation of a profile object in any served version, as `path: reason` lines;
/// `Ok(())` when valid, and for kinds this webhook does not validate.
pub fn validate_object(obj: &Value) -> Result<(), String> {
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    if !matches!(
        kind.as_str(),
        "SeccompProfile" | "SelinuxProfile" | "RawSelinuxProfile" | "AppArmorProfile"
    ) {
        return Ok(());
    }
    let raw = RawDocument {
        index: 1,
        line: 1,
        value: trimmed(obj),
    };
    let doc = Document::from_raw(raw).map_err(|e| e.to_string())?;
    let violations = match kind.as_str() {
        "SeccompProfile" => {
            let p = spo_seccomp::SeccompProfile::from_document(&doc).map_err(|e| e.to_string())?;
            spo_seccomp::validate::validate(&p)
        }
        "SelinuxProfile" => {
            let p = spo_selinux::SelinuxProfile::from_document(&doc).map_err(|e| e.to_string())?;
            let opts = spo_selinux::Options::default();
            let v = spo_selinux::validate(&p, &opts, &spo_selinux::NoParents)
                .map_err(|e| e.to_string())?;
            let mut kept = spo_core::Violations::new();
            for x in v {
                if !x.reason.starts_with("couldn't find inherit reference") {
                    kept.push(x.path, x.reason);
                }
            }
            kept
        }
        "RawSelinuxProfile" => {
            let p =
                spo_selinux::RawSelinuxProfile::from_document(&doc).map_err(|e| e.to_string())?;
            spo_selinux::validate_raw(&p, &spo_selinux::Options::default())
        }
        "AppArmorProfile" => {
            let p =
                spo_apparmor::AppArmorProfile::from_document(&doc).map_err(|e| e.to_string())?;
            spo_apparmor::validate(&p, None)
        }
        _ => return Ok(()),
    };
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations.to_string())
    }
}

/// The validating handler (`/validate-profile`, `/validate-rawselinuxprofile`): CREATE and
/// UPDATE are checked, DELETE always passes; refusals are 403 with the field paths.
pub fn review(req: &AdmissionRequest) -> AdmissionResponse {
    if req.operation == "DELETE" {
        return AdmissionResponse::allow("delete");
    }
    let Some(obj) = &req.object else {
        return AdmissionResponse::allow("no object");
    };
    match validate_object(obj) {
        Ok(()) => AdmissionResponse::allow("valid"),
        Err(msg) => AdmissionResponse::deny(
            403,
            format!(
                "{} {:?} is invalid: {msg}",
                req.kind.kind,
                req.name.as_deref().unwrap_or("")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(obj: Value) -> AdmissionRequest {
        AdmissionRequest {
            uid: "u".into(),
            operation: "CREATE".into(),
            kind: super::super::admission::GroupVersionKind {
                kind: obj["kind"].as_str().unwrap_or_default().into(),
                ..Default::default()
            },
            name: obj["metadata"]["name"].as_str().map(String::from),
            object: Some(obj),
            ..Default::default()
        }
    }

    #[test]
    fn seccomp_unknown_syscall_and_bad_action_name_the_field() {
        let obj = json!({"apiVersion": "security-profiles-operator.x-k8s.io/v1beta1", "kind": "SeccompProfile",
            "metadata": {"name": "bad", "uid": "x", "managedFields": []},
            "spec": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW", "names": ["read", "opne"]}]}});
        let r = review(&req(obj));
        assert!(!r.allowed);
        assert!(
            r.message.contains("spec.syscalls[0].names[1]"),
            "{}",
            r.message
        );
        let obj = json!({"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "SeccompProfile",
            "metadata": {"name": "bad"}, "spec": {"defaultAction": "SCMP_ACT_MAYBE"}});
        let r = review(&req(obj));
        assert!(!r.allowed);
        assert!(r.message.contains("spec.defaultAction"), "{}", r.message);
        let ok = json!({"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "SeccompProfile",
            "metadata": {"name": "ok"}, "spec": {"defaultAction": "SCMP_ACT_LOG"}});
        assert!(review(&req(ok)).allowed);
    }

    // covers: SE-25
    #[test]
    fn raw_selinux_restricted_directive_is_refused() {
        let obj = json!({"apiVersion": "security-profiles-operator.x-k8s.io/v1alpha2", "kind": "RawSelinuxProfile",
            "metadata": {"name": "raw"}, "spec": {"policy": "(allow process self (file (read)))\n( typepermissive process)"}});
        let r = review(&req(obj));
        assert!(!r.allowed);
        assert!(r.message.contains("spec.policy"), "{}", r.message);
        let ok = json!({"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "RawSelinuxProfile",
            "metadata": {"name": "raw"}, "spec": {"policy": "(allow process typepermissive (file (read)))"}});
        assert!(review(&req(ok)).allowed, "argument words pass");
    }

    #[test]
    fn selinux_missing_profile_parent_is_left_to_the_daemon_but_bad_labels_are_refused() {
        let ok = json!({"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "SelinuxProfile",
            "metadata": {"name": "p"}, "spec": {"inherit": [{"kind": "SelinuxProfile", "name": "later"}],
            "allow": {"var_log_t": {"file": ["read"]}}}});
        assert!(review(&req(ok)).allowed);
        let bad = json!({"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "SelinuxProfile",
            "metadata": {"name": "p"}, "spec": {"allow": {"var_log_t)(": {"file": ["read"]}}}});
        let r = review(&req(bad));
        assert!(!r.allowed);
        assert!(r.message.contains("spec.allow"), "{}", r.message);
    }

    #[test]
    fn apparmor_injected_token_is_refused() {
        let bad = json!({"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "AppArmorProfile",
            "metadata": {"name": "aa"}, "spec": {"abstract": {"filesystem": {"readOnlyPaths": ["/etc/** r,\n  /** rwx"]}}}});
        let r = review(&req(bad));
        assert!(!r.allowed, "{r:?}");
        assert!(
            r.message
                .contains("spec.abstract.filesystem.readOnlyPaths[0]"),
            "{}",
            r.message
        );
    }

    #[test]
    fn delete_and_other_kinds_pass() {
        let mut r = req(json!({"kind": "Pod"}));
        assert!(review(&r).allowed);
        r.operation = "DELETE".into();
        r.object = None;
        assert!(review(&r).allowed);
    }
}
