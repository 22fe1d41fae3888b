//! RC-28: every example line of the spec, the ENRICHED suffix, per-record architectures,
//! and no panic on any input.

use std::borrow::Cow;

use proptest::prelude::*;
use spo_core::events::AuditEvent;
use spo_recorder::audit::{parse_line, Malformed, Parsed};
use spo_recorder::enricher::SyscallNames;

const SECCOMP_AUDITD: &str = "type=SECCOMP msg=audit(1613596317.899:6461): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=system_u:system_r:spc_t:s0:c284,c594 pid=2039886 comm=\"ls\" exe=\"/bin/ls\" sig=0 arch=c000003e syscall=3 compat=0 ip=0x7f62dce3d4c7 code=0x7ffc0000AUID=\"unset\" UID=\"root\" GID=\"root\" ARCH=x86_64 SYSCALL=close";
const SECCOMP_KMSG: &str = "audit: type=1326 audit(1612299677.115:549067): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=3109464 comm=\"sh\" exe=\"/bin/busybox\" sig=0 arch=c000003e syscall=0 compat=0 ip=0x7fce771ae923 code=0x7ffc0000";
const SECCOMP_SYSLOG: &str = "Jul  8 10:31:23 ubuntu2004 kernel: [  270.853767] audit: type=1326 audit(1625740283.502:574): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=4709 comm=\"sh\" exe=\"/bin/busybox\" sig=0 arch=c000003e syscall=13 compat=0 ip=0x7f3d0ebb6b49 code=0x7ffc0000";
const AVC: &str = "type=AVC msg=audit(1666691794.882:1434): avc:  denied  { read write open } for  pid=94509 comm=\"aide\" path=\"/hostroot/etc/kubernetes/aide.log.new\" dev=\"nvme0n1p4\" ino=167774224 scontext=system_u:system_r:selinuxrecording.process:s0:c218,c875 tcontext=system_u:object_r:kubernetes_file_t:s0 tclass=file permissive=1";
const APPARMOR: &str = "audit: type=1400 audit(1668191154.949:64): apparmor=\"DENIED\" operation=\"exec\" profile=\"profile-name\" name=\"/usr/local/bin/sample-app\" pid=4166 comm=\"tini\" requested_mask=\"x\" denied_mask=\"x\" fsuid=65534 ouid=0";

fn event(line: &str) -> AuditEvent<Cow<'_, str>> {
    match parse_line(line.as_bytes()) {
        Parsed::Event(e) => e,
        other => panic!("not an event: {other:?} for {line}"),
    }
}

#[test]
fn rc_28_seccomp_auditd_example() {
    let AuditEvent::Seccomp(e) = event(SECCOMP_AUDITD) else {
        panic!()
    };
    assert_eq!(e.stamp.to_string(), "1613596317.899:6461");
    assert_eq!(e.pid, 2_039_886);
    assert_eq!(e.exe, "/bin/ls");
    assert_eq!(e.syscall, 3);
    assert_eq!(e.audit_arch, 0xc000_003e);
    assert_eq!((e.uid, e.gid), (Some(0), Some(0)));
    assert_eq!(e.comm.as_deref(), Some("ls"));
    assert_eq!(e.code, Some(0x7ffc_0000));
}

#[test]
fn rc_28_seccomp_enriched_suffix_after_0x1d() {
    // The real record has a \x1d byte between the raw and the interpreted fields; what
    // follows it must not be read (here it would otherwise override pid and syscall).
    let line = SECCOMP_AUDITD.replace("AUID=", "\u{1d}AUID=") + " pid=1 syscall=99";
    let AuditEvent::Seccomp(e) = event(&line) else {
        panic!()
    };
    assert_eq!(
        (e.pid, e.syscall, e.code),
        (2_039_886, 3, Some(0x7ffc_0000))
    );
}

