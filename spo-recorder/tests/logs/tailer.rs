//! RC-27: following a log from its end or start, across rotation by rename+create and by
//! copytruncate under a concurrent writer, with no line lost or read twice.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spo_recorder::audit::{default_source, TailOptions, Tailer};

fn append(path: &Path) -> std::fs::File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

fn collect(t: &mut Tailer) -> Vec<String> {
    let mut v = Vec::new();
    t.poll(&mut |l| v.push(String::from_utf8_lossy(l).into_owned()))
        .unwrap();
    v
}

#[test]
fn rc_27_default_source_prefers_audit_log() {
    let d = tempfile::tempdir().unwrap();
    assert_eq!(default_source(d.path()), d.path().join("var/log/syslog"));
    std::fs::create_dir_all(d.path().join("var/log/audit")).unwrap();
    std::fs::write(d.path().join("var/log/audit/audit.log"), "").unwrap();
    assert_eq!(
        default_source(d.path()),
        d.path().join("var/log/audit/audit.log")
    );
}

#[test]
fn rc_27_starts_at_end_by_default_and_buffers_partial_lines() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("audit.log");
    std::fs::write(&p, "old 1\nold 2\npart").unwrap();
    let mut t = Tailer::open(&p, TailOptions::new(&p)).unwrap();
    // The complete old lines are skipped; the unterminated one is delivered once complete.
    assert!(collect(&mut t).is_empty());
    let mut f = append(&p);
    f.write_all(b"ial\nnew 1\nne").unwrap();
    assert_eq!(collect(&mut t), ["partial", "new 1"]);
    assert!(collect(&mut t).is_empty());
    f.write_all(b"w 2\n").unwrap();
    assert_eq!(collect(&mut t), ["new 2"]);
    // From the start.
    let mut opts = TailOptions::new(&p);
    opts.from_start = true;
    let mut t = Tailer::open(&p, opts).unwrap();
    assert_eq!(
        collect(&mut t),
        ["old 1", "old 2", "partial", "new 1", "new 2"]
    );
    // An unterminated last line is delivered by finish().
    f.write_all(b"tail").unwrap();
    assert!(collect(&mut t).is_empty());
    let mut last = Vec::new();
    t.finish(&mut |l| last.push(l.to_vec()));
    assert_eq!(last, [b"tail".to_vec()]);
}

#[test]
fn rc_27_file_created_later_is_read_from_its_start() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("audit.log");
    let mut t = Tailer::open(&p, TailOptions::new(&p)).unwrap();
    assert!(collect(&mut t).is_empty());
    std::fs::write(&p, "a\nb\n").unwrap();
    assert_eq!(collect(&mut t), ["a", "b"]);
}

/// Reads until `n` lines arrived (or a timeout), polling while the writer runs.
fn read_all(path: &Path, opts: TailOptions, n: usize, done: &AtomicBool) -> (Vec<u64>, Tailer) {
    let mut t = Tailer::open(path, opts).unwrap();
    let mut got = Vec::new();
    let start = Instant::now();
    while got.len() < n && start.elapsed() < Duration::from_secs(60) {
        let read = t
            .poll(&mut |l| {
                let s = std::str::from_utf8(l).unwrap();
                got.push(
                    s.trim_start_matches("line ")
                        .parse::<u64>()
                        .unwrap_or(u64::MAX),
                );
            })
            .unwrap();
        if read == 0 {
            if done.load(Ordering::SeqCst) && got.len() >= n {
                break;
            }
            std::thread::sleep(Duration::from_micros(300));
        }
    }
    (got, t)
}

fn assert_exact(got: &[u64], n: u64) {
    let mut sorted = got.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), got.len(), "duplicated lines");
    assert_eq!(got.len() as u64, n, "lost lines: got {} of {n}", got.len());
    assert_eq!(sorted, (0..n).collect::<Vec<_>>());
}

