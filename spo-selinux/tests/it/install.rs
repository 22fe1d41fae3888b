//! The install step: the CIL file (SE-02, SE-21) and `semodule` (fake runner and real).

use std::cell::RefCell;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use spo_selinux::install::{
    install_module, remove_policy, uninstall_module, write_policy, CommandOutput, CommandRunner,
    PolicyInstaller, Semodule, SystemRunner, WriteOutcome,
};
use spo_selinux::{to_cil, Error, NoParents, Options, PolicyName, SelinuxProfile};

use crate::common::*;

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

// covers: SE-21, SE-02
#[test]
fn se_21_written_0600_only_when_changed() {
    let dir = tempfile::tempdir().unwrap();
    let name = PolicyName::new("demo").unwrap();
    let path = dir.path().join("demo.cil");
    assert_eq!(
        write_policy(dir.path(), &name, "(block demo)\n").unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "(block demo)\n");
    assert_eq!(mode(&path), 0o600);
    let inode = std::fs::metadata(&path).unwrap();
    assert_eq!(
        write_policy(dir.path(), &name, "(block demo)\n").unwrap(),
        WriteOutcome::Unchanged
    );
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().ino(),
        inode.ino(),
        "unchanged file not rewritten"
    );
    assert_eq!(
        write_policy(dir.path(), &name, "(block demo2)\n").unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "(block demo2)\n");
    // Same content but a wrong mode is fixed.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(
        write_policy(dir.path(), &name, "(block demo2)\n").unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(mode(&path), 0o600);
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [OsString::from("demo.cil")]);
    assert!(remove_policy(dir.path(), &name).unwrap());
    assert!(!remove_policy(dir.path(), &name).unwrap());
}

// covers: SE-21
#[test]
fn se_21_symlinks_are_replaced_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), "(block demo)\n").unwrap();
    let link = dir.path().join("demo.cil");
    std::os::unix::fs::symlink(outside.path(), &link).unwrap();
    let name = PolicyName::new("demo").unwrap();
    // Even with identical content behind the link, the link is replaced by a real file.
    assert_eq!(
        write_policy(dir.path(), &name, "(block demo)\n").unwrap(),
        WriteOutcome::Written
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
    std::fs::write(&link, "x").unwrap();
    assert_eq!(
        std::fs::read_to_string(outside.path()).unwrap(),
        "(block demo)\n"
    );
    let err = write_policy(&dir.path().join("missing"), &name, "x").unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[derive(Default)]
struct Fake {
    calls: RefCell<Vec<Vec<String>>>,
    fail: bool,
}

impl CommandRunner for Fake {
    fn run(
        &self,
        program: &std::path::Path,
        args: &[OsString],
        _stdin: Option<&[u8]>,
    ) -> std::io::Result<CommandOutput> {
        let mut argv = vec![program.to_string_lossy().into_owned()];
        argv.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
        self.calls.borrow_mut().push(argv);
        Ok(CommandOutput {
            status: i32::from(self.fail),
            stdout: String::new(),
            stderr: if self.fail {
                "semodule:  Failed!\n".into()
            } else {
                String::new()
            },
        })
    }
}

#[test]
fn semodule_argv_for_install_and_remove() {
    let name = PolicyName::new("nginx-secure").unwrap();
    let s = Semodule::new(Fake::default());
    s.install(Path::new("/etc/selinux.d/nginx-secure.cil"))
        .unwrap();
    s.remove(&name).unwrap();
    let mut s2 = Semodule::new(Fake {
        fail: true,
        ..Fake::default()
    });
    s2.root = Some(PathBuf::from("/r"));
    s2.store = Some("targeted".into());
    s2.no_reload = true;
    let err = s2.install(Path::new("x.cil")).unwrap_err().to_string();
    assert_eq!(
        err,
        "`semodule -p /r -s targeted -N -i x.cil` failed (exit status: 1): semodule:  Failed!"
    );
    assert_eq!(
        *s.runner().calls.borrow(),
        [
            vec!["semodule", "-i", "/etc/selinux.d/nginx-secure.cil"],
            vec!["semodule", "-r", "nginx-secure"],
        ]
    );
    assert_eq!(
        *s2.runner().calls.borrow(),
        [vec![
            "semodule", "-p", "/r", "-s", "targeted", "-N", "-i", "x.cil"
        ]]
    );
}

// covers: SE-21, SE-22 (file and module removal; the selinuxd status polling is the operator's)
#[test]
fn install_module_runs_semodule_only_when_the_file_changed() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = SelinuxProfile::named("web");
    p.spec.allow.insert(
        "@self".into(),
        [("tcp_socket".to_string(), vec!["listen".to_string()])].into(),
    );
    let m = to_cil(&p, &Options::default(), &NoParents).unwrap();
    let s = Semodule::new(Fake::default());
    assert_eq!(
        install_module(dir.path(), &m, &s).unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        install_module(dir.path(), &m, &s).unwrap(),
        WriteOutcome::Unchanged
    );
    let file = dir.path().join("web.cil").display().to_string();
    assert_eq!(
        *s.runner().calls.borrow(),
        [vec!["semodule".to_string(), "-i".into(), file]]
    );
    assert!(uninstall_module(dir.path(), m.name(), &s).unwrap());
    assert!(!dir.path().join("web.cil").exists());
    assert_eq!(s.runner().calls.borrow()[1], ["semodule", "-r", "web"]);
    // A failing store removal keeps the file (retry later).
    install_module(dir.path(), &m, &s).unwrap();
    let failing = Semodule::new(Fake {
        fail: true,
        ..Fake::default()
    });
    assert!(uninstall_module(dir.path(), m.name(), &failing).is_err());
    assert!(dir.path().join("web.cil").exists());
}

