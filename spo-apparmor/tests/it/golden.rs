//! The §3.1 worked example, byte for byte, and its complain-mode twin.

use spo_apparmor::{render, render_with_origins, Mode, NetworkRules};

use crate::support::{fixture, has_deny_rule, profiles};

// covers: AA-02, AA-03, AA-05, AA-06, AA-07, AA-10
#[test]
fn aa_02_worked_example_is_byte_identical() {
    let p = profiles(&fixture("worked-example.yaml")).remove(0);
    let text = render(&p, None).unwrap();
    assert_eq!(text, fixture("worked-example.enforce.apparmor"));
}

// covers: AA-03, AA-04
#[test]
fn aa_04_complain_mode_drops_every_deny_line() {
    let mut p = profiles(&fixture("worked-example.yaml")).remove(0);
    p.spec.mode = Some(Mode::Complain);
    let text = render(&p, None).unwrap();
    assert_eq!(text, fixture("worked-example.complain.apparmor"));
    assert!(text
        .contains("profile test-profile flags=(complain,attach_disconnected,mediate_deleted) {"));
    assert!(!has_deny_rule(&text), "{text}");
    assert!(text.contains("  /etc/passwd r,\n") && text.contains("  network tcp,\n"));
}

// covers: AA-07 (intended 1.0 behaviour, not the AA-08 quirk)
#[test]
fn aa_07_network_booleans_render_by_value() {
    let mut p = profiles(&fixture("worked-example.yaml")).remove(0);
    let text = render(&p, None).unwrap();
    assert!(text.contains("  deny network raw,\n"));
    assert!(!text.contains("  network raw,\n"));
    assert!(
        !text.contains("network udp"),
        "allowUdp: false must render nothing"
    );
    let abs = p.spec.abstract_.as_mut().unwrap();
    abs.network = Some(NetworkRules {
        allow_raw: Some(true),
        allowed_protocols: None,
    });
    let text = render(&p, None).unwrap();
    assert!(text.contains("\n  network raw,\n"));
    assert!(!text.contains("deny network"));
    assert!(!text.contains("network tcp"));
    p.spec.abstract_.as_mut().unwrap().network = None;
    let text = render(&p, None).unwrap();
    assert!(
        !text.contains("network"),
        "absent network renders no network rule"
    );
}

// covers: AA-09
#[test]
fn aa_09_sys_rawio_adds_the_mount_hack() {
    let mut p = profiles(&fixture("worked-example.yaml")).remove(0);
    let caps = &mut p
        .spec
        .abstract_
        .as_mut()
        .unwrap()
        .capability
        .as_mut()
        .unwrap()
        .allowed_capabilities;
    caps.push("SYS_RAWIO".into());
    let text = render(&p, None).unwrap();
    assert!(
        text.contains(
            "  /usr/lib/libc.so.6 mr,\n\n  \n  /sbin/fsck ixr,\n  /sbin/fsck.ext4 ixr,\n  \n"
        ),
        "{text}"
    );
    assert!(text.contains("  capability net_bind_service,\n  capability sys_rawio,\n\n\n  \n  mount,\n  remount,\n  umount,\n  \n"), "{text}");
}

// covers: CLI-14 (--program-name)
#[test]
fn cli_14_program_name_replaces_the_profile_name() {
    let p = profiles(&fixture("worked-example.yaml")).remove(0);
    let text = render(&p, Some("/usr/local/bin/app")).unwrap();
    assert!(text.contains("\nprofile /usr/local/bin/app flags=(enforce,"));
    let err = render(&p, Some("bad name")).unwrap_err().to_string();
    assert!(err.contains("--program-name"), "{err}");
}

#[test]
fn origins_map_lines_back_to_fields() {
    let p = profiles(&fixture("worked-example.yaml")).remove(0);
    let r = render_with_origins(&p, None).unwrap();
    let line = r
        .text
        .lines()
        .position(|l| l == "  deny /tmp/out r,")
        .unwrap()
        + 1;
    assert_eq!(
        r.origin_of_line(line),
        Some("spec.abstract.filesystem.writeOnlyPaths[0]")
    );
    assert_eq!(r.origins.len(), r.text.lines().count());
}
