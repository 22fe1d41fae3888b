//! Flags and helpers shared by `spoc push` / `pull` / `sign` / `verify` and by the `oci://`
//! base-profile resolution of `validate`, `convert --resolve` and `run`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use spo_oci::{Reference, Registry, RegistryOptions, Verification};
use spo_seccomp::resolve::BoxError;
use spo_seccomp::SeccompProfile;

use crate::input::Unreadable;

/// Registry connection flags.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// Registry username; used only together with the `PASSWORD` environment variable.
    /// Without both, credentials come from the Docker/Podman auth files.
    #[arg(short = 'u', long, env = "USERNAME", hide_env_values = true)]
    pub username: Option<String>,
    /// Talk plain HTTP instead of HTTPS (local registries).
    #[arg(long)]
    pub plain_http: bool,
    /// Extra CA certificate (PEM) to trust besides the system roots (repeatable).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Vec<PathBuf>,
    /// Overall timeout of the operation, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
    /// Retries on 5xx and connection errors (never on 4xx), with doubling back-off.
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
}

/// Signature-verification flags of `pull` and of `oci://` bases.
#[derive(Debug, Clone, Args)]
pub struct VerifyFlags {
    /// Do not verify the artifact's signature (CLI-23).
    #[arg(
        short = 's',
        long,
        env = "DISABLE_SIGNATURE_VERIFICATION",
        hide_env_values = true
    )]
    pub disable_signature_verification: bool,
    /// cosign public key (PEM) the artifact must be signed with.
    #[arg(long, env = "SPOC_VERIFY_KEY", value_name = "PEM")]
    pub verify_key: Option<PathBuf>,
}

/// Flags for pulling `oci://` base profiles in `validate`, `convert --resolve` and `run`.
#[derive(Debug, Clone, Args)]
pub struct OciBaseArgs {
    /// Pull `oci://` base profiles over plain HTTP.
    #[arg(long = "oci-plain-http")]
    pub plain_http: bool,
    /// Extra CA certificate (PEM) for `oci://` base profiles (repeatable).
    #[arg(long = "oci-ca-file", value_name = "PEM")]
    pub ca_file: Vec<PathBuf>,
    /// cosign public key `oci://` base profiles must be signed with.
    #[arg(long = "oci-verify-key", env = "SPOC_VERIFY_KEY", value_name = "PEM")]
    pub verify_key: Option<PathBuf>,
    /// Do not verify signatures of `oci://` base profiles.
    #[arg(
        long = "oci-disable-signature-verification",
        env = "DISABLE_SIGNATURE_VERIFICATION",
        hide_env_values = true
    )]
    pub disable_signature_verification: bool,
    /// Fulcio root(s) (PEM) for keyless signatures of `oci://` bases (default: public-good).
    #[arg(long = "oci-fulcio-root", env = "SPOC_FULCIO_ROOT", value_name = "PEM")]
    pub fulcio_root: Option<PathBuf>,
    /// Keyless: identity regexp for `oci://` bases (SPOD `allowedIdentityRegexp`).
    #[arg(
        long = "oci-allowed-identity-regexp",
        env = "ALLOWED_IDENTITIES_REGEXP",
        default_value = ".*"
    )]
    pub allowed_identity_regexp: String,
    /// Keyless: OIDC issuer regexp for `oci://` bases (SPOD `allowedOidcIssuerRegexp`).
    #[arg(
        long = "oci-allowed-oidc-issuer-regexp",
        env = "ALLOWED_OIDC_ISSUER_REGEXP",
        default_value = ".*"
    )]
    pub allowed_oidc_issuer_regexp: String,
    /// Rekor log key(s) (PEM) for the bundles of keyless signatures of `oci://` bases
    /// (default: the public-good Rekor key).
    #[arg(long = "oci-rekor-public-key", value_name = "PEM")]
    pub rekor_public_key: Vec<PathBuf>,
    /// CT log key(s) (PEM) whose embedded SCT the Fulcio certificate of a keyless `oci://`
    /// base must carry (no SCT check without one).
    #[arg(long = "oci-ct-log-public-key", value_name = "PEM")]
    pub ct_log_public_key: Vec<PathBuf>,
    /// Refuse keyless `oci://` bases whose Rekor bundle has no inclusion proof.
    #[arg(long = "oci-require-rekor-inclusion-proof")]
    pub require_rekor_inclusion_proof: bool,
}

