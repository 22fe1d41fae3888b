//! `spoc push -f PROFILE [-p PLATFORM]… REF`: validate every profile, push them as one
//! artifact in upstream SPO's layout (CLI-18..CLI-21), and sign the digest when asked.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use spo_core::Kind;
use spo_oci::layout::{self, Layer};
use spo_oci::{Platform, Registry};

use crate::cmd::oci::{self, PushArgs};
use crate::input::{self, Item};
use crate::kinds;
use crate::Outcome;

/// Checks one pushed file: exactly one profile (SeccompProfile, SelinuxProfile,
/// RawSelinuxProfile, AppArmorProfile or raw seccomp JSON), valid.
fn validate_file(path: &Path, text: &str) -> Result<Vec<String>> {
    let items = input::load_text(text, path)?;
    let [item] = items.as_slice() else {
        bail!(
            "{}: holds {} documents; push one profile per file",
            path.display(),
            items.len()
        );
    };
    let kind = item.kind();
    if !layout::PULLABLE.contains(&kind) && !layout::RAW_KINDS.contains(&kind) {
        bail!(
            "{}: {kind} cannot be pushed; expected SeccompProfile, SelinuxProfile, \
             RawSelinuxProfile, AppArmorProfile or raw seccomp JSON",
            path.display()
        );
    }
    let violations = match kind {
        Kind::SeccompProfile => {
            kinds::seccomp::validate(
                item,
                path,
                &kinds::seccomp::ValidateOpts {
                    profiles_dir: &[],
                    allowed_syscalls: &[],
                    allowed_actions: &[],
                },
            )?
            .0
        }
        Kind::SelinuxProfile | Kind::RawSelinuxProfile => {
            let Item::Manifest(doc) = item else {
                bail!("expected a manifest")
            };
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => ".".into(),
            };
            kinds::selinux::validate_in(doc, None, &[dir])?
        }
        _ => kinds::apparmor::validate(kinds::apparmor::document(item)?)?,
    };
    Ok(violations
        .into_vec()
        .into_iter()
        .map(|v| format!("{}: {}: {}", path.display(), v.path, v.reason))
        .collect())
}

/// Reads the key file and `COSIGN_PASSWORD` and starts decrypting the key on a thread.
fn start_key_decryption(
    path: &Path,
) -> Result<tokio::sync::oneshot::Receiver<Result<spo_oci::sign::SigningKey>>> {
    let text = input::read_text(path)?;
    let password = oci::cosign_password()?;
    let path = path.to_path_buf();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("cosign-key".into())
        .spawn(move || {
            let key = spo_oci::sign::decrypt_private_key(&text, password.as_bytes())
                .with_context(|| path.display().to_string());
            let _ = tx.send(key);
        })
        .context("cannot start the key decryption thread")?;
    Ok(rx)
}

/// Runs `spoc push`.
pub fn run(args: &PushArgs) -> Result<Outcome> {
    let r = oci::reference(&args.image)?;
    let platforms = args
        .platforms
        .iter()
        .map(|p| Platform::parse(p).map_err(oci::usage))
        .collect::<Result<Vec<_>>>()?;
    let pairs = layout::pair(&args.profiles, &platforms).map_err(oci::usage)?;
    let annotations = layout::parse_annotations(&args.annotations).map_err(oci::usage)?;
    // `oci://` bases named by pushed profiles are checked against the same registry
    // settings; their signatures are the consumer's to verify.
    oci::configure_bases(&oci::OciBaseArgs {
        plain_http: args.registry.plain_http,
        ca_file: args.registry.ca_file.clone(),
        verify_key: None,
        disable_signature_verification: true,
        fulcio_root: None,
        allowed_identity_regexp: ".*".into(),
        allowed_oidc_issuer_regexp: ".*".into(),
        rekor_public_key: Vec::new(),
        ct_log_public_key: Vec::new(),
        require_rekor_inclusion_proof: false,
    });
    // cosign's scrypt key decryption (N=2^15: 32 MiB, ~55 ms of CPU) depends on nothing
    // else, so it starts first, on its own thread, and runs beside validation and the blob
    // uploads. Its errors (no key file, no COSIGN_PASSWORD, wrong password) are reported
    // after validation, and it must succeed before the manifest is pushed, so a wrong
    // password still tags nothing.
    let opening = args.sign_key.as_deref().map(start_key_decryption);
    // Everything local is checked before anything leaves the machine.
    let mut layers = Vec::with_capacity(pairs.len());
    let mut invalid = Vec::new();
    for (platform, path) in &pairs {
        let text = input::read_text(path)?;
        match validate_file(path, &text) {
            Ok(v) => invalid.extend(v),
            Err(e) => invalid.push(format!("{}: {e:#}", path.display())),
        }
        layers.push(Layer {
            platform: platform.clone(),
            data: text.into_bytes(),
        });
    }
    if !invalid.is_empty() {
        for line in &invalid {
            eprintln!("{line}");
        }
        eprintln!("spoc: nothing pushed: {} problem(s)", invalid.len());
        return Ok(Outcome::Code(1));
    }
    let opening = opening.transpose()?;
    let created = layout::rfc3339_utc(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    let manifest = layout::manifest(&layers, &annotations, &created).map_err(oci::usage)?;
    let raw = serde_json::to_vec(&manifest)?;
    let opts = oci::options(
        &args.registry,
        Some(&r),
        spo_oci::registry::DEFAULT_MAX_LAYER,
    )?;
    let registry = Registry::new(opts)?;
    let rt = oci::runtime()?;
    // One overall timeout for blobs, manifest and signature.
    // The manifest digest is known before anything is sent, so the signature's payload and
    // config (they depend only on digests) upload beside the artifact's blobs while the key
    // decrypts; after the manifest only the signature manifest is left.
    let digest = layout::sha256_digest(&raw);
    let digest = rt.block_on(registry.with_timeout("push", &r, async {
        let mut blobs: Vec<&[u8]> = vec![layout::EMPTY_CONFIG];
        blobs.extend(layers.iter().map(|l| l.data.as_slice()));
        let artifact_blobs = async {
            registry
                .push_blobs(&r, &blobs)
                .await
                .with_context(|| format!("cannot push {}", r.whole()))
        };
        let signing = opening.is_some();
        let signature_blobs = async {
            if signing {
                registry
                    .prepare_signature(&r, &digest)
                    .await
                    .map(Some)
                    .with_context(|| format!("cannot prepare the signature of {}", r.whole()))
            } else {
                Ok(None)
            }
        };
        let ((), prepared) = tokio::try_join!(artifact_blobs, signature_blobs)?;
        let key = match opening {
            Some(rx) => Some(rx.await.context("the key decryption thread failed")??),
            None => None,
        };
        let pushed = registry
            .push_manifest(&r, &raw, layout::MANIFEST_MEDIA_TYPE)
            .await
            .with_context(|| format!("cannot push {}", r.whole()))?;
        debug_assert_eq!(pushed, digest);
        for (platform, path) in &pairs {
            eprintln!(
                "Added {} for {platform} as {}",
                path.display(),
                platform.title()
            );
        }
        match (key, prepared) {
            (Some(key), Some(prepared)) => {
                registry
                    .finish_signature(prepared, &key)
                    .await
                    .with_context(|| format!("pushed {}@{digest} but cannot sign it", r.whole()))?;
                eprintln!("Signed {digest}");
            }
            _ => eprintln!("Not signed (pass --sign-key cosign.key to sign)"),
        }
        Ok::<_, anyhow::Error>(pushed)
    }))?;
    println!("{}@{digest}", spo_oci::registry::repository_of(&r));
    Ok(Outcome::Ok)
}
