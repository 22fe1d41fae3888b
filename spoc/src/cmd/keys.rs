//! `spoc generate-key-pair`: `cosign.key` (cosign's encrypted format, password from
//! COSIGN_PASSWORD) and `cosign.pub` (PEM), so users without cosign can sign.

use std::path::PathBuf;

use anyhow::Result;

use crate::cmd::oci::{self, KeyPairArgs};
use crate::Outcome;

/// Runs `spoc generate-key-pair`.
pub fn run(args: &KeyPairArgs) -> Result<Outcome> {
    let password = oci::cosign_password()?;
    let key_path = PathBuf::from(format!("{}.key", args.output_key_prefix));
    let pub_path = PathBuf::from(format!("{}.pub", args.output_key_prefix));
    for p in [&key_path, &pub_path] {
        if !args.force && std::fs::symlink_metadata(p).is_ok() {
            return Err(oci::usage(format!(
                "{} exists; pass --force to overwrite",
                p.display()
            )));
        }
    }
    let key = spo_oci::sign::generate_key()?;
    let private = spo_oci::sign::encrypt_private_key(&key, password.as_bytes())?;
    let public = spo_oci::sign::public_key_pem(key.verifying_key())?;
    crate::output::write_atomic(&key_path, private.as_bytes(), 0o600)?;
    crate::output::write_atomic(&pub_path, public.as_bytes(), 0o644)?;
    eprintln!("Private key written to {}", key_path.display());
    eprintln!("Public key written to {}", pub_path.display());
    Ok(Outcome::Ok)
}
