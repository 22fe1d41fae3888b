//! Mapping the SELinux compiler's messages back to profile fields (pure: the caller runs
//! `secilc` or `semodule` and passes its standard error).

use spo_core::Violations;

use crate::cil::Module;

/// Path used for compiler messages that cannot be tied to a field.
pub const CIL_PATH: &str = "cil";

/// Finds `<file>:<line>` or `line <line> of <file>` for `file_name` in a message line.
fn located_line(msg: &str, file_name: &str) -> Option<usize> {
    // `... at /tmp/x/demo.cil:4`
    let mut rest = msg;
    while let Some(pos) = rest.find(file_name) {
        let after = &rest[pos + file_name.len()..];
        let before_ok = pos == 0 || rest[..pos].ends_with(['/', ' ']);
        if before_ok {
            if let Some(digits) = after.strip_prefix(':') {
                let n: String = digits.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(line) = n.parse() {
                    return Some(line);
                }
            }
        }
        rest = after;
    }
    // `Open parenthesis without matching close at line 4 of demo.cil`
    let idx = msg.find(" at line ")?;
    let tail = &msg[idx + " at line ".len()..];
    let n: String = tail.chars().take_while(char::is_ascii_digit).collect();
    let of = tail[n.len()..].strip_prefix(" of ")?;
    (of == file_name || of.ends_with(&format!("/{file_name}")))
        .then(|| n.parse().ok())
        .flatten()
}

/// Turns compiler output about `module` (written to a file named `file_name`) into
/// violations. A message naming a line of that file is reported on the field the line came
/// from ([`Module::origin_of_line`]), together with the unlocated messages just before it
/// (`Failed to resolve permission nobind` + `... allow statement at x.cil:3`). When nothing
/// can be located, all messages are reported once under [`CIL_PATH`].
pub fn compiler_violations(stderr: &str, file_name: &str, module: &Module) -> Violations {
    let mut v = Violations::new();
    let mut pending: Vec<&str> = Vec::new();
    let text = module.render();
    let lines: Vec<&str> = text.lines().collect();
    for msg in stderr.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match located_line(msg, file_name) {
            Some(line) => {
                let path = module
                    .origin_of_line(line)
                    .unwrap_or_else(|| CIL_PATH.to_string());
                let mut reason = String::from("secilc: ");
                for p in pending.drain(..) {
                    reason.push_str(p);
                    reason.push_str("; ");
                }
                reason.push_str(msg);
                if let Some(src) = lines.get(line.wrapping_sub(1)) {
                    reason.push_str(&format!(" [CIL line {line}: {}]", src.trim()));
                }
                v.push(path, reason);
            }
            None => pending.push(msg),
        }
    }
    if v.is_empty() {
        let all: Vec<&str> = pending;
        let reason = if all.is_empty() {
            "secilc rejected the module".to_string()
        } else {
            format!("secilc: {}", all.join("; "))
        };
        v.push(CIL_PATH, reason);
    }
    v
}

/// Compiles `module` with its `parents` against the `base` policy with `secilc -m`
/// (multiple declarations allowed, as libsemanage does: udica-style templates re-declare
/// `container`'s types) through `runner`, and maps its errors to violations of the module
/// ([`compiler_violations`]). The modules are written to a temporary directory first.
pub fn secilc_check<R: crate::install::CommandRunner + ?Sized>(
    runner: &R,
    base: &std::path::Path,
    parents: &[Module],
    module: &Module,
) -> Result<Violations, crate::Error> {
    let io = |action: &'static str, path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| crate::Error::Io {
            action,
            path,
            source,
        }
    };
    let dir = tempfile::tempdir().map_err(io(
        "cannot create a temporary directory in",
        &std::env::temp_dir(),
    ))?;
    let mut args: Vec<std::ffi::OsString> = ["-m", "-o", "/dev/null", "-f", "/dev/null"]
        .iter()
        .map(Into::into)
        .collect();
    args.push(base.into());
    for (i, m) in parents.iter().enumerate() {
        let path = dir
            .path()
            .join(format!("parent-{i}-{}", m.name().file_name()));
        std::fs::write(&path, m.render()).map_err(io("cannot write", &path))?;
        args.push(path.into());
    }
    let file_name = module.name().file_name();
    let path = dir.path().join(&file_name);
    std::fs::write(&path, module.render()).map_err(io("cannot write", &path))?;
    args.push(path.into());
    let out = runner
        .run(std::path::Path::new("secilc"), &args, None)
        .map_err(|source| crate::Error::Spawn {
            program: "secilc".into(),
            source,
        })?;
    if out.success() {
        return Ok(Violations::new());
    }
    let mut v = compiler_violations(&out.stderr, &file_name, module);
    if v.is_empty() {
        v.push(
            CIL_PATH,
            format!("secilc failed (exit status {})", out.status),
        );
    }
    Ok(v)
}

