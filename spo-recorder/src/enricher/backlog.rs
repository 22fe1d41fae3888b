//! Lines of PIDs that could not be attributed yet (spec §4.3 step 4, RC-30): kept per PID,
//! bounded in PIDs, lines per PID and age; every line that has to go is counted.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use spo_core::events::AuditEvent;

use super::attribution::PidMap;

/// Backlog limits (upstream: 1000 PIDs, ~129 lines each, 1 h).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct BacklogOptions {
    /// Most PIDs with a backlog.
    pub max_pids: usize,
    /// Most lines kept per PID; older ones are dropped first.
    pub max_lines_per_pid: usize,
    /// Lines older than this are dropped.
    pub ttl: Duration,
}

impl BacklogOptions {
    /// Sets [`BacklogOptions::max_pids`].
    #[must_use]
    pub fn with_max_pids(mut self, max_pids: usize) -> Self {
        self.max_pids = max_pids;
        self
    }

    /// Sets [`BacklogOptions::max_lines_per_pid`].
    #[must_use]
    pub fn with_max_lines_per_pid(mut self, max_lines_per_pid: usize) -> Self {
        self.max_lines_per_pid = max_lines_per_pid;
        self
    }

    /// Sets [`BacklogOptions::ttl`].
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}

impl Default for BacklogOptions {
    fn default() -> Self {
        BacklogOptions {
            max_pids: 1000,
            max_lines_per_pid: 129,
            ttl: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug)]
struct PidLog {
    touched: Instant,
    events: VecDeque<(Instant, AuditEvent)>,
}

/// The per-PID backlog.
#[derive(Debug, Default)]
pub struct Backlog {
    opts: BacklogOptions,
    pids: PidMap<PidLog>,
    dropped: u64,
    lines: usize,
}

impl Backlog {
    /// An empty backlog.
    pub fn new(opts: BacklogOptions) -> Self {
        Backlog {
            opts,
            ..Default::default()
        }
    }

    /// Lines dropped so far (limits or age).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Lines currently held.
    pub fn len(&self) -> usize {
        self.lines
    }

    /// True when no line is held.
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// True when `pid` has lines waiting.
    pub fn has(&self, pid: u32) -> bool {
        self.pids.contains_key(&pid)
    }

    /// Keeps `event` for `pid`.
    pub fn push(&mut self, pid: u32, event: AuditEvent, now: Instant) {
        if !self.pids.contains_key(&pid) && self.pids.len() >= self.opts.max_pids {
            self.expire(now);
            if self.pids.len() >= self.opts.max_pids {
                if let Some(oldest) = self
                    .pids
                    .iter()
                    .min_by_key(|(_, l)| l.touched)
                    .map(|(p, _)| *p)
                {
                    if let Some(l) = self.pids.remove(&oldest) {
                        self.dropped += l.events.len() as u64;
                        self.lines -= l.events.len();
                    }
                }
            }
        }
        let log = self.pids.entry(pid).or_insert_with(|| PidLog {
            touched: now,
            events: VecDeque::new(),
        });
        log.touched = now;
        if log.events.len() >= self.opts.max_lines_per_pid.max(1) {
            log.events.pop_front();
            self.dropped += 1;
            self.lines -= 1;
        }
        log.events.push_back((now, event));
        self.lines += 1;
    }

    /// Takes the lines of `pid`, oldest first, for replay.
    pub fn take(&mut self, pid: u32) -> Vec<AuditEvent> {
        match self.pids.remove(&pid) {
            Some(l) => {
                self.lines -= l.events.len();
                l.events.into_iter().map(|(_, e)| e).collect()
            }
            None => Vec::new(),
        }
    }

    /// Drops lines older than the TTL.
    pub fn expire(&mut self, now: Instant) {
        let ttl = self.opts.ttl;
        let mut dropped = 0usize;
        self.pids.retain(|_, l| {
            let before = l.events.len();
            while l
                .events
                .front()
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= ttl)
            {
                l.events.pop_front();
            }
            dropped += before - l.events.len();
            !l.events.is_empty()
        });
        self.dropped += dropped as u64;
        self.lines -= dropped;
    }
}
