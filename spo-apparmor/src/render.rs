//! `spec.abstract` → policy AST → text, exactly as §3 lays it out (AA-02..AA-10).
//!
//! The builder follows upstream 1.0's template line by line, blank lines included, so the
//! worked example of §3.1 comes out byte-identical. Intended behaviour replaces upstream's
//! bugs: network booleans render by *value* (AA-07, not the AA-08 quirk); complain mode
//! emits no `deny` line at all (AA-04); empty list entries render nothing; capabilities
//! render normalised (`SYS_ADMIN` → `sys_admin`); paths with spaces render quoted; the
//! `ptrace (…),` escape hatch renders as a real ptrace rule and is never denied.

use spo_core::Violations;

use crate::ast::{FilePerms, Line, NetworkKind, Policy, Rendered, Rule};
use crate::capability::Capability;
use crate::checks::{check_profile_name, check_raw_policy};
use crate::model::{Abstract, AppArmorProfile, Mode};
use crate::path::{check_executable, AaPath, Entry};
use crate::Error;

/// The fixed deny block of enforcing profiles (AA-10): path, permissions, trailing comment.
const DEFAULT_DENY: [(&str, FilePerms, Option<&str>); 9] = [
    (
        "@{PROC}/*",
        FilePerms::W,
        Some("   # deny write for all files directly in /proc (not in a subdir)"),
    ),
    (
        "@{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9]*}/**",
        FilePerms::W,
        None,
    ),
    (
        "@{PROC}/sys/[^k]**",
        FilePerms::W,
        Some("  # deny /proc/sys except /proc/sys/k* (effectively /proc/sys/kernel)"),
    ),
    (
        "@{PROC}/sys/kernel/{?,??,[^s][^h][^m]**}",
        FilePerms::W,
        Some("  # deny everything except shm* in /proc/sys/kernel/"),
    ),
    ("@{PROC}/sysrq-trigger", FilePerms::Rwklx, None),
    ("@{PROC}/mem", FilePerms::Rwklx, None),
    ("@{PROC}/kmem", FilePerms::Rwklx, None),
    ("@{PROC}/kcore", FilePerms::Rwklx, None),
    ("/sys/firmware/efi/efivars/**", FilePerms::Rwklx, None),
];

/// Builds the policy AST, collecting every violation of the input on the way (AA-11).
/// `name_field` names where the profile name came from (`metadata.name` or
/// `--program-name`) for the violation path.
pub fn build_policy(
    name: &str,
    name_field: &str,
    mode: Mode,
    abs: &Abstract,
) -> Result<Policy, Violations> {
    let mut b = Builder {
        enforce: mode == Mode::Enforce,
        body: Vec::new(),
        violations: Violations::new(),
    };
    // Capabilities are needed first (AA-09), but their violations are reported last, in
    // document order.
    let caps = b.capabilities(abs);
    let cap_violations = std::mem::take(&mut b.violations);
    if let Err(reason) = check_profile_name(name) {
        b.violations.push(name_field, reason);
    }
    let allow_mount = caps.iter().any(|(c, _)| c.as_str() == "sys_rawio");

    b.body.push(Line::Include("abstractions/base"));
    b.body.push(Line::Blank);
    b.body.push(Line::Comment("Executable rules"));
    b.executables(abs);
    b.body.push(Line::Blank);
    b.mount_hack(
        allow_mount,
        &[
            Rule::File {
                deny: false,
                path: AaPath::trusted("/sbin/fsck"),
                perms: FilePerms::Ixr,
            },
            Rule::File {
                deny: false,
                path: AaPath::trusted("/sbin/fsck.ext4"),
                perms: FilePerms::Ixr,
            },
        ],
    );
    b.body.push(Line::Blank);
    b.body.push(Line::Comment("Filesystem rules"));
    b.filesystem(abs);
    b.body.push(Line::Blank);
    b.body.push(Line::Blank);
    b.body.push(Line::Comment("Network rules"));
    b.network(abs);
    b.body.push(Line::Blank);
    b.body.push(Line::Blank);
    b.body.push(Line::Comment("Capabilities rules"));
    for (cap, origin) in caps {
        b.body.push(Line::rule(Rule::Capability(cap), Some(origin)));
    }
    b.body.push(Line::Blank);
    b.body.push(Line::Blank);
    b.mount_hack(allow_mount, &[Rule::Mount, Rule::Remount, Rule::Umount]);
    b.body.push(Line::Blank);
    b.body.push(Line::Comment("Raw rules placeholder"));
    b.body.push(Line::Blank);
    b.body.push(Line::Comment(
        "Add default deny for known information leak/priv esc paths",
    ));
    if b.enforce {
        b.body.push(Line::Blank);
        for (path, perms, comment) in DEFAULT_DENY {
            b.body.push(Line::Rule {
                rule: Rule::File {
                    deny: true,
                    path: AaPath::trusted(path),
                    perms,
                },
                comment,
                origin: None,
            });
        }
    }
    b.body.push(Line::Blank);
    b.violations.extend_prefixed("", cap_violations);

    if b.violations.is_empty() {
        Ok(Policy {
            name: name.to_string(),
            mode,
            body: b.body,
        })
    } else {
        Err(b.violations)
    }
}

