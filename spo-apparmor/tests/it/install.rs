//! The install step with a fake runner (the kernel here has no AppArmor): argv, files,
//! name verification, removal (AA-12, AA-13, AA-14, AA-15).

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use spo_apparmor::install::{
    install, remove, write_policy, ApparmorParser, CommandOutput, CommandRunner, Existing, Host,
};
use spo_apparmor::Error;

/// Records argv; on `-r FILE` it "loads" the profile by appending to the fake securityfs.
struct FakeRunner {
    calls: RefCell<Vec<Vec<String>>>,
    profiles_file: PathBuf,
    loads_as: String,
}

impl CommandRunner for FakeRunner {
    fn run(
        &self,
        program: &Path,
        args: &[OsString],
        _stdin: Option<&[u8]>,
    ) -> std::io::Result<CommandOutput> {
        let mut argv = vec![program.display().to_string()];
        argv.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
        if argv[1] == "-r" {
            let mut s = std::fs::read_to_string(&self.profiles_file)?;
            s.push_str(&format!("{} (enforce)\n", self.loads_as));
            std::fs::write(&self.profiles_file, s)?;
        }
        if argv[1] == "-R" {
            std::fs::write(&self.profiles_file, "")?;
        }
        self.calls.borrow_mut().push(argv);
        Ok(CommandOutput::default())
    }
}

struct World {
    _tmp: tempfile::TempDir,
    host: Host,
    dir: PathBuf,
    parser: ApparmorParser<FakeRunner>,
}

fn world(enabled: &str, loads_as: &str) -> World {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("sys/module/apparmor/parameters")).unwrap();
    std::fs::create_dir_all(root.join("sys/kernel/security/apparmor")).unwrap();
    std::fs::write(root.join("sys/module/apparmor/parameters/enabled"), enabled).unwrap();
    let profiles_file = root.join("sys/kernel/security/apparmor/profiles");
    std::fs::write(&profiles_file, "").unwrap();
    let dir = tmp.path().join("apparmor.d");
    std::fs::create_dir(&dir).unwrap();
    let runner = FakeRunner {
        calls: RefCell::new(Vec::new()),
        profiles_file,
        loads_as: loads_as.into(),
    };
    World {
        host: Host { root },
        dir,
        parser: ApparmorParser::new("/usr/sbin/apparmor_parser", runner),
        _tmp: tmp,
    }
}

// covers: AA-12, AA-15
#[test]
fn aa_12_install_writes_the_file_loads_with_replace_and_verifies_the_name() {
    let w = world("Y\n", "/usr/bin/app");
    let file = install(
        &w.host,
        &w.dir,
        &w.parser,
        "/usr/bin/app",
        "profile /usr/bin/app {}\n",
        Existing::Replace,
    )
    .unwrap();
    assert_eq!(file, w.dir.join("usr.bin.app"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "profile /usr/bin/app {}\n"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let calls = w.parser.runner.calls.borrow().clone();
    assert_eq!(
        calls,
        [vec![
            "/usr/sbin/apparmor_parser".to_string(),
            "-r".into(),
            "-W".into(),
            file.display().to_string()
        ]]
    );
    assert!(w.host.profile_loaded("/usr/bin/app").unwrap());

    // AA-15: removal unloads (-R FILE) and deletes the file.
    assert!(remove(&w.host, &w.dir, &w.parser, "/usr/bin/app").unwrap());
    assert!(!file.exists());
    assert_eq!(
        w.parser.runner.calls.borrow()[1][1..],
        ["-R".to_string(), file.display().to_string()]
    );
    // Not loaded any more: removal is a no-op.
    assert!(!remove(&w.host, &w.dir, &w.parser, "/usr/bin/app").unwrap());
    assert_eq!(w.parser.runner.calls.borrow().len(), 2);
}

// covers: AA-01 (name rule after loading)
#[test]
fn aa_01_a_policy_declaring_another_name_fails_the_name_check() {
    let w = world("Y", "something-else");
    let err = install(
        &w.host,
        &w.dir,
        &w.parser,
        "wanted",
        "profile something-else {}\n",
        Existing::Replace,
    )
    .unwrap_err();
    assert!(matches!(err, Error::NameMismatch { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("AppArmorProfile name must match defined policy"));
}

// covers: AA-13
#[test]
fn aa_13_refuses_to_replace_an_already_loaded_profile_when_asked() {
    let w = world("Y", "p");
    install(
        &w.host,
        &w.dir,
        &w.parser,
        "p",
        "profile p {}\n",
        Existing::Replace,
    )
    .unwrap();
    let err = install(
        &w.host,
        &w.dir,
        &w.parser,
        "p",
        "profile p {}\n",
        Existing::Refuse,
    )
    .unwrap_err();
    assert!(matches!(err, Error::ProfileExists { .. }), "{err}");
}

// covers: AA-14
#[test]
fn aa_14_no_apparmor_means_a_clear_error_and_no_parser_call() {
    let w = world("N\n", "p");
    let err = install(
        &w.host,
        &w.dir,
        &w.parser,
        "p",
        "profile p {}\n",
        Existing::Replace,
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotEnabled { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("insufficient permissions or AppArmor is unavailable"));
    assert!(w.parser.runner.calls.borrow().is_empty());
    assert!(std::fs::read_dir(&w.dir).unwrap().next().is_none());
    // This machine's kernel has no AppArmor either.
    if !Host::system().apparmor_enabled() {
        assert!(Host::system().require_apparmor().is_err());
    }
}

#[test]
fn writes_are_atomic_and_do_not_follow_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    let outside = tmp.path().join("outside");
    std::fs::write(&outside, "precious").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("p")).unwrap();
    let file = write_policy(&dir, "p", "profile p {}\n").unwrap();
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&file).unwrap().is_file());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left behind"
    );
    // A symlinked directory is refused.
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    assert!(matches!(
        write_policy(&link, "p", "x"),
        Err(Error::NotADirectory { .. })
    ));
}

/// The real parser, compile-only (loading is impossible without AppArmor in the kernel).
#[test]
fn real_parser_lists_the_names_a_policy_declares() {
    let Some(parser) = crate::support::parser() else {
        return;
    };
    let names = parser
        .profile_names("#include <tunables/global>\nprofile /usr/bin/x flags=(complain) {\n}\n")
        .unwrap();
    assert_eq!(names, ["/usr/bin/x"]);
}