#[test]
fn rc_27_rotation_by_rename_under_concurrent_writer() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("audit.log");
    std::fs::write(&p, "").unwrap();
    const N: u64 = 30_000;
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let p = p.clone();
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut f = append(&p);
            let mut gen = 0;
            for i in 0..N {
                // Whole lines, one write each, as auditd does; sometimes in two pieces to
                // exercise partial-line buffering.
                let line = format!("line {i}\n");
                if i % 7 == 0 {
                    let (a, b) = line.split_at(3);
                    f.write_all(a.as_bytes()).unwrap();
                    f.write_all(b.as_bytes()).unwrap();
                } else {
                    f.write_all(line.as_bytes()).unwrap();
                }
                if i % 3000 == 2999 {
                    gen += 1;
                    std::fs::rename(&p, p.with_extension(format!("log.{gen}"))).unwrap();
                    // A writer that has not reopened yet keeps appending to the old file.
                    if gen % 2 == 0 {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    f = append(&p);
                }
                if i % 500 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut opts = TailOptions::new(&p);
    opts.from_start = true;
    let (got, t) = read_all(&p, opts, N as usize, &done);
    writer.join().unwrap();
    assert_exact(&got, N);
    assert!(t.stats().renames >= 5, "{:?}", t.stats());
}

#[test]
fn rc_27_rotation_by_copytruncate_under_concurrent_writer() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("audit.log");
    let copy: PathBuf = d.path().join("audit.log.1");
    std::fs::write(&p, "").unwrap();
    const N: u64 = 30_000;
    let done = Arc::new(AtomicBool::new(false));
    // logrotate's copy and truncate are not atomic for writers; the writer is held off
    // between them (lines written in between are lost for every reader by design).
    let gate = Arc::new(Mutex::new(()));
    let writer = {
        let (p, done, gate) = (p.clone(), Arc::clone(&done), Arc::clone(&gate));
        std::thread::spawn(move || {
            let mut f = append(&p);
            for i in 0..N {
                let _g = gate.lock().unwrap();
                f.write_all(format!("line {i}\n").as_bytes()).unwrap();
                drop(_g);
                if i % 500 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let rotator = {
        let (p, copy, done, gate) = (
            p.clone(),
            copy.clone(),
            Arc::clone(&done),
            Arc::clone(&gate),
        );
        std::thread::spawn(move || {
            let mut n = 0;
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(15));
                let _g = gate.lock().unwrap();
                std::fs::copy(&p, &copy).unwrap();
                OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    let mut opts = TailOptions::new(&p);
    opts.from_start = true;
    opts.rotated = vec![copy];
    let (got, t) = read_all(&p, opts, N as usize, &done);
    writer.join().unwrap();
    let rotations = rotator.join().unwrap();
    assert_exact(&got, N);
    assert!(rotations >= 3, "only {rotations} rotations");
    assert!(t.stats().truncations >= 1, "{:?}", t.stats());
    assert_eq!(t.stats().unrecovered_truncations, 0, "{:?}", t.stats());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    // Lines arriving in arbitrary pieces (split anywhere, polls in between) come out whole,
    // once, in order.
    #[test]
    fn rc_27_arbitrary_write_boundaries(
        lines in proptest::collection::vec("[a-z0-9 =\"]{0,40}", 1..60),
        cuts in proptest::collection::vec(1usize..50, 1..200),
    ) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.log");
        std::fs::write(&p, "").unwrap();
        let mut opts = TailOptions::new(&p);
        opts.buffer_size = 4096; // smallest: exercises refills too
        let mut t = Tailer::open(&p, opts).unwrap();
        let data: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let mut f = append(&p);
        let mut got: Vec<String> = Vec::new();
        let (mut at, mut i) = (0, 0);
        while at < data.len() {
            let n = cuts[i % cuts.len()].min(data.len() - at);
            f.write_all(&data.as_bytes()[at..at + n]).unwrap();
            at += n;
            i += 1;
            t.poll(&mut |l| got.push(String::from_utf8(l.to_vec()).unwrap())).unwrap();
        }
        t.poll(&mut |l| got.push(String::from_utf8(l.to_vec()).unwrap())).unwrap();
        proptest::prop_assert_eq!(got, lines);
    }
}

#[test]
fn oversized_lines_are_dropped_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("audit.log");
    let mut opts = TailOptions::new(&p);
    opts.from_start = true;
    opts.max_line = 100;
    opts.buffer_size = 4096;
    std::fs::write(
        &p,
        format!("short\n{}\nafter\n{}", "x".repeat(10_000), "y".repeat(300)),
    )
    .unwrap();
    let mut t = Tailer::open(&p, opts).unwrap();
    let mut got = collect(&mut t);
    append(&p).write_all(b"\nlast\n").unwrap();
    got.extend(collect(&mut t));
    assert_eq!(got, ["short", "after", "last"]);
    assert_eq!(t.stats().oversized_lines, 2);
}
