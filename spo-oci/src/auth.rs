//! Registry credentials from the Docker/Podman auth files, as skopeo and oras read them
//! (`$REGISTRY_AUTH_FILE`, `${XDG_RUNTIME_DIR}/containers/auth.json`,
//! `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`), including credential helpers
//! as docker runs them: `credHelpers[registry]` first, then `credsStore`, then the inline
//! `auths` entry; a helper is `docker-credential-<name> get` with the server URL on stdin
//! and `{"Username", "Secret"}` JSON on stdout.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

/// Finds `registry`'s `user:password` in one auth file's JSON text (pure).
pub fn lookup(json: &str, registry: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let auths = v.get("auths")?.as_object()?;
    let norm = |k: &str| {
        let k = k
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        k.split('/').next().unwrap_or(k).to_owned()
    };
    let wanted = norm(registry);
    let aliases: &[&str] = if wanted == "docker.io" || wanted == "index.docker.io" {
        &["docker.io", "index.docker.io", "registry-1.docker.io"]
    } else {
        &[]
    };
    let entry = auths.iter().find_map(|(k, e)| {
        let k = norm(k);
        (k == wanted || aliases.contains(&k.as_str())).then_some(e)
    })?;
    if let (Some(u), Some(p)) = (
        entry.get("username").and_then(|u| u.as_str()),
        entry.get("password").and_then(|p| p.as_str()),
    ) {
        return Some((u.to_owned(), p.to_owned()));
    }
    let decoded = B64.decode(entry.get("auth")?.as_str()?.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// Where one auth file says a registry's credentials are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Ask the credential helper `docker-credential-<name>` (from `credHelpers` or
    /// `credsStore`).
    Helper(String),
    /// `user` and `password` written in the file's `auths`.
    Inline(String, String),
}

/// A credential helper failed.
#[derive(Debug, thiserror::Error)]
#[error("credential helper docker-credential-{helper} (for {registry}): {reason}")]
pub struct AuthError {
    /// The helper's name (`docker-credential-<helper>`).
    pub helper: String,
    /// The registry asked about.
    pub registry: String,
    /// What went wrong.
    pub reason: String,
}

fn normalise_host(k: &str) -> String {
    let k = k
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    k.split('/').next().unwrap_or(k).to_owned()
}

fn is_docker_hub(host: &str) -> bool {
    matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

/// Where `registry`'s credentials are according to one auth file's JSON text (pure), with
/// docker's precedence: `credHelpers[registry]`, then `credsStore`, then `auths`.
pub fn source(json: &str, registry: &str) -> Option<CredentialSource> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let wanted = normalise_host(registry);
    let helper = v
        .get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|h| {
            h.iter().find_map(|(k, name)| {
                let k = normalise_host(k);
                (k == wanted || (is_docker_hub(&k) && is_docker_hub(&wanted)))
                    .then(|| name.as_str())
                    .flatten()
            })
        })
        .or_else(|| v.get("credsStore").and_then(|s| s.as_str()))
        .filter(|n| !n.is_empty());
    if let Some(name) = helper {
        return Some(CredentialSource::Helper(name.to_owned()));
    }
    lookup(json, registry).map(|(u, p)| CredentialSource::Inline(u, p))
}

/// The server URL a helper is asked about: the registry host, and docker's historical
/// `https://index.docker.io/v1/` for Docker Hub (as the docker CLI stores it).
pub fn helper_server_url(registry: &str) -> String {
    let host = normalise_host(registry);
    if is_docker_hub(&host) {
        "https://index.docker.io/v1/".into()
    } else {
        host
    }
}

/// Parses a helper's `get` answer (pure): `Ok(None)` for "credentials not found" or an
/// identity token (OAuth refresh tokens are not supported: anonymous access is tried).
pub fn parse_helper_output(
    helper: &str,
    registry: &str,
    success: bool,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<Option<(String, String)>, AuthError> {
    let err = |reason: String| AuthError {
        helper: helper.into(),
        registry: registry.into(),
        reason,
    };
    let out = String::from_utf8_lossy(stdout);
    if !success {
        // The helper protocol's "not found" message (docker-credential-helpers).
        if out.contains("credentials not found") {
            return Ok(None);
        }
        let msg = if out.trim().is_empty() {
            String::from_utf8_lossy(stderr).trim().to_owned()
        } else {
            out.trim().to_owned()
        };
        return Err(err(format!("`get` failed: {msg}")));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let a: Answer = serde_json::from_str(out.trim())
        .map_err(|e| err(format!("`get` printed no credentials JSON: {e}")))?;
    if a.username == "<token>" {
        tracing::warn!(
            helper,
            registry,
            "the credential helper returned an identity token, which is not supported"
        );
        return Ok(None);
    }
    if a.username.is_empty() && a.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some((a.username, a.secret)))
}

/// Runs `docker-credential-<helper> get` (host I/O, found on `PATH`) for `registry`.
pub fn run_helper(helper: &str, registry: &str) -> Result<Option<(String, String)>, AuthError> {
    let err = |reason: String| AuthError {
        helper: helper.into(),
        registry: registry.into(),
        reason,
    };
    if helper.contains(['/', '\\']) {
        return Err(err("a helper name must not contain a path separator".into()));
    }
    let program = format!("docker-credential-{helper}");
    // The server URL goes into a pipe that is filled and closed before the helper starts:
    // a helper that exits without reading cannot break a write of ours (no SIGPIPE).
    let (stdin, mut feed) =
        std::io::pipe().map_err(|e| err(format!("cannot make a pipe for {program}: {e}")))?;
    feed.write_all(helper_server_url(registry).as_bytes())
        .map_err(|e| err(format!("cannot write the server URL for {program}: {e}")))?;
    drop(feed);
    let child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("cannot run {program}: {e}")))?;
    let out = child
        .wait_with_output()
        .map_err(|e| err(format!("{program} did not finish: {e}")))?;
    parse_helper_output(
        helper,
        registry,
        out.status.success(),
        &out.stdout,
        &out.stderr,
    )
}

