//! Measures `oci://` base resolution: pushes a signed chain of 15 SeccompProfiles to the
//! registry at `ADDR` (plain HTTP), then resolves it cold (15 pulls, each verified) and again
//! from the resolver's cache. Usage: `cargo run --release -p spo-oci --example oci_chain ADDR`.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use spo_oci::layout::Layer;
use spo_oci::resolver::OciResolver;
use spo_oci::{Platform, Registry, RegistryOptions, Verification};
use spo_seccomp::merge::UnionMode;
use spo_seccomp::resolve::resolve_async;

const N: usize = 15;

fn profile(i: usize, addr: &str) -> String {
    let base = if i + 1 < N {
        format!("  baseProfileName: oci://{addr}/chain/p{}:v1\n", i + 1)
    } else {
        String::new()
    };
    format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n\
         metadata:\n  name: p{i}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n{base}  syscalls:\n  \
         - action: SCMP_ACT_ALLOW\n    names: [s{i}]\n"
    )
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .expect("usage: oci_chain 127.0.0.1:PORT");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let opts = RegistryOptions::default().with_plain_http(true);
    let registry = Registry::new(opts).unwrap();
    let key = spo_oci::sign::generate_key().unwrap();
    rt.block_on(async {
        for i in 0..N {
            let r = spo_oci::registry::parse_reference(&format!("{addr}/chain/p{i}:v1")).unwrap();
            let layers = [Layer {
                platform: Platform::host(),
                data: profile(i, &addr).into_bytes(),
            }];
            let d = registry
                .push_artifact(&r, &layers, &[], "2024-01-01T00:00:00Z")
                .await
                .unwrap();
            registry.sign_digest(&r, &d, &key).await.unwrap();
        }
    });
    let resolver = OciResolver::new(registry, Verification::Key(*key.verifying_key()));
    let head = format!("oci://{addr}/chain/p0:v1");
    for round in ["cold", "cached", "cached"] {
        let t = Instant::now();
        let resolved = rt.block_on(async {
            let p0 = resolver.pull(&head).await.unwrap();
            resolve_async(&p0, &resolver, UnionMode::V1).await.unwrap()
        });
        let el = t.elapsed();
        assert_eq!(resolved.spec.syscalls.len(), N);
        println!(
            "{round}: chain of {N} oci:// profiles resolved in {:.3} ms ({} cached)",
            el.as_secs_f64() * 1e3,
            resolver.cached()
        );
    }
}
