//! Keyless (Fulcio) signature verification: the signer's certificate chain must lead to a
//! configured Fulcio root (the public-good root by default), the certificate's identity
//! (e-mail or URI SAN) and OIDC issuer (Fulcio extension) must match the given regexps, and
//! the leaf key must have signed the SimpleSigning payload.
//!
//! Fulcio certificates live ten minutes, so the time they are checked at comes from the
//! signature's Rekor bundle (`dev.sigstore.cosign/bundle`) when there is one: its signed
//! entry timestamp must verify with a trusted Rekor key (the public-good key by default),
//! its `hashedrekord` entry must hold this signature, certificate and payload hash, and the
//! certificates must be valid at its `integratedTime`. Without a bundle they must be valid
//! now.
//!
//! Transparency (see [`crate::transparency`]): a bundle that carries an `InclusionProof` (the
//! Rekor API's `verification.inclusionProof` object: `logIndex`, `rootHash`, `treeSize`,
//! `hashes`, `checkpoint`) has its RFC 6962/9162 Merkle audit path checked against the
//! root hash of its checkpoint, a signed note that must verify with the same trusted Rekor
//! key; [`KeylessPolicy::require_inclusion_proof`] refuses bundles without one. When CT log
//! keys are configured ([`KeylessPolicy::with_ct_log_keys`]) the signing certificate must
//! carry an embedded SCT (RFC 6962 §3.3) from one of those logs that verifies over the
//! precertificate and the issuer's key hash.
//!
//! Pure: the current time is passed in.

use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use regex::Regex;
use sha2::{Digest as _, Sha256, Sha384};
use x509_cert::der::asn1::{ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{Decode, DecodePem, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};
use x509_cert::Certificate;

use crate::sign::SignError;

/// The public-good Fulcio root (`O=sigstore.dev, CN=sigstore`, valid until 2031).
pub const PUBLIC_GOOD_FULCIO_ROOT: &str = include_str!("roots/fulcio_v1.crt.pem");
/// The public-good Rekor log key (ECDSA P-256; log ID `c0d23d6a…801d`).
pub const PUBLIC_GOOD_REKOR_KEY: &str = include_str!("roots/rekor.pub");
/// Layer annotation holding the Rekor bundle of a signature (JSON).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation holding the chain above the signer's certificate (PEM).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";

const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
const OID_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// Who may have signed, and which roots are trusted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeylessPolicy {
    /// Trusted Fulcio roots.
    pub roots: Vec<Certificate>,
    /// Must match the certificate's e-mail or URI SAN (`--allowed-identity-regexp`).
    pub identity: Regex,
    /// Must match the OIDC issuer extension (`--allowed-oidc-issuer-regexp`).
    pub issuer: Regex,
    /// Trusted Rekor log keys, by log ID (hex SHA-256 of the key's DER).
    pub rekor_keys: Vec<(String, p256::ecdsa::VerifyingKey)>,
    /// Trusted certificate-transparency log keys, by log ID; when not empty the signing
    /// certificate needs a verifying embedded SCT from one of them.
    pub ct_log_keys: Vec<(String, p256::ecdsa::VerifyingKey)>,
    /// Refuse Rekor bundles without an inclusion proof.
    pub require_inclusion_proof: bool,
}

fn fail(digest: &str, reason: String) -> SignError {
    SignError::Verify {
        digest: digest.into(),
        reason,
    }
}

/// Every certificate in a PEM bundle.
pub fn parse_pem_certs(pem: &str) -> Result<Vec<Certificate>, SignError> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end_marker = "-----END CERTIFICATE-----";
        let end = rest[start..]
            .find(end_marker)
            .map(|e| start + e + end_marker.len())
            .ok_or_else(|| SignError::Key {
                what: "certificate",
                reason: "unterminated PEM block".into(),
            })?;
        let c =
            Certificate::from_pem(&rest.as_bytes()[start..end]).map_err(|e| SignError::Key {
                what: "certificate",
                reason: e.to_string(),
            })?;
        out.push(c);
        rest = &rest[end..];
    }
    Ok(out)
}

