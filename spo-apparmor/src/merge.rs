//! Union of AppArmorProfiles (CLI-15, RC-23).
//!
//! Metadata, `state`, `mode` and a raw `policy` come from the first profile; the abstracts
//! are united: executables, libraries and capabilities are set unions; a path read in one
//! profile and written in another becomes read-write; a literal path is absorbed by a glob
//! that already grants at least the same access (`/var/log/**` rw absorbs `/var/log/a` r);
//! network booleans are OR-ed. Every list comes out sorted and de-duplicated. Merging is
//! order-independent for the abstract, and [`normalize`] is the merge of one profile, so
//! "does the first profile already cover the others" is `normalize(first) == merge(all)`.

use std::collections::{BTreeMap, BTreeSet};

use crate::capability::Capability;
use crate::model::{
    Abstract, AllowedProtocols, AppArmorProfile, CapabilityRules, ExecutableRules, FilesystemRules,
    NetworkRules,
};
use crate::Error;

/// Merges `profiles` into the first one (see the module docs).
pub fn merge(profiles: &[AppArmorProfile]) -> Result<AppArmorProfile, Error> {
    let first = profiles.first().ok_or(Error::NothingToMerge)?;
    let abstracts: Vec<&Abstract> = profiles
        .iter()
        .filter_map(|p| p.spec.abstract_.as_ref())
        .collect();
    let mut out = first.clone();
    if !abstracts.is_empty() {
        out.spec.abstract_ = Some(merge_abstracts(&abstracts));
    }
    Ok(out)
}

/// The normalised form of one profile: its merge with nothing.
pub fn normalize(profile: &AppArmorProfile) -> AppArmorProfile {
    merge(std::slice::from_ref(profile)).unwrap_or_else(|_| profile.clone())
}

fn merge_abstracts(all: &[&Abstract]) -> Abstract {
    Abstract {
        executable: merge_executables(all),
        filesystem: merge_filesystem(all),
        network: merge_network(all),
        capability: merge_capabilities(all),
    }
}

/// Unites one optional list across inputs; `None` only when every input lacks it.
fn union_list<'a>(
    lists: impl Iterator<Item = Option<&'a Vec<String>>>,
) -> Option<BTreeSet<String>> {
    let mut present = false;
    let mut set = BTreeSet::new();
    for l in lists.flatten() {
        present = true;
        set.extend(l.iter().filter(|s| !s.is_empty()).cloned());
    }
    present.then_some(set)
}

fn absorb_literals(set: BTreeSet<String>) -> Vec<String> {
    let globs: Vec<String> = set.iter().filter(|p| !is_literal(p)).cloned().collect();
    set.into_iter()
        .filter(|p| !is_literal(p) || !globs.iter().any(|g| glob_match(g, p)))
        .collect()
}

