//! The operations of `spoc push` / `pull` / `sign` / `verify` on top of [`Registry`]:
//! pull with digest pinning, signature verification, platform pick and kind check; signing
//! a pushed digest.

use oci_client::Reference;
use p256::ecdsa::{SigningKey, VerifyingKey};
use spo_core::Kind;

use crate::layout::{self, LayoutError};
use crate::platform::Platform;
use crate::registry::{repository_of, Registry, RegistryError};
use crate::sign::{self, SignError, SignatureLayer};
use crate::OciError;

/// Largest signature payload read.
const MAX_PAYLOAD: u64 = 64 * 1024;

/// How pulled artifacts are verified (CLI-23, SC-18).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Verification {
    /// Not at all (`--disable-signature-verification`).
    Disabled,
    /// A cosign signature by this key must exist.
    Key(VerifyingKey),
    /// A keyless (Fulcio) signature whose certificate chains to a trusted root and whose
    /// identity and issuer match.
    Keyless(crate::keyless::KeylessPolicy),
}

/// A pulled profile.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// `repo@digest` everything was read from.
    pub pinned: Reference,
    /// The manifest digest.
    pub digest: String,
    /// The layer title read.
    pub title: String,
    /// Its kind.
    pub kind: Kind,
    /// Its `metadata.name`.
    pub name: String,
    /// The raw bytes.
    pub data: Vec<u8>,
}

impl Registry {
    /// Pulls the profile for `platform` from `r`: tag → digest first, then only the digest
    /// (CLI-24); signature check (CLI-23); platform file with fallback (CLI-25); kind check
    /// (CLI-26).
    pub async fn pull_profile(
        &self,
        r: &Reference,
        platform: &Platform,
        accepted: &[Kind],
        verification: &Verification,
    ) -> Result<Pulled, OciError> {
        self.pull_content(r, platform, accepted, false, verification)
            .await
    }

    /// [`Registry::pull_profile`], also accepting raw seccomp JSON when `raw_seccomp_json`
    /// is set (see [`layout::check_content`]; such a profile has an empty `name`).
    pub async fn pull_content(
        &self,
        r: &Reference,
        platform: &Platform,
        accepted: &[Kind],
        raw_seccomp_json: bool,
        verification: &Verification,
    ) -> Result<Pulled, OciError> {
        self.with_timeout("pull", r, async {
            let (pinned, m) = self.artifact_manifest(r).await?;
            let digest = pinned.digest().unwrap_or_default().to_owned();
            self.check_signature(&pinned, &digest, verification).await?;
            let d = layout::pick(&m, platform)?.clone();
            let title = layout::title_of(&d).unwrap_or_default().to_owned();
            let data = self.blob(&pinned, &d, self.options().max_layer).await?;
            let (kind, name) = layout::check_content(&data, &title, accepted, raw_seccomp_json)?;
            Ok(Pulled {
                pinned,
                digest,
                title,
                kind,
                name,
                data,
            })
        })
        .await
    }

