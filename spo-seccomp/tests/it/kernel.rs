//! Real programs under compiled filters. Filters are loaded only in forked children (via
//! `CompiledFilter::apply_to_command`), never in the test process.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use spo_core::Arch;
use spo_seccomp::compile::compile;
use spo_seccomp::syscalls::BASE_SYSCALLS;
use spo_seccomp::{Action, Arg, ArgOp, Flag, SeccompSpec, Syscall};

fn run_under(spec: &SeccompSpec, program: &str, args: &[&str]) -> Output {
    let filter = compile(spec).unwrap();
    let mut cmd = Command::new(program);
    cmd.args(args);
    filter.apply_to_command(&mut cmd);
    cmd.output().unwrap()
}

fn tmp_path(tag: &str) -> std::path::PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    dir.join(tag)
}

fn deny(names: &[&str], action: Action, errno: Option<u32>) -> SeccompSpec {
    let mut spec = SeccompSpec::new(Action::Allow);
    let mut r = Syscall::new(names.iter().copied(), action);
    r.errno_ret = errno;
    spec.syscalls = vec![r];
    spec
}

// covers: CLI-12
#[test]
fn denied_syscall_fails_with_eperm() {
    let target = tmp_path("d1");
    let out = run_under(
        &deny(&["mkdir", "mkdirat"], Action::Errno, None),
        "/bin/mkdir",
        &[target.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"),
        "{out:?}"
    );
    assert!(!target.exists());
    // Control: without the filter the same command works.
    assert!(Command::new("/bin/mkdir")
        .arg(&target)
        .status()
        .unwrap()
        .success());
}

// covers: CLI-12
#[test]
fn errno_ret_is_what_the_program_sees() {
    let target = tmp_path("d2");
    let out = run_under(
        &deny(&["mkdir", "mkdirat"], Action::Errno, Some(13)),
        "/bin/mkdir",
        &[target.to_str().unwrap()],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{out:?}"
    );
}

#[test]
fn kill_process_kills_with_sigsys() {
    let target = tmp_path("d3");
    let out = run_under(
        &deny(&["mkdir", "mkdirat"], Action::KillProcess, None),
        "/bin/mkdir",
        &[target.to_str().unwrap()],
    );
    assert_eq!(out.status.signal(), Some(libc::SIGSYS), "{out:?}");
}

fn allowlist(extra: &[&str]) -> SeccompSpec {
    let mut spec = SeccompSpec::new(Action::Errno);
    let mut names: Vec<&str> = BASE_SYSCALLS.to_vec();
    names.extend_from_slice(&["rseq", "prlimit64", "getrandom"]);
    names.extend_from_slice(extra);
    spec.syscalls = vec![Syscall::new(names, Action::Allow)];
    spec
}

// covers: CLI-12
#[test]
fn allowlist_of_base_syscalls_runs_a_real_program() {
    let out = run_under(&allowlist(&[]), "/bin/true", &[]);
    assert!(out.status.success(), "{out:?}");
    // Without execve the program cannot even start.
    let mut no_exec = allowlist(&[]);
    no_exec.syscalls[0].names.retain(|n| n != "execve");
    let filter = compile(&no_exec).unwrap();
    let mut cmd = Command::new("/bin/true");
    filter.apply_to_command(&mut cmd);
    let err = cmd.status().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EPERM));
}

#[test]
fn argument_conditions_are_enforced() {
    // Deny openat only when O_CREAT (0o100) is set: reading works, creating fails.
    let mut spec = SeccompSpec::new(Action::Allow);
    let mut r = Syscall::new(["openat", "open", "creat"], Action::Errno);
    r.args = vec![Arg {
        index: 2,
        value: 0o100,
        value_two: 0o100,
        op: ArgOp::MaskedEqual,
    }];
    spec.syscalls = vec![r];
    spec.syscalls[0].names.retain(|n| n != "creat");
    let ok = run_under(&spec, "/bin/cat", &["/etc/hostname"]);
    assert!(ok.status.success(), "{ok:?}");
    let target = tmp_path("created");
    let denied = run_under(&spec, "/usr/bin/touch", &[target.to_str().unwrap()]);
    assert!(!denied.status.success(), "{denied:?}");
    assert!(!target.exists());
}

