//! Node statuses (`seccomp.md` §6.2) and this node's marks on a profile, written with
//! server-side apply: each node owns its own SecurityProfileNodeStatus (field manager
//! `spo-daemon-<node>`), so there is no read-modify-write and no 409 (weak point 1).

use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::Resource;
use serde_json::json;

use crate::api::names::{
    node_status_name, profile_id, LABEL_NODE_NAME, LABEL_PROFILE_ID, LABEL_PROFILE_KIND,
    LABEL_PROFILE_STATE,
};
use crate::api::{InstallState, SecurityProfileNodeStatus};

/// The pure desired node status of (profile, node) as an apply patch: name, labels, the
/// controller ownerReference to the profile (so it is garbage-collected with it), spec.
pub fn node_status_for<K: Resource<DynamicType = ()>>(
    profile: &K,
    node: &str,
    state: InstallState,
) -> serde_json::Value {
    let name = profile.meta().name.clone().unwrap_or_default();
    let kind = K::kind(&());
    json!({
        "apiVersion": format!("{}/{}", crate::api::GROUP, crate::api::HUB),
        "kind": "SecurityProfileNodeStatus",
        "metadata": {
            "name": node_status_name(&name, node),
            "labels": {
                LABEL_PROFILE_ID: profile_id(&kind, &name),
                LABEL_NODE_NAME: crate::api::names::fit(node, "", 63),
                LABEL_PROFILE_STATE: state.as_str(),
                LABEL_PROFILE_KIND: kind,
            },
            "ownerReferences": [{
                "apiVersion": K::api_version(&()),
                "kind": K::kind(&()),
                "name": name,
                "uid": profile.meta().uid.clone().unwrap_or_default(),
                "controller": true,
                "blockOwnerDeletion": false,
            }],
        },
        "spec": {"nodeName": node},
    })
}

/// Field manager of this node's daemon.
pub fn field_manager(node: &str) -> String {
    crate::api::names::fit("spo-daemon-", node, 128)
}

/// Applies this node's status of `profile` (object, then the status subresource).
pub async fn apply_state<K: Resource<DynamicType = ()>>(
    api: &Api<SecurityProfileNodeStatus>,
    profile: &K,
    node: &str,
    state: InstallState,
) -> Result<(), kube::Error> {
    let obj = node_status_for(profile, node, state);
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let pp = PatchParams::apply(&field_manager(node)).force();
    api.patch(&name, &pp, &Patch::Apply(&obj)).await?;
    let status = json!({
        "apiVersion": obj["apiVersion"],
        "kind": "SecurityProfileNodeStatus",
        "metadata": {"name": name},
        "status": {"status": state.as_str()},
    });
    api.patch_status(&name, &pp, &Patch::Apply(&status)).await?;
    Ok(())
}

/// Deletes this node's status of the profile; a missing one is fine.
pub async fn delete<K: Resource<DynamicType = ()>>(
    api: &Api<SecurityProfileNodeStatus>,
    profile: &K,
    node: &str,
) -> Result<(), kube::Error> {
    let name = node_status_name(&profile.meta().name.clone().unwrap_or_default(), node);
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}
