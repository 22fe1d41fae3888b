//! eBPF recorder against the real kernel (root; CI runs as root). Spec: recording.md §6
//! (RC-36..RC-39), spoc.md CLI-08.
#![cfg(feature = "bpf")]
#![allow(clippy::unwrap_used, missing_docs)]

mod exerciser;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use spo_core::Arch;
use spo_recorder::bpf::{BpfError, LoadOptions, Recorded, Recorder};

use exerciser::{exerciser, AFTER_EXEC, GRANDCHILD, MAIN, THREAD};

fn recorder() -> Recorder {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the eBPF recorder tests need root (CI runs them as root)"
    );
    Recorder::new().expect("load + self-test")
}

fn native_names(rec: &Recorded) -> BTreeSet<String> {
    rec.names(Arch::X86_64)
        .by_arch
        .get(&Arch::native())
        .cloned()
        .unwrap_or_default()
}

fn record(args: &[&str]) -> Recorded {
    let mut r = recorder();
    let mut cmd = Command::new(exerciser());
    cmd.args(args);
    let session = r.record_command(&mut cmd).unwrap();
    let status = cmd.status().unwrap();
    assert!(status.success(), "exerciser {args:?}: {status}");
    session.finish().unwrap()
}

// covers: CLI-08, RC-37 — every syscall of the process, its thread, its forked grandchild and
// the grandchild's exec is recorded; nothing is lost.
#[test]
fn cli_08_records_every_syscall_of_the_process_tree() {
    let rec = record(&[]);
    let names = native_names(&rec);
    let expected: Vec<&str> = MAIN
        .iter()
        .chain(THREAD)
        .chain(GRANDCHILD)
        .chain(AFTER_EXEC)
        .copied()
        .collect();
    assert!(expected.len() >= 40, "{} syscalls", expected.len());
    let missed: Vec<&&str> = expected.iter().filter(|n| !names.contains(**n)).collect();
    assert!(missed.is_empty(), "missed {missed:?}; recorded {names:?}");
    assert_eq!(rec.dropped, 0);
    // The process tree's exec and fork machinery is there too.
    for n in ["execve", "wait4", "exit_group"] {
        assert!(names.contains(n), "{n}");
    }
}

// covers: CLI-08 — the thread, grandchild and post-exec lists really come only from there
// (so the test above proves descendants are followed).
#[test]
fn cli_08_descendant_only_syscalls_are_absent_without_descendants() {
    let rec = record(&["main-only"]);
    let names = native_names(&rec);
    for n in MAIN {
        assert!(names.contains(*n), "{n} missing");
    }
    for n in THREAD.iter().chain(GRANDCHILD).chain(AFTER_EXEC) {
        assert!(
            !names.contains(*n),
            "{n} recorded without the thread/fork/exec"
        );
    }
}

// A compat syscall of an x86_64 process is named by the i386 table: int 0x80 with eax=20 is
// getpid (not x86_64's writev), eax=64 is getppid (not semget).
#[cfg(target_arch = "x86_64")]
#[test]
fn compat_syscalls_are_recorded_under_their_own_arch() {
    let rec = record(&["main-only"]);
    let names = rec.names(Arch::X86_64);
    let x86 = names.by_arch.get(&Arch::X86).cloned().unwrap_or_default();
    assert_eq!(
        x86,
        ["getpid", "getppid"].map(String::from).into(),
        "{names:?}"
    );
    let x64 = &names.by_arch[&Arch::X86_64];
    assert!(
        !x64.contains("writev") && !x64.contains("semget"),
        "{x64:?}"
    );
}

// covers: CLI-08 — an unrelated process running at the same time is not recorded.
#[test]
fn cli_08_concurrent_unrelated_process_is_not_recorded() {
    let mut noise = Command::new(exerciser())
        .args(["noise", "3"])
        .spawn()
        .unwrap();
    // Same program in the same parent (the test process): only cgroup membership differs.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let rec = record(&[]);
    let still_running = noise.try_wait().unwrap().is_none();
    noise.kill().ok();
    noise.wait().ok();
    assert!(
        still_running,
        "the noise process must overlap the recording"
    );
    let names = native_names(&rec);
    assert!(!names.contains("sysinfo"), "noise recorded: {names:?}");
    assert!(names.contains("times"));
}

