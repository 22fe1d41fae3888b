//! The SPOD controller (`operator.md` §2): the default SPOD (OP-01), only the operator
//! namespace (OP-02), 0.10 flat fields folded into the v1 layout with an Event (deliverable
//! 0), every desired object applied with server-side apply under one field manager, and
//! `status.state` Pending → Creating → Updating → Running with the Ready condition
//! (OP-04, OP-05).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Node, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::{json, Value};

use super::config::{fold_aliases, CertProvider, ManagerEnv, SpodConfig};
use super::desired::{self, selinuxd, webhook};
use crate::api::SecurityProfilesOperatorDaemon;

/// Field manager of every object the manager applies.
pub const FIELD_MANAGER: &str = "spo-manager";
/// Annotation with the digest of the last applied DaemonSet.
pub const DIGEST_ANNOTATION: &str = "spo.x-k8s.io/config-digest";
/// Name of the default SPOD.
pub const DEFAULT_SPOD: &str = "spod";
/// Name of the operator Deployment whose image the spod containers use (OP-03).
pub const OPERATOR_DEPLOYMENT: &str = "security-profiles-operator";

/// `status.state` values (1.0 spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpodState {
    /// Seen, nothing created yet.
    Pending,
    /// DaemonSet created, pods not all ready.
    Creating,
    /// DaemonSet changed, pods not all updated and ready.
    Updating,
    /// Every scheduled pod is updated and ready.
    Running,
}

impl SpodState {
    /// The status string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Creating => "Creating",
            Self::Updating => "Updating",
            Self::Running => "Running",
        }
    }

    /// The Ready condition's status and reason (OP-05).
    pub fn ready(self) -> (&'static str, &'static str) {
        match self {
            Self::Running => ("True", "Available"),
            s => ("False", s.as_str()),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "pending" => Some(Self::Pending),
            "creating" => Some(Self::Creating),
            "updating" => Some(Self::Updating),
            "running" => Some(Self::Running),
            _ => None,
        }
    }
}

/// The next state (OP-04): `applied` says whether the DaemonSet was created (`Some(true)`),
/// changed (`Some(false)`) or left alone (`None`); `rolled_out` whether every scheduled pod
/// runs the current template and is ready.
pub fn next_state(
    current: Option<SpodState>,
    applied: Option<bool>,
    rolled_out: bool,
) -> SpodState {
    match applied {
        Some(true) => SpodState::Creating,
        Some(false) => SpodState::Updating,
        None if rolled_out => SpodState::Running,
        None => match current {
            None | Some(SpodState::Pending) => SpodState::Creating,
            Some(s) => s,
        },
    }
}

/// Whether a live DaemonSet has rolled out its current generation on every node.
pub fn rolled_out(ds: &DaemonSet) -> bool {
    let Some(st) = &ds.status else { return false };
    let generation = ds.metadata.generation.unwrap_or(0);
    st.observed_generation.unwrap_or(0) >= generation
        && st.updated_number_scheduled.unwrap_or(0) == st.desired_number_scheduled
        && st.number_ready == st.desired_number_scheduled
        && st.number_unavailable.unwrap_or(0) == 0
}

/// Settings of the SPOD controller.
#[derive(Debug, Clone)]
pub struct SpodSettings {
    /// Environment-derived settings (namespace, ENABLE_*, kubelet dir, restrict ns).
    pub env: ManagerEnv,
    /// Manage webhook objects (`--webhook`, ARCH-03); the default SPOD's static flag is its
    /// negation.
    pub manage_webhook: bool,
    /// Image used when there is no operator Deployment (a manager run as a local process).
    pub fallback_image: Option<String>,
    /// This manager's node (`NODE_NAME`), for selinuxd image selection.
    pub node_name: Option<String>,
}

struct Ctx {
    client: Client,
    recorder: Recorder,
    settings: SpodSettings,
}

/// Errors of one reconcile.
#[derive(Debug, thiserror::Error)]
pub enum SpodError {
    /// An API call failed.
    #[error("{what}: {source}")]
    Kube {
        /// What was being done.
        what: String,
        /// The client error.
        source: kube::Error,
    },
    /// Certificates could not be issued or stored.
    #[error("certificates: {0}")]
    Certs(String),
}

fn kerr(what: impl Into<String>) -> impl FnOnce(kube::Error) -> SpodError {
    let what = what.into();
    move |source| SpodError::Kube { what, source }
}

