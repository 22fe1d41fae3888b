//! Recording support (pure): SelinuxProfiles from AVC denials (RC-20) and merging of
//! SelinuxProfiles (union of allow maps, spec `recording.md` §5).

use std::collections::{BTreeMap, BTreeSet};

use spo_core::events::AvcEvent;
use spo_core::{ObjectMeta, Violations};

use crate::model::{
    AllowMap, PolicyRef, SelinuxProfile, SelinuxProfileSpec, CONTAINER_TEMPLATE, SELF_LABEL,
};
use crate::names::is_token;

/// The permissive type recorded workloads run as (SE-28, RC-10); AVCs whose target is this
/// type are about the workload itself and become `@self` rules (RC-20).
pub const RECORDING_TYPE: &str = "selinuxrecording.process";

/// The module that declares [`RECORDING_TYPE`] (spec §7, SE-28): a permissive profile named
/// `selinuxrecording` that inherits `container`, as the node bootstrap installs it.
pub fn recording_module() -> Result<crate::Module, crate::Error> {
    let mut p = SelinuxProfile::named("selinuxrecording");
    p.spec.mode = crate::Mode::Permissive;
    crate::to_cil(&p, &crate::Options::default(), &crate::NoParents)
}

type SetMap = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn to_allow(map: SetMap) -> AllowMap {
    map.into_iter()
        .map(|(l, classes)| {
            let classes = classes
                .into_iter()
                .map(|(c, perms)| (c, perms.into_iter().collect()))
                .collect();
            (l, classes)
        })
        .collect()
}

/// Builds a SelinuxProfile from AVC records (RC-20): it inherits `System/container`, and each
/// AVC allows its permissions on (tcontext type, tclass), with the recording type mapped to
/// `@self`. Permissions are de-duplicated and sorted. Records that would not make a valid
/// rule (no type in `tcontext`, or a type/class/permission outside SE-07) are left out and
/// reported as violations at `avcs[<index>]`.
pub fn profile_from_avcs<'a>(
    metadata: ObjectMeta,
    events: impl IntoIterator<Item = &'a AvcEvent>,
) -> (SelinuxProfile, Violations) {
    let mut map = SetMap::new();
    let mut skipped = Violations::new();
    for (i, e) in events.into_iter().enumerate() {
        let path = format!("avcs[{i}]");
        let Some(ty) = e.tcontext_type() else {
            skipped.push(path, format!("tcontext {:?} has no type field", e.tcontext));
            continue;
        };
        let label = if ty == RECORDING_TYPE { SELF_LABEL } else { ty };
        if label != SELF_LABEL && !is_token(label) {
            skipped.push(path, format!("type {label:?} is not a valid label"));
            continue;
        }
        if !is_token(&e.tclass) {
            skipped.push(path, format!("class {:?} is not a valid class", e.tclass));
            continue;
        }
        if let Some(bad) = e.perms.iter().find(|p| !is_token(p)) {
            skipped.push(
                path,
                format!("permission {bad:?} is not a valid permission"),
            );
            continue;
        }
        if e.perms.is_empty() {
            skipped.push(path, "lists no permissions");
            continue;
        }
        map.entry(label.to_string())
            .or_default()
            .entry(e.tclass.clone())
            .or_default()
            .extend(e.perms.iter().cloned());
    }
    let profile = SelinuxProfile {
        metadata,
        version: spo_core::Version::V1,
        spec: SelinuxProfileSpec {
            inherit: vec![PolicyRef::system(CONTAINER_TEMPLATE)],
            allow: to_allow(map),
            ..SelinuxProfileSpec::default()
        },
    };
    (profile, skipped)
}

/// Merges profiles into the first one: metadata, inherit, mode and state come from the
/// first; `allow` is the union per label and class, permissions de-duplicated and sorted.
/// `None` for an empty slice.
pub fn merge(profiles: &[SelinuxProfile]) -> Option<SelinuxProfile> {
    let (first, _) = profiles.split_first()?;
    let mut map = SetMap::new();
    for p in profiles {
        for (label, classes) in &p.spec.allow {
            let entry = map.entry(label.clone()).or_default();
            for (class, perms) in classes {
                entry
                    .entry(class.clone())
                    .or_default()
                    .extend(perms.iter().cloned());
            }
        }
    }
    let mut merged = first.clone();
    merged.spec.allow = to_allow(map);
    Some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spo_core::events::AuditStamp;

    fn avc(perms: &[&str], tcontext: &str, tclass: &str) -> AvcEvent {
        AvcEvent {
            stamp: AuditStamp::default(),
            pid: 1,
            denied: true,
            perms: perms.iter().map(|s| s.to_string()).collect(),
            scontext: "system_u:system_r:selinuxrecording.process:s0:c1,c2".into(),
            tcontext: tcontext.into(),
            tclass: tclass.into(),
            comm: None,
        }
    }

    // covers: RC-20
    #[test]
    fn rc_20_avcs_become_sorted_rules_with_self() {
        let events = [
            avc(
                &["read", "write", "open"],
                "system_u:object_r:kubernetes_file_t:s0",
                "file",
            ),
            avc(
                &["listen"],
                "system_u:system_r:selinuxrecording.process:s0:c1,c2",
                "tcp_socket",
            ),
            avc(
                &["append", "read"],
                "system_u:object_r:kubernetes_file_t:s0",
                "file",
            ),
            avc(&["read"], "garbage", "file"),
            avc(&["re ad"], "system_u:object_r:x_t:s0", "file"),
        ];
        let (p, skipped) = profile_from_avcs(ObjectMeta::named("rec"), &events);
        assert_eq!(p.spec.inherit, vec![PolicyRef::system("container")]);
        assert_eq!(
            p.spec.allow["kubernetes_file_t"]["file"],
            ["append", "open", "read", "write"]
        );
        assert_eq!(p.spec.allow["@self"]["tcp_socket"], ["listen"]);
        assert_eq!(p.spec.allow.len(), 2);
        let paths: Vec<_> = skipped.as_slice().iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["avcs[3]", "avcs[4]"]);
    }

    #[test]
    fn merge_is_the_union_of_allow_maps_keeping_the_first_profiles_fields() {
        let (a, _) = profile_from_avcs(
            ObjectMeta::named("a"),
            &[avc(&["read"], "u:r:x_t:s0", "file")],
        );
        let (mut b, _) = profile_from_avcs(
            ObjectMeta::named("b"),
            &[
                avc(&["write", "read"], "u:r:x_t:s0", "file"),
                avc(&["search"], "u:r:y_t:s0", "dir"),
            ],
        );
        b.spec.mode = crate::Mode::Permissive;
        let m = merge(&[a.clone(), b]).unwrap();
        assert_eq!(m.metadata.name, "a");
        assert_eq!(m.spec.mode, crate::Mode::Enforcing);
        assert_eq!(m.spec.allow["x_t"]["file"], ["read", "write"]);
        assert_eq!(m.spec.allow["y_t"]["dir"], ["search"]);
        assert_eq!(merge(std::slice::from_ref(&a)).unwrap(), a);
        assert!(merge(&[]).is_none());
    }
}