// covers: RC-36 — the self-test loads, attaches, observes getppid from a helper and detaches.
#[test]
fn rc_36_self_test_observes_the_helper_and_detaches() {
    let mut r = Recorder::load(&LoadOptions::default()).unwrap();
    assert!(!r.is_attached());
    let t = r.self_test().unwrap();
    assert_eq!(t.syscall, "getppid");
    assert!(
        !r.is_attached(),
        "the tracepoint stays attached after the self-test"
    );
    assert!(!t.cgroup.exists(), "self-test cgroup left behind");
}

// covers: RC-36 — failures name what is missing.
#[test]
fn rc_36_missing_btf_is_named() {
    let opts = LoadOptions {
        btf: PathBuf::from("/nonexistent/btf/vmlinux"),
        ..LoadOptions::default()
    };
    let e = Recorder::load(&opts).unwrap_err();
    assert!(matches!(e, BpfError::NoBtf { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("/nonexistent/btf/vmlinux") && msg.contains("CONFIG_DEBUG_INFO_BTF"),
        "{msg}"
    );
}

#[test]
fn rc_36_unreadable_btf_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let btf = dir.path().join("vmlinux");
    std::fs::write(&btf, b"this is not BTF").unwrap();
    let opts = LoadOptions {
        btf: btf.clone(),
        ..LoadOptions::default()
    };
    let e = Recorder::load(&opts).unwrap_err();
    assert!(matches!(e, BpfError::BadBtf { .. }), "{e:?}");
    assert!(e.to_string().contains(&btf.display().to_string()), "{e}");
}

#[test]
fn rc_36_missing_cgroup2_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mi = dir.path().join("mountinfo");
    std::fs::write(&mi, "22 1 0:21 / /proc rw - proc proc rw\n").unwrap();
    let opts = LoadOptions {
        mountinfo: mi,
        ..LoadOptions::default()
    };
    let e = Recorder::load(&opts).unwrap_err();
    assert!(matches!(e, BpfError::NoCgroup2), "{e:?}");
    assert!(e.to_string().contains("cgroup v2 is not mounted"), "{e}");
}

/// Child side of `rc_36_unprivileged_user_is_told_to_use_root`.
#[test]
fn unprivileged_child() {
    if std::env::var_os("SPO_BPF_UNPRIVILEGED_CHILD").is_none() {
        return;
    }
    let e = Recorder::load(&LoadOptions::default()).unwrap_err();
    println!("ERROR: {e}");
    assert!(matches!(e, BpfError::NotPrivileged), "{e:?}");
}

#[test]
fn rc_36_unprivileged_user_is_told_to_use_root() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // The checkout may live where `nobody` cannot reach (e.g. under /root): run a copy.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.path().join("bpf-test");
    // `cp` makes the copy so that this process never holds it open for writing: other test
    // threads fork concurrently, and a child forked before exec would inherit such a
    // descriptor and make executing the copy fail with ETXTBSY.
    let st = Command::new("cp")
        .arg(std::env::current_exe().unwrap())
        .arg(&exe)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(&exe)
        .current_dir(dir.path())
        .args([
            "--exact",
            "unprivileged_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SPO_BPF_UNPRIVILEGED_CHILD", "1")
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("needs root"), "{stdout}");
}

// covers: RC-39 — the tracepoint is attached while any target records, detached after the last.
#[test]
fn rc_39_attach_is_reference_counted() {
    let mut r = recorder();
    assert!(!r.is_attached());
    let mut a = Command::new("true");
    let mut b = Command::new("true");
    // Two targets at once need two sessions on one recorder: use the low-level API.
    let mount =
        spo_recorder::bpf::cgroup::cgroup2_mount_from(std::path::Path::new("/proc/self/mountinfo"))
            .unwrap();
    let parent =
        spo_recorder::bpf::cgroup::cgroup_of(std::path::Path::new("/proc"), std::process::id())
            .unwrap();
    let cg_a =
        spo_recorder::bpf::cgroup::RecordCgroup::create(&mount, &parent, "spo-test").unwrap();
    let cg_b =
        spo_recorder::bpf::cgroup::RecordCgroup::create(&mount, &parent, "spo-test").unwrap();
    let ta = r.start(&[&cg_a]).unwrap();
    let tb = r.start(&[&cg_b]).unwrap();
    assert!(r.is_attached());
    a.status().unwrap();
    b.status().unwrap();
    r.stop(ta).unwrap();
    assert!(r.is_attached(), "detached while a target is still recorded");
    r.stop(tb).unwrap();
    assert!(!r.is_attached());
}