fn publish(
    ctx: &Ctx,
    spod: &SecurityProfilesOperatorDaemon,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let ev = Event {
        type_,
        reason: reason.into(),
        note: Some(note),
        action: "Reconcile".into(),
        secondary: None,
    };
    let reference = spod.object_ref(&());
    let recorder = ctx.recorder.clone();
    tokio::spawn(async move {
        if let Err(e) = recorder.publish(&ev, &reference).await {
            tracing::warn!(error = %e, "cannot publish event");
        }
    });
}

/// The default SPOD object (OP-01).
pub fn default_spod(namespace: &str, manage_webhook: bool) -> Value {
    json!({
        "apiVersion": "security-profiles-operator.x-k8s.io/v1",
        "kind": "SecurityProfilesOperatorDaemon",
        "metadata": {"name": DEFAULT_SPOD, "namespace": namespace,
                     "labels": {"app": "security-profiles-operator"}},
        "spec": {"webhook": {"staticConfig": !manage_webhook}}
    })
}

async fn ensure_default(client: &Client, s: &SpodSettings) -> Result<(), SpodError> {
    let api: Api<SecurityProfilesOperatorDaemon> =
        Api::namespaced(client.clone(), &s.env.namespace);
    if api
        .get_opt(DEFAULT_SPOD)
        .await
        .map_err(kerr("reading the default SPOD"))?
        .is_some()
    {
        return Ok(());
    }
    let obj: SecurityProfilesOperatorDaemon =
        serde_json::from_value(default_spod(&s.env.namespace, s.manage_webhook)).map_err(|e| {
            SpodError::Kube {
                what: "building the default SPOD".into(),
                source: kube::Error::SerdeError(e),
            }
        })?;
    match api.create(&PostParams::default(), &obj).await {
        Ok(_) => {
            tracing::info!(namespace = %s.env.namespace, "created the default SPOD");
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(kerr("creating the default SPOD")(e)),
    }
}

fn owner_ref(spod: &SecurityProfilesOperatorDaemon) -> Value {
    json!([{
        "apiVersion": "security-profiles-operator.x-k8s.io/v1",
        "kind": "SecurityProfilesOperatorDaemon",
        "name": spod.name_any(),
        "uid": spod.meta().uid.clone().unwrap_or_default(),
        "controller": true,
        "blockOwnerDeletion": true
    }])
}

fn pp() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

/// Event reason when cert-manager mode finds no cert-manager kinds (OP-39).
pub const CERT_MANAGER_MISSING: &str = "CertManagerMissing";

/// The manager's own CA: ensures the CA and serving-certificate Secrets (an Event when it
/// issued any), injects the CA into the CRDs' conversion config; the CA bundle (PEM).
async fn own_ca(
    ctx: &Ctx,
    spod: &SecurityProfilesOperatorDaemon,
    ns: &str,
) -> Result<String, SpodError> {
    let (bundle, issued) = super::certs::ensure(&ctx.client, ns)
        .await
        .map_err(|e| SpodError::Certs(e.to_string()))?;
    if !issued.is_empty() {
        publish(
            ctx,
            spod,
            EventType::Normal,
            "CertificatesIssued",
            format!("issued {}", issued.join(", ")),
        );
    }
    if let Err(e) = super::certs::inject_crd_ca(&ctx.client, &bundle).await {
        tracing::warn!(error = %e, "CA injection into the CRDs");
    }
    Ok(bundle)
}

async fn apply_dynamic(client: &Client, obj: &Value, ns: Option<&str>) -> Result<(), kube::Error> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = obj["kind"].as_str().unwrap_or_default();
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let ar = ApiResource::from_gvk(&gvk);
    let api: Api<DynamicObject> = match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    api.patch(name, &pp(), &Patch::Apply(obj)).await.map(|_| ())
}

async fn delete_if_ours(client: &Client, obj: &Value, ns: Option<&str>) -> Result<(), SpodError> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, obj["kind"].as_str().unwrap_or_default());
    let ar = ApiResource::from_gvk(&gvk);
    let api: Api<DynamicObject> = match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let live = api
        .get_opt(name)
        .await
        .map_err(kerr(format!("reading {name}")))?;
    if let Some(live) = live {
        // Only what this manager created: an admin's static objects stay (OP-22).
        if live
            .labels()
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str)
            == Some("spo-operator")
        {
            api.delete(name, &DeleteParams::default())
                .await
                .map_err(kerr(format!("deleting {name}")))?;
        }
    }
    Ok(())
}

