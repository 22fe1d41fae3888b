//! Base-profile resolution (SC-16, SC-21..SC-23, SC-26).
//!
//! The chain walk is a small state machine, [`Resolution`], that never fetches anything
//! itself: it says which base it needs next and is handed the result. [`resolve`] drives it
//! with a blocking [`BaseProfileResolver`] (files, an in-memory map, a blocking registry
//! client); [`resolve_async`] drives it with an [`AsyncBaseProfileResolver`] (the operator's
//! API client, an async OCI client). Both give the same result and the same errors.

use std::collections::HashMap;
use std::future::Future;

use crate::merge::{union, UnionMode};
use crate::model::{SeccompProfile, Syscall};

/// Most profiles a chain may hold, the profile itself included (SC-21: 14 ancestors).
pub const MAX_CHAIN: usize = 15;

pub use crate::error::BoxError;

pub use crate::error::ResolveError;

/// Looks up a base profile by `baseProfileName` (a name or `oci://` reference), blocking.
pub trait BaseProfileResolver {
    /// `Ok(None)` when no such profile exists.
    fn fetch(&self, name: &str) -> Result<Option<SeccompProfile>, BoxError>;
}

/// Looks up a base profile asynchronously.
pub trait AsyncBaseProfileResolver {
    /// `Ok(None)` when no such profile exists.
    fn fetch(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<SeccompProfile>, BoxError>> + Send;
}

/// Profiles by name, e.g. all SeccompProfiles of a directory or of a cluster listing.
impl BaseProfileResolver for HashMap<String, SeccompProfile> {
    fn fetch(&self, name: &str) -> Result<Option<SeccompProfile>, BoxError> {
        Ok(self.get(name).cloned())
    }
}

/// The chain walk as a state machine (sans I/O).
#[derive(Debug, Clone)]
pub struct Resolution {
    chain: Vec<String>,
    working: Vec<Syscall>,
    next: Option<String>,
    mode: UnionMode,
}

impl Resolution {
    /// Starts at `profile`.
    pub fn start(profile: &SeccompProfile, mode: UnionMode) -> Self {
        Resolution {
            chain: vec![profile.metadata.name.clone()],
            working: profile.spec.syscalls.clone(),
            next: base_of(profile),
            mode,
        }
    }

    fn chain_with(&self, extra: &str) -> String {
        let mut parts: Vec<&str> = self.chain.iter().map(String::as_str).collect();
        parts.push(extra);
        parts.join(" → ")
    }

    /// The base that must be fetched next, after checking it closes no cycle and stays
    /// within [`MAX_CHAIN`]; `Ok(None)` when the chain is complete.
    pub fn next_base(&self) -> Result<Option<&str>, ResolveError> {
        let Some(next) = self.next.as_deref() else {
            return Ok(None);
        };
        if self.chain.iter().any(|n| n == next) {
            return Err(ResolveError::Cycle {
                chain: self.chain_with(next),
            });
        }
        if self.chain.len() >= MAX_CHAIN {
            return Err(ResolveError::TooDeep {
                chain: self.chain_with(next),
            });
        }
        Ok(Some(next))
    }

    /// Hands over the result of fetching [`Resolution::next_base`].
    pub fn provide(
        &mut self,
        fetched: Result<Option<SeccompProfile>, BoxError>,
    ) -> Result<(), ResolveError> {
        let Some(name) = self.next.take() else {
            return Ok(());
        };
        let chain = self.chain_with(&name);
        let base = match fetched {
            Ok(Some(b)) => b,
            Ok(None) => return Err(ResolveError::NotFound { name, chain }),
            Err(source) => {
                return Err(ResolveError::Fetch {
                    name,
                    chain,
                    source,
                })
            }
        };
        // SC-23: only syscalls are taken from the base; base first, derived second.
        self.working = union(&base.spec.syscalls, &self.working, self.mode);
        self.next = base_of(&base);
        self.chain.push(name);
        Ok(())
    }

    /// The names walked, the profile first.
    pub fn chain(&self) -> &[String] {
        &self.chain
    }

    /// The resolved profile: `profile` with the merged syscalls. All other fields
    /// (`defaultAction`, `architectures`, `flags`, listener fields, `baseProfileName`) stay
    /// the derived profile's own (SC-23).
    pub fn finish(self, profile: &SeccompProfile) -> SeccompProfile {
        let mut out = profile.clone();
        out.spec.syscalls = self.working;
        out
    }
}

fn base_of(p: &SeccompProfile) -> Option<String> {
    p.spec
        .base_profile_name
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
}

/// Resolves the base-profile chain of `profile` with a blocking resolver.
pub fn resolve(
    profile: &SeccompProfile,
    resolver: &impl BaseProfileResolver,
    mode: UnionMode,
) -> Result<SeccompProfile, ResolveError> {
    let mut r = Resolution::start(profile, mode);
    while let Some(name) = r.next_base()? {
        let fetched = resolver.fetch(name);
        r.provide(fetched)?;
    }
    Ok(r.finish(profile))
}

/// Resolves the base-profile chain of `profile` with an async resolver.
pub async fn resolve_async(
    profile: &SeccompProfile,
    resolver: &impl AsyncBaseProfileResolver,
    mode: UnionMode,
) -> Result<SeccompProfile, ResolveError> {
    let mut r = Resolution::start(profile, mode);
    while let Some(name) = r.next_base()? {
        let name = name.to_owned();
        let fetched = resolver.fetch(&name).await;
        r.provide(fetched)?;
    }
    Ok(r.finish(profile))
}

/// The value of the `syscalls` annotation (SC-26): compact JSON of the resolved rules,
/// `null` when there are none.
pub fn syscalls_annotation(resolved: &SeccompProfile) -> String {
    if resolved.spec.syscalls.is_empty() {
        return "null".into();
    }
    serde_json::to_string(&resolved.spec.syscalls).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, SeccompSpec};
    use spo_core::{Arch, ObjectMeta};