// covers: RC-37 — syscalls are attributed per mount namespace.
#[test]
fn rc_37_syscalls_are_kept_per_mount_namespace() {
    if !std::path::Path::new("/usr/bin/unshare").exists() {
        eprintln!("skipped: util-linux unshare is not installed");
        return;
    }
    let host_ns = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let host_ns: u32 = host_ns
        .to_string_lossy()
        .trim_start_matches("mnt:[")
        .trim_end_matches(']')
        .parse()
        .unwrap();
    let mut r = recorder();
    let mut cmd = Command::new("/usr/bin/unshare");
    cmd.arg("--mount").arg(exerciser()).arg("main-only");
    let session = r.record_command(&mut cmd).unwrap();
    assert!(cmd.status().unwrap().success());
    let rec = session.finish().unwrap();
    let namespaces = rec.mount_namespaces();
    assert!(namespaces.contains(&host_ns), "{namespaces:?}");
    assert!(namespaces.len() >= 2, "{namespaces:?}");
    // `times` is only made by the exerciser, which runs in the new namespace.
    let host_only = native_names(&rec.only_mntns(host_ns));
    assert!(host_only.contains("unshare"), "{host_only:?}");
    assert!(!host_only.contains("times"), "{host_only:?}");
    let container = native_names(&rec.without_mntns(host_ns));
    assert!(container.contains("times"), "{container:?}");
}

// `--pid`: a running process tree is recorded, and put back in its cgroup afterwards.
#[test]
fn running_process_tree_is_recorded_and_restored() {
    use std::io::BufRead;
    let mut child = Command::new(exerciser())
        .arg("wait")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    let pid = child.id();
    let mut r = recorder();
    let session = r.record_process_tree(pid).unwrap();
    let during = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(during.contains("spo-record"), "{during}");
    unsafe { libc::kill(pid as i32, libc::SIGUSR1) };
    // Wait for its exit but leave it a zombie, so `child.wait()` still gets the status.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    unsafe { libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT) };
    let rec = session.finish().unwrap();
    assert!(child.wait().unwrap().success());
    let names = native_names(&rec);
    for n in MAIN
        .iter()
        .chain(THREAD)
        .chain(GRANDCHILD)
        .chain(AFTER_EXEC)
    {
        assert!(names.contains(*n), "{n} missing: {names:?}");
    }
}

#[test]
fn pid_1_and_missing_processes_are_refused() {
    let mut r = recorder();
    assert!(matches!(
        r.record_process_tree(1).unwrap_err(),
        BpfError::Process { pid: 1, .. }
    ));
    let e = r.record_process_tree(4_000_000).unwrap_err();
    assert!(e.to_string().contains("no such process"), "{e}");
}

// A process that outlives the recording is moved back to the cgroup it came from.
#[test]
fn recorded_process_goes_back_to_its_cgroup() {
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = sleeper.id();
    let before = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let mut r = recorder();
    let session = r.record_process_tree(pid).unwrap();
    let dirs: Vec<PathBuf> = session
        .cgroup_dirs()
        .iter()
        .map(|p| p.to_path_buf())
        .collect();
    assert_eq!(dirs.len(), 1);
    assert!(session.populated());
    drop(session.finish().unwrap());
    let after = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    sleeper.kill().ok();
    sleeper.wait().ok();
    assert_eq!(before, after);
    assert!(!dirs[0].exists(), "recording cgroup left behind");
}

// covers: RC-39 — a hold keeps the tracepoint attached from the self-test into the next
// recording, which then owns the reference: it is detached when that recording ends.
#[test]
fn rc_39_hold_bridges_self_test_and_recording() {
    let mut r = Recorder::load(&LoadOptions::default()).unwrap();
    r.hold_attached(true).unwrap();
    r.self_test().unwrap();
    assert!(r.is_attached(), "the hold must survive the self-test");
    let mut cmd = Command::new("true");
    let session = r.record_command(&mut cmd).unwrap();
    cmd.status().unwrap();
    session.finish().unwrap();
    assert!(!r.is_attached(), "detached after the recording");
}

