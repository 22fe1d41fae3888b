//! Leader election on a `coordination.k8s.io/v1` Lease (ARCH-02: lock
//! `security-profiles-operator-lock` for the manager, `security-profiles-operator-webhook-lock`
//! for the webhook). One holder at a time; writes use the Lease's resourceVersion, so two
//! candidates cannot both win; a holder that stops renewing loses the lock after the lease
//! duration.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use kube::Client;

/// Lock name of the manager (ARCH-02).
pub const MANAGER_LOCK: &str = "security-profiles-operator-lock";
/// Lock name of the webhook (ARCH-02).
pub const WEBHOOK_LOCK: &str = "security-profiles-operator-webhook-lock";

/// A Lease-based lock.
#[derive(Clone)]
pub struct LeaderLock {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
}

/// Whether a lease held by `holder` and renewed at `renew` may be taken by `me` at `now`.
pub fn may_take(
    holder: Option<&str>,
    me: &str,
    renew: Option<jiff_ts::Timestamp>,
    duration: Duration,
    now: jiff_ts::Timestamp,
) -> bool {
    match holder {
        None | Some("") => true,
        Some(h) if h == me => true,
        Some(_) => match renew {
            None => true,
            Some(r) => {
                let expiry = r
                    .checked_add(jiff_ts::SignedDuration::try_from(duration).unwrap_or_default())
                    .unwrap_or(r);
                expiry < now
            }
        },
    }
}

use k8s_openapi::jiff as jiff_ts;

impl LeaderLock {
    /// A lock `name` in `namespace` for `identity` (the pod name, or host + pid).
    pub fn new(
        client: Client,
        namespace: &str,
        name: &str,
        identity: &str,
        duration: Duration,
    ) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.into(),
            identity: identity.into(),
            duration,
        }
    }

    /// One attempt: `Ok(true)` when this candidate holds the lock afterwards.
    pub async fn try_acquire(&self) -> Result<bool, kube::Error> {
        let now = jiff_ts::Timestamp::now();
        let secs = i32::try_from(self.duration.as_secs()).unwrap_or(15);
        match self.api.get_opt(&self.name).await? {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.name.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(self.identity.clone()),
                        lease_duration_seconds: Some(secs),
                        acquire_time: Some(MicroTime(now)),
                        renew_time: Some(MicroTime(now)),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                match self.api.create(&PostParams::default(), &lease).await {
                    Ok(_) => Ok(true),
                    Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                    Err(e) => Err(e),
                }
            }
            Some(mut lease) => {
                let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
                let holder = spec.holder_identity.clone();
                if !may_take(
                    holder.as_deref(),
                    &self.identity,
                    spec.renew_time.as_ref().map(|t| t.0),
                    self.duration,
                    now,
                ) {
                    return Ok(false);
                }
                if holder.as_deref() != Some(self.identity.as_str()) {
                    spec.acquire_time = Some(MicroTime(now));
                    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                    spec.holder_identity = Some(self.identity.clone());
                }
                spec.renew_time = Some(MicroTime(now));
                spec.lease_duration_seconds = Some(secs);
                // `replace` carries the resourceVersion: a concurrent writer gets 409.
                match self
                    .api
                    .replace(&self.name, &PostParams::default(), &lease)
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Waits until this candidate holds the lock.
    pub async fn acquire(&self) -> Result<(), kube::Error> {
        let retry = self.duration / 3;
        loop {
            match self.try_acquire().await {
                Ok(true) => {
                    tracing::info!(lock = %self.name, identity = %self.identity, "became leader");
                    return Ok(());
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(lock = %self.name, error = %e, "leader election"),
            }
            tokio::time::sleep(retry).await;
        }
    }

    /// Renews the lock until it is lost (returns then: the caller must stop leading).
    pub async fn hold(&self) {
        let retry = self.duration / 3;
        let mut last_ok = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(retry).await;
            match self.try_acquire().await {
                Ok(true) => last_ok = tokio::time::Instant::now(),
                Ok(false) => {
                    tracing::error!(lock = %self.name, "leadership lost to another holder");
                    return;
                }
                Err(e) => {
                    tracing::warn!(lock = %self.name, error = %e, "renewing the lease");
                    if last_ok.elapsed() > self.duration {
                        tracing::error!(lock = %self.name, "lease expired while renewing");
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: ARCH-02
    #[test]
    fn expired_or_own_leases_may_be_taken() {
        let now = jiff_ts::Timestamp::now();
        let d = Duration::from_secs(15);
        let ago = |s: i64| now.checked_sub(jiff_ts::SignedDuration::from_secs(s)).ok();
        assert!(may_take(None, "a", None, d, now));
        assert!(may_take(Some("a"), "a", ago(1), d, now));
        assert!(!may_take(Some("b"), "a", ago(1), d, now));
        assert!(may_take(Some("b"), "a", ago(20), d, now));
    }
}
