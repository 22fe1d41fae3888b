//! Registry credentials from the Docker/Podman auth files, as skopeo and oras read them
//! (`$REGISTRY_AUTH_FILE`, `${XDG_RUNTIME_DIR}/containers/auth.json`,
//! `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`). Credential helpers
//! (`credsStore`, `credHelpers`) are not run.

use std::path::PathBuf;

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

/// Reads the auth files (host I/O) and returns the first credentials for `registry`.
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
}
