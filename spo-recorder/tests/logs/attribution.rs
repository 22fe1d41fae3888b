//! RC-29 / RC-30: PID → container attribution with a real cgroup v2 child and with a fake
//! /proc; per-PID backlog and replay.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spo_recorder::enricher::{
    Attribution, Attributor, AttributorOptions, ContainerInfo, Enricher, EnricherOptions,
    StaticResolver, Unattributed,
};

pub const ID: &str = "3a1f4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70819";

fn cgroup2_root() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mounts.lines().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        (f.len() > 2 && f[2] == "cgroup2").then(|| PathBuf::from(f[1]))
    })
}

struct Cleanup {
    child: Child,
    dirs: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for d in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

#[test]
fn rc_29_real_process_in_a_cgroup_v2_container_scope() {
    let Some(root) = cgroup2_root() else {
        eprintln!("SKIP: no cgroup2 hierarchy mounted");
        return;
    };
    let parent = root.join(format!("spo-test-{}", std::process::id()));
    let scope = parent.join(format!("cri-containerd-{ID}.scope"));
    if let Err(e) = std::fs::create_dir_all(&scope) {
        eprintln!("SKIP: cannot create a cgroup under {}: {e}", root.display());
        return;
    }
    let child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id();
    let guard = Cleanup {
        child,
        dirs: vec![parent.clone(), scope.clone()],
    };
    std::fs::write(scope.join("cgroup.procs"), pid.to_string()).unwrap();
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(cg.contains(&format!("cri-containerd-{ID}.scope")), "{cg}");

    let mut a = Attributor::new(AttributorOptions::default());
    let now = Instant::now();
    assert_eq!(a.lookup(pid, now), Attribution::Container(Arc::from(ID)));
    // Cached: no further /proc reads within the revalidation window.
    let reads = a.stats().cgroup_reads;
    assert_eq!(a.lookup(pid, now), Attribution::Container(Arc::from(ID)));
    assert_eq!(a.stats().cgroup_reads, reads);
    // This test process itself is no container.
    assert_eq!(a.lookup(std::process::id(), now), Attribution::Host);
    drop(guard);
    // After exit (and the revalidation window), the PID is unknown.
    let later = now + Duration::from_secs(5);
    assert_eq!(a.lookup(pid, later), Attribution::Unknown);
}

/// Writes a fake `/proc/<pid>/{stat,cgroup}`.
/// A resolver that knows container [`ID`] as `[namespace, pod, container]`, recorded into
/// `record_profile`.
pub fn resolver_for(place: [&str; 3], record_profile: &str) -> StaticResolver {
    let mut resolver = StaticResolver::new();
    resolver.insert(
        ID,
        ContainerInfo {
            namespace: place[0].into(),
            pod: place[1].into(),
            container: place[2].into(),
            record_profile: Some(record_profile.into()),
        },
    );
    resolver
}

/// Enricher options for node `n1` that read the fake `/proc` at `proc_root` and backlog
/// lines of processes not visible yet.
pub fn backlog_options(proc_root: &Path) -> EnricherOptions {
    EnricherOptions::default()
        .with_node("n1".into())
        .with_attribution(AttributorOptions::default().with_proc_root(proc_root.to_path_buf()))
        .with_unattributed(Unattributed::Backlog)
}

pub fn fake_proc(root: &Path, pid: u32, start: u64, cgroup: &str) {
    let d = root.join(pid.to_string());
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("stat"),
        format!("{pid} (my (odd) comm) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 {start} 1000 10 0"),
    )
    .unwrap();
    std::fs::write(d.join("cgroup"), cgroup).unwrap();
}

#[test]
fn rc_29_cache_is_keyed_by_pid_and_start_time() {
    let d = tempfile::tempdir().unwrap();
    let other = ID.replace('3', "4");
    fake_proc(
        d.path(),
        77,
        1000,
        &format!("0::/kubepods/crio-{ID}.scope\n"),
    );
    let mut a =
        Attributor::new(AttributorOptions::default().with_proc_root(d.path().to_path_buf()));
    let t0 = Instant::now();
    assert_eq!(a.lookup(77, t0), Attribution::Container(Arc::from(ID)));
    // PID reused by another process (new start time) in another container.
    fake_proc(
        d.path(),
        77,
        2000,
        &format!("0::/kubepods/crio-{other}.scope\n"),
    );
    let t1 = t0 + Duration::from_secs(2);
    assert_eq!(
        a.lookup(77, t1),
        Attribution::Container(Arc::from(other.as_str()))
    );
    // Same start time again later: served without reading the cgroup file.
    let reads = a.stats().cgroup_reads;
    assert_eq!(
        a.lookup(77, t1 + Duration::from_secs(2)),
        Attribution::Container(Arc::from(other.as_str()))
    );
    assert_eq!(a.stats().cgroup_reads, reads);
    assert_eq!(a.lookup(78, t1), Attribution::Unknown);
}

