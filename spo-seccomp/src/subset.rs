//! Set algebra on SeccompProfiles (issue 11): "is everything A allows also allowed by B?"
//! with argument conditions, per architecture, and the intersection of two profiles.
//!
//! ## The model
//!
//! A profile is read per architecture the way it is compiled ([`crate::compile`]): names that
//! do not exist on the architecture are left out there, rules whose action equals the default
//! action are skipped, and a rule with several conditions on the same argument becomes one
//! clause per condition (runtimes OR them); otherwise a rule is one clause, the AND of its
//! conditions. For a call `(syscall, args)` the possible outcomes are the actions of the
//! clauses that match, or the default action when none does. When clauses of different
//! actions overlap, which one wins is libseccomp's business, so the analysis keeps all of
//! them: A *may* allow a call when any possible outcome allows, B *surely* allows it when
//! every possible outcome does. "Allowing" is `SCMP_ACT_ALLOW`, `LOG`, `TRACE` and `NOTIFY`
//! (SC-37).
//!
//! `subset(A, B)` holds when every call A may allow, B surely allows. It is decided on
//! representative argument values: for comparison operators (`EQ`, `NE`, `LT`, `LE`, `GT`,
//! `GE`) the values `c-1, c, c+1` of every constant `c`, with `0` and `u64::MAX`, meet every
//! combination of conditions, so the answer is exact. For `SCMP_CMP_MASKED_EQ` the candidates
//! are each condition's satisfying value and its one-bit variations inside every mask, which
//! finds the usual counterexamples but is not a proof; [`SubsetReport::exact`] says which.
//!
//! ```
//! use spo_seccomp::{subset::subset, Action, SeccompSpec, Syscall};
//!
//! let mut a = SeccompSpec::new(Action::Errno);
//! a.syscalls = vec![Syscall::new(["read", "write"], Action::Allow)];
//! let mut b = a.clone();
//! b.syscalls[0].names.pop();
//! let report = subset(&a, &b);
//! assert!(!report.holds());
//! assert_eq!(report.witnesses[0].syscall, "write");
//! assert!(subset(&b, &a).holds());
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use spo_core::Arch;

use crate::model::{Action, Arg, ArgOp, SeccompSpec, Syscall};

const EPERM: u32 = 1;
/// Most argument vectors tried per syscall before sampling.
const MAX_POINTS: usize = 4096;

/// What the filter does with a call: the action and, for ERRNO/TRACE, the errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Outcome {
    /// The action.
    pub action: Action,
    /// The errno of `SCMP_ACT_ERRNO` (EPERM when unset) or `SCMP_ACT_TRACE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errno: Option<u32>,
}

impl Outcome {
    fn new(action: Action, errno: Option<u32>) -> Self {
        let errno = match action {
            Action::Errno => Some(errno.filter(|e| *e != 0).unwrap_or(EPERM)),
            Action::Trace => errno.filter(|e| *e != 0),
            _ => None,
        };
        Outcome { action, errno }
    }

    /// True when the syscall runs.
    pub fn allows(self) -> bool {
        self.action.is_allowing()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno {
            Some(e) => write!(f, "{}({e})", self.action),
            None => write!(f, "{}", self.action),
        }
    }
}

/// The outcome of `action` with `errnoRet` (EPERM when an ERRNO rule sets none).
pub fn outcome_of(action: Action, errno: Option<u32>) -> Outcome {
    Outcome::new(action, errno)
}

/// One clause: an AND of conditions, and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    conds: Vec<Arg>,
    outcome: Outcome,
}

/// A spec as the filter sees it on one architecture.
#[derive(Debug, Clone)]
struct View {
    default: Outcome,
    rules: BTreeMap<String, Vec<Clause>>,
}

/// The single place this module asks whether a syscall exists on an architecture.
fn syscall_exists(name: &str, arch: Arch) -> bool {
    crate::syscalls::exists(arch, name)
}

