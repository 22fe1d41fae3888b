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
        self.with_timeout("pull", r, async {
            let (pinned, m) = self.artifact_manifest(r).await?;
            let digest = pinned.digest().unwrap_or_default().to_owned();
            self.check_signature(&pinned, &digest, verification).await?;
            let d = layout::pick(&m, platform)?.clone();
            let title = layout::title_of(&d).unwrap_or_default().to_owned();
            let data = self.blob(&pinned, &d, self.options().max_layer).await?;
            let (kind, name) = layout::check_kind(&data, &title, accepted)?;
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
        let sig_digest = match self.resolve(&sig_ref).await {
            Ok(d) => d,
            Err(RegistryError::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let sig_pinned = sig_ref.clone_with_digest(sig_digest);
        let raw = self.manifest_raw(&sig_pinned).await?;
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
        let pinned = r.clone_with_digest(digest.to_owned());
        let payload = sign::payload(&repository_of(r), digest);
        let layer = SignatureLayer {
            signature: sign::sign(key, &payload),
            payload,
            certificate: None,
            chain: None,
            bundle: None,
        };
        let mut layers = self.signatures(&pinned, digest).await?;
        layers.push(layer);
        let (manifest, config) = sign::signature_manifest(&layers);
        let sig_ref = Reference::with_tag(
            r.registry().to_owned(),
            r.repository().to_owned(),
            sign::signature_tag(digest),
        );
        let mut blobs: Vec<&[u8]> = vec![&config];
        blobs.extend(layers.iter().map(|l| l.payload.as_slice()));
        self.push_blobs(&sig_ref, &blobs).await?;
        self.push_manifest(&sig_ref, &manifest, layout::MANIFEST_MEDIA_TYPE)
            .await?;
        Ok(())
    }
}
