//! Accumulating enriched events per record profile id (spec §4.4): syscall names for seccomp
//! recordings, AVCs for SELinux recordings. The recorder reads and resets them when the
//! recorded pod ends (the gRPC `Syscalls`/`ResetSyscalls`/`Avcs`/`ResetAvcs` calls upstream).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use spo_core::events::{AuditStamp, AvcEvent};

/// AVC key: (scontext, tcontext, tclass).
type AvcKey = (String, String, String);

/// Per-profile syscall and AVC sets.
#[derive(Debug, Clone, Default)]
pub struct Aggregator {
    syscalls: HashMap<String, BTreeSet<String>>,
    avcs: HashMap<String, BTreeMap<AvcKey, BTreeSet<String>>>,
}

impl Aggregator {
    /// An empty aggregator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one syscall name for `profile`.
    pub fn add_syscall(&mut self, profile: &str, name: &str) {
        match self.syscalls.get_mut(profile) {
            Some(set) => {
                if !set.contains(name) {
                    set.insert(name.to_string());
                }
            }
            None => {
                self.syscalls
                    .insert(profile.to_string(), BTreeSet::from([name.to_string()]));
            }
        }
    }

    /// Records the permissions of one AVC for `profile`.
    pub fn add_avc<S: AsRef<str>>(&mut self, profile: &str, avc: &AvcEvent<S>) {
        let key = (
            avc.scontext.as_ref().to_string(),
            avc.tcontext.as_ref().to_string(),
            avc.tclass.as_ref().to_string(),
        );
        let perms = self
            .avcs
            .entry(profile.to_string())
            .or_default()
            .entry(key)
            .or_default();
        for p in &avc.perms {
            perms.insert(p.as_ref().to_string());
        }
    }

    /// The sorted syscall names of `profile`; `None` when nothing was recorded for it.
    pub fn syscalls(&self, profile: &str) -> Option<Vec<String>> {
        self.syscalls
            .get(profile)
            .map(|s| s.iter().cloned().collect())
    }

    /// Forgets the syscalls of `profile`.
    pub fn reset_syscalls(&mut self, profile: &str) {
        self.syscalls.remove(profile);
    }

    /// The AVCs of `profile`, one per (scontext, tcontext, tclass) with the union of the
    /// permissions, sorted; `None` when nothing was recorded for it.
    pub fn avcs(&self, profile: &str) -> Option<Vec<AvcEvent>> {
        self.avcs.get(profile).map(|m| {
            m.iter()
                .map(|((s, t, c), perms)| AvcEvent {
                    stamp: AuditStamp::default(),
                    pid: 0,
                    denied: true,
                    perms: perms.iter().cloned().collect(),
                    scontext: s.clone(),
                    tcontext: t.clone(),
                    tclass: c.clone(),
                    comm: None,
                })
                .collect()
        })
    }

    /// Forgets the AVCs of `profile`.
    pub fn reset_avcs(&mut self, profile: &str) {
        self.avcs.remove(profile);
    }

    /// Profile ids with recorded syscalls, sorted.
    pub fn syscall_profiles(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.syscalls.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}