fn clauses_of(rule: &Syscall) -> Vec<Vec<Arg>> {
    let mut idx: Vec<u32> = rule.args.iter().map(|a| a.index).collect();
    idx.sort_unstable();
    if idx.windows(2).any(|w| w[0] == w[1]) {
        rule.args.iter().map(|a| vec![*a]).collect()
    } else {
        vec![rule.args.clone()]
    }
}

fn view(spec: &SeccompSpec, arch: Arch) -> View {
    let default = Outcome::new(spec.default_action, spec.default_errno_ret);
    let mut rules: BTreeMap<String, Vec<Clause>> = BTreeMap::new();
    for rule in &spec.syscalls {
        if rule.action == spec.default_action && rule.errno() == spec.default_errno_ret {
            continue; // as compile does
        }
        let outcome = Outcome::new(rule.action, rule.errno());
        for name in &rule.names {
            if !syscall_exists(name, arch) {
                continue;
            }
            let entry = rules.entry(name.clone()).or_default();
            for conds in clauses_of(rule) {
                entry.push(Clause {
                    conds: conds.clone(),
                    outcome,
                });
            }
        }
    }
    View { default, rules }
}

fn holds(c: &Arg, x: &[u64; 6]) -> bool {
    let Some(v) = usize::try_from(c.index).ok().and_then(|i| x.get(i)) else {
        return false;
    };
    let v = *v;
    match c.op {
        ArgOp::NotEqual => v != c.value,
        ArgOp::Less => v < c.value,
        ArgOp::LessOrEqual => v <= c.value,
        ArgOp::Equal => v == c.value,
        ArgOp::GreaterOrEqual => v >= c.value,
        ArgOp::Greater => v > c.value,
        ArgOp::MaskedEqual => v & c.value == c.value_two,
    }
}

impl View {
    /// The possible outcomes of `name(x)`.
    fn eval(&self, name: &str, x: &[u64; 6]) -> Vec<Outcome> {
        let clauses = self.rules.get(name).map(Vec::as_slice).unwrap_or_default();
        let unconditional: Vec<Outcome> = clauses
            .iter()
            .filter(|c| c.conds.is_empty())
            .map(|c| c.outcome)
            .collect();
        // libseccomp: an unconditional rule supersedes the syscall's conditional rules.
        let mut out: Vec<Outcome> = if unconditional.is_empty() {
            clauses
                .iter()
                .filter(|c| c.conds.iter().all(|k| holds(k, x)))
                .map(|c| c.outcome)
                .collect()
        } else {
            unconditional
        };
        if out.is_empty() {
            out.push(self.default);
        }
        out.sort();
        out.dedup();
        out
    }

    fn may_allow(&self, name: &str, x: &[u64; 6]) -> bool {
        self.eval(name, x).iter().any(|o| o.allows())
    }

    fn surely_allows(&self, name: &str, x: &[u64; 6]) -> bool {
        self.eval(name, x).iter().all(|o| o.allows())
    }

    fn allows_anything(&self) -> bool {
        self.default.allows() || self.rules.values().flatten().any(|c| c.outcome.allows())
    }
}

/// The possible outcomes of the call `name(args)` on `arch` under `spec`, in the model above
/// (one outcome unless clauses of different actions overlap).
pub fn outcomes(spec: &SeccompSpec, arch: Arch, name: &str, args: &[u64; 6]) -> Vec<Outcome> {
    view(spec, arch).eval(name, args)
}