impl KeylessPolicy {
    /// A policy trusting the roots in `roots_pem` (the public-good root when `None`).
    pub fn new(roots_pem: Option<&str>, identity: &str, issuer: &str) -> Result<Self, SignError> {
        let roots = parse_pem_certs(roots_pem.unwrap_or(PUBLIC_GOOD_FULCIO_ROOT))?;
        if roots.is_empty() {
            return Err(SignError::Key {
                what: "Fulcio root",
                reason: "no certificate found".into(),
            });
        }
        let re = |what: &'static str, s: &str| {
            Regex::new(s).map_err(|e| SignError::Key {
                what,
                reason: e.to_string(),
            })
        };
        Ok(KeylessPolicy {
            roots,
            identity: re("--allowed-identity-regexp", identity)?,
            issuer: re("--allowed-oidc-issuer-regexp", issuer)?,
            rekor_keys: vec![rekor_key(PUBLIC_GOOD_REKOR_KEY)?],
            ct_log_keys: Vec::new(),
            require_inclusion_proof: false,
        })
    }

    /// Requires an embedded SCT from one of these CT logs (PEM, ECDSA P-256).
    pub fn with_ct_log_keys(mut self, pems: &[String]) -> Result<Self, SignError> {
        self.ct_log_keys = pems
            .iter()
            .map(|p| {
                rekor_key(p).map_err(|e| match e {
                    SignError::Key { reason, .. } => SignError::Key {
                        what: "CT log public key",
                        reason,
                    },
                    other => other,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(self)
    }

    /// Refuses Rekor bundles that carry no inclusion proof (and signatures without a bundle).
    pub fn with_required_inclusion_proof(mut self, required: bool) -> Self {
        self.require_inclusion_proof = required;
        self
    }

    /// Trusts these Rekor keys (PEM) instead of the public-good one.
    pub fn with_rekor_keys(mut self, pems: &[String]) -> Result<Self, SignError> {
        self.rekor_keys = pems
            .iter()
            .map(|p| rekor_key(p))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }
}

/// A Rekor public key (PEM, ECDSA P-256) with its log ID.
pub fn rekor_key(pem: &str) -> Result<(String, p256::ecdsa::VerifyingKey), SignError> {
    use p256::pkcs8::{DecodePublicKey, EncodePublicKey};
    let key =
        p256::ecdsa::VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| SignError::Key {
            what: "Rekor public key",
            reason: e.to_string(),
        })?;
    let der = key.to_public_key_der().map_err(|e| SignError::Key {
        what: "Rekor public key",
        reason: e.to_string(),
    })?;
    let id = Sha256::digest(der.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((id, key))
}

/// Checks a cosign Rekor bundle for this signature and returns its integrated time.
fn bundle_time(
    policy: &KeylessPolicy,
    bundle: &str,
    payload: &[u8],
    signature_b64: &str,
    leaf: &Certificate,
) -> Result<SystemTime, String> {
    let v: serde_json::Value =
        serde_json::from_str(bundle).map_err(|e| format!("Rekor bundle: {e}"))?;
    let p = &v["Payload"];
    let (Some(body), Some(time), Some(index), Some(log_id)) = (
        p["body"].as_str(),
        p["integratedTime"].as_i64(),
        p["logIndex"].as_i64(),
        p["logID"].as_str(),
    ) else {
        return Err("Rekor bundle: missing body, integratedTime, logIndex or logID".into());
    };
    let key = policy
        .rekor_keys
        .iter()
        .find(|(id, _)| id == log_id)
        .map(|(_, k)| k)
        .ok_or_else(|| format!("Rekor bundle from an untrusted log {log_id}"))?;
    // The signed entry timestamp covers the canonical JSON of the payload (sorted keys).
    let canonical = serde_json::to_vec(&serde_json::json!({
        "body": body,
        "integratedTime": time,
        "logID": log_id,
        "logIndex": index,
    }))
    .map_err(|e| e.to_string())?;
    let set = v["SignedEntryTimestamp"]
        .as_str()
        .and_then(|s| B64.decode(s).ok())
        .ok_or("Rekor bundle: no SignedEntryTimestamp")?;
    let sig = p256::ecdsa::Signature::from_der(&set).map_err(|e| format!("Rekor SET: {e}"))?;
    key.verify_prehash(&Sha256::digest(&canonical), &sig)
        .map_err(|_| "the Rekor bundle's signed entry timestamp does not verify".to_string())?;
    // The entry must be this signature over this payload by this certificate.
    let entry: serde_json::Value = B64
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("Rekor entry body is not base64 JSON")?;
    if entry["kind"] != "hashedrekord" {
        return Err(format!("unsupported Rekor entry kind {}", entry["kind"]));
    }
    let spec = &entry["spec"];
    let payload_hash: String = Sha256::digest(payload)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if spec["data"]["hash"]["value"] != payload_hash.as_str()
        || spec["signature"]["content"] != signature_b64.trim()
    {
        return Err("the Rekor entry is for another signature or payload".into());
    }
    let entry_cert = spec["signature"]["publicKey"]["content"]
        .as_str()
        .and_then(|c| B64.decode(c).ok())
        .and_then(|pem| String::from_utf8(pem).ok())
        .map(|pem| parse_pem_certs(&pem))
        .and_then(Result::ok)
        .and_then(|mut v| (!v.is_empty()).then(|| v.remove(0)));
    if entry_cert.as_ref() != Some(leaf) {
        return Err("the Rekor entry names another certificate".into());
    }
    match v.get("InclusionProof") {
        Some(proof) => {
            let leaf = B64
                .decode(body)
                .map_err(|e| format!("Rekor entry body: {e}"))?;
            crate::transparency::check_inclusion_proof(proof, &leaf, key)
                .map_err(|e| format!("Rekor inclusion proof: {e}"))?;
        }
        None if policy.require_inclusion_proof => {
            return Err("the Rekor bundle has no inclusion proof (one is required)".into())
        }
        None => {}
    }
    let secs = u64::try_from(time).map_err(|_| "negative integratedTime".to_string())?;
    Ok(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// An ECDSA public key of a certificate.
enum Key {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

fn key_of(c: &Certificate) -> Result<Key, String> {
    let spki = &c.tbs_certificate.subject_public_key_info;
    let curve: ObjectIdentifier = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as().ok())
        .ok_or("public key has no named curve")?;
    let bytes = spki.subject_public_key.raw_bytes();
    if curve == OID_P256 {
        Ok(Key::P256(
            p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|e| e.to_string())?,
        ))
    } else if curve == OID_P384 {
        Ok(Key::P384(
            p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|e| e.to_string())?,
        ))
    } else {
        Err(format!("unsupported key curve {curve}"))
    }
}

fn verify_prehash(key: &Key, prehash: &[u8], der_sig: &[u8]) -> bool {
    match key {
        Key::P256(k) => p256::ecdsa::Signature::from_der(der_sig)
            .is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok()),
        Key::P384(k) => p384::ecdsa::Signature::from_der(der_sig)
            .is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok()),
    }
}

/// Whether `issuer` signed `cert`.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return false;
    }
    let Ok(key) = key_of(issuer) else {
        return false;
    };
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let alg = cert.signature_algorithm.oid;
    let prehash: Vec<u8> = if alg == OID_ECDSA_SHA256 {
        Sha256::digest(&tbs).to_vec()
    } else if alg == OID_ECDSA_SHA384 {
        Sha384::digest(&tbs).to_vec()
    } else {
        return false;
    };
    verify_prehash(&key, &prehash, cert.signature.raw_bytes())
}

