//! The thin, effectful side of the pod webhooks: cached views of bindings, recordings and
//! profiles (kube-runtime reflectors, so a review does not wait on the API server), the profile
//! lookup with its bounded retry, and the bookkeeping of `status.activeWorkloads` plus the
//! finalizers.
//!
//! Bookkeeping without lost updates: every change of one object's `activeWorkloads` goes
//! through one queue per object. A review enqueues its entry and takes the object's lock; the
//! holder drains the whole queue and writes it in one read-modify-write with the object's
//! `resourceVersion` (a conflict from another replica re-reads and retries). 200 concurrent pod
//! creations bound by one binding therefore cost a handful of writes, and none is lost.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, PostParams};
use kube::runtime::events::{Event as KEvent, EventType, Recorder, Reporter};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Digest;

use super::admission::{json_patch, AdmissionRequest, AdmissionResponse};
use super::binding::{self, Bound, Candidate};
use super::recording::{self, Recording};
use crate::api::{
    AppArmorProfile, ProfileBinding, ProfileRecording, SeccompProfile, SelinuxProfile,
};

/// A kind whose status lists active workloads.
pub trait Workloads {
    /// The list.
    fn workloads(&self) -> Vec<String>;
    /// Replaces the list.
    fn set_workloads(&mut self, list: Vec<String>);
}

macro_rules! workloads {
    ($t:ty) => {
        impl Workloads for $t {
            fn workloads(&self) -> Vec<String> {
                self.status
                    .as_ref()
                    .map(|s| s.active_workloads.clone())
                    .unwrap_or_default()
            }
            fn set_workloads(&mut self, list: Vec<String>) {
                self.status
                    .get_or_insert_with(Default::default)
                    .active_workloads = list;
            }
        }
    };
}
workloads!(ProfileBinding);
workloads!(ProfileRecording);