/// A call A may allow and B does not surely allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Witness {
    /// The architecture.
    pub arch: Arch,
    /// The syscall; `*` for "every syscall" (an architecture B does not cover), or a syscall
    /// no rule names (then it stands for all of them).
    pub syscall: String,
    /// Argument values of the call, `(index, value)`, for the arguments any condition tests.
    pub args: Vec<(u32, u64)>,
    /// What A may do.
    pub a: Vec<Outcome>,
    /// What B does.
    pub b: Vec<Outcome>,
    /// Set when the syscall is named by neither profile (it stands for every such syscall).
    pub unnamed: bool,
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |o: &[Outcome]| {
            o.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let args = self
            .args
            .iter()
            .map(|(i, v)| format!("arg{i}={v:#x}"))
            .collect::<Vec<_>>()
            .join(", ");
        let what = if self.syscall == "*" {
            "every syscall".to_string()
        } else if self.unnamed {
            format!("{} (and every syscall neither profile names)", self.syscall)
        } else {
            format!("{}({args})", self.syscall)
        };
        write!(
            f,
            "{} {what}: A {}, B {}",
            self.arch,
            list(&self.a),
            if self.b.is_empty() {
                "does not cover the architecture (killed)".to_string()
            } else {
                list(&self.b)
            }
        )
    }
}

/// The answer of [`subset`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubsetReport {
    /// Calls A allows and B does not, at most one per architecture and syscall.
    pub witnesses: Vec<Witness>,
    /// False when a `SCMP_CMP_MASKED_EQ` condition or a sampled argument space made the
    /// search incomplete (a found witness is always real).
    pub exact: bool,
}

impl SubsetReport {
    /// True when everything A allows, B allows.
    pub fn holds(&self) -> bool {
        self.witnesses.is_empty()
    }
}

/// Representative values for argument `index` of the clauses of both views.
fn candidates(clauses: &[&Clause], index: u32, exact: &mut bool) -> Vec<u64> {
    let mut v: BTreeSet<u64> = [0, u64::MAX].into_iter().collect();
    let conds: Vec<&Arg> = clauses
        .iter()
        .flat_map(|c| c.conds.iter())
        .filter(|a| a.index == index)
        .collect();
    let masks: Vec<(u64, u64)> = conds
        .iter()
        .filter(|a| a.op == ArgOp::MaskedEqual)
        .map(|a| (a.value, a.value_two))
        .collect();
    for a in &conds {
        if a.op == ArgOp::MaskedEqual {
            continue;
        }
        for c in [a.value.wrapping_sub(1), a.value, a.value.saturating_add(1)] {
            v.insert(c);
            for (m, val) in &masks {
                v.insert((c & !m) | (val & m));
            }
        }
    }
    if !masks.is_empty() {
        *exact = false;
        let all_bits: u64 = masks.iter().fold(0, |acc, (m, _)| acc | m);
        for (m, val) in &masks {
            let base = val & m;
            v.insert(base);
            v.insert(base | !m);
            for b in 0..64 {
                if all_bits & (1 << b) != 0 {
                    v.insert(base ^ (1 << b));
                }
            }
        }
    }
    v.into_iter().collect()
}

/// Argument vectors covering the conditions of `name` in both views.
fn points(clauses: &[&Clause], exact: &mut bool) -> (Vec<u32>, Vec<[u64; 6]>) {
    let mut indices: Vec<u32> = clauses
        .iter()
        .flat_map(|c| c.conds.iter().map(|a| a.index))
        .filter(|i| *i < 6)
        .collect();
    indices.sort_unstable();
    indices.dedup();
    let per: Vec<Vec<u64>> = indices
        .iter()
        .map(|i| candidates(clauses, *i, exact))
        .collect();
    let total = per
        .iter()
        .try_fold(1usize, |acc, c| acc.checked_mul(c.len()))
        .unwrap_or(usize::MAX);
    let mut out = Vec::new();
    if total <= MAX_POINTS {
        let mut idx = vec![0usize; per.len()];
        loop {
            let mut x = [0u64; 6];
            for (k, i) in indices.iter().enumerate() {
                x[*i as usize] = per[k][idx[k]];
            }
            out.push(x);
            let mut k = 0;
            loop {
                if k == idx.len() {
                    return (indices, out);
                }
                idx[k] += 1;
                if idx[k] < per[k].len() {
                    break;
                }
                idx[k] = 0;
                k += 1;
            }
        }
    }
    // Too many combinations: a deterministic sample.
    *exact = false;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..MAX_POINTS {
        let mut x = [0u64; 6];
        for (k, i) in indices.iter().enumerate() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = per[k].len() as u64;
            x[*i as usize] = per[k][usize::try_from(state % len).unwrap_or(0)];
        }
        out.push(x);
    }
    (indices, out)
}

