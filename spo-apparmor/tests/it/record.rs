//! Recorded observations always give a valid profile that the real parser compiles (RC-21).

use proptest::prelude::*;
use spo_apparmor::record::{abstract_from_observations, profile_from_observations};
use spo_apparmor::{render, validate, RecordOptions};
use spo_core::events::{AppArmorObservation, FileUse, SocketUse};

use crate::support::{compile, parser};

fn file_use() -> impl Strategy<Value = FileUse> {
    prop_oneof![
        Just(FileUse::Exec),
        Just(FileUse::MapExec),
        Just(FileUse::Read),
        Just(FileUse::Write),
        Just(FileUse::ReadWrite),
    ]
}

fn observation() -> impl Strategy<Value = AppArmorObservation> {
    prop_oneof![
        6 => (
            prop_oneof![
                "/[ -~]{0,30}",
                "/proc/[0-9]{1,7}/(task/[0-9]{1,6}/)?[a-z]{1,8}",
                "/var/lib/containers/storage/overlay/[0-9a-f]{12,64}/merged/[a-z/]{0,12}",
                "/[a-z]{1,5}/[\\PC]{0,12}( \\(deleted\\))?",
                "/a/\\.\\./[a-z]{1,5}",
            ],
            file_use(),
        )
            .prop_map(|(path, access)| AppArmorObservation::File { path, access }),
        1 => "[a-zA-Z_]{1,20}".prop_map(AppArmorObservation::Capability),
        1 => prop_oneof![Just(SocketUse::Raw), Just(SocketUse::Tcp), Just(SocketUse::Udp)]
            .prop_map(AppArmorObservation::Socket),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    // covers: RC-21, AA-11
    #[test]
    fn rc_21_any_recording_gives_a_valid_sorted_profile(obs in prop::collection::vec(observation(), 0..40)) {
        let p = profile_from_observations("recorded", &obs, &RecordOptions::default());
        let v = validate(&p, None);
        prop_assert!(v.is_empty(), "{}", v);
        prop_assert!(render(&p, None).is_ok());
        if let Some(fs) = p.spec.abstract_.as_ref().and_then(|a| a.filesystem.as_ref()) {
            for list in [&fs.read_only_paths, &fs.write_only_paths, &fs.read_write_paths].into_iter().flatten() {
                let mut sorted = list.clone();
                sorted.sort();
                sorted.dedup();
                prop_assert_eq!(&sorted, list);
            }
        }
    }
}

// covers: RC-21
#[test]
fn rc_21_a_realistic_recording_compiles() {
    let f = |path: &str, access| AppArmorObservation::File {
        path: path.into(),
        access,
    };
    let obs = vec![
        f("/usr/bin/nginx", FileUse::Exec),
        f(
            "/usr/lib/nginx/modules/ngx_http_geoip_module.so",
            FileUse::MapExec,
        ),
        f("/lib/x86_64-linux-gnu/libc.so.6", FileUse::MapExec),
        f("/etc/nginx/nginx.conf", FileUse::Read),
        f("/proc/4242/status", FileUse::Read),
        f("/proc/4242/task/4243/comm", FileUse::Write),
        f("/var/log/nginx/access.log", FileUse::ReadWrite),
        f("/var/log/nginx/error.log", FileUse::ReadWrite),
        f("/run/nginx 1.pid", FileUse::Write),
        f("/tmp/upload,\"x\".tmp", FileUse::ReadWrite),
        f("/sys/devices/system/cpu/online", FileUse::Read),
        AppArmorObservation::Capability("net_bind_service".into()),
        AppArmorObservation::Capability("setuid".into()),
        AppArmorObservation::Socket(SocketUse::Tcp),
        AppArmorObservation::Socket(SocketUse::Udp),
    ];
    let a = abstract_from_observations(
        &obs,
        &RecordOptions::default().with_program(Some("/usr/bin/nginx".into())),
    );
    let fs = a.filesystem.as_ref().unwrap();
    assert_eq!(
        fs.read_only_paths.as_deref().unwrap(),
        [
            "/etc/nginx/nginx.conf",
            "/proc/@{pid}/status",
            "/sys/devices/**"
        ]
    );
    assert_eq!(
        fs.write_only_paths.as_deref().unwrap(),
        ["/proc/@{pid}/task/@{tid}/comm", "/run/nginx 1.pid"]
    );
    assert_eq!(
        fs.read_write_paths.as_deref().unwrap(),
        ["/tmp/upload??x?.tmp", "/var/log/nginx/*"]
    );
    let net = a.network.unwrap();
    assert!(
        net.tcp() && net.udp() && !net.raw(),
        "RC-21: allowUdp from UDP sockets"
    );

    let p = profile_from_observations("nginx", &obs, &RecordOptions::default());
    let text = render(&p, Some("/usr/bin/nginx")).unwrap();
    assert!(text.contains("  \"/run/nginx 1.pid\" wlk,\n"), "{text}");
    let Some(parser) = parser() else { return };
    if let Err(d) = compile(&parser, &text) {
        panic!("{d:?}\n{text}");
    }
}