async fn env_for(ctx: &Ctx, cfg_selinux: bool) -> Result<ManagerEnv, SpodError> {
    let s = &ctx.settings;
    let mut env = s.env.clone();
    let deps: Api<Deployment> = Api::namespaced(ctx.client.clone(), &env.namespace);
    let op = deps
        .get_opt(OPERATOR_DEPLOYMENT)
        .await
        .map_err(kerr("reading the operator Deployment"))?;
    let first = op
        .as_ref()
        .and_then(|d| d.spec.template.spec.as_ref())
        .and_then(|p| p.containers.first().cloned());
    match first {
        Some(c) => {
            if let Some(i) = c.image {
                env.image = i;
            }
            if let Some(p) = c.image_pull_policy {
                env.pull_policy = p;
            }
        }
        None => {
            if let Some(i) = &s.fallback_image {
                env.image = i.clone();
            }
        }
    }
    // OP-07: OpenShift is recognised by its ClusterOperator `openshift-apiserver`.
    if !env.openshift {
        let gvk = GroupVersionKind::gvk("config.openshift.io", "v1", "ClusterOperator");
        let api: Api<DynamicObject> =
            Api::all_with(ctx.client.clone(), &ApiResource::from_gvk(&gvk));
        env.openshift = matches!(api.get_opt("openshift-apiserver").await, Ok(Some(_)));
    }
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &env.namespace);
    let profile_cm = cms
        .get_opt("security-profiles-operator-profile")
        .await
        .ok()
        .flatten()
        .and_then(|c| c.data)
        .unwrap_or_default();
    // OP-13: the JSON enricher's log volume and mount path.
    env.json_log_volume = profile_cm
        .get("json-enricher-log-volume-source.json")
        .and_then(|j| serde_json::from_str(j).ok());
    env.json_log_mount_path = profile_cm
        .get("json-enricher-log-volume-mount-path")
        .filter(|p| !p.is_empty())
        .cloned();
    if cfg_selinux {
        let mapping = profile_cm.get("selinuxd-image-mapping.json").cloned();
        let mut os_image = String::new();
        if let Some(n) = &s.node_name {
            let nodes: Api<Node> = Api::all(ctx.client.clone());
            if let Ok(Some(node)) = nodes.get_opt(n).await {
                os_image = node
                    .status
                    .and_then(|s| s.node_info)
                    .map(|i| i.os_image)
                    .unwrap_or_default();
            }
        }
        if let Ok(img) = selinuxd::select(&os_image, mapping.as_deref(), |k| std::env::var(k).ok())
        {
            env.selinuxd_image = img;
        }
    }
    Ok(env)
}

