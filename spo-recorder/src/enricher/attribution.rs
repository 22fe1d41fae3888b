//! PID → container ID (RC-29): `/proc/<pid>/cgroup` read once per (pid, process start time),
//! in a bounded cache. The /proc root is a parameter (tests and `hostProcVolumePath`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The container ID in a `/proc/<pid>/cgroup` text (RC-29): the **last** run of exactly 64
/// lower-case hex characters on the **first** line that has one. Covers cgroup v1
/// (`12:pids:/kubepods/…/<id>`), v2 (`0::/…/cri-containerd-<id>.scope`), hybrid, and the
/// containerd, CRI-O (`crio-<id>.scope`), docker (`docker-<id>.scope`, `/docker/<id>`) and
/// podman (`libpod-<id>.scope`) path forms.
pub fn container_id_from_cgroup(text: &str) -> Option<&str> {
    for line in text.lines() {
        let b = line.as_bytes();
        let mut last = None;
        let mut i = 0;
        while i < b.len() {
            if is_hex(b[i]) {
                let start = i;
                while i < b.len() && is_hex(b[i]) {
                    i += 1;
                }
                if i - start == 64 {
                    last = Some(&line[start..i]);
                }
            } else {
                i += 1;
            }
        }
        if last.is_some() {
            return last;
        }
    }
    None
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
}

/// Field 22 (`starttime`) of a `/proc/<pid>/stat` text, read after the last `)` (the command
/// name may contain spaces and parentheses).
pub fn start_time_from_stat(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    // Fields after ")" start with field 3 (state); starttime is field 22.
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// What a PID belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribution {
    /// A container, by its 64-hex ID.
    Container(Arc<str>),
    /// A running process outside any container.
    Host,
    /// The process is gone or unreadable.
    Unknown,
}

/// Cache limits and timings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AttributorOptions {
    /// The /proc to read (`/proc`, or the host's /proc mounted elsewhere).
    pub proc_root: PathBuf,
    /// Most cached PIDs (upstream: 1000).
    pub max_entries: usize,
    /// Entries unused for this long are evicted first (upstream: 1 h).
    pub ttl: Duration,
    /// How long an answer is trusted before the start time is checked again (a PID reused
    /// within this window would be misattributed; reading `/proc` for every line is what
    /// makes upstream slow).
    pub revalidate: Duration,
}

impl AttributorOptions {
    /// Sets [`AttributorOptions::proc_root`].
    #[must_use]
    pub fn with_proc_root(mut self, proc_root: PathBuf) -> Self {
        self.proc_root = proc_root;
        self
    }

    /// Sets [`AttributorOptions::max_entries`].
    #[must_use]
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// Sets [`AttributorOptions::ttl`].
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets [`AttributorOptions::revalidate`].
    #[must_use]
    pub fn with_revalidate(mut self, revalidate: Duration) -> Self {
        self.revalidate = revalidate;
        self
    }
}

impl Default for AttributorOptions {
    fn default() -> Self {
        AttributorOptions {
            proc_root: PathBuf::from("/proc"),
            max_entries: 1000,
            ttl: Duration::from_secs(3600),
            revalidate: Duration::from_secs(1),
        }
    }
}

#[derive(Debug)]
struct Entry {
    start_time: Option<u64>,
    result: Attribution,
    checked: Instant,
}

/// A fast hasher for PIDs (SipHash is needlessly slow for small integer keys).
#[derive(Default)]
pub(crate) struct PidHasher(u64);

impl Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

pub(crate) type PidMap<V> = HashMap<u32, V, BuildHasherDefault<PidHasher>>;

/// Counters of an [`Attributor`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttributorStats {
    /// Answers served from the cache.
    pub hits: u64,
    /// `/proc/<pid>/stat` reads.
    pub stat_reads: u64,
    /// `/proc/<pid>/cgroup` reads.
    pub cgroup_reads: u64,
    /// Entries evicted because the cache was full.
    pub evictions: u64,
}

/// PID → container ID with a bounded cache keyed by (pid, start time).
#[derive(Debug)]
pub struct Attributor {
    opts: AttributorOptions,
    cache: PidMap<Entry>,
    stats: AttributorStats,
    path: String,
}