fn merge_executables(all: &[&Abstract]) -> Option<ExecutableRules> {
    let execs: Vec<&ExecutableRules> = all.iter().filter_map(|a| a.executable.as_ref()).collect();
    if execs.is_empty() {
        return None;
    }
    Some(ExecutableRules {
        allowed_executables: union_list(execs.iter().map(|e| e.allowed_executables.as_ref()))
            .map(absorb_literals),
        allowed_libraries: union_list(execs.iter().map(|e| e.allowed_libraries.as_ref()))
            .map(absorb_literals),
    })
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Rw {
    r: bool,
    w: bool,
}

impl Rw {
    fn covers(self, other: Rw) -> bool {
        (self.r || !other.r) && (self.w || !other.w)
    }
}

fn merge_filesystem(all: &[&Abstract]) -> Option<FilesystemRules> {
    let fss: Vec<&FilesystemRules> = all.iter().filter_map(|a| a.filesystem.as_ref()).collect();
    if fss.is_empty() {
        return None;
    }
    let mut access: BTreeMap<String, Rw> = BTreeMap::new();
    let (mut has_ro, mut has_wo, mut has_rw) = (false, false, false);
    for fs in &fss {
        for (list, flag, r, w) in [
            (&fs.read_only_paths, &mut has_ro, true, false),
            (&fs.write_only_paths, &mut has_wo, false, true),
            (&fs.read_write_paths, &mut has_rw, true, true),
        ] {
            if let Some(list) = list {
                *flag = true;
                for p in list.iter().filter(|p| !p.is_empty()) {
                    let a = access.entry(p.clone()).or_default();
                    a.r |= r;
                    a.w |= w;
                }
            }
        }
    }
    let globs: Vec<(String, Rw)> = access
        .iter()
        .filter(|(p, _)| !is_literal(p))
        .map(|(p, a)| (p.clone(), *a))
        .collect();
    let (mut ro, mut wo, mut rw) = (Vec::new(), Vec::new(), Vec::new());
    for (p, a) in access {
        let absorbed = is_literal(&p)
            && globs
                .iter()
                .any(|(g, ga)| ga.covers(a) && glob_match(g, &p));
        if absorbed {
            continue;
        }
        match (a.r, a.w) {
            (true, true) => rw.push(p),
            (true, false) => ro.push(p),
            _ => wo.push(p),
        }
    }
    let list = |present: bool, v: Vec<String>| (present || !v.is_empty()).then_some(v);
    Some(FilesystemRules {
        read_only_paths: list(has_ro, ro),
        write_only_paths: list(has_wo, wo),
        read_write_paths: list(has_rw, rw),
    })
}

fn or_all(values: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    values.flatten().reduce(|a, b| a || b)
}

fn merge_network(all: &[&Abstract]) -> Option<NetworkRules> {
    let nets: Vec<NetworkRules> = all.iter().filter_map(|a| a.network).collect();
    if nets.is_empty() {
        return None;
    }
    let protos: Vec<AllowedProtocols> = nets.iter().filter_map(|n| n.allowed_protocols).collect();
    Some(NetworkRules {
        allow_raw: or_all(nets.iter().map(|n| n.allow_raw)),
        allowed_protocols: (!protos.is_empty()).then(|| AllowedProtocols {
            allow_tcp: or_all(protos.iter().map(|p| p.allow_tcp)),
            allow_udp: or_all(protos.iter().map(|p| p.allow_udp)),
        }),
    })
}

fn merge_capabilities(all: &[&Abstract]) -> Option<CapabilityRules> {
    let caps: Vec<&CapabilityRules> = all.iter().filter_map(|a| a.capability.as_ref()).collect();
    if caps.is_empty() {
        return None;
    }
    let set: BTreeSet<String> = caps
        .iter()
        .flat_map(|c| c.allowed_capabilities.iter())
        .filter(|c| !c.is_empty())
        .map(|c| {
            // Known names are normalised; unknown ones stay for validation to report.
            Capability::parse(c).map_or_else(|_| c.clone(), |k| k.as_str().to_string())
        })
        .collect();
    Some(CapabilityRules {
        allowed_capabilities: set.into_iter().collect(),
    })
}

/// A path without glob characters or variables.
fn is_literal(p: &str) -> bool {
    !p.contains(['*', '?', '{'])
}

/// AppArmor glob matching of a literal `text` against `pattern`: `**` matches anything,
/// `*` anything but `/`, `?` one character but `/`. Patterns with variables (`@{…}`) never
/// match (conservative: nothing is absorbed that might not be covered).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    if pattern.contains('{') {
        return false;
    }
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    // reachable[j]: the pattern prefix consumed so far matches t[..j].
    let mut reachable = vec![false; t.len() + 1];
    reachable[0] = true;
    let mut i = 0;
    while i < p.len() {
        let mut next = vec![false; t.len() + 1];
        match p[i] {
            b'*' => {
                let double = p.get(i + 1) == Some(&b'*');
                let mut on = false;
                for j in 0..=t.len() {
                    if reachable[j] {
                        on = true;
                    }
                    next[j] = on;
                    if j < t.len() && !double && t[j] == b'/' {
                        on = false;
                    }
                }
                i += if double { 2 } else { 1 };
            }
            b'?' => {
                for j in 0..t.len() {
                    next[j + 1] = reachable[j] && t[j] != b'/';
                }
                i += 1;
            }
            c => {
                for j in 0..t.len() {
                    next[j + 1] = reachable[j] && t[j] == c;
                }
                i += 1;
            }
        }
        reachable = next;
    }
    reachable[t.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("/var/log/**", "/var/log/a/b"));
        assert!(glob_match("/var/log/*", "/var/log/a"));
        assert!(!glob_match("/var/log/*", "/var/log/a/b"));
        assert!(glob_match("/a/?.txt", "/a/b.txt"));
        assert!(!glob_match("/a/?.txt", "/a/bc.txt"));
        assert!(glob_match("/a*c", "/abbbc"));
        assert!(!glob_match("/proc/@{pid}/x", "/proc/1/x"));
    }

    fn fs(ro: &[&str], wo: &[&str], rw: &[&str]) -> Abstract {
        let v = |l: &[&str]| Some(l.iter().map(|s| s.to_string()).collect());
        Abstract {
            filesystem: Some(FilesystemRules {
                read_only_paths: v(ro),
                write_only_paths: v(wo),
                read_write_paths: v(rw),
            }),
            ..Abstract::default()
        }
    }

    // covers: RC-23, CLI-15
    #[test]
    fn rc_23_union_read_plus_write_becomes_read_write_and_globs_absorb() {
        let a = AppArmorProfile::new("a", fs(&["/etc/passwd", "/b"], &[], &["/var/log/**"]));
        let b = AppArmorProfile::new("b", fs(&["/var/log/x", "/c"], &["/etc/passwd"], &[]));
        let m = merge(&[a, b]).unwrap();
        assert_eq!(m.metadata.name, "a");
        let f = m.spec.abstract_.unwrap().filesystem.unwrap();
        assert_eq!(f.read_only_paths, Some(vec!["/b".into(), "/c".into()]));
        assert_eq!(f.write_only_paths, Some(vec![]));
        assert_eq!(
            f.read_write_paths,
            Some(vec!["/etc/passwd".into(), "/var/log/**".into()])
        );
    }

    #[test]
    fn network_booleans_are_or_ed_and_caps_united() {
        let a = Abstract {
            network: Some(NetworkRules {
                allow_raw: Some(false),
                allowed_protocols: None,
            }),
            capability: Some(CapabilityRules {
                allowed_capabilities: vec!["SYS_ADMIN".into()],
            }),
            ..Abstract::default()
        };
        let b = Abstract {
            network: Some(NetworkRules {
                allow_raw: None,
                allowed_protocols: Some(AllowedProtocols {
                    allow_tcp: Some(true),
                    allow_udp: None,
                }),
            }),
            capability: Some(CapabilityRules {
                allowed_capabilities: vec!["chown".into(), "sys_admin".into()],
            }),
            ..Abstract::default()
        };
        let m = merge(&[AppArmorProfile::new("a", a), AppArmorProfile::new("b", b)]).unwrap();
        let abs = m.spec.abstract_.unwrap();
        let n = abs.network.unwrap();
        assert_eq!(n.allow_raw, Some(false));
        assert_eq!(n.allowed_protocols.unwrap().allow_tcp, Some(true));
        assert_eq!(n.allowed_protocols.unwrap().allow_udp, None);
        assert_eq!(
            abs.capability.unwrap().allowed_capabilities,
            ["chown", "sys_admin"]
        );
    }

    // covers: CLI-16
    #[test]
    fn cli_16_normalised_first_equals_merge_when_it_covers_the_rest() {
        let a = AppArmorProfile::new("a", fs(&["/z", "/a"], &[], &["/var/**"]));
        let b = AppArmorProfile::new("b", fs(&["/a", "/var/x"], &[], &[]));
        assert_eq!(normalize(&a), merge(&[a.clone(), b]).unwrap());
        let c = AppArmorProfile::new("c", fs(&["/new"], &[], &[]));
        assert_ne!(normalize(&a), merge(&[a, c]).unwrap());
    }
}