async fn set_status(
    api: &Api<SecurityProfilesOperatorDaemon>,
    spod: &SecurityProfilesOperatorDaemon,
    state: SpodState,
) -> Result<(), SpodError> {
    let current = spod.status.as_ref();
    let (status, reason) = state.ready();
    let same = current.is_some_and(|c| {
        c.state.as_deref() == Some(state.as_str())
            && c.conditions
                .iter()
                .any(|k| k.type_ == "Ready" && k.status == status && k.reason == reason)
    });
    if same {
        return Ok(());
    }
    let cond = Condition {
        type_: "Ready".into(),
        status: status.into(),
        reason: reason.into(),
        message: format!("spod is {}", state.as_str().to_lowercase()),
        last_transition_time: Time(k8s_openapi::jiff::Timestamp::now()),
        observed_generation: spod.meta().generation,
    };
    let patch = json!({"status": {"state": state.as_str(), "conditions": [cond]}});
    api.patch_status(
        &spod.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map_err(kerr("writing the SPOD status"))?;
    tracing::info!(spod = %spod.name_any(), state = state.as_str(), "SPOD state");
    Ok(())
}

async fn reconcile(
    spod: Arc<SecurityProfilesOperatorDaemon>,
    ctx: Arc<Ctx>,
) -> Result<Action, SpodError> {
    let ns = ctx.settings.env.namespace.clone();
    // OP-02: only the operator namespace (the watch is namespaced; this is the guard).
    if spod.namespace().as_deref() != Some(ns.as_str()) {
        return Ok(Action::await_change());
    }
    let api: Api<SecurityProfilesOperatorDaemon> = Api::namespaced(ctx.client.clone(), &ns);
    let name = spod.name_any();
    let spec = serde_json::to_value(&spod.spec).unwrap_or(Value::Null);
    // Deliverable 0: fold 0.10 names into the grouped layout and store it that way.
    let folded = fold_aliases(&spec);
    if !folded.moved.is_empty() {
        api.patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(&folded.merge_patch()),
        )
        .await
        .map_err(kerr("rewriting deprecated SPOD fields"))?;
        publish(
            &ctx,
            &spod,
            EventType::Normal,
            "DeprecatedFieldsRewritten",
            folded.note(),
        );
        tracing::info!(spod = %name, "{}", folded.note());
        // The rewrite triggers the next reconcile.
        return Ok(Action::await_change());
    }
    let current = spod
        .status
        .as_ref()
        .and_then(|s| s.state.as_deref())
        .and_then(SpodState::parse);
    if current.is_none() {
        set_status(&api, &spod, SpodState::Pending).await?;
    }
    let openshift_env = env_for(&ctx, false).await?;
    let cfg = match SpodConfig::from_spec(&name, &spec, &openshift_env) {
        Ok(c) => c,
        Err(e) => {
            publish(
                &ctx,
                &spod,
                EventType::Warning,
                "InvalidSPOD",
                e.to_string(),
            );
            tracing::warn!(spod = %name, "{e}");
            return Ok(Action::await_change());
        }
    };
    let mut env = env_for(&ctx, cfg.selinux).await?;
    match env.cert_provider {
        CertProvider::Self_ => {
            let bundle = own_ca(&ctx, &spod, &ns).await?;
            env.ca_bundle.get_or_insert(bundle);
        }
        CertProvider::CertManager => {
            let mut missing = false;
            for o in webhook::cert_manager(&env) {
                match apply_dynamic(&ctx.client, &o, Some(&ns)).await {
                    Ok(()) => {}
                    // OP-39: cert-manager's kinds are not served: its CRDs are absent.
                    Err(kube::Error::Api(e)) if e.code == 404 => {
                        missing = true;
                        break;
                    }
                    Err(e) => publish(
                        &ctx,
                        &spod,
                        EventType::Warning,
                        "CannotCreateSPOD",
                        format!("cert-manager objects: {e}"),
                    ),
                }
            }
            if missing {
                // Webhooks without certificates would refuse every call: fall back to the
                // manager's own CA (the default provider) and say so.
                publish(
                    &ctx,
                    &spod,
                    EventType::Warning,
                    CERT_MANAGER_MISSING,
                    "cert-manager mode, but cert-manager's kinds (cert-manager.io/v1 Issuer, \
                     Certificate) are not installed: falling back to the manager's own CA for \
                     the webhook and metrics certificates; install cert-manager to use it"
                        .to_string(),
                );
                tracing::warn!("cert-manager not installed: using the manager's own CA");
                env.cert_provider = CertProvider::Self_;
                let bundle = own_ca(&ctx, &spod, &ns).await?;
                env.ca_bundle.get_or_insert(bundle);
            }
        }
        CertProvider::Openshift => {}
    }
    let d = desired::desired(&cfg, &env);
    let mut ds = d.daemonset.clone();
    let digest = desired::digest(&ds);
    ds["metadata"]["annotations"][DIGEST_ANNOTATION] = json!(digest);
    ds["metadata"]["ownerReferences"] = owner_ref(&spod);
    let dss: Api<DaemonSet> = Api::namespaced(ctx.client.clone(), &ns);
    let live = dss
        .get_opt(&name)
        .await
        .map_err(kerr("reading the DaemonSet"))?;
    let live_digest = live
        .as_ref()
        .and_then(|l| l.annotations().get(DIGEST_ANNOTATION).cloned());
    let applied = match &live {
        None => Some(true),
        Some(_) if live_digest.as_deref() != Some(digest.as_str()) => Some(false),
        Some(_) => None,
    };
    let result = apply_all(&ctx, &spod, &cfg, &d, applied.is_some().then_some(&ds)).await;
    if let Err(e) = &result {
        let reason = if live.is_none() {
            "CannotCreateSPOD"
        } else {
            "CannotUpdateSPOD"
        };
        publish(&ctx, &spod, EventType::Warning, reason, e.to_string());
    }
    result?;
    let done = applied.is_none() && live.as_ref().is_some_and(rolled_out);
    let state = next_state(current, applied, done);
    set_status(&api, &spod, state).await?;
    Ok(Action::requeue(Duration::from_secs(300)))
}

