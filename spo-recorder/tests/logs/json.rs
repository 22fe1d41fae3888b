//! RC-41..RC-44: the JSON enricher with real processes, intervals, and rotation.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use spo_recorder::enricher::json::{
    JsonEnricher, JsonEnricherOptions, RotateOptions, RotatingWriter,
};
use spo_recorder::enricher::{AttributorOptions, Filters, NoResolver};

fn seccomp_line(pid: u32, serial: u64, nr: u32) -> String {
    format!("type=SECCOMP msg=audit(1744780616.123:{serial}): auid=0 uid=1000 gid=1001 ses=1 pid={pid} comm=\"sleep\" exe=\"/usr/bin/sleep\" sig=0 arch=c000003e syscall={nr} compat=0 ip=0x1 code=0x7ffc0000")
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn enricher(interval: Duration, filters: &str) -> JsonEnricher<NoResolver> {
    JsonEnricher::new(
        JsonEnricherOptions::default()
            .with_node("node-1".into())
            .with_interval(interval)
            .with_attribution(AttributorOptions::default())
            .with_filters(Filters::parse(filters).unwrap()),
        NoResolver,
    )
}

#[test]
fn rc_41_rc_42_rc_43_request_uid_from_environment() {
    let child = Kill(
        Command::new("sleep")
            .arg("30")
            .env(
                "SPO_EXEC_REQUEST_UID",
                "dbbf5fca-c955-4922-99d2-27a50212071c",
            )
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    // Let the child exec (environ is the new image's).
    std::thread::sleep(Duration::from_millis(100));
    let mut e = enricher(Duration::from_secs(60), "");
    let t0 = Instant::now();
    for (i, nr) in [(1, 59), (2, 56), (3, 59)] {
        e.process_line(seccomp_line(pid, i, nr).as_bytes(), t0);
    }
    let mut out = Vec::new();
    e.flush_due(t0 + Duration::from_secs(59), &mut |l| {
        out.push(l.to_string())
    });
    assert!(out.is_empty(), "flushed too early");
    e.flush_due(t0 + Duration::from_secs(60), &mut |l| {
        out.push(l.to_string())
    });
    assert_eq!(out.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&out[0]).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "auditID",
            "cmdLine",
            "executable",
            "gid",
            "node",
            "pid",
            "requestUID",
            "resource",
            "syscalls",
            "timestamp",
            "uid",
            "version"
        ]
    );
    assert_eq!(v["requestUID"], "dbbf5fca-c955-4922-99d2-27a50212071c");
    assert_eq!(v["cmdLine"], "sleep 30");
    assert_eq!(v["executable"], "/usr/bin/sleep");
    assert_eq!(
        (v["uid"].as_u64(), v["gid"].as_u64()),
        (Some(1000), Some(1001))
    );
    assert_eq!(v["node"]["name"], "node-1");
    assert_eq!(v["pid"], pid);
    assert_eq!(v["resource"], serde_json::Value::Null);
    assert_eq!(v["syscalls"], serde_json::json!(["execve", "clone"]));
    assert_eq!(v["timestamp"], "2025-04-16T05:16:56.000Z");
    assert_eq!(v["version"], "spo/v1_alpha");
    assert_eq!(v["auditID"].as_str().unwrap().len(), 36);
}

#[test]
fn rc_43_request_uid_from_command_line_and_absent() {
    let child = Kill(
        Command::new("sh")
            .args(["-c", "sleep 30", "SPO_EXEC_REQUEST_UID=abc-123"])
            .spawn()
            .unwrap(),
    );
    let plain = Kill(
        Command::new("sleep")
            .arg("31")
            .env_remove("SPO_EXEC_REQUEST_UID")
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(100));
    let mut e = enricher(Duration::from_secs(1), "");
    let t0 = Instant::now();
    e.process_line(seccomp_line(child.0.id(), 1, 0).as_bytes(), t0);
    e.process_line(seccomp_line(plain.0.id(), 2, 0).as_bytes(), t0);
    let mut out = Vec::new();
    e.flush_all(&mut |l| out.push(serde_json::from_str::<serde_json::Value>(l).unwrap()));
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["requestUID"], "abc-123");
    assert!(out[1].get("requestUID").is_none(), "{}", out[1]);
    // The exec snoop is the last resort.
    let plain_pid = plain.0.id();
    e.set_exec_snoop(Box::new(move |pid| {
        (pid == plain_pid).then(|| "from-snoop".to_string())
    }));
    e.process_line(seccomp_line(child.0.id(), 3, 0).as_bytes(), t0);
    e.process_line(seccomp_line(plain_pid, 4, 0).as_bytes(), t0);
    out.clear();
    e.flush_all(&mut |l| out.push(serde_json::from_str::<serde_json::Value>(l).unwrap()));
    assert_eq!(out[0]["requestUID"], "abc-123");
    assert_eq!(out[1]["requestUID"], "from-snoop");
}

#[test]
fn rc_41_buckets_flush_per_interval_even_when_busy_and_gone_processes_drop() {
    let child = Kill(Command::new("sleep").arg("30").spawn().unwrap());
    let pid = child.0.id();
    let mut e = enricher(Duration::from_secs(10), "");
    let t0 = Instant::now();
    let mut out = Vec::new();
    // A line every second for 25 s: one JSON line per 10 s interval (upstream's
    // TTL-extending read would never flush).
    for s in 0..25u64 {
        let now = t0 + Duration::from_secs(s);
        e.flush_due(now, &mut |l| out.push(l.to_string()));
        e.process_line(seccomp_line(pid, s, (s % 3) as u32).as_bytes(), now);
    }
    assert_eq!(out.len(), 2);
    // A PID that no longer exists has no process info: dropped.
    e.process_line(seccomp_line(u32::MAX - 1, 99, 0).as_bytes(), t0);
    e.flush_all(&mut |l| out.push(l.to_string()));
    assert_eq!(out.len(), 3);
    assert_eq!(e.stats().no_process, 1);
}