/// Records `exerciser apparmor DIR` with AppArmor recording on.
fn record_apparmor(dir: &std::path::Path) -> Recorded {
    let mut r = recorder();
    r.enable_apparmor().expect("AppArmor programs load");
    for f in ["read", "openat2", "opath", "relative"] {
        std::fs::write(dir.join(f), b"x").unwrap();
    }
    let mut cmd = Command::new(exerciser());
    cmd.arg("apparmor")
        .arg(dir)
        .current_dir(dir)
        .env("PATH", "/nonexistent-spo-path:/usr/bin:/bin");
    let session = r.record_command(&mut cmd).unwrap();
    let status = cmd.status().unwrap();
    assert!(status.success(), "exerciser apparmor: {status}");
    let rec = session.finish().unwrap();
    if let Err(why) = r.apparmor_capabilities() {
        eprintln!("{why}");
    }
    rec
}

// covers: RC-21 — the AppArmor observations of a real process tree, from raw tracepoints:
// read/write intent per path, successful execs only, sockets, capabilities, nothing of
// other processes.
#[test]
fn rc_21_apparmor_paths_execs_sockets_and_capabilities() {
    use spo_recorder::bpf::abi::{
        AA_EXEC, AA_READ, AA_SOCK_RAW, AA_SOCK_TCP, AA_SOCK_UDP, AA_WRITE,
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let rec = record_apparmor(dir.path());
    let aa = &rec.apparmor;
    assert!(aa.enabled);
    let flags = |p: &str| aa.files.get(p).copied().unwrap_or(0);
    assert_eq!(flags(&format!("{d}/read")), AA_READ, "{:#?}", aa.files);
    assert_eq!(flags(&format!("{d}/write")), AA_WRITE);
    assert_eq!(flags(&format!("{d}/rw")), AA_READ | AA_WRITE);
    assert_eq!(flags(&format!("{d}/openat2")), AA_READ);
    assert!(
        !aa.files.contains_key(&format!("{d}/opath")),
        "O_PATH is no access"
    );
    assert!(aa.relative_paths >= 1, "the relative open is counted");
    assert!(!aa.files.keys().any(|p| p == "relative"));
    // Failed opens are not access: the loader's probes of missing library paths are absent.
    assert!(
        !aa.files.keys().any(|p| p.contains("/glibc-hwcaps/")),
        "{:#?}",
        aa.files
    );
    // The exerciser itself and `true` found through PATH were executed; the failed PATH
    // candidate was not.
    let exe = exerciser();
    assert_ne!(flags(exe.to_str().unwrap()) & AA_EXEC, 0, "{:#?}", aa.files);
    let true_bin = aa
        .files
        .iter()
        .find(|(p, f)| p.ends_with("/true") && *f & AA_EXEC != 0)
        .map(|(p, _)| p.clone());
    assert!(true_bin.is_some(), "true executed: {:#?}", aa.files);
    assert!(!aa
        .files
        .keys()
        .any(|p| p.starts_with("/nonexistent-spo-path")));
    // libc was opened by the loader and counts as a library.
    let obs = aa.observations();
    assert!(
        obs.iter().any(|o| matches!(o,
            spo_core::events::AppArmorObservation::File { path, access: spo_core::events::FileUse::MapExec }
                if path.contains("libc.so"))),
        "{obs:#?}"
    );
    assert_eq!(aa.sockets, AA_SOCK_TCP | AA_SOCK_UDP);
    assert_eq!(aa.sockets & AA_SOCK_RAW, 0);
    if aa.capabilities_recorded {
        let caps = aa.capability_names();
        for c in ["sys_nice", "sys_chroot"] {
            assert!(caps.iter().any(|x| x == c), "{c} in {caps:?}");
        }
    } else {
        eprintln!("skipping the capability assertions: the kernel has no cap_capable tracepoint");
    }
    assert_eq!(aa.dropped, 0);
    // Nothing of this test process (it reads /proc and writes the temp dir itself).
    assert!(!aa
        .files
        .keys()
        .any(|p| p.starts_with("/proc/self/mountinfo")));
}

// covers: RC-21 — without enable_apparmor nothing AppArmor-related is recorded.
#[test]
fn rc_21_apparmor_is_off_unless_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let rec = record(&["apparmor", dir.path().to_str().unwrap()]);
    assert!(!rec.apparmor.enabled);
    assert!(rec.apparmor.files.is_empty());
    assert_eq!(rec.apparmor.sockets, 0);
}
