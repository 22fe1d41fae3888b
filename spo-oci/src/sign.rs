//! cosign-compatible signatures, key-based: cosign's encrypted private-key format (scrypt +
//! nacl/secretbox around a PKCS#8 ECDSA P-256 key), PEM public keys, the SimpleSigning
//! payload, and the `sha256-<hex>.sig` signature manifest cosign writes and reads.
//!
//! Pure: no file or network I/O; [`crate::registry`] moves the manifests.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature};
pub use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::layout::sha256_digest;

/// Media type of cosign's payload layer.
pub const SIMPLESIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation holding a keyless signer's certificate (PEM).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The payload `type` cosign writes and checks.
pub const PAYLOAD_TYPE: &str = "cosign container image signature";
/// PEM label of cosign's encrypted private keys (current).
pub const PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM labels cosign also reads.
const PRIVATE_KEY_LABELS: &[&str] = &[PRIVATE_KEY_LABEL, "ENCRYPTED COSIGN PRIVATE KEY"];
/// cosign's scrypt cost (N = 2^15, r = 8, p = 1).
const SCRYPT_LOG_N: u8 = 15;

/// A signing or verification step failed.
#[derive(Debug, Error)]
pub enum SignError {
    /// A key file does not parse.
    #[error("{what}: {reason}")]
    Key {
        /// Which key.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The password does not open the private key.
    #[error("cannot decrypt the private key: wrong password (COSIGN_PASSWORD) or corrupt key")]
    WrongPassword,
    /// Randomness was unavailable.
    #[error("no randomness: {0}")]
    Random(String),
    /// No signature verified.
    #[error("signature verification failed for {digest}: {reason}")]
    Verify {
        /// The artifact digest.
        digest: String,
        /// Why.
        reason: String,
    },
}

fn key_err(what: &'static str) -> impl Fn(String) -> SignError {
    move |reason| SignError::Key { what, reason }
}

#[derive(Debug, Serialize, Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "b64")]
    ciphertext: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(with = "b64")]
    salt: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "b64")]
    nonce: Vec<u8>,
}

mod b64 {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        B64.decode(s.as_bytes()).map_err(serde::de::Error::custom)
    }
}

fn random(buf: &mut [u8]) -> Result<(), SignError> {
    getrandom::fill(buf).map_err(|e| SignError::Random(e.to_string()))
}

/// Writes `der` as PEM with `label`.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The label and bytes of the first PEM block of `text`.
pub fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + 11..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_owned();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let end = rest.find(&end_marker)?;
    let body: String = rest[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Some((label, B64.decode(body.as_bytes()).ok()?))
}

/// A new random P-256 key.
pub fn generate_key() -> Result<SigningKey, SignError> {
    loop {
        let mut b = [0u8; 32];
        random(&mut b)?;
        if let Ok(k) = SigningKey::from_bytes(&b.into()) {
            return Ok(k);
        }
    }
}

fn derive(password: &[u8], salt: &[u8], n: u64, r: u32, p: u32) -> Result<[u8; 32], SignError> {
    if !n.is_power_of_two() || n < 2 {
        return Err(SignError::Key {
            what: "private key",
            reason: format!("scrypt N={n} is not a power of two"),
        });
    }
    let log_n = u8::try_from(n.trailing_zeros()).unwrap_or(u8::MAX);
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|e| SignError::Key {
        what: "private key",
        reason: format!("scrypt parameters: {e}"),
    })?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key).map_err(|e| SignError::Key {
        what: "private key",
        reason: e.to_string(),
    })?;
    Ok(key)
}

/// `key` in cosign's encrypted format (PEM `ENCRYPTED SIGSTORE PRIVATE KEY`).
pub fn encrypt_private_key(key: &SigningKey, password: &[u8]) -> Result<String, SignError> {
    let der = key
        .to_pkcs8_der()
        .map_err(|e| key_err("private key")(e.to_string()))?;
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    random(&mut salt)?;
    random(&mut nonce)?;
    let k = derive(password, &salt, 1 << SCRYPT_LOG_N, 8, 1)?;
    let ciphertext = XSalsa20Poly1305::new(&k.into())
        .encrypt(&nonce.into(), der.as_bytes())
        .map_err(|e| key_err("private key")(e.to_string()))?;
    let doc = Encrypted {
        kdf: Kdf {
            name: "scrypt".into(),
            params: ScryptParams {
                n: 1 << SCRYPT_LOG_N,
                r: 8,
                p: 1,
            },
            salt: salt.to_vec(),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: nonce.to_vec(),
        },
        ciphertext,
    };
    let json = serde_json::to_vec(&doc).map_err(|e| key_err("private key")(e.to_string()))?;
    Ok(pem_encode(PRIVATE_KEY_LABEL, &json))
}

