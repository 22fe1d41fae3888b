//! CRD conversion (VER-02..VER-08): `v1` is the hub; legacy versions (`v1beta1`,
//! `v1alpha1`, `v1alpha2`) convert through it. Pure functions on JSON objects plus the
//! `ConversionReview` envelope.
//!
//! Intended behaviour where upstream loses data: our legacy schemas are the v1 schemas, so a
//! round trip through a legacy version keeps every v1 field (VER-06); `kind: ApparmorProfile`
//! in a legacy ProfileRecording becomes `AppArmorProfile` (VER-07); 0.10 field names on legacy
//! versions (`disabled`, `permissive`, `complainMode`, SPNS top-level `nodeName`/`status`,
//! SPOD flat `allowedSyscalls`) are translated to the v1 shape (VER-08).

use serde_json::{json, Map, Value};

/// Why an object could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// The object lacks `apiVersion` or `kind`, or names another group.
    #[error("object {0}: not a security-profiles-operator object")]
    NotOurs(String),
    /// The requested version is not served for the kind.
    #[error("{kind}: version {version} is not served")]
    UnknownVersion {
        /// The kind.
        kind: String,
        /// The version asked for.
        version: String,
    },
}

fn legacy_version(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "SeccompProfile" => "v1beta1",
        "SelinuxProfile" | "RawSelinuxProfile" => "v1alpha2",
        "AppArmorProfile"
        | "ProfileBinding"
        | "ProfileRecording"
        | "SecurityProfileNodeStatus"
        | "SecurityProfilesOperatorDaemon" => "v1alpha1",
        _ => return None,
    })
}

fn map_enum(v: &mut Value, pairs: &[(&str, &str)], empty: Option<&str>, to_hub: bool) {
    match v.as_str() {
        Some(s) => {
            for (legacy, hub) in pairs {
                let (from, to) = if to_hub { (legacy, hub) } else { (hub, legacy) };
                if s == *from {
                    *v = json!(to);
                    return;
                }
            }
        }
        None if v.is_null() => {
            if let (Some(e), true) = (empty, to_hub) {
                *v = json!(e);
            }
        }
        None => {}
    }
}

fn spec_mut(o: &mut Value) -> Option<&mut Map<String, Value>> {
    o.get_mut("spec").and_then(Value::as_object_mut)
}

/// 0.10 booleans → v1 enums on a spec (VER-08).
fn bool_alias(spec: &mut Map<String, Value>, old: &str, new: &str, when_true: &str) {
    if let Some(b) = spec.remove(old) {
        if b.as_bool() == Some(true) {
            spec.insert(new.into(), json!(when_true));
        }
    }
}

fn to_hub(kind: &str, o: &mut Value) {
    match kind {
        "SeccompProfile" | "RawSelinuxProfile" => {
            if let Some(spec) = spec_mut(o) {
                bool_alias(spec, "disabled", "state", "Disabled");
            }
        }
        "SelinuxProfile" => {
            if let Some(spec) = spec_mut(o) {
                bool_alias(spec, "disabled", "state", "Disabled");
                bool_alias(spec, "permissive", "mode", "Permissive");
            }
        }
        "AppArmorProfile" => {
            if let Some(spec) = spec_mut(o) {
                bool_alias(spec, "disabled", "state", "Disabled");
                bool_alias(spec, "complainMode", "mode", "Complain");
            }
        }
        "SecurityProfileNodeStatus" => {
            let Some(m) = o.as_object_mut() else { return };
            if let Some(node) = m.remove("nodeName") {
                m.entry("spec").or_insert_with(|| json!({}))["nodeName"] = node;
            }
            if let Some(Value::String(s)) = m.get("status").cloned() {
                m.insert("status".into(), json!({ "status": s }));
            }
        }
        _ => {}
    }
    recording_and_spod(kind, o, true);
}