/// An example syscall on `arch` that neither view names, for "every other syscall".
fn unnamed_example(a: &View, b: &View, arch: Arch) -> Option<String> {
    let t = crate::syscalls::SyscallTable::new(arch);
    (0..crate::syscalls::SyscallTable::MAX_NR).find_map(|nr| {
        let n = t.name(u64::from(nr))?;
        (!a.rules.contains_key(n) && !b.rules.contains_key(n)).then(|| n.to_string())
    })
}

/// Is everything `a` allows also allowed by `b`? Every architecture of `a` is checked;
/// one that `b` does not cover makes every call A allows there a witness (the filter kills
/// calls of architectures it does not list).
pub fn subset(a: &SeccompSpec, b: &SeccompSpec) -> SubsetReport {
    let mut report = SubsetReport {
        witnesses: Vec::new(),
        exact: true,
    };
    let b_arches = b.effective_architectures();
    for arch in a.effective_architectures() {
        let va = view(a, arch);
        if !b_arches.contains(&arch) {
            if va.allows_anything() {
                report.witnesses.push(Witness {
                    arch,
                    syscall: "*".into(),
                    args: Vec::new(),
                    a: vec![Outcome::new(Action::Allow, None)],
                    b: Vec::new(),
                    unnamed: false,
                });
            }
            continue;
        }
        let vb = view(b, arch);
        check_view(&va, &vb, arch, &mut report);
    }
    report
}

fn check_view(va: &View, vb: &View, arch: Arch, report: &mut SubsetReport) {
    let zero = [0u64; 6];
    let names: BTreeSet<&String> = va.rules.keys().chain(vb.rules.keys()).collect();
    for name in names {
        let same = |x: Option<&Vec<Clause>>, y: Option<&Vec<Clause>>| {
            let key = |c: Option<&Vec<Clause>>| {
                let mut v: Vec<(Vec<Arg>, Outcome)> = c
                    .into_iter()
                    .flatten()
                    .map(|c| (c.conds.clone(), c.outcome))
                    .collect();
                v.sort();
                v.dedup();
                v
            };
            key(x) == key(y)
        };
        // The same rules compile to the same code: where one of them matches, A and B agree.
        let same = same(va.rules.get(name), vb.rules.get(name));
        let matched = |x: &[u64; 6]| {
            va.rules
                .get(name)
                .into_iter()
                .flatten()
                .any(|c| c.conds.iter().all(|k| holds(k, x)))
        };
        let clauses: Vec<&Clause> = va
            .rules
            .get(name)
            .into_iter()
            .chain(vb.rules.get(name))
            .flatten()
            .collect();
        let (indices, pts) = points(&clauses, &mut report.exact);
        if let Some(x) = pts
            .iter()
            .find(|x| va.may_allow(name, x) && !vb.surely_allows(name, x) && !(same && matched(x)))
        {
            report.witnesses.push(Witness {
                arch,
                syscall: name.clone(),
                args: indices.iter().map(|i| (*i, x[*i as usize])).collect(),
                a: va.eval(name, x),
                b: vb.eval(name, x),
                unnamed: false,
            });
        }
    }
    if va.default.allows() && !vb.default.allows() {
        if let Some(n) = unnamed_example(va, vb, arch) {
            report.witnesses.push(Witness {
                arch,
                a: va.eval(&n, &zero),
                b: vb.eval(&n, &zero),
                syscall: n,
                args: Vec::new(),
                unnamed: true,
            });
        }
    }
}

fn min_outcome(x: Outcome, y: Outcome) -> Outcome {
    let rank = |o: Outcome| (o.action.permissiveness(), o.action.as_str(), o.errno);
    if rank(y) < rank(x) {
        y
    } else {
        x
    }
}