type Key = (&'static str, String, String);
/// Entries to add and to remove, queued for one object.
type Queue = (BTreeSet<String>, BTreeSet<String>);

#[derive(Default)]
struct Book {
    pending: Mutex<HashMap<Key, Queue>>,
    locks: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

fn has_finalizer<K: Resource>(o: &K, f: &str) -> bool {
    o.meta().finalizers.iter().flatten().any(|x| x == f)
}

async fn flush<K>(
    api: &Api<K>,
    name: &str,
    finalizer: &str,
    add: &BTreeSet<String>,
    remove: &BTreeSet<String>,
) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = ()> + Workloads + Clone + DeserializeOwned + Serialize + Debug,
{
    let pp = PostParams::default();
    let mut last = None;
    for _ in 0..30 {
        let Some(mut obj) = api.get_opt(name).await? else {
            return Ok(());
        };
        let before = obj.workloads();
        let mut list = before.clone();
        for a in add {
            if !list.contains(a) {
                list.push(a.clone());
            }
        }
        list.retain(|x| !remove.contains(x));
        if !list.is_empty()
            && !has_finalizer(&obj, finalizer)
            && obj.meta().deletion_timestamp.is_none()
        {
            obj.meta_mut()
                .finalizers
                .get_or_insert_with(Vec::new)
                .push(finalizer.into());
            match api.replace(name, &pp, &obj).await {
                Ok(o) => obj = o,
                Err(e) if is_conflict(&e) => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        if list != before {
            obj.set_workloads(list.clone());
            match api.replace_status(name, &pp, &obj).await {
                Ok(o) => obj = o,
                Err(e) if is_conflict(&e) => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        if list.is_empty() && has_finalizer(&obj, finalizer) {
            if let Some(f) = obj.meta_mut().finalizers.as_mut() {
                f.retain(|x| x != finalizer);
            }
            match api.replace(name, &pp, &obj).await {
                Ok(_) => {}
                Err(e) if is_conflict(&e) => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        return Ok(());
    }
    Err(last.unwrap_or_else(|| kube::Error::LinesCodecMaxLineLengthExceeded))
}

impl Book {
    async fn record<K>(
        &self,
        api: &Api<K>,
        key: Key,
        finalizer: &str,
        entry: &str,
        add: bool,
    ) -> Result<(), kube::Error>
    where
        K: Resource<DynamicType = ()> + Workloads + Clone + DeserializeOwned + Serialize + Debug,
    {
        {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let (a, r) = p.entry(key.clone()).or_default();
            if add {
                r.remove(entry);
                a.insert(entry.to_string());
            } else {
                a.remove(entry);
                r.insert(entry.to_string());
            }
        }
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        let _held = lock.lock().await;
        let batch = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        // Empty: an earlier holder wrote our entry (a failed write puts its batch back).
        let Some((a, r)) = batch else { return Ok(()) };
        if a.is_empty() && r.is_empty() {
            return Ok(());
        }
        let res = flush(api, &key.2, finalizer, &a, &r).await;
        if res.is_err() {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let (pa, pr) = p.entry(key).or_default();
            pa.extend(a.into_iter().filter(|x| !pr.contains(x)));
            pr.extend(r.into_iter().filter(|x| !pa.contains(x)));
        }
        res
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// `n` pseudo-random characters of `alphabet` (a nonce, not a secret).
pub fn random_chars(alphabet: &[u8], n: usize) -> String {
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let h = sha2::Sha256::digest(format!("{c}/{t}/{}", std::process::id()));
    h.iter()
        .take(n)
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect()
}

/// The API server's `generateName` alphabet.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const NONCE_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Options of the pod webhooks.
#[derive(Debug, Clone)]
pub struct PodWebhookOptions {
    /// Longest wait for a profile whose status is still empty (upstream: 5 tries, 0.5 s × 1.5).
    pub profile_wait: Duration,
}

impl Default for PodWebhookOptions {
    fn default() -> Self {
        Self {
            profile_wait: Duration::from_secs(4),
        }
    }
}

/// Cached cluster view and bookkeeping for the pod webhooks.
pub struct State {
    client: Client,
    bindings: Store<ProfileBinding>,
    recordings: Store<ProfileRecording>,
    seccomp: Store<SeccompProfile>,
    selinux: Store<SelinuxProfile>,
    apparmor: Store<AppArmorProfile>,
    book: Book,
    recorder: Recorder,
    opts: PodWebhookOptions,
}

fn reflect<K>(client: &Client) -> Store<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (store, writer) = reflector::store();
    let stream = reflector::reflector(
        writer,
        watcher(Api::<K>::all(client.clone()), watcher::Config::default()),
    )
    .default_backoff()
    .touched_objects();
    tokio::spawn(async move {
        futures::pin_mut!(stream);
        while let Some(ev) = stream.next().await {
            if let Err(e) = ev {
                tracing::warn!(kind = %K::kind(&()), error = %e, "watch error");
            }
        }
    });
    store
}

fn namespaced<K: Resource<Scope = NamespaceResourceScope, DynamicType = ()> + Clone>(
    store: &Store<K>,
    ns: &str,
) -> Vec<Arc<K>> {
    let mut v: Vec<Arc<K>> = store
        .state()
        .into_iter()
        .filter(|o| o.meta().namespace.as_deref() == Some(ns))
        .collect();
    v.sort_by(|a, b| a.meta().name.cmp(&b.meta().name));
    v
}

impl State {
    /// Starts the watches and waits (up to 30 s) until the caches are filled.
    pub async fn start(client: Client, opts: PodWebhookOptions) -> Self {
        let s = Self {
            bindings: reflect(&client),
            recordings: reflect(&client),
            seccomp: reflect(&client),
            selinux: reflect(&client),
            apparmor: reflect(&client),
            book: Book::default(),
            recorder: Recorder::new(
                client.clone(),
                Reporter {
                    controller: "spo-webhook".into(),
                    instance: None,
                },
            ),
            client,
            opts,
        };
        let ready = async {
            let _ = s.bindings.wait_until_ready().await;
            let _ = s.recordings.wait_until_ready().await;
            let _ = s.seccomp.wait_until_ready().await;
            let _ = s.selinux.wait_until_ready().await;
            let _ = s.apparmor.wait_until_ready().await;
        };
        if tokio::time::timeout(Duration::from_secs(30), ready)
            .await
            .is_err()
        {
            tracing::warn!("caches not filled after 30 s; serving anyway");
        }
        s
    }

    /// The profile a binding names, waiting (bounded) while its status is empty. `Ok(None)`:
    /// not found or not bindable (skipped, OP-30/OP-33).
    async fn resolve(&self, kind: &str, name: &str) -> Result<Option<Bound>, String> {
        let mut delay = Duration::from_millis(500);
        let mut waited = Duration::ZERO;
        for _ in 0..5 {
            let found = match kind {
                "SeccompProfile" => self.seccomp.get(&reflector::ObjectRef::new(name)).map(|p| {
                    let st = p.status.clone().unwrap_or_default();
                    st.status.map(|_| {
                        Bound::Seccomp(
                            st.localhost_profile
                                .unwrap_or_else(|| format!("operator/{name}.json")),
                        )
                    })
                }),
                "SelinuxProfile" => self.selinux.get(&reflector::ObjectRef::new(name)).map(|p| {
                    let st = p.status.clone().unwrap_or_default();
                    st.status.map(|_| {
                        Bound::Selinux(st.usage.unwrap_or_else(|| format!("{name}.process")))
                    })
                }),
                "AppArmorProfile" => self
                    .apparmor
                    .get(&reflector::ObjectRef::new(name))
                    .map(|p| {
                        let st = p.status.clone().unwrap_or_default();
                        st.status.map(|_| Bound::AppArmor(name.to_string()))
                    }),
                _ => return Ok(None),
            };
            match found {
                None => return Ok(None),
                Some(Some(b)) => return Ok(Some(b)),
                Some(None) => {}
            }
            if waited + delay > self.opts.profile_wait {
                break;
            }
            tokio::time::sleep(delay).await;
            waited += delay;
            delay = delay.mul_f64(1.5);
        }
        Err(format!("{kind} {name:?} has no status yet"))
    }

    /// `/mutate-v1-pod-binding`.
    pub async fn binding(&self, req: &AdmissionRequest) -> AdmissionResponse {
        let ns = req.namespace.clone().unwrap_or_default();
        let api: Api<ProfileBinding> = Api::namespaced(self.client.clone(), &ns);
        match req.operation.as_str() {
            "DELETE" => {
                let entry = format!("{ns}/{}", req.name.as_deref().unwrap_or_default());
                // The cache may not have seen a status written a moment ago: also visit every
                // binding that could have bound the old pod (the write re-reads the object).
                let old: Option<Pod> = req
                    .old_object
                    .as_ref()
                    .and_then(|o| serde_json::from_value(o.clone()).ok());
                if req.dry_run != Some(true) {
                    for b in namespaced(&self.bindings, &ns) {
                        let could = old.as_ref().is_some_and(|p| {
                            binding::could_bind(&b.spec.image, b.spec.pod_selector.as_ref(), p)
                        });
                        if could || b.workloads().contains(&entry) {
                            let key = ("ProfileBinding", ns.clone(), b.name_any());
                            if let Err(e) = self
                                .book
                                .record(&api, key, binding::FINALIZER, &entry, false)
                                .await
                            {
                                tracing::warn!(binding = %b.name_any(), error = %e, "cannot remove {entry}");
                            }
                        }
                    }
                }
                AdmissionResponse::allow("pod unchanged")
            }
            "CREATE" => {
                let Some(obj) = &req.object else {
                    return AdmissionResponse::allow("no object");
                };
                let mut pod: Pod = match serde_json::from_value(obj.clone()) {
                    Ok(p) => p,
                    Err(e) => return AdmissionResponse::deny(400, format!("pod: {e}")),
                };
                let labels = binding::pod_labels(&pod);
                let mut cands = Vec::new();
                for b in namespaced(&self.bindings, &ns) {
                    if !binding::selects(b.spec.pod_selector.as_ref(), &labels) {
                        continue;
                    }
                    let profile = match self
                        .resolve(&b.spec.profile_ref.kind, &b.spec.profile_ref.name)
                        .await
                    {
                        Ok(p) => p,
                        Err(e) => return AdmissionResponse::deny(500, e),
                    };
                    cands.push(Candidate {
                        name: b.name_any(),
                        image: b.spec.image.clone(),
                        selector: b.spec.pod_selector.clone(),
                        profile,
                    });
                }
                let before = serde_json::to_value(&pod).unwrap_or_default();
                let changed = binding::mutate_pod(&mut pod, &cands);
                if changed.is_empty() {
                    return AdmissionResponse::allow("pod unchanged");
                }
                let name = recording::ensure_name(&mut pod, &mut || random_chars(NAME_ALPHABET, 5))
                    .unwrap_or_default();
                if req.dry_run != Some(true) {
                    let entry = format!("{ns}/{name}");
                    let writes = changed.iter().map(|b| {
                        let key = ("ProfileBinding", ns.clone(), b.clone());
                        let (api, entry) = (&api, &entry);
                        async move {
                            self.book
                                .record(api, key, binding::FINALIZER, entry, true)
                                .await
                        }
                    });
                    for r in futures::future::join_all(writes).await {
                        if let Err(e) = r {
                            return AdmissionResponse::deny(
                                500,
                                format!("recording the pod on its binding: {e}"),
                            );
                        }
                    }
                }
                let after = serde_json::to_value(&pod).unwrap_or_default();
                AdmissionResponse::patched(json_patch(&before, &after))
            }
            _ => AdmissionResponse::allow("pod unchanged"),
        }
    }

    /// `/mutate-v1-pod-recording`.
    pub async fn recording(&self, req: &AdmissionRequest) -> AdmissionResponse {
        let ns = req.namespace.clone().unwrap_or_default();
        let api: Api<ProfileRecording> = Api::namespaced(self.client.clone(), &ns);
        let recs = namespaced(&self.recordings, &ns);
        if req.operation == "DELETE" {
            let entry = req.name.clone().unwrap_or_default();
            let labels = req
                .old_object
                .as_ref()
                .and_then(|o| serde_json::from_value::<Pod>(o.clone()).ok())
                .map(|p| binding::pod_labels(&p));
            if req.dry_run != Some(true) {
                for r in &recs {
                    let could = labels.as_ref().is_some_and(|l| {
                        binding::selector_matches(&r.spec.pod_selector, l) == Some(true)
                    });
                    if could || r.workloads().contains(&entry) {
                        let key = ("ProfileRecording", ns.clone(), r.name_any());
                        if let Err(e) = self
                            .book
                            .record(&api, key, recording::FINALIZER, &entry, false)
                            .await
                        {
                            tracing::warn!(recording = %r.name_any(), error = %e, "cannot remove {entry}");
                        }
                    }
                }
            }
            return AdmissionResponse::allow("pod unchanged");
        }
        let Some(obj) = &req.object else {
            return AdmissionResponse::allow("no object");
        };
        let mut pod: Pod = match serde_json::from_value(obj.clone()) {
            Ok(p) => p,
            Err(e) => return AdmissionResponse::deny(400, format!("pod: {e}")),
        };
        let old: Option<Pod> = req
            .old_object
            .as_ref()
            .and_then(|o| serde_json::from_value(o.clone()).ok());
        let old_ann = old.and_then(|p| p.metadata.annotations);
        let views: Vec<Recording> = recs
            .iter()
            .map(|r| Recording {
                name: r.name_any(),
                spec: r.spec.clone(),
            })
            .collect();
        let trace = self
            .seccomp
            .get(&reflector::ObjectRef::new(recording::TRACE_PROFILE))
            .and_then(|p| p.status.clone())
            .and_then(|s| s.localhost_profile)
            .unwrap_or_else(|| recording::TRACE_PROFILE_DEFAULT_PATH.into());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let before = serde_json::to_value(&pod).unwrap_or_default();
        let out = recording::mutate_pod(
            &mut pod,
            &views,
            old_ann.as_ref(),
            &trace,
            &mut || random_chars(NONCE_ALPHABET, 5),
            now,
        );
        if out.matched.is_empty() {
            return AdmissionResponse::allow("pod unchanged");
        }
        let name = recording::ensure_name(&mut pod, &mut || random_chars(NAME_ALPHABET, 5))
            .unwrap_or_default();
        if req.dry_run != Some(true) {
            for r in &out.matched {
                let key = ("ProfileRecording", ns.clone(), r.clone());
                if let Err(e) = self
                    .book
                    .record(&api, key, recording::FINALIZER, &name, true)
                    .await
                {
                    return AdmissionResponse::deny(500, format!("recording the pod on {r}: {e}"));
                }
            }
            for ev in out.events {
                if let Some(r) = recs.iter().find(|r| r.name_any() == ev.recording) {
                    let reference = r.object_ref(&());
                    let recorder = self.recorder.clone();
                    tokio::spawn(async move {
                        let e = KEvent {
                            type_: EventType::Warning,
                            reason: ev.reason.into(),
                            note: Some(ev.message),
                            action: "Admission".into(),
                            secondary: None,
                        };
                        let _ = recorder.publish(&e, &reference).await;
                    });
                }
            }
        }
        let after = serde_json::to_value(&pod).unwrap_or_default();
        AdmissionResponse::patched(json_patch(&before, &after))
    }
}
