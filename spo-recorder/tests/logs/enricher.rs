//! RC-31..RC-34 and the generator's counts: enriched output lines, metrics, filters,
//! aggregation.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use spo_core::events::AuditEvent;
use spo_recorder::enricher::{
    write_event, AttributorOptions, Enricher, EnricherMetrics, EnricherOptions, Filters,
    OutputFormat, OutputOptions, StaticResolver, Unattributed,
};

use crate::attribution::{backlog_options, fake_proc, resolver_for, ID};

const PID: u32 = 1_847_839;

fn setup(filters: &str) -> (tempfile::TempDir, Enricher<StaticResolver>, Registry) {
    let d = tempfile::tempdir().unwrap();
    fake_proc(
        d.path(),
        PID,
        42,
        &format!("0::/kubepods.slice/cri-containerd-{ID}.scope\n"),
    );
    let resolver = resolver_for(["default", "my-pod", "redis"], "rec_redis_abcde_1");
    let mut registry = Registry::default();
    let metrics = EnricherMetrics::register(&mut registry);
    let opts = backlog_options(d.path()).with_filters(Filters::parse(filters).unwrap());
    (d, Enricher::new(opts, resolver, Some(metrics)), registry)
}

fn run(e: &mut Enricher<StaticResolver>, line: &str, format: OutputFormat) -> Vec<String> {
    let mut out = Vec::new();
    let opts = OutputOptions::default()
        .with_format(format)
        .with_container_id(false);
    e.process_line(line.as_bytes(), Instant::now(), &mut |ev| {
        let mut b = Vec::new();
        write_event(&mut b, ev, &opts);
        out.push(String::from_utf8(b).unwrap());
    });
    out
}

const SECCOMP: &str = "type=SECCOMP msg=audit(1625486870.273:187492): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=1847839 comm=\"redis-server\" exe=\"/usr/local/bin/redis-server\" sig=0 arch=c000003e syscall=232 compat=0 ip=0x7f0 code=0x7ffc0000";
const AVC: &str = "type=AVC msg=audit(1666691794.882:1434): avc:  denied  { read write open } for  pid=1847839 comm=\"aide\" path=\"/x\" scontext=system_u:system_r:selinuxrecording.process:s0:c218,c875 tcontext=system_u:object_r:kubernetes_file_t:s0 tclass=file permissive=1";
const APPARMOR: &str = "audit: type=1400 audit(1668191154.949:64): apparmor=\"DENIED\" operation=\"exec\" profile=\"profile-name\" name=\"/usr/local/bin/sample-app\" pid=1847839 comm=\"tini\" requested_mask=\"x\" denied_mask=\"x\" fsuid=65534 ouid=0";

#[test]
fn rc_31_seccomp_line_and_metric() {
    let (_d, mut e, registry) = setup("");
    let out = run(&mut e, SECCOMP, OutputFormat::Text);
    assert_eq!(
        out,
        ["\"audit\" timestamp=\"1625486870.273:187492\" type=\"seccomp\" node=\"n1\" namespace=\"default\" pod=\"my-pod\" container=\"redis\" executable=\"/usr/local/bin/redis-server\" pid=1847839 syscallID=232 syscallName=\"epoll_wait\"\n"]
    );
    let json = run(&mut e, SECCOMP, OutputFormat::Json);
    let v: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "msg",
            "timestamp",
            "type",
            "node",
            "namespace",
            "pod",
            "container",
            "executable",
            "pid",
            "syscallID",
            "syscallName"
        ]
    );
    assert_eq!(v["pid"], 1_847_839);
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("seccomp_profile_audit_total{node=\"n1\",namespace=\"default\",pod=\"my-pod\",container=\"redis\",syscall=\"epoll_wait\"} 2"),
        "{text}"
    );
    assert_eq!(
        e.aggregate().syscalls("rec_redis_abcde_1").unwrap(),
        ["epoll_wait"]
    );
}

#[test]
fn rc_32_selinux_line_metric_and_avc_set() {
    let (_d, mut e, registry) = setup("");
    let out = run(&mut e, AVC, OutputFormat::Text);
    assert_eq!(
        out,
        ["\"audit\" timestamp=\"1666691794.882:1434\" type=\"selinux\" profile=\"rec_redis_abcde_1\" node=\"n1\" namespace=\"default\" pod=\"my-pod\" container=\"redis\" perm=\"read write open\" scontext=\"system_u:system_r:selinuxrecording.process:s0:c218,c875\" tcontext=\"system_u:object_r:kubernetes_file_t:s0\" tclass=\"file\"\n"]
    );
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("selinux_profile_audit_total{node=\"n1\",namespace=\"default\",pod=\"my-pod\",container=\"redis\",scontext=\"system_u:system_r:selinuxrecording.process:s0:c218,c875\",tcontext=\"system_u:object_r:kubernetes_file_t:s0\"} 1"),
        "{text}"
    );
    let avcs = e.aggregate().avcs("rec_redis_abcde_1").unwrap();
    assert_eq!(avcs.len(), 1);
    assert_eq!(avcs[0].perms, ["open", "read", "write"]);
    assert_eq!(avcs[0].tcontext_type(), Some("kubernetes_file_t"));
}

