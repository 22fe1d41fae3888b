//! Transparency-log checks for keyless signatures (pure):
//!
//! * Rekor inclusion proofs: the RFC 6962 leaf hash of the entry, its Merkle audit path
//!   (RFC 9162 §2.1.3.2) to the root hash, and the checkpoint — a signed note
//!   (`origin\nsize\nbase64(root)\n…\n\n— name base64(keyhint ‖ signature)`) whose size and
//!   root must be the proof's and whose signature must verify with the Rekor key.
//! * Embedded SCTs (RFC 6962 §3.2–3.3) in a Fulcio certificate: the signed
//!   `certificate_timestamp` over the precertificate (the TBS without the SCT extension)
//!   and the issuer's key hash must verify with a trusted CT log key.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::VerifyingKey;
use sha2::{Digest as _, Sha256};
use x509_cert::der::asn1::{ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Encode};
use x509_cert::Certificate;

/// The X.509 extension holding embedded SCTs.
pub const OID_EMBEDDED_SCTS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// A 32-byte SHA-256 hash.
pub type Hash = [u8; 32];

/// RFC 6962 leaf hash: `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves with root `root`, by
/// the audit path `path` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> Result<(), String> {
    if index >= size {
        return Err(format!("leaf index {index} is outside a tree of {size}"));
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return Err("the audit path is longer than the tree is deep".into());
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err("the audit path is shorter than the tree is deep".into());
    }
    if &r != root {
        return Err("the audit path does not lead to the root hash".into());
    }
    Ok(())
}

/// A verified checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// The log ID of a key: SHA-256 of its SubjectPublicKeyInfo DER.
fn log_id(key: &VerifyingKey) -> Result<Hash, String> {
    use p256::pkcs8::EncodePublicKey;
    let der = key.to_public_key_der().map_err(|e| e.to_string())?;
    Ok(Sha256::digest(der.as_bytes()).into())
}

fn verify_ecdsa(key: &VerifyingKey, message: &[u8], der: &[u8]) -> bool {
    p256::ecdsa::Signature::from_der(der)
        .is_ok_and(|s| key.verify_prehash(&Sha256::digest(message), &s).is_ok())
}

/// Parses a checkpoint (signed note) and verifies it with `key`: one of its signature lines
/// must carry `key`'s hint (the first 4 bytes of its log ID) and verify over the note text.
pub fn verify_checkpoint(text: &str, key: &VerifyingKey) -> Result<Checkpoint, String> {
    let split = text
        .find("\n\n")
        .ok_or("the checkpoint has no signature block")?;
    let (body, sigs) = (&text[..split + 1], &text[split + 2..]);
    let hint = log_id(key)?;
    let mut signed = false;
    for line in sigs.lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| format!("malformed checkpoint signature line {line:?}"))?;
        let b64 = rest.rsplit(' ').next().unwrap_or_default();
        let Ok(raw) = B64.decode(b64) else {
            return Err("a checkpoint signature is not base64".into());
        };
        if raw.len() > 4 && raw[..4] == hint[..4] && verify_ecdsa(key, body.as_bytes(), &raw[4..]) {
            signed = true;
        }
    }
    if !signed {
        return Err("the checkpoint is not signed by the trusted Rekor key".into());
    }
    let mut lines = body.lines();
    let origin = lines.next().unwrap_or_default().to_owned();
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or("the checkpoint has no tree size")?;
    let root = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .and_then(|r| Hash::try_from(r.as_slice()).ok())
        .ok_or("the checkpoint has no 32-byte root hash")?;
    Ok(Checkpoint { origin, size, root })
}

fn hex_hash(v: &serde_json::Value, what: &str) -> Result<Hash, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{what} is not a string"))?;
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{what} is not a hex SHA-256"));
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("{what} is not a hex SHA-256"))?;
    }
    Ok(out)
}