#[test]
fn repeated_argument_index_means_any_of() {
    // Two conditions on arg 2 of openat: O_CREAT or O_TRUNC; each blocks on its own.
    let mut spec = SeccompSpec::new(Action::Allow);
    let mut r = Syscall::new(["openat"], Action::Errno);
    r.args = vec![
        Arg {
            index: 2,
            value: 0o100,
            value_two: 0o100,
            op: ArgOp::MaskedEqual,
        },
        Arg {
            index: 2,
            value: 0o1000,
            value_two: 0o1000,
            op: ArgOp::MaskedEqual,
        },
    ];
    spec.syscalls = vec![r];
    let target = tmp_path("trunc");
    std::fs::write(&target, "x").unwrap();
    // `sh -c ': > f'` opens with O_TRUNC|O_CREAT.
    let out = run_under(
        &spec,
        "/bin/sh",
        &["-c", &format!(": > {}", target.display())],
    );
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "x");
}

#[test]
fn architectures_are_honoured() {
    // Several architectures compile and the native program still runs.
    let mut multi = allowlist(&[]);
    multi.architectures = vec![Arch::X86_64, Arch::X86, Arch::X32];
    assert!(run_under(&multi, "/bin/true", &[]).status.success());
    // A filter for i386 only kills a native x86_64 program at its first syscall.
    let mut foreign = allowlist(&[]);
    foreign.architectures = vec![Arch::X86];
    let filter = compile(&foreign).unwrap();
    let mut cmd = Command::new("/bin/true");
    filter.apply_to_command(&mut cmd);
    match cmd.status() {
        Ok(status) => assert_eq!(status.signal(), Some(libc::SIGSYS), "{status:?}"),
        Err(e) => panic!("unexpected spawn error {e}"),
    }
}

#[test]
fn flags_are_accepted_by_the_kernel() {
    let mut spec = allowlist(&[]);
    spec.flags = vec![Flag::Tsync, Flag::Log, Flag::SpecAllow];
    let f = compile(&spec).unwrap();
    assert_eq!(f.flags(), 1 | 2 | 4);
    assert!(run_under(&spec, "/bin/true", &[]).status.success());
}