fn recording_and_spod(kind: &str, o: &mut Value, hub: bool) {
    match kind {
        "ProfileRecording" => {
            if let Some(spec) = spec_mut(o) {
                let r = spec.entry("recorder").or_insert(Value::Null);
                map_enum(r, &[("logs", "Logs"), ("bpf", "Bpf")], Some("Logs"), hub);
                let m = spec.entry("mergeStrategy").or_insert(Value::Null);
                map_enum(
                    m,
                    &[("none", "None"), ("containers", "Containers")],
                    Some("None"),
                    hub,
                );
                if let (true, Some(k)) = (hub, spec.get_mut("kind")) {
                    map_enum(k, &[("ApparmorProfile", "AppArmorProfile")], None, true);
                }
            }
        }
        "SecurityProfilesOperatorDaemon" => {
            let states = [
                ("PENDING", "Pending"),
                ("CREATING", "Creating"),
                ("UPDATING", "Updating"),
                ("RUNNING", "Running"),
                ("ERROR", "Error"),
            ];
            if let Some(st) = o.get_mut("status").and_then(Value::as_object_mut) {
                let s = st.entry("state").or_insert(Value::Null);
                map_enum(s, &states, Some("Pending"), hub);
            }
            if let Some(spec) = spec_mut(o) {
                if hub {
                    for key in ["allowedSyscalls", "allowedSeccompActions"] {
                        if let Some(v) = spec.remove(key) {
                            spec.entry("security").or_insert_with(|| json!({}))[key] = v;
                        }
                    }
                }
                if let Some(en) = spec.get_mut("enricher").and_then(Value::as_object_mut) {
                    if let Some(src) = en.get_mut("logEnricherSource") {
                        map_enum(
                            src,
                            &[("auditd", "Auditd"), ("bpf", "Bpf")],
                            Some("Auditd"),
                            hub,
                        );
                    }
                }
            }
        }
        _ => {}
    }
}