impl Attributor {
    /// An attributor reading `opts.proc_root`.
    pub fn new(opts: AttributorOptions) -> Self {
        Attributor {
            opts,
            cache: PidMap::default(),
            stats: AttributorStats::default(),
            path: String::new(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> AttributorStats {
        self.stats
    }

    /// Cached PIDs.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    fn read(&mut self, pid: u32, file: &str) -> Option<String> {
        use std::fmt::Write;
        self.path.clear();
        let root = self.opts.proc_root.to_string_lossy();
        let _ = write!(self.path, "{}/{pid}/{file}", root.trim_end_matches('/'));
        std::fs::read_to_string(&self.path).ok()
    }

    fn start_time(&mut self, pid: u32) -> Option<u64> {
        self.stats.stat_reads += 1;
        let stat = self.read(pid, "stat")?;
        start_time_from_stat(&stat)
    }

    /// What `pid` belongs to, as of `now`.
    pub fn lookup(&mut self, pid: u32, now: Instant) -> Attribution {
        if let Some(e) = self.cache.get(&pid) {
            if now.saturating_duration_since(e.checked) < self.opts.revalidate {
                self.stats.hits += 1;
                return e.result.clone();
            }
        }
        let start = self.start_time(pid);
        if let (Some(e), Some(st)) = (self.cache.get_mut(&pid), start) {
            if e.start_time == Some(st) && e.result != Attribution::Unknown {
                e.checked = now;
                return e.result.clone();
            }
        }
        let result = match start {
            None => Attribution::Unknown,
            Some(_) => {
                self.stats.cgroup_reads += 1;
                match self.read(pid, "cgroup") {
                    None => Attribution::Unknown,
                    Some(text) => match container_id_from_cgroup(&text) {
                        Some(id) => Attribution::Container(Arc::from(id)),
                        None => Attribution::Host,
                    },
                }
            }
        };
        self.insert(
            pid,
            Entry {
                start_time: start,
                result: result.clone(),
                checked: now,
            },
            now,
        );
        result
    }

    /// Forgets `pid` (e.g. after its exit was seen).
    pub fn forget(&mut self, pid: u32) {
        self.cache.remove(&pid);
    }

    fn insert(&mut self, pid: u32, entry: Entry, now: Instant) {
        if !self.cache.contains_key(&pid) && self.cache.len() >= self.opts.max_entries {
            let ttl = self.opts.ttl;
            self.cache
                .retain(|_, e| now.saturating_duration_since(e.checked) < ttl);
            if self.cache.len() >= self.opts.max_entries {
                if let Some(oldest) = self
                    .cache
                    .iter()
                    .min_by_key(|(_, e)| e.checked)
                    .map(|(p, _)| *p)
                {
                    self.cache.remove(&oldest);
                    self.stats.evictions += 1;
                }
            }
        }
        self.cache.insert(pid, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn rc_29_cgroup_forms() {
        let v2 = format!("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/cri-containerd-{ID}.scope\n");
        assert_eq!(container_id_from_cgroup(&v2), Some(ID));
        let crio = format!("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podabc.slice/crio-{ID}.scope\n");
        assert_eq!(container_id_from_cgroup(&crio), Some(ID));
        let v1 = format!(
            "12:pids:/kubepods/besteffort/pod8f1c3a0e-0000-4000-8000-000000000000/{ID}\n11:cpu:/kubepods/besteffort/podx/{ID}\n"
        );
        assert_eq!(container_id_from_cgroup(&v1), Some(ID));
        let docker = format!("0::/system.slice/docker-{ID}.scope\n");
        assert_eq!(container_id_from_cgroup(&docker), Some(ID));
        let podman = format!("0::/machine.slice/libpod-{ID}.scope/container\n");
        assert_eq!(container_id_from_cgroup(&podman), Some(ID));
        let hybrid = format!("1:name=systemd:/user.slice\n0::/system.slice/docker/{ID}\n");
        assert_eq!(container_id_from_cgroup(&hybrid), Some(ID));
        assert_eq!(
            container_id_from_cgroup("0::/user.slice/user-0.slice/session-1.scope\n"),
            None
        );
        // 65 hex characters are not an ID.
        assert_eq!(container_id_from_cgroup(&format!("0::/x/{ID}a\n")), None);
    }

    #[test]
    fn rc_29_last_match_on_first_matching_line() {
        let other = ID.replace('0', "f");
        let text = format!("0::/a/{other}/b/{ID}\n1:cpu:/c/{}\n", "e".repeat(64));
        assert_eq!(container_id_from_cgroup(&text), Some(ID));
    }

    #[test]
    fn start_time_after_last_paren() {
        let stat = "42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10 18446744073709551615";
        assert_eq!(start_time_from_stat(stat), Some(987_654));
        assert_eq!(start_time_from_stat("garbage"), None);
    }
}