/// Reads the auth files (host I/O) and returns `registry`'s credentials: the first file
/// that names a source decides (a helper that has none → the next file); a failing helper
/// is an error naming it.
pub fn credentials_for(registry: &str) -> Result<Option<(String, String)>, AuthError> {
    for f in auth_files() {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        match source(&text, registry) {
            None => {}
            Some(CredentialSource::Inline(u, p)) => {
                tracing::debug!(file = %f.display(), registry, "credentials from auth file");
                return Ok(Some((u, p)));
            }
            Some(CredentialSource::Helper(h)) => {
                if let Some(c) = run_helper(&h, registry)? {
                    tracing::debug!(file = %f.display(), helper = %h, registry, "credentials from helper");
                    return Ok(Some(c));
                }
            }
        }
    }
    Ok(None)
}

/// The auth files searched, in order, from the environment.
pub fn auth_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(f) = std::env::var_os("REGISTRY_AUTH_FILE") {
        out.push(PathBuf::from(f));
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR") {
        out.push(PathBuf::from(d).join("containers/auth.json"));
    }
    if let Some(d) = std::env::var_os("DOCKER_CONFIG") {
        out.push(PathBuf::from(d).join("config.json"));
    } else if let Some(h) = std::env::var_os("HOME") {
        out.push(PathBuf::from(h).join(".docker/config.json"));
    }
    out
}

/// Reads the auth files (host I/O) and returns the first credentials for `registry` written
/// inline in `auths` (no helper is run; see [`credentials_for`]).
pub fn from_auth_files(registry: &str) -> Option<(String, String)> {
    auth_files().into_iter().find_map(|f| {
        let text = std::fs::read_to_string(&f).ok()?;
        let found = lookup(&text, registry);
        if found.is_some() {
            tracing::debug!(file = %f.display(), registry, "credentials from auth file");
        }
        found
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: CLI-21
    #[test]
    fn finds_docker_and_podman_entries() {
        let auth = B64.encode("alice:s3:cret");
        let json = format!(
            r#"{{"auths":{{"https://127.0.0.1:5000/v1/":{{"auth":"{auth}"}},"other.io":{{"username":"u","password":"p"}}}}}}"#
        );
        assert_eq!(
            lookup(&json, "127.0.0.1:5000"),
            Some(("alice".into(), "s3:cret".into()))
        );
        assert_eq!(lookup(&json, "other.io"), Some(("u".into(), "p".into())));
        assert_eq!(lookup(&json, "127.0.0.1:5001"), None);
        assert_eq!(lookup("not json", "x"), None);
    }

    // covers: CLI-21 (credential helpers take precedence as in docker)
    #[test]
    fn helpers_take_precedence_like_docker() {
        let auth = B64.encode("inline:pw");
        let json = format!(
            r#"{{"auths":{{"a.io":{{"auth":"{auth}"}},"b.io":{{"auth":"{auth}"}}}},"credsStore":"store","credHelpers":{{"a.io":"special","docker.io":"hub"}}}}"#
        );
        assert_eq!(
            source(&json, "a.io"),
            Some(CredentialSource::Helper("special".into()))
        );
        assert_eq!(
            source(&json, "b.io"),
            Some(CredentialSource::Helper("store".into()))
        );
        assert_eq!(
            source(&json, "index.docker.io"),
            Some(CredentialSource::Helper("hub".into()))
        );
        let plain = format!(r#"{{"auths":{{"a.io":{{"auth":"{auth}"}}}}}}"#);
        assert_eq!(
            source(&plain, "a.io"),
            Some(CredentialSource::Inline("inline".into(), "pw".into()))
        );
        assert_eq!(source(&plain, "c.io"), None);
        assert_eq!(
            helper_server_url("docker.io"),
            "https://index.docker.io/v1/"
        );
        assert_eq!(helper_server_url("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn helper_answers_parse() {
        let ok = br#"{"ServerURL":"a.io","Username":"u","Secret":"s:x"}"#;
        assert_eq!(
            parse_helper_output("h", "a.io", true, ok, b"").unwrap(),
            Some(("u".into(), "s:x".into()))
        );
        assert_eq!(
            parse_helper_output(
                "h",
                "a.io",
                false,
                b"credentials not found in native keychain\n",
                b""
            )
            .unwrap(),
            None
        );
        let e = parse_helper_output("h", "a.io", false, b"", b"boom").unwrap_err();
        assert!(
            e.to_string().contains("docker-credential-h") && e.to_string().contains("boom"),
            "{e}"
        );
        assert!(parse_helper_output("h", "a.io", true, b"nope", b"").is_err());
        let token = br#"{"Username":"<token>","Secret":"refresh"}"#;
        assert_eq!(
            parse_helper_output("h", "a.io", true, token, b"").unwrap(),
            None
        );
    }
}