/// Opens a cosign encrypted private key.
pub fn decrypt_private_key(pem: &str, password: &[u8]) -> Result<SigningKey, SignError> {
    let err = key_err("private key");
    let (label, body) = pem_decode(pem).ok_or_else(|| err("not a PEM file".into()))?;
    if !PRIVATE_KEY_LABELS.contains(&label.as_str()) {
        return Err(err(format!(
            "PEM block {label:?} is not a cosign private key ({PRIVATE_KEY_LABEL})"
        )));
    }
    let doc: Encrypted =
        serde_json::from_slice(&body).map_err(|e| err(format!("key JSON: {e}")))?;
    if doc.kdf.name != "scrypt" || doc.cipher.name != "nacl/secretbox" {
        return Err(err(format!(
            "unsupported kdf {:?} / cipher {:?}",
            doc.kdf.name, doc.cipher.name
        )));
    }
    let nonce: [u8; 24] = doc
        .cipher
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| err("nonce is not 24 bytes".into()))?;
    let k = derive(
        password,
        &doc.kdf.salt,
        doc.kdf.params.n,
        doc.kdf.params.r,
        doc.kdf.params.p,
    )?;
    let der = XSalsa20Poly1305::new(&k.into())
        .decrypt(&nonce.into(), doc.ciphertext.as_slice())
        .map_err(|_| SignError::WrongPassword)?;
    SigningKey::from_pkcs8_der(&der).map_err(|e| err(format!("PKCS#8: {e}")))
}

/// The PEM `PUBLIC KEY` of `key` (what `cosign.pub` holds).
pub fn public_key_pem(key: &VerifyingKey) -> Result<String, SignError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| key_err("public key")(e.to_string()))
}

/// Parses a PEM `PUBLIC KEY` (ECDSA P-256).
pub fn parse_public_key(pem: &str) -> Result<VerifyingKey, SignError> {
    VerifyingKey::from_public_key_pem(pem.trim())
        .map_err(|e| key_err("public key")(format!("not a PEM ECDSA P-256 public key: {e}")))
}