/// Whether `secilc` can be run through `runner`.
pub fn secilc_available<R: crate::install::CommandRunner + ?Sized>(runner: &R) -> bool {
    runner
        .run(std::path::Path::new("secilc"), &["--help".into()], None)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{to_cil, NoParents, Options, SelinuxProfile};

    fn module() -> Module {
        let mut p = SelinuxProfile::named("demo");
        p.spec.allow.insert(
            "http_port_t".into(),
            [("tcp_socket".to_string(), vec!["nobind".to_string()])].into(),
        );
        to_cil(&p, &Options::default(), &NoParents).unwrap()
    }

    /// A `secilc` that records its argv and answers like the real one on a bad permission.
    struct FakeSecilc(std::cell::RefCell<Vec<std::ffi::OsString>>);

    impl crate::install::CommandRunner for FakeSecilc {
        fn run(
            &self,
            program: &std::path::Path,
            args: &[std::ffi::OsString],
            _stdin: Option<&[u8]>,
        ) -> std::io::Result<crate::install::CommandOutput> {
            assert_eq!(program, std::path::Path::new("secilc"));
            *self.0.borrow_mut() = args.to_vec();
            let file = args
                .last()
                .map(|a| a.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(crate::install::CommandOutput {
                status: 1,
                stdout: String::new(),
                stderr: format!("Failed to resolve permission nobind\nFailed to resolve allow statement at {file}:3\n"),
            })
        }
    }

    // The secilc check lives in the library (issue 9), behind the CommandRunner seam.
    #[test]
    fn secilc_check_runs_secilc_on_base_parents_and_module() {
        let fake = FakeSecilc(Default::default());
        let parent = module();
        let v = secilc_check(
            &fake,
            std::path::Path::new("/base.cil"),
            &[parent],
            &module(),
        )
        .unwrap();
        assert_eq!(
            v.as_slice()[0].path,
            "spec.allow.http_port_t.tcp_socket",
            "{v}"
        );
        let argv: Vec<String> = fake
            .0
            .borrow()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            &argv[..6],
            ["-m", "-o", "/dev/null", "-f", "/dev/null", "/base.cil"]
        );
        assert!(argv[6].contains("parent-0-"), "{argv:?}");
        assert!(argv[7].ends_with("demo.cil"), "{argv:?}");
    }

    #[test]
    fn secilc_messages_map_to_the_rule_that_produced_the_line() {
        let stderr = "Failed to resolve permission nobind\nFailed to resolve allow statement at /tmp/x/demo.cil:3\nFailed to resolve AST\nFailed to compile cildb: -2\n";
        let v = compiler_violations(stderr, "demo.cil", &module());
        assert_eq!(v.len(), 1);
        let got = &v.as_slice()[0];
        assert_eq!(got.path, "spec.allow.http_port_t.tcp_socket");
        assert!(
            got.reason
                .contains("Failed to resolve permission nobind; Failed to resolve allow statement"),
            "{}",
            got.reason
        );
        assert!(got
            .reason
            .contains("[CIL line 3: (allow process http_port_t ( tcp_socket ( nobind )))]"));
    }

    #[test]
    fn other_forms_and_unlocated_messages() {
        let m = module();
        let v = compiler_violations(
            "Open parenthesis without matching close at line 1 of demo.cil\n",
            "demo.cil",
            &m,
        );
        assert_eq!(v.as_slice()[0].path, "metadata.name");
        // Another file's line is not ours.
        let v = compiler_violations(
            "Re-declaration of type process\nPrevious declaration of type at base.cil:72\nFailed",
            "demo.cil",
            &m,
        );
        assert_eq!(v.as_slice()[0].path, CIL_PATH);
        assert!(v.as_slice()[0]
            .reason
            .contains("Re-declaration of type process"));
        let v = compiler_violations("x at notdemo.cil:2", "demo.cil", &m);
        assert_eq!(v.as_slice()[0].path, CIL_PATH);
    }
}