fn to_rule(name: &str, o: Outcome, args: Vec<Arg>) -> Syscall {
    Syscall {
        names: vec![name.to_string()],
        action: o.action,
        errno_ret: match o.action {
            Action::Errno if o.errno == Some(EPERM) => None,
            _ => o.errno,
        },
        args,
    }
}

/// The AND of two clauses as one rule's conditions, when OCI can express it (at most one
/// condition per argument after removing duplicates and implied conditions).
fn and_conds(x: &[Arg], y: &[Arg]) -> Option<Vec<Arg>> {
    let mut out: Vec<Arg> = Vec::new();
    for c in x.iter().chain(y) {
        match out.iter().position(|o| o.index == c.index) {
            None => out.push(*c),
            Some(i) => {
                let o = out[i];
                if o == *c {
                    continue;
                }
                // EQ v implies every condition v satisfies.
                let probe = |eq: &Arg, other: &Arg| {
                    let mut x = [0u64; 6];
                    x[eq.index as usize] = eq.value;
                    holds(other, &x)
                };
                if o.op == ArgOp::Equal && o.index < 6 && probe(&o, c) {
                    continue;
                }
                if c.op == ArgOp::Equal && c.index < 6 && probe(c, &o) {
                    out[i] = *c;
                    continue;
                }
                return None;
            }
        }
    }
    out.sort();
    Some(out)
}

/// The intersection: a profile that allows a call only when both `a` and `b` allow it, on
/// the architectures both cover. Syscalls whose conditions cannot be intersected exactly in
/// OCI's rule language are denied (listed in the notes), so the result is always within both.
pub fn intersect(a: &SeccompSpec, b: &SeccompSpec) -> (SeccompSpec, Vec<String>) {
    let mut notes = Vec::new();
    let b_arches = b.effective_architectures();
    let arches: Vec<Arch> = a
        .effective_architectures()
        .into_iter()
        .filter(|x| b_arches.contains(x))
        .collect();
    let da = Outcome::new(a.default_action, a.default_errno_ret);
    let db = Outcome::new(b.default_action, b.default_errno_ret);
    let default = min_outcome(da, db);
    let mut out = SeccompSpec::new(default.action);
    out.default_errno_ret = match default.errno {
        Some(EPERM) | None => None,
        e => e,
    };
    if arches.is_empty() {
        notes.push("the profiles share no architecture: the intersection allows nothing".into());
        out.architectures = a.effective_architectures();
        out.default_action = Action::Errno;
        out.default_errno_ret = None;
        return (out, notes);
    }
    out.architectures = arches.clone();
    let deny = if default.allows() {
        Outcome::new(Action::Errno, None)
    } else {
        default
    };
    // Names in either profile, with their spec-level clauses (arch-independent).
    let mut names: BTreeSet<String> = BTreeSet::new();
    for r in a.syscalls.iter().chain(&b.syscalls) {
        names.extend(r.names.iter().cloned());
    }
    let spec_clauses = |s: &SeccompSpec, name: &str| -> Vec<Clause> {
        let mut v = Vec::new();
        for r in &s.syscalls {
            if r.action == s.default_action && r.errno() == s.default_errno_ret {
                continue;
            }
            if r.names.iter().any(|n| n == name) {
                for conds in clauses_of(r) {
                    v.push(Clause {
                        conds,
                        outcome: Outcome::new(r.action, r.errno()),
                    });
                }
            }
        }
        v
    };
    for name in names {
        let ca = spec_clauses(a, &name);
        let cb = spec_clauses(b, &name);
        // An unconditional rule supersedes the conditional ones (see the model).
        let uncond = |cl: &[Clause]| {
            cl.iter()
                .filter(|c| c.conds.is_empty())
                .map(|c| c.outcome)
                .reduce(min_outcome)
        };
        let allowing = |cl: &[Clause]| -> Vec<Clause> {
            cl.iter()
                .filter(|c| c.outcome.allows() && !c.conds.is_empty())
                .cloned()
                .collect()
        };
        let mut rules: Vec<Syscall> = Vec::new();
        match (uncond(&ca), uncond(&cb)) {
            (ua, ub) if ua.is_some() || ub.is_some() => {
                let oa = ua.unwrap_or(da);
                let ob = ub.unwrap_or(db);
                match (ua, ub) {
                    (Some(_), Some(_)) => {
                        let o = min_outcome(oa, ob);
                        if o != default {
                            rules.push(to_rule(&name, o, Vec::new()));
                        }
                    }
                    (Some(o), None) | (None, Some(o)) => {
                        let other = if ua.is_some() { &cb } else { &ca };
                        if o.allows() && other.iter().any(|c| !c.conds.is_empty()) {
                            // Where the other profile's conditions allow; elsewhere the
                            // default, which is at most as permissive as the other's.
                            for y in allowing(other) {
                                rules.push(to_rule(&name, min_outcome(y.outcome, o), y.conds));
                            }
                        } else {
                            let d = if ua.is_some() { db } else { da };
                            let o2 = min_outcome(o, d);
                            if o2 != default {
                                rules.push(to_rule(&name, o2, Vec::new()));
                            }
                        }
                    }
                    (None, None) => {}
                }
            }
            _ => {
                // Both conditional: where an allowing clause of each matches.
                for x in allowing(&ca) {
                    for y in allowing(&cb) {
                        match and_conds(&x.conds, &y.conds) {
                            Some(conds) => {
                                rules.push(to_rule(&name, min_outcome(x.outcome, y.outcome), conds))
                            }
                            None => notes.push(format!(
                                "{name}: conditions {:?} and {:?} cannot be combined in one \
                                 rule; that case is denied",
                                x.conds, y.conds
                            )),
                        }
                    }
                }
            }
        }
        out.syscalls.extend(rules);
    }
    group(&mut out.syscalls);
    // Verify with the checker; deny whatever it cannot prove to be within both.
    for _ in 0..2 {
        let mut bad: BTreeSet<String> = BTreeSet::new();
        for w in subset(&out, a)
            .witnesses
            .iter()
            .chain(&subset(&out, b).witnesses)
        {
            if !w.unnamed && w.syscall != "*" {
                bad.insert(w.syscall.clone());
            }
        }
        if bad.is_empty() {
            break;
        }
        out.syscalls
            .retain(|r| !r.names.iter().any(|n| bad.contains(n)));
        for n in bad {
            notes.push(format!("{n}: cannot be shown to be within both; denied"));
            out.syscalls.push(to_rule(&n, deny, Vec::new()));
        }
    }
    group(&mut out.syscalls);
    (out, notes)
}

