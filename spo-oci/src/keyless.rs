//! Keyless (Fulcio) signature verification: the signer's certificate chain must lead to a
//! configured Fulcio root (the public-good root by default), the certificate's identity
//! (e-mail or URI SAN) and OIDC issuer (Fulcio extension) must match the given regexps, and
//! the leaf key must have signed the SimpleSigning payload.
//!
//! Pure: time is passed in. Not done: Rekor bundle / timestamp checks. Certificates are
//! checked against the time given (normally now), so public-good Fulcio certificates (valid
//! for 10 minutes) only verify shortly after signing; long-lived private CAs work.

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
pub struct KeylessPolicy {
    /// Trusted Fulcio roots.
    pub roots: Vec<Certificate>,
    /// Must match the certificate's e-mail or URI SAN (`--allowed-identity-regexp`).
    pub identity: Regex,
    /// Must match the OIDC issuer extension (`--allowed-oidc-issuer-regexp`).
    pub issuer: Regex,
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
        })
    }
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
pub fn verify(
    policy: &KeylessPolicy,
    payload: &[u8],
    signature_b64: &str,
    cert_pem: &str,
    chain_pem: Option<&str>,
    digest: &str,
    now: SystemTime,
) -> Result<String, SignError> {
    let f = |r: String| fail(digest, r);
    let leaf = parse_pem_certs(cert_pem)?
        .into_iter()
        .next()
        .ok_or_else(|| f("no signing certificate".into()))?;
    let intermediates = chain_pem
        .map(parse_pem_certs)
        .transpose()?
        .unwrap_or_default();
    // Walk up: at most 4 intermediates, each a CA valid now, to a trusted root.
    let mut current = leaf.clone();
    let mut trusted = false;
    for _ in 0..5 {
        if !valid_at(&current, now) {
            return Err(f(format!(
                "certificate {} is not valid now (valid {} – {})",
                current.tbs_certificate.subject,
                current.tbs_certificate.validity.not_before,
                current.tbs_certificate.validity.not_after
            )));
        }
        if let Some(root) = policy.roots.iter().find(|r| signed_by(&current, r)) {
            if !valid_at(root, now) {
                return Err(f("the Fulcio root is not valid now".into()));
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
        current = next.clone();
    }
    if !trusted {
        return Err(f(format!(
            "the signing certificate ({}) does not chain to a trusted Fulcio root",
            leaf.tbs_certificate.subject
        )));
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
    }
}