#[test]
fn rc_28_seccomp_kmsg_and_syslog_examples() {
    let AuditEvent::Seccomp(e) = event(SECCOMP_KMSG) else {
        panic!()
    };
    assert_eq!(e.stamp.to_string(), "1612299677.115:549067");
    assert_eq!(
        (e.pid, e.exe.as_ref(), e.syscall),
        (3_109_464, "/bin/busybox", 0)
    );
    let AuditEvent::Seccomp(e) = event(SECCOMP_SYSLOG) else {
        panic!()
    };
    assert_eq!(
        (e.pid, e.exe.as_ref(), e.syscall),
        (4709, "/bin/busybox", 13)
    );
    // /dev/kmsg record header form.
    let kmsg = format!("5,1234,270853767,-;{SECCOMP_KMSG}");
    let AuditEvent::Seccomp(e) = event(&kmsg) else {
        panic!()
    };
    assert_eq!(e.pid, 3_109_464);
    // auditd with name_format: node=… prefix.
    let node = format!("node=host1 {SECCOMP_AUDITD}");
    assert!(matches!(event(&node), AuditEvent::Seccomp(_)));
}

#[test]
fn rc_28_avc_example() {
    let AuditEvent::Avc(e) = event(AVC) else {
        panic!()
    };
    assert_eq!(e.perms, ["read", "write", "open"]);
    assert_eq!(e.pid, 94_509);
    assert_eq!(e.tclass, "file");
    assert!(e.denied);
    assert_eq!(
        e.scontext,
        "system_u:system_r:selinuxrecording.process:s0:c218,c875"
    );
    assert_eq!(e.tcontext_type(), Some("kubernetes_file_t"));
    assert_eq!(e.comm.as_deref(), Some("aide"));
}

#[test]
fn rc_28_apparmor_example() {
    let AuditEvent::AppArmor(e) = event(APPARMOR) else {
        panic!()
    };
    assert_eq!(e.apparmor, "DENIED");
    assert_eq!(e.operation, "exec");
    assert_eq!(e.profile, "profile-name");
    assert_eq!(e.name, "/usr/local/bin/sample-app");
    assert_eq!(e.pid, 4166);
    assert_eq!(e.comm, "tini");
    assert_eq!(
        e.extra,
        "requested_mask='x' denied_mask='x' fsuid=65534 ouid=0"
    );
    // auditd names kernel type 1400 "AVC"; with apparmor= it is an AppArmor record.
    let auditd = APPARMOR.replace("audit: type=1400 audit(", "type=AVC msg=audit(");
    assert!(matches!(event(&auditd), AuditEvent::AppArmor(_)));
    let named = APPARMOR.replace("audit: type=1400 audit(", "type=APPARMOR msg=audit(");
    assert!(matches!(event(&named), AuditEvent::AppArmor(_)));
}

#[test]
fn rc_28_ignored_lines() {
    for line in [
        "audit: type=1016 audit(1612299677.115:549067): pid=1 uid=0",
        "[ 3683.829070] kauditd_printk_skb: 1 callbacks suppressed",
        // USER_AVC is not an AVC.
        "type=USER_AVC msg=audit(1666691794.882:1434): pid=1 uid=0 msg='avc:  denied  { status } for auid=0 scontext=a:b:c:s0 tcontext=a:b:d:s0 tclass=system'",
        // syslog-form SELinux (kernel type 1400 without apparmor=) is not matched (§4.2).
        "audit: type=1400 audit(1666691794.882:1434): avc:  denied  { read } for  pid=1 comm=\"x\" scontext=a:b:c:s0 tcontext=a:b:d:s0 tclass=file permissive=1",
        "type=SYSCALL msg=audit(1700000000.001:1): arch=c000003e syscall=59 success=yes pid=1000 exe=\"/usr/bin/bash\"",
        "",
        "type=",
    ] {
        assert_eq!(parse_line(line.as_bytes()), Parsed::Ignored, "{line}");
    }
}