#[test]
fn rc_33_apparmor_line_and_denial_metric() {
    let (_d, mut e, registry) = setup("");
    let out = run(&mut e, APPARMOR, OutputFormat::Text);
    assert_eq!(
        out,
        ["\"audit\" timestamp=\"1668191154.949:64\" type=\"apparmor\" node=\"n1\" namespace=\"default\" pod=\"my-pod\" container=\"redis\" executable=\"tini\" pid=1847839 apparmor=\"DENIED\" operation=\"exec\" profile=\"profile-name\" name=\"/usr/local/bin/sample-app\" extra_info=\"requested_mask='x' denied_mask='x' fsuid=65534 ouid=0\"\n"]
    );
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(text.contains("apparmor_profile_audit_total{node=\"n1\",namespace=\"default\",pod=\"my-pod\",container=\"redis\",profile=\"profile-name\",operation=\"exec\",apparmor=\"DENIED\"} 1"), "{text}");
    assert!(
        text.contains(
            "apparmor_profile_denial_total{profile=\"profile-name\",operation=\"exec\"} 1"
        ),
        "{text}"
    );
}

#[test]
fn rc_34_filtered_lines_produce_no_output_and_no_metric() {
    let (_d, mut e, registry) = setup(
        r#"[{"priority": 10, "level": "None", "matchKeys": ["syscallName"], "matchValues": ["epoll_wait"]},
            {"priority": 20, "level": "Metadata", "matchKeys": ["pod"]}]"#,
    );
    assert!(run(&mut e, SECCOMP, OutputFormat::Text).is_empty());
    assert_eq!(e.stats().filtered, 1);
    assert_eq!(run(&mut e, AVC, OutputFormat::Text).len(), 1);
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(!text.contains("seccomp_profile_audit_total{"), "{text}");
    // Numeric filter values match numbers (pid).
    let (_d, mut e, _) = setup(
        r#"[{"priority": 1, "level": "None", "matchKeys": ["PID"], "matchValues": ["1847839"]}]"#,
    );
    assert!(run(&mut e, APPARMOR, OutputFormat::Json).is_empty());
}

/// The generator's mix, 20,000 lines: every count matches its summary.
#[test]
fn generator_counts_match_summary() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("audit.log");
    let gen =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gen_audit_log.py");
    let out = std::process::Command::new("python3")
        .arg(&gen)
        .arg(&log)
        .arg("20000")
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let empty_proc = tempfile::tempdir().unwrap();
    let opts = EnricherOptions::default()
        .with_attribution(
            AttributorOptions::default().with_proc_root(empty_proc.path().to_path_buf()),
        )
        .with_unattributed(Unattributed::Emit);
    let mut e = Enricher::new(opts, StaticResolver::new(), None);
    let mut per_pid: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let text = std::fs::read(&log).unwrap();
    let now = Instant::now();
    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        e.process_line(line, now, &mut |ev| {
            if let AuditEvent::Seccomp(s) = ev.event {
                per_pid
                    .entry(s.pid.to_string())
                    .or_default()
                    .insert(s.syscall);
            }
        });
    }
    let s = e.stats();
    let c = &summary["counts"];
    assert_eq!(s.lines, 20_000);
    assert_eq!(s.seccomp, c["seccomp"].as_u64().unwrap());
    assert_eq!(s.avc, c["avc"].as_u64().unwrap());
    assert_eq!(s.apparmor, c["apparmor"].as_u64().unwrap());
    assert_eq!(s.ignored, c["other"].as_u64().unwrap());
    assert_eq!((s.malformed, s.unknown_syscall), (0, 0));
    assert_eq!(s.emitted, s.seccomp + s.avc + s.apparmor);
    let want: BTreeMap<String, BTreeSet<u64>> =
        serde_json::from_value(summary["seccomp_syscalls_per_pid"].clone()).unwrap();
    assert_eq!(per_pid, want);
}

#[derive(Clone, Default)]
struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn rc_31_structured_tracing_event_keys_in_order() {
    let (_d, mut e, _) = setup("");
    let buf = Buf::default();
    let w = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_level(false)
        .finish();
    tracing::subscriber::with_default(sub, || {
        e.process_line(SECCOMP.as_bytes(), Instant::now(), &mut |ev| {
            spo_recorder::enricher::trace_event(ev)
        });
    });
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text.trim_end(),
        "audit timestamp=\"1625486870.273:187492\" type=\"seccomp\" node=\"n1\" namespace=\"default\" pod=\"my-pod\" container=\"redis\" executable=/usr/local/bin/redis-server pid=1847839 syscallID=232 syscallName=\"epoll_wait\""
    );
}