fn is_ca(c: &Certificate) -> bool {
    c.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == OID_BASIC_CONSTRAINTS)
        .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|b| b.ca)
}

fn valid_at(c: &Certificate, now: SystemTime) -> bool {
    let v = &c.tbs_certificate.validity;
    v.not_before.to_system_time() <= now && now <= v.not_after.to_system_time()
}

/// The identity (e-mail or URI SANs) and OIDC issuer of a Fulcio certificate.
pub fn identity_of(c: &Certificate) -> (Vec<String>, Option<String>) {
    let mut ids = Vec::new();
    let mut issuer = None;
    for e in c.tbs_certificate.extensions.iter().flatten() {
        if e.extn_id == OID_SAN {
            if let Ok(san) = SubjectAltName::from_der(e.extn_value.as_bytes()) {
                for n in san.0 {
                    match n {
                        GeneralName::Rfc822Name(s) | GeneralName::UniformResourceIdentifier(s) => {
                            ids.push(s.to_string())
                        }
                        _ => {}
                    }
                }
            }
        } else if e.extn_id == OID_ISSUER_V2 {
            if let Ok(s) = Utf8StringRef::from_der(e.extn_value.as_bytes()) {
                issuer = Some(s.as_str().to_owned());
            }
        } else if e.extn_id == OID_ISSUER_V1 && issuer.is_none() {
            issuer = std::str::from_utf8(e.extn_value.as_bytes())
                .ok()
                .map(str::to_owned);
        }
    }
    (ids, issuer)
}

