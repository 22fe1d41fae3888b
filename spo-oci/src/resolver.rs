//! `oci://` base profiles (SC-17, SC-18, SC-20): an [`AsyncBaseProfileResolver`] that pulls
//! `linux/<arch>`, requires a SeccompProfile, verifies like `spoc pull`, and caches per
//! reference for 24 h with at most 1,000 entries.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use spo_core::Kind;
use spo_seccomp::resolve::{AsyncBaseProfileResolver, BoxError};
use spo_seccomp::SeccompProfile;

use crate::artifact::Verification;
use crate::platform::Platform;
use crate::registry::{parse_reference, Registry};

/// How long a pulled base stays cached (SC-20).
pub const CACHE_TTL: Duration = Duration::from_secs(24 * 3600);
/// Most cached references (SC-20).
pub const CACHE_CAPACITY: usize = 1000;

/// A TTL + capacity cache keyed by reference string (pure; time is passed in).
#[derive(Debug)]
pub struct Cache<V> {
    ttl: Duration,
    capacity: usize,
    entries: HashMap<String, (Instant, V)>,
}

impl<V: Clone> Cache<V> {
    /// An empty cache.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Cache {
            ttl,
            capacity,
            entries: HashMap::new(),
        }
    }

    /// The live value of `key` at `now`; expired entries are dropped.
    pub fn get(&mut self, key: &str, now: Instant) -> Option<V> {
        match self.entries.get(key) {
            Some((at, v)) if now.saturating_duration_since(*at) < self.ttl => Some(v.clone()),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores `value`, evicting expired entries and then the oldest while full.
    pub fn insert(&mut self, key: String, value: V, now: Instant) {
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            let ttl = self.ttl;
            self.entries
                .retain(|_, (at, _)| now.saturating_duration_since(*at) < ttl);
            while self.entries.len() >= self.capacity {
                let Some(oldest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
                else {
                    break;
                };
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (now, value));
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Resolves `oci://REF` base profiles through a registry (SC-17, SC-18, SC-20). Other names
/// resolve to `Ok(None)`; combine it with a name resolver for mixed chains.
#[derive(Debug)]
pub struct OciResolver {
    registry: Registry,
    verification: Verification,
    platform: Platform,
    cache: Mutex<Cache<SeccompProfile>>,
}

impl OciResolver {
    /// A resolver pulling `linux/<host arch>` with `verification`.
    pub fn new(registry: Registry, verification: Verification) -> Self {
        OciResolver {
            registry,
            verification,
            platform: Platform::host(),
            cache: Mutex::new(Cache::new(CACHE_TTL, CACHE_CAPACITY)),
        }
    }

    /// Entries in the cache.
    pub fn cached(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Pulls (or takes from the cache) the SeccompProfile at `oci://REF`.
    pub async fn pull(&self, name: &str) -> Result<SeccompProfile, BoxError> {
        if let Some(p) = self
            .cache
            .lock()
            .ok()
            .and_then(|mut c| c.get(name, Instant::now()))
        {
            tracing::debug!(name, "base profile from cache");
            return Ok(p);
        }
        let r = parse_reference(name)?;
        let pulled = self
            .registry
            .pull_profile(
                &r,
                &self.platform,
                &[Kind::SeccompProfile],
                &self.verification,
            )
            .await?;
        let text = String::from_utf8(pulled.data)?;
        let profile = match SeccompProfile::from_yaml_fast(&text) {
            Some(mut v) if v.len() == 1 => v.remove(0),
            _ => {
                let raw = spo_core::parse_stream(&text)?;
                let doc = raw
                    .into_iter()
                    .next()
                    .ok_or_else(|| format!("{name}: empty profile"))?;
                SeccompProfile::from_document(&spo_core::Document::from_raw(doc)?)?
            }
        };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name.to_owned(), profile.clone(), Instant::now());
        }
        Ok(profile)
    }
}

impl AsyncBaseProfileResolver for OciResolver {
    async fn fetch(&self, name: &str) -> Result<Option<SeccompProfile>, BoxError> {
        if !name.starts_with("oci://") {
            return Ok(None);
        }
        self.pull(name).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: SC-20
    #[test]
    fn cache_expires_after_ttl_and_keeps_at_most_capacity() {
        let t0 = Instant::now();
        let mut c = Cache::new(CACHE_TTL, 3);
        c.insert("a".into(), 1, t0);
        assert_eq!(c.get("a", t0 + Duration::from_secs(23 * 3600)), Some(1));
        assert_eq!(c.get("a", t0 + CACHE_TTL), None);
        assert!(c.is_empty());
        for (i, k) in ["a", "b", "c", "d"].iter().enumerate() {
            c.insert((*k).into(), i, t0 + Duration::from_secs(i as u64));
        }
        assert_eq!(c.len(), 3);
        let later = t0 + Duration::from_secs(10);
        assert_eq!(c.get("a", later), None, "the oldest entry was evicted");
        assert_eq!(c.get("d", later), Some(3));
        assert_eq!(CACHE_CAPACITY, 1000);
    }
}
