//! The public API as a crate outside spo-seccomp sees it (issue 9): the `#[non_exhaustive]`
//! `Target` is built with `new`/`Default`, and matches on public enums carry a wildcard arm.

use spo_core::{Arch, Era};
use spo_seccomp::runtime::Target;
use spo_seccomp::{spec_from_raw_json_for, union, Action, Syscall};

const RAW: &str = r#"{
  "defaultAction": "SCMP_ACT_ERRNO",
  "syscalls": [
    {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["open_tree"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.2"}}
  ]
}"#;

fn allowed(rules: &[Syscall]) -> Vec<&str> {
    let mut out: Vec<&str> = rules
        .iter()
        .filter(|r| match r.action {
            Action::Allow | Action::Log => true,
            Action::Errno | Action::KillProcess | Action::KillThread => false,
            // A later action: not counted as allowing.
            _ => false,
        })
        .flat_map(|r| r.names.iter().map(String::as_str))
        .collect();
    out.sort_unstable();
    out
}

// covers: #9 (non_exhaustive option structs stay buildable outside the crate)
#[test]
fn target_built_outside_the_crate_selects_the_rules() {
    let admin = Target::new(Arch::X86_64, ["sys_admin"], (6, 1));
    assert!(admin.caps.contains("CAP_SYS_ADMIN"), "caps are normalised");
    let spec = spec_from_raw_json_for(RAW, &admin).unwrap();
    assert_eq!(allowed(&spec.syscalls), ["mount", "open_tree", "read"]);

    let plain = Target::default();
    assert_eq!(plain.kernel, (0, 0));
    let spec = spec_from_raw_json_for(RAW, &plain).unwrap();
    assert_eq!(allowed(&spec.syscalls), ["read"]);
}

// covers: #9 (the shared Era enum chooses the merge behaviour from outside the crate)
#[test]
fn union_follows_the_era() {
    let rule = |name: &str| Syscall::new([name], Action::Allow);
    let base = [rule("write"), rule("read")];
    let derived = [rule("read")];
    let v1 = union(&base, &derived, Era::V1);
    let legacy = union(&base, &derived, Era::Legacy);
    // V1 keeps one rule per name, sorted by name; 0.10 concatenates every rule.
    let names =
        |rules: &[Syscall]| -> Vec<String> { rules.iter().flat_map(|r| r.names.clone()).collect() };
    assert_eq!(names(&v1), ["read", "write"]);
    assert_eq!(names(&legacy), ["write", "read", "read"]);
}
