#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Log enricher benches on the generator's mixed audit log (`gen_audit_log.py`, default
//! 1,000,000 lines ≈ 203 MB; `SPO_BENCH_AUDIT_LINES` overrides): parse only, parse +
//! attribute (the enricher with the real /proc), and parse + attribute + JSON output.
//! The log is written once under `target/` and reused.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spo_recorder::audit::{parse_line, Parsed};
use spo_recorder::enricher::{
    write_event, Enricher, EnricherOptions, NoResolver, OutputFormat, OutputOptions, Unattributed,
};

fn log() -> (Vec<u8>, serde_json::Value) {
    let lines: u64 = std::env::var("SPO_BENCH_AUDIT_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("audit-{lines}.log"));
    let summary_path = dir.join(format!("audit-{lines}.json"));
    if !path.exists() || !summary_path.exists() {
        let out = std::process::Command::new("python3")
            .arg(root.join("spo-recorder/tests/fixtures/gen_audit_log.py"))
            .arg(&path)
            .arg(lines.to_string())
            .output()
            .expect("python3 runs the generator");
        assert!(out.status.success());
        std::fs::write(&summary_path, &out.stdout).unwrap();
    }
    let summary = serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
    (std::fs::read(&path).unwrap(), summary)
}

fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    memchr::memchr_iter(b'\n', buf).scan(0usize, move |start, nl| {
        let l = &buf[*start..nl];
        *start = nl + 1;
        Some(l)
    })
}

fn enricher() -> Enricher<NoResolver> {
    Enricher::new(
        EnricherOptions::default()
            .with_node("bench".into())
            .with_unattributed(Unattributed::Emit),
        NoResolver,
        None,
    )
}

fn bench(c: &mut Criterion) {
    let (buf, summary) = log();
    // Check the counts once, outside the timing.
    let mut e = enricher();
    let now = Instant::now();
    for l in lines(&buf) {
        e.process_line(l, now, &mut |_| {});
    }
    let s = e.stats();
    let counts = &summary["counts"];
    assert_eq!(s.seccomp, counts["seccomp"].as_u64().unwrap());
    assert_eq!(s.avc, counts["avc"].as_u64().unwrap());
    assert_eq!(s.apparmor, counts["apparmor"].as_u64().unwrap());
    assert_eq!(s.ignored, counts["other"].as_u64().unwrap());
    assert_eq!(s.malformed, 0);

    let mut g = c.benchmark_group("enricher");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for l in lines(&buf) {
                if let Parsed::Event(ev) = parse_line(l) {
                    n += u64::from(ev.pid() & 1);
                }
            }
            black_box(n)
        })
    });
    g.bench_function("parse+attribute", |b| {
        b.iter(|| {
            let mut e = enricher();
            let now = Instant::now();
            let mut n = 0u64;
            for l in lines(&buf) {
                e.process_line(l, now, &mut |ev| n += u64::from(ev.container_id.is_some()));
            }
            black_box((n, e.stats().emitted))
        })
    });
    g.bench_function("parse+attribute+json", |b| {
        let opts = OutputOptions::default()
            .with_format(OutputFormat::Json)
            .with_container_id(true);
        let mut out = Vec::with_capacity(1 << 20);
        b.iter(|| {
            let mut e = enricher();
            let now = Instant::now();
            for l in lines(&buf) {
                e.process_line(l, now, &mut |ev| {
                    write_event(&mut out, ev, &opts);
                    if out.len() > 1 << 20 {
                        out.clear();
                    }
                });
            }
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