#[test]
fn a_300_rule_allowlist_uses_the_tree_and_runs() {
    // Every syscall libseccomp knows on x86_64 except mkdir/mkdirat, one rule each.
    let names: Vec<String> = (0..460u64)
        .filter_map(|nr| spo_seccomp::syscalls::name(Arch::X86_64, nr))
        .filter(|n| n != "mkdir" && n != "mkdirat")
        .collect();
    assert!(names.len() >= 300, "{}", names.len());
    let mut spec = SeccompSpec::new(Action::Errno);
    spec.syscalls = names
        .iter()
        .map(|n| Syscall::new([n.as_str()], Action::Allow))
        .collect();
    let tree = compile(&spec).unwrap();
    let target = tmp_path("big");
    let out = run_under(&spec, "/bin/mkdir", &[target.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"),
        "{out:?}"
    );
    assert!(run_under(&spec, "/bin/true", &[]).status.success());
    // A binary tree needs far fewer instructions on the hot path, but the program is not
    // smaller than a handful of instructions per rule would be for a linear list.
    assert!(tree.len() > 300, "{} instructions", tree.len());
}

/// Reads new audit records (kmsg or auditd's log) until one matches or 3 s pass.
fn wait_for_record(
    kmsg: &mut Option<std::fs::File>,
    log: &mut Option<std::fs::File>,
    needle: &[&str],
) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut seen = String::new();
    while Instant::now() < deadline {
        if let Some(k) = kmsg.as_mut() {
            let mut buf = vec![0u8; 8192];
            while let Ok(n) = k.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                seen.push('\n');
            }
        }
        if let Some(l) = log.as_mut() {
            let _ = l.read_to_string(&mut seen);
        }
        if let Some(line) = seen.lines().find(|l| needle.iter().all(|n| l.contains(n))) {
            return Some(line.to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

// covers: CLI-12
#[test]
fn scmp_act_log_produces_an_audit_record() {
    let mut kmsg = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
        .ok()
        .and_then(|mut f| f.seek(SeekFrom::End(0)).ok().map(|_| f));
    let mut log = std::fs::File::open("/var/log/audit/audit.log")
        .ok()
        .and_then(|mut f| f.seek(SeekFrom::End(0)).ok().map(|_| f));
    if kmsg.is_none() && log.is_none() {
        eprintln!("SKIP: neither /dev/kmsg nor /var/log/audit/audit.log is readable (not root?)");
        return;
    }
    let mut spec = SeccompSpec::new(Action::Allow);
    spec.syscalls = vec![Syscall::new(["mkdir", "mkdirat"], Action::Log)];
    let filter = compile(&spec).unwrap();
    let target = tmp_path("logged");
    let mut cmd = Command::new("/bin/mkdir");
    cmd.arg(&target);
    filter.apply_to_command(&mut cmd);
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "LOG allows the call: {out:?}");
    assert!(target.exists());
    let mkdir_nr = spo_seccomp::syscalls::number(Arch::X86_64, "mkdir").unwrap();
    let mkdirat_nr = spo_seccomp::syscalls::number(Arch::X86_64, "mkdirat").unwrap();
    let pid_field = format!(" pid={pid} ");
    let record = wait_for_record(&mut kmsg, &mut log, &["type=1326", &pid_field])
        .or_else(|| wait_for_record(&mut kmsg, &mut log, &["type=SECCOMP", &pid_field]))
        .expect("no seccomp audit record for the child");
    assert!(
        record.contains(&format!(" syscall={mkdir_nr} "))
            || record.contains(&format!(" syscall={mkdirat_nr} ")),
        "{record}"
    );
    assert!(
        record.contains("code=0x7ffc0000"),
        "SCMP_ACT_LOG code: {record}"
    );
}

fn mseal_errno_under(spec: &SeccompSpec) -> Option<i32> {
    let nr = spo_seccomp::syscalls::number(Arch::native(), "mseal").unwrap();
    let script = format!(
        "import ctypes,sys; libc=ctypes.CDLL(None, use_errno=True); \
         libc.syscall({nr}, 0, 0, 0); sys.exit(ctypes.get_errno())"
    );
    run_under(spec, "python3", &["-c", &script]).status.code()
}

// Issue 9: `mseal` (Linux 6.10) is unknown to Debian's libseccomp 2.5.4; spo's table knows
// it, so the rule is compiled by number instead of being dropped.
#[test]
fn syscall_unknown_to_libseccomp_is_enforced_by_number() {
    assert_eq!(
        mseal_errno_under(&SeccompSpec::new(Action::Allow)).map(|e| e == 77),
        Some(false)
    );
    let spec = deny(&["mseal"], Action::Errno, Some(77));
    assert_eq!(mseal_errno_under(&spec), Some(77));
    // The same with foreign architectures in the filter (native and foreign contexts merged).
    let mut multi = spec.clone();
    multi.architectures = vec![Arch::X86_64, Arch::X86, Arch::X32];
    assert_eq!(mseal_errno_under(&multi), Some(77));
}

// covers: SC-01 — two rules of one syscall with the same conditions and different actions
// (the `conflicting-actions` lint) still compile: libseccomp refuses the second (EEXIST), the
// first wins, as in the runtimes that add rules in order. Before, compile failed with
// "Failure regarding the existence of argument" (found by the subset property test).
#[test]
fn conflicting_rules_compile_and_the_first_wins() {
    let rule = |action: Action, errno: Option<u32>| {
        let mut r = Syscall::new(["getpgid"], action);
        r.errno_ret = errno;
        r.args = vec![Arg {
            index: 0,
            value: 1,
            value_two: 0,
            op: ArgOp::Equal,
        }];
        r
    };
    let mut spec = SeccompSpec::new(Action::Errno);
    spec.default_errno_ret = Some(38);
    spec.architectures = vec![Arch::X86_64];
    spec.syscalls = vec![rule(Action::Allow, None), rule(Action::Errno, Some(13))];
    let filter = compile(&spec).expect("conflicting rules compile");
    let data = spo_seccomp::inspect::SeccompData {
        nr: spo_seccomp::syscalls::number(Arch::X86_64, "getpgid").unwrap(),
        arch: Arch::X86_64.audit_arch().unwrap(),
        instruction_pointer: 0,
        args: [1, 0, 0, 0, 0, 0],
    };
    let r = spo_seccomp::inspect::run(filter.instructions(), &data).unwrap();
    assert_eq!(
        r.ret & 0xffff_0000,
        0x7fff_0000,
        "the first rule (ALLOW) wins: {r:?}"
    );
}
