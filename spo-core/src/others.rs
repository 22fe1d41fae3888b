//! Validation of the SPO kinds that are not profiles — ProfileRecording, ProfileBinding,
//! SecurityProfilesOperatorDaemon, SecurityProfileNodeStatus — against their own spec
//! (`recording.md` §1, `operator.md` §1, §5, §6 and upstream's CRD schemas), so a linter
//! reports what is wrong with them instead of calling them broken profiles.

use serde_json::Value;

use crate::recording::{LabelSelector, ProfileRecording};
use crate::{DecodeError, Document, Kind, Version, Violations};

/// Every violation of a non-profile SPO document; paths are full (`spec.profileRef.kind`).
/// Profiles (SeccompProfile, SelinuxProfile, RawSelinuxProfile, AppArmorProfile) are not
/// handled here and give no violations.
pub fn validate_other(doc: &Document) -> Violations {
    let mut v = doc.metadata.validate();
    match doc.kind {
        Kind::ProfileRecording => recording(doc, &mut v),
        Kind::ProfileBinding => binding(doc, &mut v),
        Kind::SecurityProfilesOperatorDaemon => daemon(&doc.spec, &mut v),
        Kind::SecurityProfileNodeStatus => node_status(doc, &mut v),
        _ => {}
    }
    v
}

fn decode_violation(e: DecodeError, v: &mut Violations) {
    match e {
        DecodeError::Field { path, message, .. } => v.push(path, message),
        other => v.push("spec", other.to_string()),
    }
}

fn selector(at: &str, s: &LabelSelector, v: &mut Violations) {
    for (i, r) in s.match_expressions.iter().enumerate() {
        let path = format!("{at}.matchExpressions[{i}]");
        match r.operator.as_str() {
            "In" | "NotIn" if r.values.is_empty() => v.push(
                format!("{path}.values"),
                format!("{} needs values", r.operator),
            ),
            "Exists" | "DoesNotExist" if !r.values.is_empty() => v.push(
                format!("{path}.values"),
                format!("must be empty for {}", r.operator),
            ),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => v.push(
                format!("{path}.operator"),
                format!("{other:?} is not In, NotIn, Exists or DoesNotExist"),
            ),
        }
    }
}

