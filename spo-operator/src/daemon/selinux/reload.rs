//! The policy reload of a node (`selinux.md` §6, SE-23), as pure bookkeeping with the clock
//! passed in.
//!
//! The daemon commits modules with `semodule -N` (no reload per module) and reloads the
//! running policy with `semodule -R` here. Upstream starts one privileged Job per
//! (node, policy, action) and skips it when the profile generation was already reloaded or a
//! Job ran less than 120 s ago. Reloading loads the *whole* policy, so this node batches
//! instead (upstream weak point 7): one reload covers every module committed before it
//! started, reloads are at least [`MIN_INTERVAL`] apart, and a (profile, action) whose
//! generation was already reloaded asks for nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Shortest time between two reloads on a node.
pub const MIN_INTERVAL: Duration = Duration::from_secs(120);

/// Why a module was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReloadAction {
    /// A module was installed or replaced.
    Install,
    /// A module was removed.
    Remove,
}

impl ReloadAction {
    /// `install` or `remove` (upstream's Job label).
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadAction::Install => "install",
            ReloadAction::Remove => "remove",
        }
    }
}

/// (profile kind, profile name, action).
pub type Key = (String, String, ReloadAction);

/// What the reload loop should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Nothing is waiting for a reload.
    Idle,
    /// Run `semodule -R` now, then call [`Reloader::finished`].
    ReloadNow,
    /// Something is waiting; the next reload may start after this long.
    Wait(Duration),
}

/// Which committed generations still need a reload, and when the last one ran.
#[derive(Debug, Clone)]
pub struct Reloader {
    min_interval: Duration,
    last_start: Option<Instant>,
    pending: BTreeMap<Key, i64>,
    in_flight: BTreeMap<Key, i64>,
    done: BTreeMap<Key, i64>,
}

impl Default for Reloader {
    fn default() -> Self {
        Self::new(MIN_INTERVAL)
    }
}

impl Reloader {
    /// A reloader whose reloads are at least `min_interval` apart.
    pub fn new(min_interval: Duration) -> Self {
        Self {
            min_interval,
            last_start: None,
            pending: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            done: BTreeMap::new(),
        }
    }

    /// Records that generation `generation` of a profile was committed for `action`.
    /// Returns `false` when that generation was already reloaded for that action (nothing
    /// to do), `true` when it now waits for a reload. Committing one action forgets the
    /// other's record, so a profile deleted and created again (generation 1 again) is
    /// reloaded again.
    pub fn commit(
        &mut self,
        kind: &str,
        name: &str,
        action: ReloadAction,
        generation: i64,
    ) -> bool {
        let key: Key = (kind.to_string(), name.to_string(), action);
        let other = match action {
            ReloadAction::Install => ReloadAction::Remove,
            ReloadAction::Remove => ReloadAction::Install,
        };
        let other_key: Key = (kind.to_string(), name.to_string(), other);
        self.done.remove(&other_key);
        self.pending.remove(&other_key);
        if self.done.get(&key) == Some(&generation) || self.in_flight.get(&key) == Some(&generation)
        {
            return false;
        }
        self.pending.insert(key, generation);
        true
    }

    /// What to do at `now`. [`Poll::ReloadNow`] moves everything waiting into the reload
    /// that the caller starts now.
    pub fn poll(&mut self, now: Instant) -> Poll {
        if self.pending.is_empty() {
            return Poll::Idle;
        }
        if !self.in_flight.is_empty() {
            // One reload at a time; the caller polls again after `finished`.
            return Poll::Wait(self.min_interval);
        }
        if let Some(last) = self.last_start {
            let since = now.saturating_duration_since(last);
            if since < self.min_interval {
                return Poll::Wait(self.min_interval - since);
            }
        }
        self.last_start = Some(now);
        self.in_flight = std::mem::take(&mut self.pending);
        Poll::ReloadNow
    }

    /// The reload started by the last [`Poll::ReloadNow`] ended: on success its generations
    /// count as reloaded; on failure they wait again (retried after the interval).
    pub fn finished(&mut self, ok: bool) {
        let flown = std::mem::take(&mut self.in_flight);
        for (key, generation) in flown {
            if ok {
                self.done.insert(key, generation);
            } else {
                // A newer commit of the same key while reloading wins.
                self.pending.entry(key).or_insert(generation);
            }
        }
    }