/// Verifies a keyless signature: `cert_pem` (the signer) chains through `chain_pem` to a
/// root of `policy`, all valid at `now`; identity and issuer match; the leaf key signed
/// `payload` (base64 DER `signature_b64`); and the payload names `digest`. Returns the
/// matched identity.
#[allow(clippy::too_many_arguments)]
pub fn verify(
    policy: &KeylessPolicy,
    payload: &[u8],
    signature_b64: &str,
    cert_pem: &str,
    chain_pem: Option<&str>,
    bundle: Option<&str>,
    digest: &str,
    now: SystemTime,
) -> Result<String, SignError> {
    let f = |r: String| fail(digest, r);
    let leaf = parse_pem_certs(cert_pem)?
        .into_iter()
        .next()
        .ok_or_else(|| f("no signing certificate".into()))?;
    let (now, when) = match bundle {
        Some(b) => (
            bundle_time(policy, b, payload, signature_b64, &leaf).map_err(&f)?,
            "at the Rekor integrated time",
        ),
        None if policy.require_inclusion_proof => {
            return Err(f(
                "the signature has no Rekor bundle (an inclusion proof is required)".into(),
            ))
        }
        None => (now, "now (no Rekor bundle)"),
    };
    let intermediates = chain_pem
        .map(parse_pem_certs)
        .transpose()?
        .unwrap_or_default();
    // Walk up: at most 4 intermediates, each a CA valid now, to a trusted root.
    let mut current = leaf.clone();
    let mut trusted = false;
    let mut leaf_issuer: Option<Certificate> = None;
    for _ in 0..5 {
        if !valid_at(&current, now) {
            return Err(f(format!(
                "certificate {} is not valid {when} (valid {} – {})",
                current.tbs_certificate.subject,
                current.tbs_certificate.validity.not_before,
                current.tbs_certificate.validity.not_after
            )));
        }
        if let Some(root) = policy.roots.iter().find(|r| signed_by(&current, r)) {
            leaf_issuer.get_or_insert_with(|| root.clone());
            if !valid_at(root, now) {
                return Err(f(format!("the Fulcio root is not valid {when}")));
            }
            trusted = true;
            break;
        }
        let Some(next) = intermediates
            .iter()
            .find(|i| is_ca(i) && signed_by(&current, i) && **i != current)
        else {
            break;
        };
        leaf_issuer.get_or_insert_with(|| next.clone());
        current = next.clone();
    }
    if !trusted {
        return Err(f(format!(
            "the signing certificate ({}) does not chain to a trusted Fulcio root",
            leaf.tbs_certificate.subject
        )));
    }
    if !policy.ct_log_keys.is_empty() {
        let issuer = leaf_issuer
            .as_ref()
            .ok_or_else(|| f("no issuer for the SCT check".into()))?;
        crate::transparency::check_embedded_sct(&leaf, issuer, &policy.ct_log_keys)
            .map_err(|e| f(format!("certificate transparency: {e}")))?;
    }
    let (ids, issuer) = identity_of(&leaf);
    let Some(id) = ids.iter().find(|i| policy.identity.is_match(i)) else {
        return Err(f(format!(
            "certificate identity {ids:?} does not match --allowed-identity-regexp {:?}",
            policy.identity.as_str()
        )));
    };
    let issuer = issuer.ok_or_else(|| f("certificate has no OIDC issuer extension".into()))?;
    if !policy.issuer.is_match(&issuer) {
        return Err(f(format!(
            "OIDC issuer {issuer:?} does not match --allowed-oidc-issuer-regexp {:?}",
            policy.issuer.as_str()
        )));
    }
    let key = key_of(&leaf).map_err(&f)?;
    let der = B64
        .decode(signature_b64.trim().as_bytes())
        .map_err(|e| f(format!("signature is not base64: {e}")))?;
    if !verify_prehash(&key, &Sha256::digest(payload), &der) {
        return Err(f(
            "the signature does not match the signing certificate".into()
        ));
    }
    let v: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| f(format!("payload: {e}")))?;
    if v["critical"]["type"] != crate::sign::PAYLOAD_TYPE
        || v["critical"]["image"]["docker-manifest-digest"] != digest
    {
        return Err(f("the payload does not sign this artifact".into()));
    }
    Ok(id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_good_root_parses_and_is_self_signed() {
        let p = KeylessPolicy::new(None, ".*", ".*").unwrap();
        assert_eq!(p.roots.len(), 1);
        assert!(signed_by(&p.roots[0], &p.roots[0]));
        assert!(is_ca(&p.roots[0]));
        assert!(KeylessPolicy::new(None, "(", ".*").is_err());
        assert_eq!(
            p.rekor_keys[0].0,
            "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
        );
    }
}