// covers: RC-01, RC-02, RC-08
fn recording(doc: &Document, v: &mut Violations) {
    let r = match ProfileRecording::from_document(doc.clone()) {
        Ok(r) => r,
        Err(e) => return decode_violation(e, v),
    };
    if !r.spec.is_supported() {
        v.push(
            "spec.recorder",
            format!(
                "{:?} cannot be recorded with {:?} (SeccompProfile: Logs or Bpf; SelinuxProfile: \
                 Logs; AppArmorProfile: Bpf)",
                r.spec.kind, r.spec.recorder
            ),
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in r.spec.containers.iter().enumerate() {
        if c.is_empty() {
            v.push(format!("spec.containers[{i}]"), "empty container name");
        } else if !seen.insert(c) {
            v.push(
                format!("spec.containers[{i}]"),
                format!("{c:?} is listed twice"),
            );
        }
    }
    selector("spec.podSelector", &r.spec.pod_selector, v);
}

fn non_empty_string(spec: &Value, field: &str, path: &str, v: &mut Violations) -> Option<String> {
    match spec.get(field) {
        None | Some(Value::Null) => {
            v.push(path, "required");
            None
        }
        Some(Value::String(s)) if s.is_empty() => {
            v.push(path, "must not be empty");
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            v.push(path, "must be a string");
            None
        }
    }
}

fn unknown_keys(value: &Value, known: &[&str], at: &str, v: &mut Violations) {
    if let Some(map) = value.as_object() {
        for k in map.keys().filter(|k| !known.contains(&k.as_str())) {
            v.push(format!("{at}.{k}"), "unknown field");
        }
    }
}

// covers: OP-28, OP-32, OP-33
fn binding(doc: &Document, v: &mut Violations) {
    let spec = &doc.spec;
    if !spec.is_object() {
        v.push("spec", "required (profileRef and image)");
        return;
    }
    let mut known = vec!["profileRef", "image"];
    if doc.version == Version::V1 {
        known.push("podSelector");
    }
    unknown_keys(spec, &known, "spec", v);
    non_empty_string(spec, "image", "spec.image", v);
    match spec.get("profileRef") {
        Some(r) if r.is_object() => {
            unknown_keys(r, &["kind", "name"], "spec.profileRef", v);
            if let Some(kind) = non_empty_string(r, "kind", "spec.profileRef.kind", v) {
                let ok = match kind.as_str() {
                    "SeccompProfile" | "SelinuxProfile" => true,
                    "AppArmorProfile" => doc.version == Version::V1,
                    _ => false,
                };
                if !ok {
                    v.push(
                        "spec.profileRef.kind",
                        format!(
                            "{kind:?} cannot be bound (SeccompProfile, SelinuxProfile, and in v1 \
                             AppArmorProfile; a RawSelinuxProfile never)"
                        ),
                    );
                }
            }
            non_empty_string(r, "name", "spec.profileRef.name", v);
        }
        _ => v.push("spec.profileRef", "required (kind and name)"),
    }
    if let Some(sel) = spec.get("podSelector").filter(|s| !s.is_null()) {
        match serde_json::from_value::<LabelSelector>(sel.clone()) {
            Ok(s) => selector("spec.podSelector", &s, v),
            Err(e) => v.push("spec.podSelector", e.to_string()),
        }
    }
}

fn check_bool(spec: &Value, path: &[&str], v: &mut Violations) {
    let mut cur = spec;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if !cur.is_boolean() && !cur.is_null() {
        v.push(format!("spec.{}", path.join(".")), "must be true or false");
    }
}

// covers: OP-17 (hostProcVolumePath), RC-34 (enricher filters are JSON)
fn daemon(spec: &Value, v: &mut Violations) {
    if spec.is_null() {
        return;
    }
    if !spec.is_object() {
        v.push("spec", "must be a mapping");
        return;
    }
    for path in [
        &["enableProfiling"][..],
        &["enableMemoryOptimization"],
        &["enableInsecureMetricsAccess"],
        &["enableAppArmor"],
        &["enableSelinux"],
        &["enableLogEnricher"],
        &["enableBpfRecorder"],
        &["enableJsonEnricher"],
        &["staticWebhookConfig"],
        &["selinux", "enable"],
        &["selinux", "enableRawSelinuxProfiles"],
        &["enricher", "enableLogEnricher"],
        &["enricher", "enableBpfRecorder"],
        &["enricher", "enableJsonEnricher"],
        &["webhook", "staticConfig"],
    ] {
        check_bool(spec, path, v);
    }
    if let Some(x) = spec.get("verbosity") {
        if x.as_u64().is_none_or(|n| n > 1) {
            v.push("spec.verbosity", "must be 0 (normal) or 1 (verbose)");
        }
    }
    if let Some(p) = spec.get("hostProcVolumePath") {
        let ok = p
            .as_str()
            .is_some_and(|p| p == "/proc" || p.starts_with("/proc/"));
        if !ok {
            v.push("spec.hostProcVolumePath", "must match ^/proc(/.*)?$");
        }
    }
    for (path, value) in [
        ("logEnricherSource", spec.get("logEnricherSource")),
        (
            "enricher.logEnricherSource",
            spec.get("enricher")
                .and_then(|e| e.get("logEnricherSource")),
        ),
    ] {
        if let Some(s) = value.filter(|s| !s.is_null()) {
            if !matches!(s.as_str(), Some("auditd" | "bpf" | "Auditd" | "Bpf")) {
                v.push(format!("spec.{path}"), "must be auditd or bpf");
            }
        }
    }
    for (path, value) in [
        ("logEnricherFilters", spec.get("logEnricherFilters")),
        (
            "enricher.logEnricherFilters",
            spec.get("enricher")
                .and_then(|e| e.get("logEnricherFilters")),
        ),
        (
            "enricher.jsonEnricherFilters",
            spec.get("enricher")
                .and_then(|e| e.get("jsonEnricherFilters")),
        ),
    ] {
        match value {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.trim().is_empty() => {}
            Some(Value::String(s)) => {
                if !serde_json::from_str::<Value>(s).is_ok_and(|f| f.is_array()) {
                    v.push(
                        format!("spec.{path}"),
                        "must be a JSON array of filter rules",
                    );
                }
            }
            Some(_) => v.push(format!("spec.{path}"), "must be a string holding JSON"),
        }
    }
}

fn node_status(doc: &Document, v: &mut Violations) {
    non_empty_string(&doc.spec, "nodeName", "spec.nodeName", v);
    if let Some(s) = doc
        .status
        .as_ref()
        .and_then(|s| s.get("status"))
        .filter(|s| !s.is_null())
    {
        const STATES: [&str; 7] = [
            "Pending",
            "Partial",
            "Disabled",
            "InProgress",
            "Installed",
            "Terminating",
            "Error",
        ];
        if !s.as_str().is_some_and(|s| STATES.contains(&s)) {
            v.push(
                "status.status",
                format!("must be one of {}", STATES.join(", ")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_documents;

    fn check(text: &str) -> Vec<String> {
        let doc = parse_documents(text).unwrap().remove(0);
        validate_other(&doc)
            .as_slice()
            .iter()
            .map(|x| x.path.clone())
            .collect()
    }

    const G: &str = "apiVersion: security-profiles-operator.x-k8s.io/v1\n";

    // covers: OP-33
    #[test]
    fn op_33_bindings_name_a_bindable_kind_and_an_image() {
        assert!(check(&format!("{G}kind: ProfileBinding\nmetadata: {{name: b}}\nspec: {{profileRef: {{kind: SeccompProfile, name: p}}, image: 'nginx:1'}}\n")).is_empty());
        assert_eq!(
            check(&format!("{G}kind: ProfileBinding\nmetadata: {{name: b}}\nspec: {{profileRef: {{kind: RawSelinuxProfile, name: ''}}, imgae: x}}\n")),
            ["spec.imgae", "spec.image", "spec.profileRef.kind", "spec.profileRef.name"]
        );
    }

    // covers: RC-01, RC-02
    #[test]
    fn rc_02_recordings_need_a_supported_pair() {
        assert!(check(&format!("{G}kind: ProfileRecording\nmetadata: {{name: r}}\nspec: {{kind: SeccompProfile, recorder: Bpf, podSelector: {{}}}}\n")).is_empty());
        assert_eq!(
            check(&format!("{G}kind: ProfileRecording\nmetadata: {{name: r}}\nspec: {{kind: SelinuxProfile, recorder: Bpf, podSelector: {{matchExpressions: [{{key: a, operator: In}}]}}, containers: [c, c]}}\n")),
            ["spec.recorder", "spec.containers[1]", "spec.podSelector.matchExpressions[0].values"]
        );
        assert_eq!(
            check(&format!("{G}kind: ProfileRecording\nmetadata: {{name: r}}\nspec: {{kind: SeccompProfile, recorder: Ebpf, podSelector: {{}}}}\n")),
            ["spec.recorder"]
        );
    }

    // covers: OP-17
    #[test]
    fn op_17_daemon_fields_have_their_types() {
        assert!(check(&format!("{G}kind: SecurityProfilesOperatorDaemon\nmetadata: {{name: spod}}\nspec: {{selinux: {{enable: false}}, enricher: {{enableLogEnricher: true, logEnricherSource: bpf}}, hostProcVolumePath: /proc}}\n")).is_empty());
        assert_eq!(
            check(&format!("{G}kind: SecurityProfilesOperatorDaemon\nmetadata: {{name: spod}}\nspec: {{enableAppArmor: 'yes', hostProcVolumePath: /host/proc, verbosity: 3, enricher: {{logEnricherFilters: '{{nope'}}}}\n")),
            ["spec.enableAppArmor", "spec.verbosity", "spec.hostProcVolumePath", "spec.enricher.logEnricherFilters"]
        );
    }

    #[test]
    fn node_statuses_name_a_node_and_a_known_state() {
        assert!(check(&format!("{G}kind: SecurityProfileNodeStatus\nmetadata: {{name: p-n}}\nspec: {{nodeName: n}}\nstatus: {{status: Installed}}\n")).is_empty());
        assert_eq!(
            check(&format!("{G}kind: SecurityProfileNodeStatus\nmetadata: {{name: p-n}}\nspec: {{}}\nstatus: {{status: Done}}\n")),
            ["spec.nodeName", "status.status"]
        );
    }
}