    /// Verifies the cosign signature of `digest` in `pinned`'s repository.
    pub async fn check_signature(
        &self,
        pinned: &Reference,
        digest: &str,
        verification: &Verification,
    ) -> Result<(), OciError> {
        if let Verification::Disabled = verification {
            tracing::warn!("signature verification disabled");
            return Ok(());
        }
        let layers = self.signatures(pinned, digest).await?;
        if layers.is_empty() {
            return Err(SignError::Verify {
                digest: digest.into(),
                reason: format!(
                    "the artifact is not signed (no {})",
                    sign::signature_tag(digest)
                ),
            }
            .into());
        }
        let mut last = None;
        for l in &layers {
            let result = match verification {
                Verification::Disabled => Ok(()),
                Verification::Key(key) => sign::verify(key, &l.payload, &l.signature, digest),
                Verification::Keyless(policy) => match &l.certificate {
                    None => Err(SignError::Verify {
                        digest: digest.into(),
                        reason: "the signature has no certificate (key-based signature: pass \
                                 --verify-key)"
                            .into(),
                    }),
                    Some(cert) => crate::keyless::verify(
                        policy,
                        &l.payload,
                        &l.signature,
                        cert,
                        l.chain.as_deref(),
                        l.bundle.as_deref(),
                        digest,
                        std::time::SystemTime::now(),
                    )
                    .map(|id| tracing::info!(identity = %id, "keyless signature verified")),
                },
            };
            match result {
                Ok(()) => {
                    tracing::info!(%digest, "signature verified");
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last
            .unwrap_or_else(|| SignError::Verify {
                digest: digest.into(),
                reason: "no signature".into(),
            })
            .into())
    }

    /// The signature layers stored for `digest` (empty when there is no signature tag).
    pub async fn signatures(
        &self,
        pinned: &Reference,
        digest: &str,
    ) -> Result<Vec<SignatureLayer>, OciError> {
        let sig_ref = Reference::with_tag(
            pinned.registry().to_owned(),
            pinned.repository().to_owned(),
            sign::signature_tag(digest),
        );
        // One GET by tag: oci-client's digest lookup (HEAD) falls back to a GET when the
        // tag is missing, and a resolved tag would be read again by digest.
        let (raw, sig_digest) = match self.manifest_by_tag(&sig_ref).await {
            Ok(v) => v,
            Err(RegistryError::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let sig_pinned = sig_ref.clone_with_digest(sig_digest);
        let m: oci_spec::image::ImageManifest = serde_json::from_slice(&raw).map_err(|e| {
            LayoutError::NotAnArtifact(format!("signature manifest does not parse: {e}"))
        })?;
        let mut out = Vec::new();
        for l in m.layers() {
            if l.media_type().to_string() != sign::SIMPLESIGNING_MEDIA_TYPE {
                continue;
            }
            let Some(sig) = l
                .annotations()
                .as_ref()
                .and_then(|a| a.get(sign::SIGNATURE_ANNOTATION))
            else {
                continue;
            };
            let payload = self.blob(&sig_pinned, l, MAX_PAYLOAD).await?;
            let ann = l.annotations().as_ref();
            out.push(SignatureLayer {
                payload,
                signature: sig.clone(),
                certificate: ann
                    .and_then(|a| a.get(sign::CERTIFICATE_ANNOTATION))
                    .cloned(),
                chain: ann
                    .and_then(|a| a.get(crate::keyless::CHAIN_ANNOTATION))
                    .cloned(),
                bundle: ann
                    .and_then(|a| a.get(crate::keyless::BUNDLE_ANNOTATION))
                    .cloned(),
            });
        }
        Ok(out)
    }

    /// Signs `digest` (in `r`'s repository) with `key`, adding to any signatures already
    /// there, as cosign does.
    pub async fn sign_digest(
        &self,
        r: &Reference,
        digest: &str,
        key: &SigningKey,
    ) -> Result<(), OciError> {
        let prepared = self.prepare_signature(r, digest).await?;
        self.finish_signature(prepared, key).await
    }

    /// The part of signing `digest` that needs no key: reads the signatures already stored
    /// for it and uploads the new SimpleSigning payload and the signature config (both
    /// depend only on digests), so this can run while a key is being decrypted.
    pub async fn prepare_signature(
        &self,
        r: &Reference,
        digest: &str,
    ) -> Result<PreparedSignature, OciError> {
        let pinned = r.clone_with_digest(digest.to_owned());
        let payload = sign::payload(&repository_of(r), digest);
        let sig_ref = Reference::with_tag(
            r.registry().to_owned(),
            r.repository().to_owned(),
            sign::signature_tag(digest),
        );
        let (mut layers, _) =
            futures_util::future::try_join(self.signatures(&pinned, digest), async {
                self.push_blob(&sig_ref, &payload)
                    .await
                    .map_err(OciError::from)
            })
            .await?;
        layers.push(SignatureLayer {
            payload,
            signature: String::new(),
            certificate: None,
            chain: None,
            bundle: None,
        });
        let (_, config) = sign::signature_manifest(&layers);
        self.push_blob(&sig_ref, &config).await?;
        Ok(PreparedSignature { sig_ref, layers })
    }

    /// Signs a prepared signature with `key` and pushes the signature manifest.
    pub async fn finish_signature(
        &self,
        prepared: PreparedSignature,
        key: &SigningKey,
    ) -> Result<(), OciError> {
        let PreparedSignature {
            sig_ref,
            mut layers,
        } = prepared;
        if let Some(last) = layers.last_mut() {
            last.signature = sign::sign(key, &last.payload);
        }
        let (manifest, _) = sign::signature_manifest(&layers);
        self.push_manifest(&sig_ref, &manifest, layout::MANIFEST_MEDIA_TYPE)
            .await?;
        Ok(())
    }
}

/// A signature whose blobs are in the registry and which waits for its key
/// ([`Registry::prepare_signature`], then [`Registry::finish_signature`]).
#[derive(Debug, Clone)]
pub struct PreparedSignature {
    sig_ref: Reference,
    /// The layers already stored, then the new one (signature still empty).
    layers: Vec<SignatureLayer>,
}