/// Rules with the same action, errno and conditions as one rule with all their names.
fn group(rules: &mut Vec<Syscall>) {
    let mut map: BTreeMap<(Action, Option<u32>, Vec<Arg>), BTreeSet<String>> = BTreeMap::new();
    for r in rules.drain(..) {
        map.entry((r.action, r.errno(), r.args))
            .or_default()
            .extend(r.names);
    }
    *rules = map
        .into_iter()
        .map(|((action, errno_ret, args), names)| Syscall {
            names: names.into_iter().collect(),
            action,
            errno_ret,
            args,
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(default: Action, rules: Vec<Syscall>) -> SeccompSpec {
        let mut s = SeccompSpec::new(default);
        s.architectures = vec![Arch::X86_64];
        s.syscalls = rules;
        s
    }

    fn cond(name: &str, action: Action, args: &[(u32, ArgOp, u64)]) -> Syscall {
        let mut r = Syscall::new([name], action);
        r.args = args
            .iter()
            .map(|(i, op, v)| Arg {
                index: *i,
                value: *v,
                value_two: 0,
                op: *op,
            })
            .collect();
        r
    }

    #[test]
    fn conditional_allow_is_within_unconditional_not_the_reverse() {
        let narrow = spec(
            Action::Errno,
            vec![cond("personality", Action::Allow, &[(0, ArgOp::Equal, 8)])],
        );
        let wide = spec(
            Action::Errno,
            vec![Syscall::new(["personality"], Action::Allow)],
        );
        assert!(subset(&narrow, &wide).holds());
        let r = subset(&wide, &narrow);
        assert!(!r.holds());
        assert!(r.exact);
        assert_eq!(r.witnesses[0].syscall, "personality");
        assert_ne!(r.witnesses[0].args, vec![(0, 8)]);
        // Ranges: arg0 < 10 is within arg0 <= 20, not the reverse; the witness is 10..=20.
        let lt = spec(
            Action::Errno,
            vec![cond("read", Action::Allow, &[(0, ArgOp::Less, 10)])],
        );
        let le = spec(
            Action::Errno,
            vec![cond("read", Action::Allow, &[(0, ArgOp::LessOrEqual, 20)])],
        );
        assert!(subset(&lt, &le).holds());
        let w = &subset(&le, &lt).witnesses[0];
        assert!((10..=20).contains(&w.args[0].1), "{w}");
    }

    #[test]
    fn defaults_errno_and_architectures() {
        let a = spec(Action::Allow, vec![Syscall::new(["mount"], Action::Errno)]);
        let b = spec(Action::Errno, vec![Syscall::new(["read"], Action::Allow)]);
        let r = subset(&a, &b);
        assert!(r.witnesses.iter().any(|w| w.unnamed), "{r:?}");
        // ERRNO values do not change what is allowed.
        let mut e1 = Syscall::new(["clone3"], Action::Errno);
        e1.errno_ret = Some(38);
        let x = spec(
            Action::Errno,
            vec![e1, Syscall::new(["read"], Action::Allow)],
        );
        assert!(subset(&x, &b).holds() && subset(&b, &x).holds());
        // LOG allows, KILL does not.
        let log = spec(Action::Errno, vec![Syscall::new(["read"], Action::Log)]);
        assert!(subset(&log, &b).holds());
        let kill = spec(Action::KillProcess, vec![]);
        assert!(subset(&kill, &b).holds());
        // An architecture B does not cover.
        let mut two = b.clone();
        two.architectures.push(Arch::Aarch64);
        let r = subset(&two, &b);
        assert_eq!(r.witnesses[0].syscall, "*");
        assert!(subset(&b, &two).holds());
    }

    #[test]
    fn masked_conditions_are_sampled() {
        let mut masked = Syscall::new(["read"], Action::Allow);
        masked.args = vec![Arg {
            index: 0,
            value: 0xf0,
            value_two: 0x10,
            op: ArgOp::MaskedEqual,
        }];
        let narrow = spec(Action::Errno, vec![masked]);
        let wide = spec(Action::Errno, vec![Syscall::new(["read"], Action::Allow)]);
        let r = subset(&narrow, &wide);
        assert!(r.holds() && !r.exact);
        let r = subset(&wide, &narrow);
        let w = &r.witnesses[0];
        assert_ne!(w.args[0].1 & 0xf0, 0x10, "{w}");
    }

    #[test]
    fn intersection_is_within_both() {
        let a = spec(
            Action::Errno,
            vec![
                Syscall::new(["read", "write", "close"], Action::Allow),
                cond("personality", Action::Allow, &[(0, ArgOp::Equal, 8)]),
            ],
        );
        let b = spec(
            Action::Errno,
            vec![
                Syscall::new(["read", "personality"], Action::Allow),
                cond("write", Action::Allow, &[(0, ArgOp::Equal, 1)]),
            ],
        );
        let (i, notes) = intersect(&a, &b);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(subset(&i, &a).holds() && subset(&i, &b).holds());
        // What both allow is in it.
        let only_read = spec(
            Action::Errno,
            vec![
                Syscall::new(["read"], Action::Allow),
                cond("write", Action::Allow, &[(0, ArgOp::Equal, 1)]),
                cond("personality", Action::Allow, &[(0, ArgOp::Equal, 8)]),
            ],
        );
        assert!(subset(&only_read, &i).holds(), "{i:#?}");
        assert!(subset(&i, &only_read).holds());
    }
}