    /// Whether generation `generation` of the profile was reloaded for `action`.
    pub fn reloaded(&self, kind: &str, name: &str, action: ReloadAction, generation: i64) -> bool {
        self.done.get(&(kind.to_string(), name.to_string(), action)) == Some(&generation)
    }

    /// How many commits wait for a reload.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "SelinuxProfile";

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    // covers: SE-23
    #[test]
    fn se_23_reload_at_most_once_per_generation() {
        let t0 = Instant::now();
        let mut r = Reloader::default();
        assert_eq!(r.poll(t0), Poll::Idle, "nothing committed, no reload");
        assert!(r.commit(K, "a", ReloadAction::Install, 1));
        assert_eq!(r.poll(t0), Poll::ReloadNow);
        r.finished(true);
        assert!(r.reloaded(K, "a", ReloadAction::Install, 1));
        // The same generation again (a re-reconcile, a daemon resync): nothing to do.
        assert!(!r.commit(K, "a", ReloadAction::Install, 1));
        assert_eq!(r.poll(t0 + secs(500)), Poll::Idle);
        // A new generation needs a reload.
        assert!(r.commit(K, "a", ReloadAction::Install, 2));
        assert_eq!(r.poll(t0 + secs(500)), Poll::ReloadNow);
        r.finished(true);
        assert!(r.reloaded(K, "a", ReloadAction::Install, 2));
    }

    // covers: SE-23
    #[test]
    fn se_23_reloads_are_120_s_apart_and_batched() {
        let t0 = Instant::now();
        let mut r = Reloader::default();
        r.commit(K, "a", ReloadAction::Install, 1);
        assert_eq!(r.poll(t0), Poll::ReloadNow);
        r.finished(true);
        // Two more commits 10 s and 30 s later wait for the same single reload.
        r.commit(K, "b", ReloadAction::Install, 1);
        assert_eq!(r.poll(t0 + secs(10)), Poll::Wait(secs(110)));
        r.commit(K, "c", ReloadAction::Remove, 4);
        assert_eq!(r.poll(t0 + secs(30)), Poll::Wait(secs(90)));
        assert_eq!(r.pending(), 2);
        assert_eq!(r.poll(t0 + secs(119)), Poll::Wait(secs(1)));
        assert_eq!(r.poll(t0 + secs(120)), Poll::ReloadNow);
        r.finished(true);
        assert!(r.reloaded(K, "b", ReloadAction::Install, 1));
        assert!(r.reloaded(K, "c", ReloadAction::Remove, 4));
        assert_eq!(r.poll(t0 + secs(121)), Poll::Idle);
    }

    // covers: SE-23
    #[test]
    fn se_23_failed_reload_is_retried_after_the_interval() {
        let t0 = Instant::now();
        let mut r = Reloader::default();
        r.commit(K, "a", ReloadAction::Install, 1);
        assert_eq!(r.poll(t0), Poll::ReloadNow);
        // While it runs, the same generation is not queued twice; another profile waits.
        assert!(!r.commit(K, "a", ReloadAction::Install, 1));
        assert_eq!(r.poll(t0), Poll::Idle);
        assert!(r.commit(K, "b", ReloadAction::Install, 1));
        assert!(matches!(r.poll(t0), Poll::Wait(_)));
        r.finished(false);
        assert!(!r.reloaded(K, "a", ReloadAction::Install, 1));
        assert_eq!(r.poll(t0 + secs(60)), Poll::Wait(secs(60)));
        assert_eq!(r.poll(t0 + secs(120)), Poll::ReloadNow);
        r.finished(true);
        assert!(r.reloaded(K, "a", ReloadAction::Install, 1));
        assert!(r.reloaded(K, "b", ReloadAction::Install, 1));
    }

    // covers: SE-23
    #[test]
    fn se_23_delete_then_recreate_reloads_again() {
        let t0 = Instant::now();
        let mut r = Reloader::new(secs(0));
        r.commit(K, "a", ReloadAction::Install, 1);
        assert_eq!(r.poll(t0), Poll::ReloadNow);
        r.finished(true);
        assert!(r.commit(K, "a", ReloadAction::Remove, 1));
        assert_eq!(r.poll(t0), Poll::ReloadNow);
        r.finished(true);
        // Created again: generation 1 again, but it is a new object.
        assert!(r.commit(K, "a", ReloadAction::Install, 1));
        // Another kind with the same name is another profile.
        assert!(r.commit("RawSelinuxProfile", "a", ReloadAction::Install, 1));
        assert_eq!(r.pending(), 2);
    }
}