fn have_semodule() -> bool {
    Command::new("semodule").arg("-h").output().is_ok()
}

/// Real `semodule` against a private policy root (`-p`), no reload (`-N`): installs the test
/// base as the store's first module, then a generated profile, lists, and removes it.
#[test]
fn semodule_installs_and_removes_a_generated_module_offline() {
    if !have_semodule() {
        panic!(
            "semodule must be installed (Debian package policycoreutils; make deps installs it)"
        );
    }
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc/selinux")).unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/selinux")).unwrap();
    std::fs::write(
        root.path().join("etc/selinux/config"),
        "SELINUX=permissive\nSELINUXTYPE=spo\n",
    )
    .unwrap();
    let mut s = Semodule::new(SystemRunner);
    s.root = Some(root.path().to_path_buf());
    s.store = Some("spo".into());
    s.no_reload = true;
    s.install(&test_base()).unwrap();

    let mut p = SelinuxProfile::named("nginx-secure");
    p.spec.allow.insert(
        "@self".into(),
        [("tcp_socket".to_string(), vec!["listen".to_string()])].into(),
    );
    let m = to_cil(&p, &Options::default(), &NoParents).unwrap();
    let drop_dir = tempfile::tempdir().unwrap();
    write_policy(drop_dir.path(), m.name(), &m.render()).unwrap();
    s.install(&drop_dir.path().join(m.name().file_name()))
        .unwrap();
    let list = |s: &Semodule<SystemRunner>| {
        let out = Command::new("semodule")
            .arg("-p")
            .arg(s.root.as_ref().unwrap())
            .args(["-s", "spo", "-l"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        list(&s).lines().any(|l| l == "nginx-secure"),
        "{}",
        list(&s)
    );
    s.remove(m.name()).unwrap();
    assert!(!list(&s).lines().any(|l| l == "nginx-secure"));
    // A module that does not compile is refused with semodule's message.
    let bad = drop_dir.path().join("bad.cil");
    std::fs::write(&bad, "(block bad\n(blockinherit nope)\n)\n").unwrap();
    let err = s.install(&bad).unwrap_err().to_string();
    assert!(err.contains("blockinherit"), "{err}");
}

// covers: SE-20 (readiness is `semodule -l` on the same store), SE-23 (reload is `-R`)
#[test]
fn semodule_ready_and_reload_use_the_same_store() {
    let mut s = Semodule::new(Fake::default());
    s.root = Some(PathBuf::from("/r"));
    s.store = Some("spo".into());
    s.no_reload = true;
    s.ready().unwrap();
    s.reload().unwrap();
    assert_eq!(
        *s.runner().calls.borrow(),
        [
            vec!["semodule", "-p", "/r", "-s", "spo", "-l"],
            vec!["semodule", "-p", "/r", "-s", "spo", "-R"],
        ]
    );
    let failing = Semodule::new(Fake {
        fail: true,
        ..Fake::default()
    });
    let err = failing.ready().unwrap_err().to_string();
    assert!(err.contains("semodule -l"), "{err}");
}

/// A real store that does not exist yet is not ready; once its directories exist it is.
#[test]
fn semodule_ready_follows_the_real_store() {
    if !have_semodule() {
        panic!("semodule must be installed (Debian package policycoreutils)");
    }
    let root = tempfile::tempdir().unwrap();
    let mut s = Semodule::new(SystemRunner);
    s.root = Some(root.path().to_path_buf());
    s.store = Some("spo".into());
    assert!(s.ready().is_err(), "no var/lib/selinux under the root yet");
    std::fs::create_dir_all(root.path().join("etc/selinux")).unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/selinux")).unwrap();
    s.ready().unwrap();
}