#[test]
fn rc_28_malformed_records_are_reported_not_fatal() {
    let cases = [
        ("type=SECCOMP msg=audit(nope): pid=1 exe=\"/x\" syscall=1", Malformed::Stamp),
        ("type=SECCOMP msg=audit(1.000:1): exe=\"/x\" syscall=1", Malformed::Field("pid")),
        ("type=SECCOMP msg=audit(1.000:1): pid=1 exe=\"/x\" syscall=abc", Malformed::Field("syscall")),
        ("type=AVC msg=audit(1.000:1): avc: denied for pid=1", Malformed::Permissions),
        ("type=AVC msg=audit(1.000:1): avc: denied { read } for pid=1 tclass=file", Malformed::Field("scontext")),
        ("audit: type=1400 audit(1.000:1): apparmor=\"DENIED\" operation=\"open\" profile=\"p\" pid=1", Malformed::Field("comm")),
    ];
    for (line, why) in cases {
        assert_eq!(
            parse_line(line.as_bytes()),
            Parsed::Malformed(why),
            "{line}"
        );
    }
}

#[test]
fn rc_28_syscall_names_use_the_record_arch() {
    let mut names = SyscallNames::new();
    let i386 = SECCOMP_AUDITD.replace("arch=c000003e syscall=3", "arch=40000003 syscall=3");
    let AuditEvent::Seccomp(e) = event(&i386) else {
        panic!()
    };
    assert_eq!(names.name(e.audit_arch, e.syscall), Some("read"));
    let AuditEvent::Seccomp(e) = event(SECCOMP_AUDITD) else {
        panic!()
    };
    assert_eq!(names.name(e.audit_arch, e.syscall), Some("close"));
    let arm64 = SECCOMP_AUDITD.replace("arch=c000003e syscall=3", "arch=c00000b7 syscall=63");
    let AuditEvent::Seccomp(e) = event(&arm64) else {
        panic!()
    };
    assert_eq!(names.name(e.audit_arch, e.syscall), Some("read"));
}

#[test]
fn hex_encoded_exe_and_quoted_spaces() {
    let hex = SECCOMP_AUDITD.replace("exe=\"/bin/ls\"", "exe=2F6D7920617070");
    let AuditEvent::Seccomp(e) = event(&hex) else {
        panic!()
    };
    assert_eq!(e.exe, "/my app");
    let spaced = SECCOMP_AUDITD.replace("exe=\"/bin/ls\"", "exe=\"/app/server with space\"");
    let AuditEvent::Seccomp(e) = event(&spaced) else {
        panic!()
    };
    assert_eq!(e.exe, "/app/server with space");
}

#[test]
fn borrowed_events_do_not_copy_plain_fields() {
    let AuditEvent::Seccomp(e) = event(SECCOMP_AUDITD) else {
        panic!()
    };
    assert!(matches!(e.exe, Cow::Borrowed(_)));
    let owned = AuditEvent::Seccomp(e).to_owned_event();
    assert_eq!(owned.pid(), 2_039_886);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    // RC-28: no byte sequence panics the parser.
    #[test]
    fn parser_never_panics_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_line(&b);
    }

    // Mutations of real lines (truncations, byte flips, insertions) never panic either.
    #[test]
    fn parser_never_panics_on_mutated_lines(
        which in 0usize..5,
        cut in 0usize..400,
        flips in proptest::collection::vec((0usize..400, any::<u8>()), 0..8),
    ) {
        let src = [SECCOMP_AUDITD, SECCOMP_KMSG, SECCOMP_SYSLOG, AVC, APPARMOR][which];
        let mut b = src.as_bytes().to_vec();
        for (at, v) in flips {
            let n = b.len();
            if n > 0 { b[at % n] = v; }
        }
        b.truncate(cut.min(b.len()));
        let _ = parse_line(&b);
    }

    // Interesting tokens glued together in any order.
    #[test]
    fn parser_never_panics_on_token_soup(tokens in proptest::collection::vec(
        prop::sample::select(vec!["type=SECCOMP", "type=AVC", "audit: ", "type=1326", "type=1400",
            "audit(", ")", ":", ".", "pid=", "exe=\"", "\"", "syscall=", "{", "}", "apparmor=",
            "comm=", "\u{1d}", "1", "ffff", " ", "=", "'", "arch=", "node=x "]), 0..40)) {
        let line: String = tokens.concat();
        let _ = parse_line(line.as_bytes());
    }
}