/// Checks a Rekor inclusion proof (`{logIndex, rootHash, treeSize, hashes, checkpoint}`,
/// hex hashes as the Rekor API gives them) for the entry `body` (decoded bytes), with the
/// log's `key` verifying the checkpoint.
pub fn check_inclusion_proof(
    proof: &serde_json::Value,
    body: &[u8],
    key: &VerifyingKey,
) -> Result<(), String> {
    let (Some(index), Some(size)) = (proof["logIndex"].as_u64(), proof["treeSize"].as_u64()) else {
        return Err("logIndex and treeSize must be non-negative integers".into());
    };
    let root = hex_hash(&proof["rootHash"], "rootHash")?;
    let path = proof["hashes"]
        .as_array()
        .ok_or("hashes must be a list")?
        .iter()
        .enumerate()
        .map(|(i, h)| hex_hash(h, &format!("hashes[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let text = proof["checkpoint"]
        .as_str()
        .ok_or("the proof has no checkpoint")?;
    let checkpoint = verify_checkpoint(text, key).map_err(|e| format!("checkpoint: {e}"))?;
    if checkpoint.size != size || checkpoint.root != root {
        return Err(format!(
            "the checkpoint (size {}) does not commit to the proof's tree (size {size}) and root",
            checkpoint.size
        ));
    }
    verify_inclusion(index, size, &leaf_hash(body), &path, &root)
}

/// One parsed SCT.
struct Sct<'a> {
    log_id: &'a [u8],
    timestamp: u64,
    extensions: &'a [u8],
    hash_alg: u8,
    sig_alg: u8,
    signature: &'a [u8],
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("truncated SCT list".into());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<usize, String> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
}

fn parse_scts(tls: &[u8]) -> Result<Vec<Sct<'_>>, String> {
    let mut outer = Reader(tls);
    let total = outer.u16()?;
    let mut list = Reader(outer.take(total)?);
    let mut out = Vec::new();
    while !list.0.is_empty() {
        let len = list.u16()?;
        let mut r = Reader(list.take(len)?);
        if r.u8()? != 0 {
            continue; // only v1 SCTs are defined
        }
        let log_id = r.take(32)?;
        let timestamp = r.u64()?;
        let ext_len = r.u16()?;
        let extensions = r.take(ext_len)?;
        let hash_alg = r.u8()?;
        let sig_alg = r.u8()?;
        let sig_len = r.u16()?;
        let signature = r.take(sig_len)?;
        out.push(Sct {
            log_id,
            timestamp,
            extensions,
            hash_alg,
            sig_alg,
            signature,
        });
    }
    Ok(out)
}

/// Checks that `leaf` (issued by `issuer`) embeds an SCT from one of `logs` (log ID hex,
/// key) that verifies.
pub fn check_embedded_sct(
    leaf: &Certificate,
    issuer: &Certificate,
    logs: &[(String, VerifyingKey)],
) -> Result<(), String> {
    let exts = leaf.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    let ext = exts
        .iter()
        .find(|e| e.extn_id == OID_EMBEDDED_SCTS)
        .ok_or("the signing certificate has no embedded SCT")?;
    let tls = OctetString::from_der(ext.extn_value.as_bytes())
        .map_err(|e| format!("SCT extension: {e}"))?;
    let scts = parse_scts(tls.as_bytes())?;
    // The precertificate's TBS: the certificate's, without the SCT extension.
    let mut tbs = leaf.tbs_certificate.clone();
    tbs.extensions = Some(
        exts.iter()
            .filter(|e| e.extn_id != OID_EMBEDDED_SCTS)
            .cloned()
            .collect(),
    );
    let tbs = tbs.to_der().map_err(|e| e.to_string())?;
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|n| *n < 1 << 24)
        .ok_or("the certificate is too large for an SCT")?;
    let issuer_key_hash: Hash = Sha256::digest(
        issuer
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| e.to_string())?,
    )
    .into();
    let mut unknown = Vec::new();
    let mut failed = None;
    for sct in &scts {
        let log_hex: String = sct.log_id.iter().map(|b| format!("{b:02x}")).collect();
        let Some((_, key)) = logs.iter().find(|(id, _)| *id == log_hex) else {
            unknown.push(log_hex);
            continue;
        };
        if sct.hash_alg != 4 || sct.sig_alg != 3 {
            return Err(format!(
                "SCT from log {log_hex}: unsupported algorithm (hash {}, signature {})",
                sct.hash_alg, sct.sig_alg
            ));
        }
        let mut signed = Vec::with_capacity(tbs.len() + 64);
        signed.extend_from_slice(&[0, 0]); // v1, certificate_timestamp
        signed.extend_from_slice(&sct.timestamp.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(
            &u16::try_from(sct.extensions.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        signed.extend_from_slice(sct.extensions);
        if verify_ecdsa(key, &signed, sct.signature) {
            return Ok(());
        }
        failed = Some(format!(
            "the SCT from log {log_hex} does not verify over this certificate"
        ));
    }
    if let Some(f) = failed {
        return Err(f);
    }
    Err(if scts.is_empty() {
        "the SCT extension holds no SCT".into()
    } else {
        format!("no SCT from a trusted CT log (found logs {unknown:?})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962 §2.1's recursive tree hash, to check the iterative verifier against.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                let k = n.next_power_of_two() / 2;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = n.next_power_of_two() / 2;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn inclusion_proofs_for_every_leaf_of_small_trees() {
        for n in 1..=17usize {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
            let root = mth(&leaves);
            for m in 0..n {
                let p = path(m, &leaves);
                verify_inclusion(m as u64, n as u64, &leaves[m], &p, &root).unwrap();
                // Every tamper fails: another index, a flipped path byte, a short path.
                if n > 1 {
                    let other = (m + 1) % n;
                    assert!(
                        verify_inclusion(other as u64, n as u64, &leaves[m], &p, &root).is_err()
                    );
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert!(verify_inclusion(m as u64, n as u64, &leaves[m], &bad, &root).is_err());
                    assert!(verify_inclusion(
                        m as u64,
                        n as u64,
                        &leaves[m],
                        &p[..p.len() - 1],
                        &root
                    )
                    .is_err());
                }
                assert!(verify_inclusion(m as u64, m as u64, &leaves[m], &p, &root).is_err());
            }
        }
    }

    #[test]
    fn malformed_proofs_and_checkpoints_are_errors_not_panics() {
        use p256::ecdsa::SigningKey;
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let vk = *key.verifying_key();
        let body = b"entry";
        let good_root = hex(&leaf_hash(body));
        for proof in [
            serde_json::json!({}),
            serde_json::json!({"logIndex": -1, "treeSize": 1, "rootHash": good_root, "hashes": []}),
            serde_json::json!({"logIndex": 0, "treeSize": 1, "rootHash": format!("a{}", "€".repeat(21)), "hashes": []}),
            serde_json::json!({"logIndex": 0, "treeSize": 1, "rootHash": good_root, "hashes": ["zz"]}),
            serde_json::json!({"logIndex": 0, "treeSize": 1, "rootHash": good_root, "hashes": []}),
            serde_json::json!({"logIndex": 0, "treeSize": 1, "rootHash": good_root, "hashes": [],
                               "checkpoint": "origin\n1\nroot\n"}),
            serde_json::json!({"logIndex": 0, "treeSize": 1, "rootHash": good_root, "hashes": [],
                               "checkpoint": "o\n1\nx\n\n\u{2014} o !!!\n"}),
            serde_json::json!({"logIndex": 0, "treeSize": 1, "rootHash": good_root, "hashes": [],
                               "checkpoint": "o\n1\nx\n\nno dash\n"}),
        ] {
            assert!(check_inclusion_proof(&proof, body, &vk).is_err(), "{proof}");
        }
        assert!(parse_scts(&[]).is_err());
        assert!(parse_scts(&[0, 5, 0, 3, 0]).is_err());
        assert!(parse_scts(&[0, 0]).unwrap().is_empty());
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }
}