async fn apply_all(
    ctx: &Ctx,
    spod: &SecurityProfilesOperatorDaemon,
    cfg: &SpodConfig,
    d: &desired::Desired,
    ds: Option<&Value>,
) -> Result<(), SpodError> {
    let ns = ctx.settings.env.namespace.as_str();
    let c = &ctx.client;
    if cfg.static_webhook {
        // OP-22: static mode leaves the configurations to the admin; ours vanish.
        let env = &ctx.settings.env;
        let full = desired::desired(
            &SpodConfig {
                static_webhook: false,
                ..cfg.clone()
            },
            env,
        );
        for o in &full.webhook {
            let scoped = o["metadata"]["namespace"].is_string().then_some(ns);
            delete_if_ours(c, o, scoped).await?;
        }
    } else {
        for o in &d.webhook {
            let mut o = o.clone();
            let scoped = o["metadata"]["namespace"].is_string();
            if scoped {
                o["metadata"]["ownerReferences"] = owner_ref(spod);
            }
            apply_dynamic(c, &o, scoped.then_some(ns))
                .await
                .map_err(kerr(format!("applying {}", o["metadata"]["name"])))?;
        }
    }
    if let Some(ds) = ds {
        let dss: Api<DaemonSet> = Api::namespaced(c.clone(), ns);
        dss.patch(&cfg.name, &pp(), &Patch::Apply(ds))
            .await
            .map_err(kerr("applying the DaemonSet"))?;
    }
    for p in &d.profiles {
        apply_dynamic(c, p, None)
            .await
            .map_err(kerr(format!("applying profile {}", p["metadata"]["name"])))?;
    }
    let mut svc = d.metrics_service.clone();
    svc["metadata"]["ownerReferences"] = owner_ref(spod);
    let svcs: Api<Service> = Api::namespaced(c.clone(), ns);
    svcs.patch(desired::metrics::SERVICE, &pp(), &Patch::Apply(&svc))
        .await
        .map_err(kerr("applying the metrics Service"))?;
    // The ServiceMonitor only where Prometheus-operator's CRD exists.
    match apply_dynamic(c, &d.service_monitor, Some(ns)).await {
        Ok(()) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => return Err(kerr("applying the ServiceMonitor")(e)),
    }
    Ok(())
}

fn error_policy(_s: Arc<SecurityProfilesOperatorDaemon>, e: &SpodError, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(error = %e, "SPOD reconcile failed; retrying");
    Action::requeue(Duration::from_secs(5))
}

/// Runs the SPOD controller until a signal: creates the default SPOD, then reconciles every
/// SPOD of the operator namespace and the objects it owns.
pub async fn run(client: Client, settings: SpodSettings) -> Result<(), SpodError> {
    ensure_default(&client, &settings).await?;
    let ns = settings.env.namespace.clone();
    let spods: Api<SecurityProfilesOperatorDaemon> = Api::namespaced(client.clone(), &ns);
    let dss: Api<DaemonSet> = Api::namespaced(client.clone(), &ns);
    let deps: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let reporter = Reporter {
        controller: FIELD_MANAGER.into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let ctx_client = client.clone();
    let watch_ns = ns.clone();
    let ctx = Arc::new(Ctx {
        recorder: Recorder::new(client.clone(), reporter),
        client,
        settings,
    });
    tracing::info!(namespace = %ns, "SPOD controller starting");
    Controller::new(spods, watcher::Config::default())
        .owns(dss, watcher::Config::default())
        .owns(deps, watcher::Config::default())
        // Certificate Secrets carry no owner; a change (a forced renewal) maps to the SPOD.
        .watches(
            Api::<k8s_openapi::api::core::v1::Secret>::namespaced(ctx_client.clone(), &ns),
            watcher::Config::default().labels("app.kubernetes.io/managed-by=spo-operator"),
            move |_| Some(kube::runtime::reflector::ObjectRef::new(DEFAULT_SPOD).within(&watch_ns)),
        )
        .shutdown_on_signal()
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {})
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: OP-04, OP-05
    #[test]
    fn state_machine_and_ready_condition() {
        use SpodState::*;
        assert_eq!(next_state(None, Some(true), false), Creating);
        assert_eq!(next_state(Some(Running), Some(false), false), Updating);
        assert_eq!(next_state(Some(Updating), None, false), Updating);
        assert_eq!(next_state(Some(Updating), None, true), Running);
        assert_eq!(next_state(Some(Creating), None, true), Running);
        assert_eq!(Running.ready(), ("True", "Available"));
        assert_eq!(Updating.ready(), ("False", "Updating"));
        assert_eq!(Pending.ready(), ("False", "Pending"));
        assert_eq!(SpodState::parse("RUNNING"), Some(Running), "0.10 spelling");
    }

    // covers: OP-01, OP-22
    #[test]
    fn default_spod_is_static_without_webhook_flag() {
        let s = default_spod("ns", false);
        assert_eq!(s["metadata"]["name"], "spod");
        assert_eq!(s["spec"]["webhook"]["staticConfig"], true);
        assert_eq!(
            default_spod("ns", true)["spec"]["webhook"]["staticConfig"],
            false
        );
    }
}
