//! `spoc sign REF --key cosign.key` and `spoc verify REF --key cosign.pub`, for artifacts
//! pushed by any tool (cosign's `sha256-<digest>.sig` layout).

use anyhow::{Context, Result};
use spo_oci::{Registry, Verification};

use crate::cmd::oci::{self, SignArgs, VerifyArgs};
use crate::Outcome;

/// Runs `spoc sign`.
pub fn run_sign(args: &SignArgs) -> Result<Outcome> {
    let r = oci::reference(&args.image)?;
    let key = oci::signing_key(&args.key)?;
    let registry = Registry::new(oci::options(
        &args.registry,
        Some(&r),
        spo_oci::registry::DEFAULT_MAX_LAYER,
    )?)?;
    let rt = oci::runtime()?;
    let digest = rt
        .block_on(registry.with_timeout("sign", &r, async {
            let d = registry.resolve(&r).await?;
            registry.sign_digest(&r, &d, &key).await?;
            Ok::<_, spo_oci::OciError>(d)
        }))
        .with_context(|| format!("cannot sign {}", r.whole()))?;
    eprintln!("Signed {digest}");
    Ok(Outcome::Ok)
}

/// Runs `spoc verify`.
pub fn run_verify(args: &VerifyArgs) -> Result<Outcome> {
    let r = oci::reference(&args.image)?;
    let none = oci::KeylessFlags {
        fulcio_root: None,
        identity: ".*",
        issuer: ".*",
        rekor_keys: &[],
        ct_keys: &[],
        require_inclusion_proof: false,
    };
    let Verification::Key(key) = oci::verification(false, Some(&args.key), &none)? else {
        return Err(oci::usage("--key is required"));
    };
    let registry = Registry::new(oci::options(
        &args.registry,
        Some(&r),
        spo_oci::registry::DEFAULT_MAX_LAYER,
    )?)?;
    let rt = oci::runtime()?;
    let digest = rt
        .block_on(registry.with_timeout("verify", &r, async {
            let d = registry.resolve(&r).await?;
            let pinned = r.clone_with_digest(d.clone());
            registry
                .check_signature(&pinned, &d, &Verification::Key(key))
                .await?;
            Ok::<_, spo_oci::OciError>(d)
        }))
        .with_context(|| format!("cannot verify {}", r.whole()))?;
    println!("Verified {}@{digest}", spo_oci::registry::repository_of(&r));
    Ok(Outcome::Ok)
}