/// A usage error (exit 2).
pub fn usage(what: impl std::fmt::Display) -> anyhow::Error {
    Unreadable {
        path: "arguments".into(),
        what: what.to_string(),
    }
    .into()
}

/// Parses a reference; an empty one is "no remote location/image provided".
pub fn reference(s: &str) -> Result<Reference> {
    if s.trim().is_empty() {
        return Err(usage("no remote location/image provided"));
    }
    spo_oci::registry::parse_reference(s).map_err(usage)
}

fn read_file(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).map_err(|e| {
        Unreadable {
            path: p.display().to_string(),
            what: e.to_string(),
        }
        .into()
    })
}

/// Registry options from flags and the environment (`PASSWORD`, auth files).
pub fn options(
    args: &RegistryArgs,
    reference: Option<&Reference>,
    max_layer: u64,
) -> Result<RegistryOptions> {
    let password = std::env::var("PASSWORD").ok().filter(|p| !p.is_empty());
    let credentials = match (args.username.clone().filter(|u| !u.is_empty()), password) {
        (Some(u), Some(p)) => Some((u, p)),
        _ => match reference {
            Some(r) => spo_oci::auth::credentials_for(r.registry())?,
            None => None,
        },
    };
    let ca_pems = args
        .ca_file
        .iter()
        .map(|p| read_file(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(RegistryOptions::default()
        .with_plain_http(args.plain_http)
        .with_ca_pems(ca_pems)
        .with_credentials(credentials)
        .with_timeout(Duration::from_secs(args.timeout.max(1)))
        .with_retries(args.retries)
        .with_max_layer(max_layer))
}

/// Keyless verification settings.
pub struct KeylessFlags<'a> {
    /// Fulcio root bundle (PEM); the public-good root when `None`.
    pub fulcio_root: Option<&'a Path>,
    /// Identity regexp.
    pub identity: &'a str,
    /// OIDC issuer regexp.
    pub issuer: &'a str,
    /// Rekor log keys (PEM); the public-good key when empty.
    pub rekor_keys: &'a [PathBuf],
    /// CT log keys (PEM); SCTs are checked only when some are given.
    pub ct_keys: &'a [PathBuf],
    /// Refuse Rekor bundles without an inclusion proof.
    pub require_inclusion_proof: bool,
}

/// The verification policy from flags: disabled, a key, or keyless (Fulcio).
pub fn verification(
    disable: bool,
    key: Option<&Path>,
    keyless: &KeylessFlags<'_>,
) -> Result<Verification> {
    if disable {
        return Ok(Verification::Disabled);
    }
    match key {
        Some(p) => {
            let text = String::from_utf8(read_file(p)?)
                .map_err(|e| usage(format!("{}: {e}", p.display())))?;
            let k =
                spo_oci::sign::parse_public_key(&text).with_context(|| p.display().to_string())?;
            Ok(Verification::Key(k))
        }
        None => {
            let roots = keyless
                .fulcio_root
                .map(|p| {
                    String::from_utf8(read_file(p)?)
                        .map_err(|e| usage(format!("{}: {e}", p.display())))
                })
                .transpose()?;
            let mut policy = spo_oci::keyless::KeylessPolicy::new(
                roots.as_deref(),
                keyless.identity,
                keyless.issuer,
            )
            .map_err(usage)?;
            if !keyless.rekor_keys.is_empty() {
                let pems = keyless
                    .rekor_keys
                    .iter()
                    .map(|p| {
                        String::from_utf8(read_file(p)?)
                            .map_err(|e| usage(format!("{}: {e}", p.display())))
                    })
                    .collect::<Result<Vec<_>>>()?;
                policy = policy.with_rekor_keys(&pems).map_err(usage)?;
            }
            if !keyless.ct_keys.is_empty() {
                let pems = keyless
                    .ct_keys
                    .iter()
                    .map(|p| {
                        String::from_utf8(read_file(p)?)
                            .map_err(|e| usage(format!("{}: {e}", p.display())))
                    })
                    .collect::<Result<Vec<_>>>()?;
                policy = policy.with_ct_log_keys(&pems).map_err(usage)?;
            }
            policy = policy.with_required_inclusion_proof(keyless.require_inclusion_proof);
            Ok(Verification::Keyless(policy))
        }
    }
}

/// A single-threaded runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

static BASE_ARGS: OnceLock<OciBaseArgs> = OnceLock::new();

struct Bases {
    rt: tokio::runtime::Runtime,
    resolver: spo_oci::resolver::OciResolver,
}

static BASES: OnceLock<std::result::Result<Bases, String>> = OnceLock::new();

/// Remembers how `oci://` bases are pulled in this process.
pub fn configure_bases(args: &OciBaseArgs) {
    let _ = BASE_ARGS.set(args.clone());
}

fn make_bases() -> Result<Bases> {
    let args = BASE_ARGS.get().cloned().unwrap_or(OciBaseArgs {
        plain_http: false,
        ca_file: Vec::new(),
        verify_key: None,
        disable_signature_verification: false,
        fulcio_root: None,
        allowed_identity_regexp: ".*".into(),
        allowed_oidc_issuer_regexp: ".*".into(),
        rekor_public_key: Vec::new(),
        ct_log_public_key: Vec::new(),
        require_rekor_inclusion_proof: false,
    });
    let reg_args = RegistryArgs {
        username: None,
        plain_http: args.plain_http,
        ca_file: args.ca_file.clone(),
        timeout: 300,
        retries: 4,
    };
    // SC-17: anonymous pulls, except where the Docker/Podman auth files or credential
    // helpers hold credentials for a base's registry (looked up per registry).
    let mut opts = options(&reg_args, None, spo_oci::registry::DEFAULT_MAX_LAYER)?;
    opts.auth_files = true;
    let verification = verification(
        args.disable_signature_verification,
        args.verify_key.as_deref(),
        &KeylessFlags {
            fulcio_root: args.fulcio_root.as_deref(),
            identity: &args.allowed_identity_regexp,
            issuer: &args.allowed_oidc_issuer_regexp,
            rekor_keys: &args.rekor_public_key,
            ct_keys: &args.ct_log_public_key,
            require_inclusion_proof: args.require_rekor_inclusion_proof,
        },
    )?;
    let registry = Registry::new(opts)?;
    Ok(Bases {
        rt: runtime()?,
        resolver: spo_oci::resolver::OciResolver::new(registry, verification),
    })
}

/// Pulls the `oci://` base profile `name` (blocking), through the process-wide cache.
pub fn fetch_base(name: &str) -> std::result::Result<SeccompProfile, BoxError> {
    let bases = BASES.get_or_init(|| make_bases().map_err(|e| format!("{e:#}")));
    match bases {
        Ok(b) => b.rt.block_on(b.resolver.pull(name)),
        Err(e) => Err(e.clone().into()),
    }
}

/// `spoc push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The reference to push to (`registry/repository:tag`).
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Profile files (repeatable; default /tmp/profile.yaml).
    #[arg(short = 'f', long = "profiles")]
    pub profiles: Vec<PathBuf>,
    /// Platforms, one per profile, `os[/arch][/variant][:os_version]` (repeatable).
    #[arg(short = 'p', long = "platforms")]
    pub platforms: Vec<String>,
    /// Layer annotations `KEY:VALUE` (repeatable; the value may contain `:`).
    #[arg(short = 'a', long = "annotations")]
    pub annotations: Vec<String>,
    /// Sign the pushed digest with this cosign private key (password from COSIGN_PASSWORD).
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `spoc pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The reference to pull (tag or `@sha256:` digest).
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Where to write the profile (atomically, mode 0644).
    #[arg(short = 'o', long = "output-file", default_value = "/tmp/profile.yaml")]
    pub output_file: PathBuf,
    /// The platform to pull (default: the host's `linux/<arch>`).
    #[arg(short = 'p', long, default_value = "")]
    pub platform: String,
    /// Signature verification.
    #[command(flatten)]
    pub verify: VerifyFlags,
    /// Keyless verification: the signer's identity (e-mail or URI) must match.
    #[arg(
        short = 'i',
        long,
        env = "ALLOWED_IDENTITIES_REGEXP",
        default_value = ".*"
    )]
    pub allowed_identity_regexp: String,
    /// Keyless verification: OIDC issuer regexp (no short alias: upstream's `-o` clashed).
    #[arg(long, env = "ALLOWED_OIDC_ISSUER_REGEXP", default_value = ".*")]
    pub allowed_oidc_issuer_regexp: String,
    /// Keyless verification: trusted Fulcio root(s), PEM (default: the public-good root).
    #[arg(long, env = "SPOC_FULCIO_ROOT", value_name = "PEM")]
    pub fulcio_root: Option<PathBuf>,
    /// Keyless verification: Rekor log key(s), PEM, for signature bundles (default: the
    /// public-good Rekor key; repeatable).
    #[arg(long, value_name = "PEM")]
    pub rekor_public_key: Vec<PathBuf>,
    /// Keyless verification: CT log key(s), PEM; the Fulcio certificate must then embed an
    /// SCT from one of them that verifies (no SCT check without one; repeatable).
    #[arg(long, env = "SPOC_CT_LOG_PUBLIC_KEY", value_name = "PEM")]
    pub ct_log_public_key: Vec<PathBuf>,
    /// Keyless verification: refuse Rekor bundles without an inclusion proof (a proof that
    /// is present is always checked).
    #[arg(long)]
    pub require_rekor_inclusion_proof: bool,
    /// Largest profile layer read, in bytes.
    #[arg(long, default_value_t = spo_oci::registry::DEFAULT_MAX_LAYER)]
    pub max_layer_size: u64,
    /// Also accept RawSelinuxProfile and raw seccomp JSON (by default only SeccompProfile,
    /// SelinuxProfile and AppArmorProfile are accepted, as upstream does: CLI-26).
    #[arg(long)]
    pub allow_raw_kinds: bool,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `spoc sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The artifact (tag or digest).
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// cosign private key (password from COSIGN_PASSWORD).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `spoc verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The artifact (tag or digest).
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// cosign public key (PEM).
    #[arg(long, value_name = "PEM")]
    pub key: PathBuf,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `spoc generate-key-pair`.
#[derive(Debug, Args)]
pub struct KeyPairArgs {
    /// Prefix of the files written: `<prefix>.key` and `<prefix>.pub`.
    #[arg(long, default_value = "cosign")]
    pub output_key_prefix: String,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// The password for a cosign private key: `COSIGN_PASSWORD` (may be empty, as in cosign).
pub fn cosign_password() -> Result<String> {
    std::env::var("COSIGN_PASSWORD")
        .map_err(|_| usage("set COSIGN_PASSWORD to the private key's password"))
}

/// Opens a cosign private key file.
pub fn signing_key(path: &Path) -> Result<spo_oci::sign::SigningKey> {
    let text = String::from_utf8(read_file(path)?)
        .map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let password = cosign_password()?;
    spo_oci::sign::decrypt_private_key(&text, password.as_bytes())
        .with_context(|| path.display().to_string())
}
