//! The `oci://` resolver against a real `docker-registry`: chains resolve through pulls, and
//! the cache answers once the registry is gone (SC-17, SC-18, SC-20).
#![allow(clippy::unwrap_used)]

#[path = "../../spoc/tests/oci_support/mod.rs"]
mod oci_support;

use oci_support::{Mode, Registry as TestRegistry};
use spo_oci::layout::Layer;
use spo_oci::resolver::OciResolver;
use spo_oci::{Platform, Registry, RegistryOptions, Verification};
use spo_seccomp::merge::UnionMode;
use spo_seccomp::resolve::{resolve_async, AsyncBaseProfileResolver};

fn profile(name: &str, syscall: &str, base: Option<String>) -> String {
    let base = base
        .map(|b| format!("  baseProfileName: {b}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n\
         metadata:\n  name: {name}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n{base}  syscalls:\n  \
         - action: SCMP_ACT_ALLOW\n    names: [{syscall}]\n"
    )
}

// covers: SC-17, SC-18, SC-20
#[test]
fn chain_resolves_and_is_served_from_the_cache_after_the_registry_is_gone() {
    let reg = TestRegistry::start(Mode::Plain);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let registry = Registry::new(
        RegistryOptions::default()
            .with_plain_http(true)
            .with_retries(0),
    )
    .unwrap();
    let key = spo_oci::sign::generate_key().unwrap();
    let names = ["a", "b", "c"];
    rt.block_on(async {
        for (i, n) in names.iter().enumerate() {
            let base = names
                .get(i + 1)
                .map(|b| format!("oci://{}/chain/{b}:v1", reg.addr));
            let r =
                spo_oci::registry::parse_reference(&format!("{}/chain/{n}:v1", reg.addr)).unwrap();
            let layers = [Layer {
                platform: Platform::host(),
                data: profile(n, &format!("s_{n}"), base).into_bytes(),
            }];
            let d = registry
                .push_artifact(&r, &layers, &[], "2024-01-01T00:00:00Z")
                .await
                .unwrap();
            registry.sign_digest(&r, &d, &key).await.unwrap();
        }
    });
    let resolver = OciResolver::new(registry.clone(), Verification::Key(*key.verifying_key()));
    let head = format!("oci://{}/chain/a:v1", reg.addr);
    let resolve = || {
        rt.block_on(async {
            let a = resolver.pull(&head).await?;
            Ok::<_, spo_seccomp::resolve::BoxError>(
                resolve_async(&a, &resolver, UnionMode::V1).await?,
            )
        })
    };
    let first = resolve().unwrap();
    let names_of = |p: &spo_seccomp::SeccompProfile| {
        p.spec
            .syscalls
            .iter()
            .flat_map(|s| s.names.iter().cloned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names_of(&first), ["s_a", "s_b", "s_c"]);
    assert_eq!(resolver.cached(), 3);
    // Non-oci names are not this resolver's: they resolve to nothing.
    assert!(rt.block_on(resolver.fetch("local-name")).unwrap().is_none());
    let addr = reg.addr.clone();
    drop(reg); // the registry process is stopped
    let second = resolve().unwrap();
    assert_eq!(names_of(&second), names_of(&first), "served from the cache");
    let uncached = rt.block_on(resolver.pull(&format!("oci://{addr}/chain/z:v1")));
    assert!(uncached.is_err(), "the registry is really gone");
    // Another key: verification fails (SC-18) for a fresh resolver.
    let other = spo_oci::sign::generate_key().unwrap();
    let strict = OciResolver::new(registry, Verification::Key(*other.verifying_key()));
    assert!(rt.block_on(strict.pull(&head)).is_err());
}
