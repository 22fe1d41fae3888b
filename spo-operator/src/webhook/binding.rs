//! ProfileBinding mutation (OP-28..OP-34) as a pure function over a typed Pod: the bindings of
//! the pod's namespace, each with its profile already resolved, in; the changed pod and the
//! names of the bindings that changed it out. Fixes upstream's weak point 6: the "changed"
//! flag accumulates over containers and bindings, so a later binding that changes nothing can
//! no longer cancel an earlier one's patch.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    AppArmorProfile, Pod, PodSecurityContext, SELinuxOptions, SeccompProfile, SecurityContext,
};
use spo_core::recording::LabelSelector;

/// Finalizer a binding holds while pods are bound (OP-31).
pub const FINALIZER: &str = "active-workload-lock";

/// A resolved profile reference: what goes into a security context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// Seccomp: the profile's `status.localhostProfile`.
    Seccomp(String),
    /// SELinux: the profile's `status.usage` (e.g. `nginx.process`).
    Selinux(String),
    /// AppArmor: the profile's name.
    AppArmor(String),
}

/// One binding of the pod's namespace, its profile looked up (`None` = not found: skipped,
/// never blocks pod creation — OP-30).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The binding's name.
    pub name: String,
    /// `spec.image`: exact image string or `*` (OP-34).
    pub image: String,
    /// `spec.podSelector` (OP-32).
    pub selector: Option<LabelSelector>,
    /// The resolved profile.
    pub profile: Option<Bound>,
}

/// Whether `sel` selects `labels`: `None` when the selector is invalid (an unknown operator,
/// or values where none belong), which skips the binding. Nil/empty selects everything.
pub fn selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> Option<bool> {
    let mut ok = sel
        .match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v));
    for r in &sel.match_expressions {
        let have = labels.get(&r.key);
        let m = match r.operator.as_str() {
            "In" if !r.values.is_empty() => have.is_some_and(|v| r.values.contains(v)),
            "NotIn" if !r.values.is_empty() => !have.is_some_and(|v| r.values.contains(v)),
            "Exists" if r.values.is_empty() => have.is_some(),
            "DoesNotExist" if r.values.is_empty() => have.is_none(),
            _ => return None,
        };
        ok &= m;
    }
    Some(ok)
}

/// The pod's labels.
pub fn pod_labels(pod: &Pod) -> BTreeMap<String, String> {
    pod.metadata.labels.clone().unwrap_or_default()
}

/// Whether a binding applies to a pod by its selector (step 1).
pub fn selects(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    selector.is_none_or(|s| selector_matches(s, labels) == Some(true))
}

/// Whether a binding of `image` and `selector` could have bound `pod` (used on DELETE).
pub fn could_bind(image: &str, selector: Option<&LabelSelector>, pod: &Pod) -> bool {
    if !selects(selector, &pod_labels(pod)) {
        return false;
    }
    image == "*"
        || pod.spec.as_ref().is_some_and(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
                .any(|c| c.image.as_deref() == Some(image))
        })
}

fn apply_container(sc: &mut Option<SecurityContext>, b: &Bound) -> bool {
    let sc = sc.get_or_insert_with(Default::default);
    match b {
        Bound::Seccomp(path) => {
            let want = SeccompProfile {
                type_: "Localhost".into(),
                localhost_profile: Some(path.clone()),
            };
            let changed = sc.seccomp_profile.as_ref() != Some(&want);
            sc.seccomp_profile = Some(want);
            changed
        }
        Bound::Selinux(usage) => {
            let want = SELinuxOptions {
                type_: Some(usage.clone()),
                ..Default::default()
            };
            let changed = sc.se_linux_options.as_ref() != Some(&want);
            sc.se_linux_options = Some(want);
            changed
        }
        Bound::AppArmor(name) => {
            let want = AppArmorProfile {
                type_: "Localhost".into(),
                localhost_profile: Some(name.clone()),
            };
            let changed = sc.app_armor_profile.as_ref() != Some(&want);
            sc.app_armor_profile = Some(want);
            changed
        }
    }
}

fn apply_pod_level(sc: &mut Option<PodSecurityContext>, b: &Bound) -> bool {
    let sc = sc.get_or_insert_with(Default::default);
    match b {
        Bound::Seccomp(path) if sc.seccomp_profile.is_none() => {
            sc.seccomp_profile = Some(SeccompProfile {
                type_: "Localhost".into(),
                localhost_profile: Some(path.clone()),
            });
            true
        }
        Bound::Selinux(usage) if sc.se_linux_options.is_none() => {
            sc.se_linux_options = Some(SELinuxOptions {
                type_: Some(usage.clone()),
                ..Default::default()
            });
            true
        }
        Bound::AppArmor(name) if sc.app_armor_profile.is_none() => {
            sc.app_armor_profile = Some(AppArmorProfile {
                type_: "Localhost".into(),
                localhost_profile: Some(name.clone()),
            });
            true
        }
        _ => {
            tracing::info!("cannot override existing pod-level profile for pod or container");
            false
        }
    }
}