struct Builder {
    enforce: bool,
    body: Vec<Line>,
    violations: Violations,
}

/// Which kind of list an entry comes from (executables get the extra `..` rule).
#[derive(Clone, Copy, PartialEq)]
enum ListKind {
    Executable,
    File,
}

impl Builder {
    /// Parses every entry of a list; bad entries become violations.
    fn entries(&mut self, field: &str, list: &[String], kind: ListKind) -> Vec<(Entry, String)> {
        let mut out = Vec::new();
        for (i, text) in list.iter().enumerate() {
            let path = format!("{field}[{i}]");
            let parsed = Entry::parse(text).and_then(|e| {
                if kind == ListKind::Executable && matches!(e, Some(Entry::Path(_))) {
                    check_executable(text)?;
                }
                Ok(e)
            });
            match parsed {
                Ok(Some(e)) => out.push((e, path)),
                Ok(None) => {}
                Err(reason) => self.violations.push(path, reason),
            }
        }
        out
    }

    fn allow(&mut self, entries: &[(Entry, String)], perms: FilePerms) {
        for (entry, origin) in entries {
            let rule = match entry {
                Entry::Path(p) => Rule::File {
                    deny: false,
                    path: p.clone(),
                    perms,
                },
                Entry::Ptrace(a) => Rule::Ptrace(*a),
            };
            self.body.push(Line::rule(rule, Some(origin.clone())));
        }
    }

    fn deny(&mut self, entries: &[(Entry, String)], perms: FilePerms) {
        if !self.enforce {
            return;
        }
        for (entry, origin) in entries {
            if let Entry::Path(p) = entry {
                let rule = Rule::File {
                    deny: true,
                    path: p.clone(),
                    perms,
                };
                self.body.push(Line::rule(rule, Some(origin.clone())));
            }
        }
    }

    fn executables(&mut self, abs: &Abstract) {
        let Some(exec) = &abs.executable else {
            return;
        };
        const F: &str = "spec.abstract.executable";
        if let Some(list) = &exec.allowed_executables {
            let e = self.entries(
                &format!("{F}.allowedExecutables"),
                list,
                ListKind::Executable,
            );
            self.body.push(Line::Blank);
            self.allow(&e, FilePerms::Ixr);
        }
        self.body.push(Line::Blank);
        if let Some(list) = &exec.allowed_libraries {
            let e = self.entries(&format!("{F}.allowedLibraries"), list, ListKind::Executable);
            self.body.push(Line::Blank);
            self.allow(&e, FilePerms::Mr);
        }
    }

    fn filesystem(&mut self, abs: &Abstract) {
        let Some(fs) = &abs.filesystem else {
            return;
        };
        const F: &str = "spec.abstract.filesystem";
        if let Some(list) = &fs.read_only_paths {
            let e = self.entries(&format!("{F}.readOnlyPaths"), list, ListKind::File);
            self.body.push(Line::Blank);
            self.allow(&e, FilePerms::R);
            self.body.push(Line::Blank);
            self.deny(&e, FilePerms::Wlk);
        }
        self.body.push(Line::Blank);
        if let Some(list) = &fs.write_only_paths {
            let e = self.entries(&format!("{F}.writeOnlyPaths"), list, ListKind::File);
            self.body.push(Line::Blank);
            self.allow(&e, FilePerms::Wlk);
            self.body.push(Line::Blank);
            self.deny(&e, FilePerms::R);
        }
        self.body.push(Line::Blank);
        if let Some(list) = &fs.read_write_paths {
            let e = self.entries(&format!("{F}.readWritePaths"), list, ListKind::File);
            self.body.push(Line::Blank);
            self.allow(&e, FilePerms::Rwlk);
        }
    }

