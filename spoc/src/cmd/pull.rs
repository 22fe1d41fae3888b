//! `spoc pull REF [-o FILE]`: pin the digest, verify the signature, pick the platform file,
//! check the kind, and write the raw bytes atomically (CLI-23..CLI-26).

use anyhow::{Context, Result};
use spo_oci::{layout, LayoutError, Platform, Registry};

use crate::cmd::oci::{self, PullArgs};
use crate::Outcome;

/// Runs `spoc pull`.
pub fn run(args: &PullArgs) -> Result<Outcome> {
    let r = oci::reference(&args.image)?;
    if args.output_file.as_os_str().is_empty() {
        return Err(oci::usage("no filename provided"));
    }
    let platform = Platform::parse(&args.platform).map_err(oci::usage)?;
    let verification = oci::verification(
        args.verify.disable_signature_verification,
        args.verify.verify_key.as_deref(),
        &oci::KeylessFlags {
            fulcio_root: args.fulcio_root.as_deref(),
            identity: &args.allowed_identity_regexp,
            issuer: &args.allowed_oidc_issuer_regexp,
            rekor_keys: &args.rekor_public_key,
            ct_keys: &args.ct_log_public_key,
            require_inclusion_proof: args.require_rekor_inclusion_proof,
        },
    )?;
    if args.verify.verify_key.is_some()
        && (args.allowed_identity_regexp != ".*" || args.allowed_oidc_issuer_regexp != ".*")
    {
        tracing::warn!("identity/issuer regexps apply to keyless signatures; a key was given");
    }
    let opts = oci::options(&args.registry, Some(&r), args.max_layer_size)?;
    let registry = Registry::new(opts)?;
    let rt = oci::runtime()?;
    // CLI-26: only the three structured kinds unless raw forms are asked for.
    let mut accepted = layout::PULLABLE.to_vec();
    if args.allow_raw_kinds {
        accepted.extend_from_slice(layout::RAW_KINDS);
    }
    let pulled = rt
        .block_on(registry.pull_content(
            &r,
            &platform,
            &accepted,
            args.allow_raw_kinds,
            &verification,
        ))
        .map_err(|e| {
            let hint = matches!(e, spo_oci::OciError::Layout(LayoutError::WrongKind { .. }))
                && !args.allow_raw_kinds;
            let e = anyhow::Error::new(e);
            if hint {
                e.context("RawSelinuxProfile and raw seccomp JSON need --allow-raw-kinds")
            } else {
                e
            }
        })
        .with_context(|| format!("cannot pull {}", r.whole()))?;
    eprintln!("Pulled {} ({})", pulled.pinned.whole(), pulled.title);
    if pulled.name.is_empty() && layout::is_raw_seccomp_json(&pulled.data) {
        eprintln!("Got raw seccomp JSON");
    } else {
        eprintln!("Got {}: {}", pulled.kind, pulled.name);
    }
    eprintln!("Saving profile in: {}", args.output_file.display());
    crate::output::write_atomic(&args.output_file, &pulled.data, 0o644)?;
    Ok(Outcome::Ok)
}