/// Applies the bindings to `pod` (steps 1–5 of ProfileBinding admission) and returns the names
/// of the bindings that changed it, each once, in binding order.
pub fn mutate_pod(pod: &mut Pod, bindings: &[Candidate]) -> Vec<String> {
    let labels = pod_labels(pod);
    let mut changed_by: Vec<String> = Vec::new();
    let mut fallback: Option<&Candidate> = None;
    let Some(spec) = pod.spec.as_mut() else {
        return changed_by;
    };
    for b in bindings {
        if !selects(b.selector.as_ref(), &labels) {
            continue;
        }
        let Some(profile) = &b.profile else { continue };
        if b.image == "*" {
            fallback = Some(b);
            continue;
        }
        let mut changed = false;
        let inits = spec.init_containers.iter_mut().flatten();
        for c in spec.containers.iter_mut().chain(inits) {
            if c.image.as_deref() == Some(b.image.as_str()) {
                changed |= apply_container(&mut c.security_context, profile);
            }
        }
        if changed && !changed_by.contains(&b.name) {
            changed_by.push(b.name.clone());
        }
    }
    if changed_by.is_empty() {
        if let Some(b) = fallback {
            if let Some(profile) = &b.profile {
                let before = spec.security_context.clone();
                if apply_pod_level(&mut spec.security_context, profile) {
                    changed_by.push(b.name.clone());
                } else {
                    spec.security_context = before;
                }
            }
        }
    }
    changed_by
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).expect("pod")
    }

    fn cand(name: &str, image: &str, b: Option<Bound>) -> Candidate {
        Candidate {
            name: name.into(),
            image: image.into(),
            selector: None,
            profile: b,
        }
    }

    // covers: OP-28, OP-34
    #[test]
    fn exact_image_match_overrides_existing_values() {
        let mut p = pod(json!({"metadata": {"name": "p"}, "spec": {
            "initContainers": [{"name": "i", "image": "nginx:1.19"}],
            "containers": [
                {"name": "a", "image": "nginx:1.19", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
                {"name": "b", "image": "nginx:1.19.1"},
                {"name": "c", "image": "docker.io/nginx:1.19"}]}}));
        let changed = mutate_pod(
            &mut p,
            &[cand(
                "sb",
                "nginx:1.19",
                Some(Bound::Seccomp("operator/prof.json".into())),
            )],
        );
        assert_eq!(changed, vec!["sb"]);
        let s = p.spec.expect("spec");
        let sp = |c: &k8s_openapi::api::core::v1::Container| {
            c.security_context
                .as_ref()
                .and_then(|s| s.seccomp_profile.clone())
        };
        let want = Some(SeccompProfile {
            type_: "Localhost".into(),
            localhost_profile: Some("operator/prof.json".into()),
        });
        assert_eq!(sp(&s.containers[0]), want, "Unconfined overridden");
        assert_eq!(sp(&s.containers[1]), None, "exact match only");
        assert_eq!(sp(&s.containers[2]), None, "no registry normalisation");
        assert_eq!(sp(&s.init_containers.expect("init")[0]), want);
    }

    // covers: OP-28, OP-33
    #[test]
    fn selinux_replaces_whole_options_and_apparmor_is_bindable() {
        let mut p = pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "image": "x", "securityContext": {"seLinuxOptions": {"user": "u", "type": "t"}}}]}}));
        let changed = mutate_pod(
            &mut p,
            &[
                cand("se", "x", Some(Bound::Selinux("nginx.process".into()))),
                cand("aa", "x", Some(Bound::AppArmor("prof".into()))),
            ],
        );
        assert_eq!(changed, vec!["se", "aa"]);
        let sc = p.spec.expect("spec").containers[0]
            .security_context
            .clone()
            .expect("sc");
        assert_eq!(
            sc.se_linux_options,
            Some(SELinuxOptions {
                type_: Some("nginx.process".into()),
                ..Default::default()
            })
        );
        assert_eq!(
            sc.app_armor_profile.and_then(|a| a.localhost_profile),
            Some("prof".into())
        );
    }

    // covers: SE-29
    #[test]
    fn se_29_selinux_binding_sets_selinux_options_type_to_the_usage() {
        // Container image match: the container's seLinuxOptions.type is the usage.
        let mut p = pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "web", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]}}));
        let usage = Bound::Selinux("nginx-secure.process".into());
        assert_eq!(
            mutate_pod(&mut p, &[cand("b", "nginx:1", Some(usage.clone()))]),
            vec!["b"]
        );
        let spec = p.spec.expect("spec");
        let ty = |c: &k8s_openapi::api::core::v1::Container| {
            c.security_context
                .as_ref()
                .and_then(|s| s.se_linux_options.as_ref())
                .and_then(|o| o.type_.clone())
        };
        assert_eq!(ty(&spec.containers[0]), Some("nginx-secure.process".into()));
        assert_eq!(ty(&spec.containers[1]), None, "other images untouched");
        // `*`: the pod-level seLinuxOptions.type, when unset.
        let mut q = pod(
            json!({"metadata": {"name": "q"}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
        );
        assert_eq!(
            mutate_pod(&mut q, &[cand("all", "*", Some(usage))]),
            vec!["all"]
        );
        let psc = q.spec.and_then(|s| s.security_context);
        assert_eq!(
            psc.and_then(|s| s.se_linux_options).and_then(|o| o.type_),
            Some("nginx-secure.process".into())
        );
        // A binding whose SelinuxProfile was not found changes nothing (OP-30).
        let mut r = pod(
            json!({"metadata": {"name": "r"}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
        );
        assert!(mutate_pod(&mut r, &[cand("gone", "x", None)]).is_empty());
    }

    // covers: OP-29
    #[test]
    fn star_binding_sets_pod_level_only_when_unset_and_nothing_else_changed() {
        let mut p = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
        );
        let b = [
            cand("s1", "*", Some(Bound::Seccomp("operator/one.json".into()))),
            cand("s2", "*", Some(Bound::Seccomp("operator/two.json".into()))),
        ];
        assert_eq!(mutate_pod(&mut p, &b), vec!["s2"], "last * wins");
        let psc = p.spec.as_ref().and_then(|s| s.security_context.clone());
        assert_eq!(
            psc.and_then(|s| s.seccomp_profile)
                .and_then(|s| s.localhost_profile),
            Some("operator/two.json".into())
        );
        // Set already: not overridden, nothing recorded.
        assert!(
            mutate_pod(&mut p, &[cand("s3", "*", Some(Bound::Seccomp("x".into())))]).is_empty()
        );
        // A concrete binding changed something: no pod-level fallback.
        let mut q = pod(
            json!({"metadata": {"name": "q"}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
        );
        let b = [
            cand(
                "star",
                "*",
                Some(Bound::Seccomp("operator/all.json".into())),
            ),
            cand("img", "x", Some(Bound::Seccomp("operator/x.json".into()))),
        ];
        assert_eq!(mutate_pod(&mut q, &b), vec!["img"]);
        assert!(q.spec.expect("spec").security_context.is_none());
    }

    #[test]
    fn could_bind_follows_image_and_selector() {
        let p = pod(
            json!({"metadata": {"name": "p", "labels": {"app": "web"}}, "spec": {"initContainers": [{"name": "i", "image": "init"}], "containers": [{"name": "a", "image": "x"}]}}),
        );
        assert!(could_bind("x", None, &p));
        assert!(could_bind("init", None, &p));
        assert!(could_bind("*", None, &p));
        assert!(!could_bind("y", None, &p));
        let sel: LabelSelector =
            serde_json::from_value(json!({"matchLabels": {"app": "db"}})).expect("sel");
        assert!(!could_bind("x", Some(&sel), &p));
    }

    // covers: OP-30, OP-32
    #[test]
    fn missing_profiles_and_unselected_pods_are_skipped_and_later_bindings_do_not_cancel() {
        let mut p = pod(
            json!({"metadata": {"name": "p", "labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}),
        );
        let mut sel = cand("sel", "x", Some(Bound::Seccomp("operator/db.json".into())));
        sel.selector =
            Some(serde_json::from_value(json!({"matchLabels": {"app": "db"}})).expect("sel"));
        let mut bad = cand("bad", "x", Some(Bound::Seccomp("operator/bad.json".into())));
        bad.selector = Some(
            serde_json::from_value(
                json!({"matchExpressions": [{"key": "app", "operator": "Near"}]}),
            )
            .expect("sel"),
        );
        let b = [
            cand("missing", "x", None),
            sel,
            bad,
            cand("web", "x", Some(Bound::Seccomp("operator/web.json".into()))),
            // Same value again: changes nothing, must not cancel "web" (weak point 6).
            cand(
                "again",
                "x",
                Some(Bound::Seccomp("operator/web.json".into())),
            ),
        ];
        assert_eq!(mutate_pod(&mut p, &b), vec!["web"]);
    }
}