    fn network(&mut self, abs: &Abstract) {
        let Some(net) = &abs.network else {
            return;
        };
        const F: &str = "spec.abstract.network";
        self.body.push(Line::Blank);
        if net.raw() {
            let rule = Rule::Network {
                deny: false,
                kind: NetworkKind::Raw,
            };
            self.body
                .push(Line::rule(rule, Some(format!("{F}.allowRaw"))));
        } else {
            if self.enforce {
                let rule = Rule::Network {
                    deny: true,
                    kind: NetworkKind::Raw,
                };
                self.body
                    .push(Line::rule(rule, Some(format!("{F}.allowRaw"))));
            } else {
                // The template leaves the line of the omitted deny rule empty.
                self.body.push(Line::Blank);
            }
            self.body.push(Line::Blank);
        }
        for (on, kind, field) in [
            (net.tcp(), NetworkKind::Tcp, "allowTcp"),
            (net.udp(), NetworkKind::Udp, "allowUdp"),
        ] {
            self.body.push(Line::Blank);
            if on {
                let rule = Rule::Network { deny: false, kind };
                let origin = format!("{F}.allowedProtocols.{field}");
                self.body.push(Line::rule(rule, Some(origin)));
            }
        }
    }

    fn capabilities(&mut self, abs: &Abstract) -> Vec<(Capability, String)> {
        let Some(caps) = &abs.capability else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, text) in caps.allowed_capabilities.iter().enumerate() {
            let path = format!("spec.abstract.capability.allowedCapabilities[{i}]");
            if text.is_empty() {
                continue;
            }
            match Capability::parse(text) {
                Ok(c) => out.push((c, path)),
                Err(reason) => self.violations.push(path, reason),
            }
        }
        out
    }

    /// AA-09: a line of two spaces, or the hack's rules framed by two such lines.
    fn mount_hack(&mut self, allow_mount: bool, rules: &[Rule]) {
        self.body.push(Line::Indent);
        if allow_mount {
            for r in rules {
                self.body.push(Line::rule(
                    r.clone(),
                    Some("spec.abstract.capability".into()),
                ));
            }
            self.body.push(Line::Indent);
        }
    }
}

/// The profile name to render: `--program-name` when given, else `metadata.name`; and the
/// field to blame for it.
pub fn effective_name<'a>(
    profile: &'a AppArmorProfile,
    program_name: Option<&'a str>,
) -> (&'a str, &'static str) {
    match program_name {
        Some(p) => (p, "--program-name"),
        None => (profile.metadata.name.as_str(), "metadata.name"),
    }
}

/// Renders a profile to policy text with line origins. Era A's raw `policy` is returned
/// verbatim after the name check (AA-01); otherwise `abstract` is rendered (AA-02).
pub fn render_with_origins(
    profile: &AppArmorProfile,
    program_name: Option<&str>,
) -> Result<Rendered, Error> {
    let (name, field) = effective_name(profile, program_name);
    let invalid = |violations| Error::Invalid {
        name: name.to_string(),
        violations,
    };
    if let Some(policy) = profile.spec.raw_policy() {
        let v = check_raw_policy(policy, name, field);
        if !v.is_empty() {
            return Err(invalid(v));
        }
        let origins = (1..=policy.lines().count())
            .map(|n| Some(format!("spec.policy (line {n})")))
            .collect();
        return Ok(Rendered {
            text: policy.to_string(),
            origins,
        });
    }
    let abs = profile.abstract_or_default();
    build_policy(name, field, profile.spec.mode(), &abs)
        .map(|p| p.render())
        .map_err(invalid)
}

/// Renders a profile to policy text (see [`render_with_origins`]).
pub fn render(profile: &AppArmorProfile, program_name: Option<&str>) -> Result<String, Error> {
    render_with_origins(profile, program_name).map(|r| r.text)
}
