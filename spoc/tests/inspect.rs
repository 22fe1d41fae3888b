//! `spoc inspect` end to end (issue 11): filter sizes and per-syscall instruction counts from
//! the compiled program, in both layouts.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{spoc, text};
use serde_json::Value;

fn moby() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/moby-default.json")
        .to_str()
        .unwrap()
        .to_string()
}

// covers: issue 11 (inspect: per-architecture size, linear vs tree instruction counts)
#[test]
fn inspect_counts_instructions_per_layout() {
    let out = spoc(&[
        "--output",
        "json",
        "inspect",
        "--syscall",
        "kexec_load",
        &moby(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kernel_limit"], 4096);
    assert_eq!(v["size"]["used"], "tree");
    let per_arch = v["size"]["per_arch"].as_array().unwrap();
    assert_eq!(per_arch.len(), 3, "x86_64 with x86 and x32");
    let x86_64 = &v["syscalls"][0];
    assert_eq!(x86_64["arch"], "SCMP_ARCH_X86_64");
    let c = &x86_64["costs"][0];
    assert_eq!(c["nr"], 246);
    // kexec_load is denied; the linear layout walks past every allowed syscall first.
    assert_eq!(c["action_linear"], 0x0005_0001);
    assert_eq!(c["action_tree"], 0x0005_0001);
    let (lin, tree) = (c["linear"].as_u64().unwrap(), c["tree"].as_u64().unwrap());
    assert!(lin > 300 && tree < 40, "{lin} {tree}");

    let out = spoc(&["inspect", &moby()]);
    let t = text(&out.stdout);
    assert!(t.starts_with("filter: "), "{t}");
    assert!(t.contains("  read                         0"), "{t}");
    let out = spoc(&["inspect", "--syscall", "nosuchcall", &moby()]);
    assert_eq!(out.status.code(), Some(1));
}