    fn profile(name: &str, base: Option<&str>, syscalls: &[&str]) -> SeccompProfile {
        let mut spec = SeccompSpec::new(Action::Errno);
        spec.base_profile_name = base.map(Into::into);
        if !syscalls.is_empty() {
            spec.syscalls = vec![Syscall::new(syscalls.iter().copied(), Action::Allow)];
        }
        SeccompProfile::new(ObjectMeta::named(name), spec)
    }

    fn chain_of(n: usize) -> HashMap<String, SeccompProfile> {
        // p0 → p1 → … → p{n-1}; each allows its own syscall "s<i>".
        (0..n)
            .map(|i| {
                let base = (i + 1 < n).then(|| format!("p{}", i + 1));
                let s = format!("s{i}");
                (
                    format!("p{i}"),
                    profile(&format!("p{i}"), base.as_deref(), &[s.as_str()]),
                )
            })
            .collect()
    }

    // covers: SC-21
    #[test]
    fn sc_21_fourteen_ancestors_resolve_the_fifteenth_fails() {
        let map = chain_of(15);
        let resolved = resolve(&map["p0"], &map, UnionMode::V1).unwrap();
        assert_eq!(resolved.spec.syscalls.len(), 15);
        let map = chain_of(16);
        let err = resolve(&map["p0"], &map, UnionMode::V1).unwrap_err();
        assert!(
            err.to_string().starts_with("max recursion level of 15"),
            "{err}"
        );
        assert!(err.to_string().ends_with("p14 → p15)"), "{err}");
    }

    // covers: SC-22
    #[test]
    fn sc_22_cycles_are_detected_and_named() {
        let mut map = HashMap::new();
        map.insert("a".to_string(), profile("a", Some("b"), &["read"]));
        map.insert("b".to_string(), profile("b", Some("a"), &["write"]));
        let err = resolve(&map["a"], &map, UnionMode::V1).unwrap_err();
        assert_eq!(err.to_string(), "base profile cycle: a → b → a");
        let selfref = profile("c", Some("c"), &[]);
        assert!(matches!(
            resolve(&selfref, &map, UnionMode::V1),
            Err(ResolveError::Cycle { .. })
        ));
    }

    // covers: SC-16
    #[test]
    fn sc_16_missing_base_is_not_found_with_chain() {
        let map = HashMap::new();
        let err = resolve(&profile("a", Some("nope"), &[]), &map, UnionMode::V1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "base profile \"nope\" not found (chain: a → nope)"
        );
    }

    // covers: SC-23, SC-26
    #[test]
    fn sc_23_only_syscalls_come_from_the_base() {
        let mut base = profile("base", None, &["read"]);
        base.spec.default_action = Action::Allow;
        base.spec.architectures = vec![Arch::Aarch64];
        let mut map = HashMap::new();
        map.insert("base".to_string(), base);
        let mut derived = profile("d", Some("base"), &["write"]);
        derived.spec.architectures = vec![Arch::X86_64];
        let r = resolve(&derived, &map, UnionMode::V1).unwrap();
        assert_eq!(r.spec.default_action, Action::Errno);
        assert_eq!(r.spec.architectures, vec![Arch::X86_64]);
        assert_eq!(r.spec.base_profile_name.as_deref(), Some("base"));
        assert_eq!(
            syscalls_annotation(&r),
            r#"[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["write"],"action":"SCMP_ACT_ALLOW"}]"#
        );
        assert_eq!(syscalls_annotation(&profile("e", None, &[])), "null");
    }

    struct AsyncMap(HashMap<String, SeccompProfile>);
    impl AsyncBaseProfileResolver for AsyncMap {
        fn fetch(
            &self,
            name: &str,
        ) -> impl Future<Output = Result<Option<SeccompProfile>, BoxError>> + Send {
            let found = self.0.get(name).cloned();
            async move { Ok(found) }
        }
    }

    #[test]
    fn async_and_blocking_resolution_agree() {
        let map = chain_of(5);
        let blocking = resolve(&map["p0"], &map, UnionMode::V1).unwrap();
        let am = AsyncMap(map.clone());
        let fut = resolve_async(&map["p0"], &am, UnionMode::V1);
        // A future with no I/O completes on its first poll.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(fut);
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => assert_eq!(r.unwrap(), blocking),
            std::task::Poll::Pending => panic!("pending"),
        }
    }
}