/// Converts one object to `desired` (`<group>/<version>`).
pub fn convert(mut o: Value, desired: &str) -> Result<Value, ConvertError> {
    let api = o["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = o["kind"].as_str().unwrap_or_default().to_string();
    let name = o["metadata"]["name"].as_str().unwrap_or("?").to_string();
    let (group, _from) = api
        .split_once('/')
        .ok_or_else(|| ConvertError::NotOurs(name.clone()))?;
    let (dgroup, to) = desired
        .split_once('/')
        .ok_or_else(|| ConvertError::NotOurs(name.clone()))?;
    if group != spo_core::GROUP || dgroup != spo_core::GROUP {
        return Err(ConvertError::NotOurs(name));
    }
    let legacy = legacy_version(&kind).ok_or_else(|| ConvertError::NotOurs(name.clone()))?;
    if to != "v1" && to != legacy {
        return Err(ConvertError::UnknownVersion {
            kind,
            version: to.into(),
        });
    }
    // Always normalise through the hub: legacy names are translated whichever way we go.
    to_hub(&kind, &mut o);
    if to == legacy {
        recording_and_spod(&kind, &mut o, false);
    }
    o["apiVersion"] = json!(desired);
    Ok(o)
}

/// Answers a `ConversionReview` request (apiextensions.k8s.io/v1).
pub fn review(request: &Value) -> Value {
    let req = &request["request"];
    let uid = req["uid"].clone();
    let desired = req["desiredAPIVersion"].as_str().unwrap_or_default();
    let objects = req["objects"].as_array().cloned().unwrap_or_default();
    let converted: Result<Vec<Value>, ConvertError> =
        objects.into_iter().map(|o| convert(o, desired)).collect();
    let response = match converted {
        Ok(objs) => json!({"uid": uid, "result": {"status": "Success"}, "convertedObjects": objs}),
        Err(e) => json!({"uid": uid, "result": {"status": "Failure", "message": e.to_string()}}),
    };
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": response})
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "security-profiles-operator.x-k8s.io";

    // covers: VER-05, VER-08 (seccomp `disabled`)
    #[test]
    fn seccomp_legacy_disabled_becomes_state() {
        let o = json!({"apiVersion": format!("{G}/v1beta1"), "kind": "SeccompProfile",
            "metadata": {"name": "p"}, "spec": {"defaultAction": "SCMP_ACT_LOG", "disabled": true}});
        let v1 = convert(o, &format!("{G}/v1")).expect("converts");
        assert_eq!(
            v1["spec"],
            json!({"defaultAction": "SCMP_ACT_LOG", "state": "Disabled"})
        );
        let back = convert(v1.clone(), &format!("{G}/v1beta1")).expect("back");
        assert_eq!(back["spec"], v1["spec"], "round trip keeps every field");
        assert_eq!(back["apiVersion"], format!("{G}/v1beta1"));
    }

    // covers: VER-08 (permissive, complainMode), VER-05
    #[test]
    fn selinux_and_apparmor_aliases() {
        let se = json!({"apiVersion": format!("{G}/v1alpha2"), "kind": "SelinuxProfile",
            "metadata": {"name": "s"}, "spec": {"permissive": true, "disabled": false}});
        let v1 = convert(se, &format!("{G}/v1")).expect("converts");
        assert_eq!(v1["spec"], json!({"mode": "Permissive"}));
        let aa = json!({"apiVersion": format!("{G}/v1alpha1"), "kind": "AppArmorProfile",
            "metadata": {"name": "a"}, "spec": {"complainMode": true}});
        assert_eq!(
            convert(aa, &format!("{G}/v1")).expect("converts")["spec"],
            json!({"mode": "Complain"})
        );
    }

    // covers: VER-03, VER-07
    #[test]
    fn recording_enums_both_ways() {
        let o = json!({"apiVersion": format!("{G}/v1alpha1"), "kind": "ProfileRecording",
            "metadata": {"name": "r"}, "spec": {"kind": "ApparmorProfile", "recorder": "bpf", "podSelector": {}}});
        let v1 = convert(o, &format!("{G}/v1")).expect("converts");
        assert_eq!(v1["spec"]["recorder"], "Bpf");
        assert_eq!(v1["spec"]["mergeStrategy"], "None");
        assert_eq!(v1["spec"]["kind"], "AppArmorProfile");
        let back = convert(v1, &format!("{G}/v1alpha1")).expect("back");
        assert_eq!(back["spec"]["recorder"], "bpf");
        assert_eq!(back["spec"]["mergeStrategy"], "none");
    }

    // covers: VER-04, VER-08 (SPOD flat allowedSyscalls), SPNS top-level fields
    #[test]
    fn spod_and_node_status() {
        let o = json!({"apiVersion": format!("{G}/v1alpha1"), "kind": "SecurityProfilesOperatorDaemon",
            "metadata": {"name": "spod"}, "spec": {"allowedSyscalls": ["read"],
            "enricher": {"logEnricherSource": "bpf"}}, "status": {"state": "RUNNING"}});
        let v1 = convert(o, &format!("{G}/v1")).expect("converts");
        assert_eq!(v1["spec"]["security"]["allowedSyscalls"], json!(["read"]));
        assert_eq!(v1["spec"]["enricher"]["logEnricherSource"], "Bpf");
        assert_eq!(v1["status"]["state"], "Running");
        let back = convert(v1, &format!("{G}/v1alpha1")).expect("back");
        assert_eq!(back["status"]["state"], "RUNNING");
        assert_eq!(
            back["spec"]["security"]["allowedSyscalls"],
            json!(["read"]),
            "VER-06: kept"
        );
        let n = json!({"apiVersion": format!("{G}/v1alpha1"), "kind": "SecurityProfileNodeStatus",
            "metadata": {"name": "p-n"}, "nodeName": "n", "status": "Installed"});
        let v1 = convert(n, &format!("{G}/v1")).expect("converts");
        assert_eq!(v1["spec"]["nodeName"], "n");
        assert_eq!(v1["status"]["status"], "Installed");
    }

    #[test]
    fn review_envelope_and_errors() {
        let req = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
            "request": {"uid": "u1", "desiredAPIVersion": format!("{G}/v7"), "objects": [
                {"apiVersion": format!("{G}/v1"), "kind": "SeccompProfile", "metadata": {"name": "p"}, "spec": {}}]}});
        let resp = review(&req);
        assert_eq!(resp["response"]["uid"], "u1");
        assert_eq!(resp["response"]["result"]["status"], "Failure");
        assert!(resp["response"]["result"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("v7"));
    }
}