#[test]
fn rc_41_json_filters_apply_to_the_object() {
    let child = Kill(Command::new("sleep").arg("30").spawn().unwrap());
    let mut e = enricher(
        Duration::from_secs(1),
        r#"[{"priority": 1, "level": "None", "matchKeys": ["executable"], "matchValues": ["/usr/bin/sleep"]}]"#,
    );
    e.process_line(seccomp_line(child.0.id(), 1, 0).as_bytes(), Instant::now());
    let mut n = 0;
    e.flush_all(&mut |_| n += 1);
    assert_eq!((n, e.stats().filtered), (0, 1));
}

fn all_lines(dir: &std::path::Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // Backups sort by their timestamp names; the live file comes last.
    files.sort_by_key(|p| (p.file_name().unwrap() == "audit.json", p.clone()));
    files
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn rc_44_rotation_by_size_loses_no_line() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("logs/audit.json");
    let mut w = RotatingWriter::with_max_bytes(&path, RotateOptions::default(), 4096).unwrap();
    let mut want = Vec::new();
    for i in 0..3000 {
        let line = format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 50));
        w.write_line(line.as_bytes()).unwrap();
        want.push(line);
        if i % 250 == 0 {
            // Make sure rotations at different milliseconds get distinct names.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let got = all_lines(path.parent().unwrap());
    assert_eq!(got, want);
    assert!(w.backups().unwrap().len() > 10);
    for b in w.backups().unwrap() {
        let name = b.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("audit-") && name.ends_with(".json"),
            "{name}"
        );
        assert!(std::fs::metadata(&b).unwrap().len() <= 4096);
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn rc_44_max_backups_and_negative_options() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("audit.json");
    let opts = RotateOptions::default().with_max_backups(2);
    let mut w = RotatingWriter::with_max_bytes(&path, opts, 100).unwrap();
    for i in 0..40 {
        w.write_line(format!("line {i:03} {}", "y".repeat(40)).as_bytes())
            .unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(w.backups().unwrap().len(), 2);
    // The newest lines survive.
    let lines = all_lines(d.path());
    assert!(lines.last().unwrap().starts_with("line 039"));
    assert!(RotateOptions::from_raw(-1, 0, 0).is_err());
    assert!(RotateOptions::from_raw(0, -3, 0).is_err());
    assert!(RotateOptions::from_raw(0, 0, -1).is_err());
    assert_eq!(
        RotateOptions::from_raw(5, 2, 7).unwrap(),
        RotateOptions::default()
            .with_max_size_mb(5)
            .with_max_backups(2)
            .with_max_age_days(7)
    );
}

#[test]
fn rc_44_concurrent_producer_during_rotation() {
    // Lines produced by another thread and written through a channel by the writer thread:
    // every line lands once, whole.
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("audit.json");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let producer = std::thread::spawn(move || {
        for i in 0..5000 {
            tx.send(format!("{{\"n\":{i}}}")).unwrap();
        }
    });
    let mut w = RotatingWriter::with_max_bytes(&path, RotateOptions::default(), 2000).unwrap();
    for line in rx {
        w.write_line(line.as_bytes()).unwrap();
    }
    producer.join().unwrap();
    w.rotate().unwrap();
    let got = all_lines(d.path());
    let want: Vec<String> = (0..5000).map(|i| format!("{{\"n\":{i}}}")).collect();
    let mut sorted = got.clone();
    sorted.sort_by_key(|s| s[5..s.len() - 1].parse::<u32>().unwrap());
    assert_eq!(sorted, want);
    assert_eq!(got.len(), 5000);
}

#[test]
fn rc_44_json_output_to_file() {
    use spo_recorder::enricher::json::JsonOutput;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("sub/dir/audit.log");
    let mut o = JsonOutput::open(Some(&p), RotateOptions::default()).unwrap();
    o.write_line("{\"a\":1}").unwrap();
    o.write_line("{\"a\":2}").unwrap();
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "{\"a\":1}\n{\"a\":2}\n"
    );
    assert!(matches!(
        JsonOutput::open(None, RotateOptions::default()).unwrap(),
        JsonOutput::Stdout
    ));
}

#[test]
fn rc_44_max_age_removes_old_backups() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("audit.json");
    let old = d.path().join("audit-2020-01-01T00-00-00.000.json");
    std::fs::write(&old, "old\n").unwrap();
    let st = Command::new("touch")
        .args(["-d", "10 days ago"])
        .arg(&old)
        .status()
        .unwrap();
    assert!(st.success());
    let unrelated = d.path().join("other-2020-01-01T00-00-00.000.json");
    std::fs::write(&unrelated, "x\n").unwrap();
    let opts = RotateOptions::default().with_max_age_days(7);
    let mut w = RotatingWriter::with_max_bytes(&path, opts, 10).unwrap();
    w.write_line(b"first line").unwrap();
    w.write_line(b"second line").unwrap(); // rotates, then prunes by age
    assert!(!old.exists(), "a 10-day-old backup survived max age 7");
    assert!(unrelated.exists());
    assert_eq!(w.backups().unwrap().len(), 1);
}