#[test]
fn rc_29_cache_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    for pid in 1..=50 {
        fake_proc(d.path(), pid, 1, "0::/\n");
    }
    let mut a = Attributor::new(
        AttributorOptions::default()
            .with_proc_root(d.path().to_path_buf())
            .with_max_entries(10),
    );
    let now = Instant::now();
    for pid in 1..=50 {
        assert_eq!(a.lookup(pid, now), Attribution::Host);
        assert!(a.len() <= 10);
    }
    assert_eq!(a.stats().evictions, 40);
}

fn seccomp_line(pid: u32, serial: u64, nr: u32) -> String {
    format!("type=SECCOMP msg=audit(1700000000.000:{serial}): auid=4294967295 uid=0 gid=0 ses=4294967295 pid={pid} comm=\"x\" exe=\"/x\" sig=0 arch=c000003e syscall={nr} compat=0 ip=0x1 code=0x7ffc0000")
}

#[test]
fn rc_30_unattributable_lines_are_backlogged_and_replayed() {
    let d = tempfile::tempdir().unwrap();
    let resolver = resolver_for(["ns", "p", "c"], "rec_c_abcde_1");
    let mut e = Enricher::new(backlog_options(d.path()), resolver, None);
    let mut out: Vec<(u64, String)> = Vec::new();
    let t0 = Instant::now();
    // The process is not visible yet: both lines wait.
    for (i, nr) in [(1u64, 0u32), (2, 1)] {
        e.process_line(seccomp_line(4242, i, nr).as_bytes(), t0, &mut |ev| {
            out.push((
                ev.event.stamp().serial,
                ev.syscall_name.unwrap().to_string(),
            ))
        });
    }
    assert!(out.is_empty());
    assert_eq!(e.backlog().len(), 2);
    fake_proc(
        d.path(),
        4242,
        5,
        &format!("0::/k/cri-containerd-{ID}.scope\n"),
    );
    let t1 = t0 + Duration::from_secs(2);
    e.process_line(seccomp_line(4242, 3, 2).as_bytes(), t1, &mut |ev| {
        assert_eq!(ev.info.unwrap().pod, "p");
        out.push((
            ev.event.stamp().serial,
            ev.syscall_name.unwrap().to_string(),
        ))
    });
    assert_eq!(
        out,
        [
            (1, "read".to_string()),
            (2, "write".to_string()),
            (3, "open".to_string())
        ]
    );
    assert!(e.backlog().is_empty());
    assert_eq!(e.stats().replayed, 2);
    assert_eq!(
        e.aggregate().syscalls("rec_c_abcde_1").unwrap(),
        ["open", "read", "write"]
    );
}

#[test]
fn rc_30_backlog_is_bounded_and_drops_are_counted() {
    use spo_recorder::enricher::BacklogOptions;
    let d = tempfile::tempdir().unwrap();
    let opts = EnricherOptions::default()
        .with_attribution(AttributorOptions::default().with_proc_root(d.path().to_path_buf()))
        .with_backlog(
            BacklogOptions::default()
                .with_max_pids(3)
                .with_max_lines_per_pid(4)
                .with_ttl(Duration::from_secs(3600)),
        )
        .with_unattributed(Unattributed::Backlog);
    let mut e = Enricher::new(opts, StaticResolver::new(), None);
    let now = Instant::now();
    for pid in 1..=5u32 {
        for i in 0..6u64 {
            e.process_line(seccomp_line(pid, i, 0).as_bytes(), now, &mut |_| {
                panic!("nothing is attributable")
            });
        }
    }
    // 5 PIDs × 6 lines: 2 dropped per PID by the per-PID limit, then 2 whole PIDs (4 lines
    // each) evicted by the PID limit.
    assert_eq!(e.backlog().len(), 3 * 4);
    assert_eq!(e.backlog().dropped(), 5 * 2 + 2 * 4);
}