/// The SimpleSigning payload cosign signs for `digest` of `docker_reference`
/// (`registry/repository`).
pub fn payload(docker_reference: &str, digest: &str) -> Vec<u8> {
    let v = serde_json::json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": null,
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Signs `payload`: base64 of the ASN.1 DER ECDSA-SHA256 signature (the annotation value).
pub fn sign(key: &SigningKey, payload: &[u8]) -> String {
    let sig: DerSignature = key.sign(payload);
    B64.encode(sig.as_bytes())
}

/// Verifies one signature annotation over `payload` and that the payload names `digest`.
pub fn verify(
    key: &VerifyingKey,
    payload_bytes: &[u8],
    signature_b64: &str,
    digest: &str,
) -> Result<(), SignError> {
    let fail = |reason: String| SignError::Verify {
        digest: digest.into(),
        reason,
    };
    let der = B64
        .decode(signature_b64.trim().as_bytes())
        .map_err(|e| fail(format!("signature is not base64: {e}")))?;
    let sig = Signature::from_der(&der).map_err(|e| fail(format!("signature: {e}")))?;
    key.verify(payload_bytes, &sig)
        .map_err(|_| fail("the signature does not match the key".into()))?;
    let v: serde_json::Value =
        serde_json::from_slice(payload_bytes).map_err(|e| fail(format!("payload: {e}")))?;
    let crit = &v["critical"];
    if crit["type"] != PAYLOAD_TYPE {
        return Err(fail(format!(
            "payload type {} is not {PAYLOAD_TYPE:?}",
            crit["type"]
        )));
    }
    if crit["image"]["docker-manifest-digest"] != digest {
        return Err(fail(format!(
            "payload signs {}, not this artifact",
            crit["image"]["docker-manifest-digest"]
        )));
    }
    Ok(())
}

/// The tag cosign stores signatures of `digest` under: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

/// The image config cosign writes for a signature manifest with these payload digests.
pub fn signature_config(payload_digests: &[String]) -> Vec<u8> {
    let v = serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": payload_digests},
        "config": {},
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

/// One signature layer: the payload and its signature annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    /// The SimpleSigning payload bytes.
    pub payload: Vec<u8>,
    /// Base64 DER signature.
    pub signature: String,
    /// Keyless: the signer's certificate (PEM).
    pub certificate: Option<String>,
    /// Keyless: the chain above it (PEM).
    pub chain: Option<String>,
    /// Keyless: the Rekor bundle (JSON).
    pub bundle: Option<String>,
}

/// The signature manifest (cosign's layout) for `layers`; returns (manifest JSON, config).
pub fn signature_manifest(layers: &[SignatureLayer]) -> (Vec<u8>, Vec<u8>) {
    let digests: Vec<String> = layers.iter().map(|l| sha256_digest(&l.payload)).collect();
    let config = signature_config(&digests);
    let v = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": crate::layout::MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": sha256_digest(&config),
        },
        "layers": layers.iter().zip(&digests).map(|(l, d)| {
            let mut ann = serde_json::Map::new();
            ann.insert(SIGNATURE_ANNOTATION.into(), l.signature.clone().into());
            if let Some(c) = &l.certificate {
                ann.insert(CERTIFICATE_ANNOTATION.into(), c.clone().into());
            }
            if let Some(c) = &l.chain {
                ann.insert(crate::keyless::CHAIN_ANNOTATION.into(), c.clone().into());
            }
            if let Some(b) = &l.bundle {
                ann.insert(crate::keyless::BUNDLE_ANNOTATION.into(), b.clone().into());
            }
            serde_json::json!({
                "mediaType": SIMPLESIGNING_MEDIA_TYPE,
                "size": l.payload.len(),
                "digest": d,
                "annotations": ann,
            })
        }).collect::<Vec<_>>(),
    });
    (serde_json::to_vec(&v).unwrap_or_default(), config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trip_and_wrong_password() {
        let k = generate_key().unwrap();
        let pem = encrypt_private_key(&k, b"pw").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let back = decrypt_private_key(&pem, b"pw").unwrap();
        assert_eq!(back.to_bytes(), k.to_bytes());
        assert!(matches!(
            decrypt_private_key(&pem, b"nope"),
            Err(SignError::WrongPassword)
        ));
        let pub_pem = public_key_pem(k.verifying_key()).unwrap();
        assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(&parse_public_key(&pub_pem).unwrap(), k.verifying_key());
    }

    // covers: CLI-23
    #[test]
    fn sign_and_verify_simplesigning() {
        let k = generate_key().unwrap();
        let d = "sha256:0123";
        let p = payload("127.0.0.1:5000/p", d);
        let s = sign(&k, &p);
        verify(k.verifying_key(), &p, &s, d).unwrap();
        // Another digest, another key, a tampered payload: all refused.
        assert!(verify(k.verifying_key(), &p, &s, "sha256:9999").is_err());
        let other = generate_key().unwrap();
        assert!(verify(other.verifying_key(), &p, &s, d).is_err());
        let mut bad = p.clone();
        bad[5] ^= 1;
        assert!(verify(k.verifying_key(), &bad, &s, d).is_err());
        assert_eq!(signature_tag("sha256:ab"), "sha256-ab.sig");
    }

    #[test]
    fn signature_manifest_is_cosigns_layout() {
        let l = SignatureLayer {
            payload: b"{}".to_vec(),
            signature: "c2ln".into(),
            certificate: None,
            chain: None,
            bundle: None,
        };
        let (m, config) = signature_manifest(&[l]);
        let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        assert_eq!(v["layers"][0]["mediaType"], SIMPLESIGNING_MEDIA_TYPE);
        assert_eq!(v["layers"][0]["annotations"][SIGNATURE_ANNOTATION], "c2ln");
        assert_eq!(v["config"]["digest"], sha256_digest(&config));
        let c: serde_json::Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(c["rootfs"]["diff_ids"][0], sha256_digest(b"{}"));
    }
}
