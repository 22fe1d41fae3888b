//! `spoc push` / `pull` / `sign` / `verify` / `generate-key-pair` and `oci://` base profiles
//! against a real `docker-registry` on 127.0.0.1, with skopeo and oras-py as independent peers
//! and Python `cryptography` + PyNaCl as an independent implementation of cosign's formats.
#![allow(clippy::unwrap_used)]

mod oci_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oci_support::{peer, peer_ok, skopeo_raw, test_fulcio, Fault, Mode, Proxy, Registry};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs spoc with a clean registry environment plus `env`.
fn spoc_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spoc"));
    c.args(args);
    for k in [
        "USERNAME",
        "PASSWORD",
        "DISABLE_SIGNATURE_VERIFICATION",
        "SPOC_VERIFY_KEY",
        "REGISTRY_AUTH_FILE",
        "XDG_RUNTIME_DIR",
        "COSIGN_PASSWORD",
        "ALLOWED_IDENTITIES_REGEXP",
        "ALLOWED_OIDC_ISSUER_REGEXP",
    ] {
        c.env_remove(k);
    }
    c.env("DOCKER_CONFIG", "/nonexistent-spo-test");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn spoc(args: &[&str]) -> Output {
    spoc_env(args, &[])
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[track_caller]
fn fails(out: &Output, code: i32, needle: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn seccomp(name: &str, syscalls: &[&str], base: Option<&str>) -> String {
    let base = base
        .map(|b| format!("  baseProfileName: {b}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n\
         metadata:\n  name: {name}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n{base}  syscalls:\n  \
         - action: SCMP_ACT_ALLOW\n    names: [{}]\n",
        syscalls.join(", ")
    )
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn other_arch() -> &'static str {
    if host_arch() == "amd64" {
        "arm64"
    } else {
        "amd64"
    }
}

/// A key pair made by `spoc generate-key-pair` in `dir` (password "pw").
fn keypair(dir: &Path, prefix: &str) -> (PathBuf, PathBuf) {
    let pfx = dir.join(prefix);
    ok(&spoc_env(
        &["generate-key-pair", "--output-key-prefix", s(&pfx)],
        &[("COSIGN_PASSWORD", "pw")],
    ));
    (pfx.with_extension("key"), pfx.with_extension("pub"))
}

fn digest_of(reference: &str) -> String {
    let out = skopeo_raw(reference);
    assert!(out.status.success(), "{}", text(&out.stderr));
    spo_sha256(&out.stdout)
}

fn spo_sha256(b: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b)?;
            c.wait_with_output()
        })
        .unwrap();
    format!("sha256:{}", &text(&out.stdout)[..64])
}

// covers: CLI-18, CLI-20 (weak point 3), and interop: skopeo reads what spoc pushes.
#[test]
fn push_writes_upstream_layout_read_by_skopeo_cli_18_cli_20() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.yaml", &seccomp("a", &["read"], None));
    let b = write(d.path(), "b.yaml", &seccomp("b", &["write"], None));
    let r = reg.reference("profiles/layout:v1");
    let out = ok(&spoc(&[
        "push",
        "--plain-http",
        "-f",
        s(&a),
        "-p",
        "linux/amd64",
        "-f",
        s(&b),
        "-p",
        "linux/arm64/v8",
        "-a",
        "url:https://example.com:8443/x",
        &r,
    ]));
    let raw = skopeo_raw(&r);
    assert!(raw.status.success(), "{}", text(&raw.stderr));
    let m: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert!(out.trim().ends_with(&spo_sha256(&raw.stdout)), "{out}");
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["artifactType"], "application/vnd.unknown.config.v1+json");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(
        m["config"]["digest"],
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(m["config"]["size"], 2);
    let created = m["annotations"]["org.opencontainers.image.created"]
        .as_str()
        .unwrap();
    assert!(created.len() == 20 && created.ends_with('Z'), "{created}");
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        "profile-linux-amd64.yaml"
    );
    assert_eq!(
        layers[1]["annotations"]["org.opencontainers.image.title"],
        "profile-linux-arm64-v8.yaml"
    );
    assert_eq!(layers[1]["platform"]["architecture"], "arm64");
    assert_eq!(layers[1]["platform"]["variant"], "v8");
    for l in layers {
        assert_eq!(l["annotations"]["url"], "https://example.com:8443/x");
    }
    assert_eq!(layers[0]["size"], std::fs::metadata(&a).unwrap().len());
}

// covers: CLI-19
#[test]
fn push_pairing_errors_are_usage_errors_before_any_network_cli_19() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.yaml", &seccomp("a", &["read"], None));
    // Nothing listens on port 1: these must fail before contacting a registry.
    let r = "127.0.0.1:1/p:v1";
    fails(
        &spoc(&["push", "--plain-http", "-f", s(&a), "-f", s(&a), r]),
        2,
        "multiple profiles provided but no platforms set",
    );
    fails(
        &spoc(&[
            "push",
            "--plain-http",
            "-f",
            s(&a),
            "-p",
            "linux/amd64",
            "-p",
            "linux/arm64",
            r,
        ]),
        2,
        "number of profiles and platforms do not match",
    );
    fails(
        &spoc(&[
            "push",
            "--plain-http",
            "-f",
            s(&a),
            "-p",
            "linux/amd64",
            "-f",
            s(&a),
            "-p",
            "linux/amd64",
            r,
        ]),
        2,
        "duplicate platform linux/amd64",
    );
    fails(
        &spoc(&["push", "--plain-http", "-f", s(&a), "-p", "/amd64", r]),
        2,
        "empty OS",
    );
    fails(
        &spoc(&["push", "--plain-http", "-f", s(&a), "-a", "novalue", r]),
        2,
        "expected KEY:VALUE",
    );
    fails(
        &spoc(&["push", "--plain-http", "-f", s(&a), ""]),
        2,
        "no remote location/image provided",
    );
}

// covers: CLI-18 (every profile is validated before it leaves the machine)
#[test]
fn push_refuses_invalid_profiles_and_pushes_nothing() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let good = write(d.path(), "good.yaml", &seccomp("good", &["read"], None));
    let bad = write(
        d.path(),
        "bad.yaml",
        &seccomp("bad", &["read"], None).replace("SCMP_ACT_ALLOW", "SCMP_ACT_MAYBE"),
    );
    let binding = write(
        d.path(),
        "binding.yaml",
        "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: ProfileBinding\n\
         metadata:\n  name: x\nspec:\n  profileRef: {kind: SeccompProfile, name: p}\n  image: nginx\n",
    );
    let r = reg.reference("profiles/invalid:v1");
    let err = fails(
        &spoc(&[
            "push",
            "--plain-http",
            "-f",
            s(&good),
            "-p",
            "linux/amd64",
            "-f",
            s(&bad),
            "-p",
            "linux/arm64",
            &r,
        ]),
        1,
        "nothing pushed",
    );
    assert!(err.contains("bad.yaml"), "{err}");
    fails(
        &spoc(&["push", "--plain-http", "-f", s(&binding), &r]),
        1,
        "ProfileBinding cannot be pushed",
    );
    assert!(!skopeo_raw(&r).status.success(), "the tag must not exist");
    let missing = d.path().join("missing.yaml");
    fails(
        &spoc(&["push", "--plain-http", "-f", s(&missing), &r]),
        2,
        "missing.yaml",
    );
}

// covers: CLI-23, CLI-24, CLI-25, CLI-26 (signed round trip, platform pick, digest pin)
#[test]
fn signed_push_then_pull_picks_the_platform_cli_23_to_26() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let (key, public) = keypair(d.path(), "cosign");
    let host_p = seccomp("host", &["read"], None);
    let other_p = seccomp("other", &["write"], None);
    let h = write(d.path(), "h.yaml", &host_p);
    let o = write(d.path(), "o.yaml", &other_p);
    let r = reg.reference("profiles/signed:v1");
    let host_plat = format!("linux/{}", host_arch());
    let other_plat = format!("linux/{}", other_arch());
    let out = ok(&spoc_env(
        &[
            "push",
            "--plain-http",
            "--sign-key",
            s(&key),
            "-f",
            s(&h),
            "-p",
            &host_plat,
            "-f",
            s(&o),
            "-p",
            &other_plat,
            &r,
        ],
        &[("COSIGN_PASSWORD", "pw")],
    ));
    let digest = digest_of(&r);
    assert!(out.contains(&digest), "{out}");
    // Default platform = host.
    let target = d.path().join("out.yaml");
    let out = spoc(&[
        "pull",
        "--plain-http",
        "--verify-key",
        s(&public),
        &r,
        "-o",
        s(&target),
    ]);
    let err = text(&out.stderr);
    ok(&out);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), host_p);
    assert!(
        err.contains(&format!("@{digest}")),
        "pinned digest logged: {err}"
    );
    assert!(err.contains("Got SeccompProfile: host"), "{err}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o644
    );
    // Another platform, and by digest.
    let by_digest = format!("{}/profiles/signed@{digest}", reg.addr);
    ok(&spoc(&[
        "pull",
        "--plain-http",
        "--verify-key",
        s(&public),
        "-p",
        &other_plat,
        &by_digest,
        "-o",
        s(&target),
    ]));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), other_p);
    // No such platform: the error lists what there is.
    let err = fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "--verify-key",
            s(&public),
            "-p",
            "linux/s390x",
            &r,
            "-o",
            s(&d.path().join("none.yaml")),
        ]),
        1,
        "no profile for platform linux/s390x",
    );
    assert!(
        err.contains(&host_plat) && err.contains(&other_plat),
        "{err}"
    );
    assert!(!d.path().join("none.yaml").exists());
    // spoc verify agrees; an independent implementation (oras-py + cryptography) does too.
    ok(&spoc(&["verify", "--plain-http", "--key", s(&public), &r]));
    let v = peer_ok(&[
        "cosign-verify",
        &reg.addr,
        "profiles/signed",
        &digest,
        s(&public),
    ]);
    assert!(v.contains("verified"), "{v}");
}

// covers: CLI-23
#[test]
fn pull_refuses_unsigned_and_wrongly_signed_unless_disabled_cli_23() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let (key, _public) = keypair(d.path(), "a");
    let (_key2, public2) = keypair(d.path(), "b");
    let p = write(d.path(), "p.yaml", &seccomp("p", &["read"], None));
    let unsigned = reg.reference("profiles/unsigned:v1");
    let signed = reg.reference("profiles/other-key:v1");
    ok(&spoc(&["push", "--plain-http", "-f", s(&p), &unsigned]));
    ok(&spoc_env(
        &[
            "push",
            "--plain-http",
            "--sign-key",
            s(&key),
            "-f",
            s(&p),
            &signed,
        ],
        &[("COSIGN_PASSWORD", "pw")],
    ));
    let target = d.path().join("out.yaml");
    let t = s(&target);
    fails(
        &spoc(&["pull", "--plain-http", &unsigned, "-o", t]),
        1,
        "the artifact is not signed",
    );
    fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "--verify-key",
            s(&public2),
            &unsigned,
            "-o",
            t,
        ]),
        1,
        "the artifact is not signed",
    );
    fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "--verify-key",
            s(&public2),
            &signed,
            "-o",
            t,
        ]),
        1,
        "the signature does not match the key",
    );
    fails(
        &spoc(&["verify", "--plain-http", "--key", s(&public2), &signed]),
        1,
        "signature verification failed",
    );
    assert!(!target.exists(), "no output on failure");
    ok(&spoc(&["pull", "--plain-http", "-s", &unsigned, "-o", t]));
    std::fs::remove_file(&target).unwrap();
    ok(&spoc_env(
        &["pull", "--plain-http", &unsigned, "-o", t],
        &[("DISABLE_SIGNATURE_VERIFICATION", "true")],
    ));
    assert!(target.exists());
    // A wrong password is a clear error, and nothing is pushed.
    let r3 = reg.reference("profiles/wrong-pw:v1");
    fails(
        &spoc_env(
            &[
                "push",
                "--plain-http",
                "--sign-key",
                s(&key),
                "-f",
                s(&p),
                &r3,
            ],
            &[("COSIGN_PASSWORD", "nope")],
        ),
        1,
        "wrong password",
    );
    assert!(!skopeo_raw(&r3).status.success());
}

// covers: CLI-26 (raw bytes written atomically; a symlink at the target is replaced, not followed)
#[test]
fn pull_replaces_a_symlink_instead_of_following_it_cli_26() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let content = seccomp("p", &["read"], None);
    let p = write(d.path(), "p.yaml", &content);
    let r = reg.reference("profiles/link:v1");
    ok(&spoc(&["push", "--plain-http", "-f", s(&p), &r]));
    let victim = write(d.path(), "victim", "keep me\n");
    let link = d.path().join("out.yaml");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    ok(&spoc(&["pull", "--plain-http", "-s", &r, "-o", s(&link)]));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    assert!(!std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&link).unwrap(), content);
}

// covers: CLI-25, CLI-26; interop: oras-py pushes upstream's exact layout, spoc pulls it, and
// oras-py pulls what spoc pushes.
#[test]
fn interop_with_oras_py_both_ways_cli_25() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let host_p = seccomp("host", &["read"], None);
    let other_p = seccomp("other", &["write"], None);
    let h = write(d.path(), "h.yaml", &host_p);
    let o = write(d.path(), "o.yaml", &other_p);
    let tmp = d.path().join("peer");
    std::fs::create_dir(&tmp).unwrap();
    let up = reg.reference("upstream/layout:v1");
    let host_plat = format!("linux/{}", host_arch());
    let other_plat = format!("linux/{}", other_arch());
    peer_ok(&[
        "push-upstream",
        &reg.addr,
        &up,
        s(&tmp),
        s(&o),
        &other_plat,
        s(&h),
        &host_plat,
    ]);
    let target = d.path().join("out.yaml");
    ok(&spoc(&[
        "pull",
        "--plain-http",
        "-s",
        &up,
        "-o",
        s(&target),
    ]));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), host_p);
    // A single `profile.yaml` (no platform) serves every platform.
    let single = reg.reference("upstream/single:v1");
    peer_ok(&[
        "push-file",
        &reg.addr,
        &single,
        s(&tmp),
        "profile.yaml",
        s(&o),
        "application/vnd.oci.image.layer.v1.tar",
    ]);
    ok(&spoc(&[
        "pull",
        "--plain-http",
        "-s",
        "-p",
        "linux/s390x",
        &single,
        "-o",
        s(&target),
    ]));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), other_p);
    // The other way: oras-py pulls spoc's artifact and gets the titled files.
    let mine = reg.reference("spoc/pushed:v1");
    ok(&spoc(&[
        "push",
        "--plain-http",
        "-f",
        s(&h),
        "-p",
        "linux/amd64",
        "-f",
        s(&o),
        "-p",
        "linux/arm64",
        &mine,
    ]));
    let outdir = d.path().join("oras-out");
    let files = peer_ok(&["pull", &reg.addr, &mine, s(&outdir)]);
    assert_eq!(
        files.trim(),
        "profile-linux-amd64.yaml\nprofile-linux-arm64.yaml"
    );
    assert_eq!(
        std::fs::read_to_string(outdir.join("profile-linux-arm64.yaml")).unwrap(),
        other_p
    );
}

// covers: CLI-26 (kind check), and manifests that are not SPO artifacts
#[test]
fn pull_refuses_unknown_kinds_and_foreign_manifests_cli_26() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let tmp = d.path().join("peer");
    std::fs::create_dir(&tmp).unwrap();
    let binding = write(
        d.path(),
        "b.yaml",
        "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: ProfileBinding\n\
         metadata:\n  name: x\n",
    );
    let kind_ref = reg.reference("bad/kind:v1");
    peer_ok(&[
        "push-file",
        &reg.addr,
        &kind_ref,
        s(&tmp),
        "profile.yaml",
        s(&binding),
        "application/vnd.oci.image.layer.v1.tar",
    ]);
    let target = d.path().join("out.yaml");
    fails(
        &spoc(&["pull", "--plain-http", "-s", &kind_ref, "-o", s(&target)]),
        1,
        "the artifact holds kind \"ProfileBinding\", expected one of SeccompProfile, SelinuxProfile, AppArmorProfile",
    );
    let foreign = reg.reference("bad/foreign:v1");
    peer_ok(&[
        "push-file",
        &reg.addr,
        &foreign,
        s(&tmp),
        "rootfs.tar.gz",
        s(&binding),
        "application/vnd.oci.image.layer.v1.tar+gzip",
    ]);
    fails(
        &spoc(&["pull", "--plain-http", "-s", &foreign, "-o", s(&target)]),
        1,
        "not a security profile artifact",
    );
    fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "-s",
            &reg.reference("bad/missing:v1"),
            "-o",
            s(&target),
        ]),
        1,
        "not found",
    );
    assert!(!target.exists());
}

// Bad input: a blob whose bytes do not match its digest, and an oversized layer.
#[test]
fn pull_detects_tampered_blobs_and_oversized_layers() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let content = seccomp("p", &["read"], None);
    let p = write(d.path(), "p.yaml", &content);
    let r = reg.reference("bad/tampered:v1");
    ok(&spoc(&["push", "--plain-http", "-f", s(&p), &r]));
    let m: serde_json::Value = serde_json::from_slice(&skopeo_raw(&r).stdout).unwrap();
    let blob = reg.blob_file(m["layers"][0]["digest"].as_str().unwrap());
    let tampered = content.replace("read", "kill");
    assert_eq!(tampered.len(), content.len());
    std::fs::write(&blob, &tampered).unwrap();
    let target = d.path().join("out.yaml");
    fails(
        &spoc(&["pull", "--plain-http", "-s", &r, "-o", s(&target)]),
        1,
        "digest mismatch",
    );
    assert!(!target.exists());
    // 5 MiB layer against the 4 MiB default limit; then a 1 KiB limit.
    let big = write(
        d.path(),
        "big.yaml",
        &format!("{content}#{}\n", "x".repeat(5 << 20)),
    );
    let tmp = d.path().join("peer");
    std::fs::create_dir(&tmp).unwrap();
    let big_ref = reg.reference("bad/big:v1");
    peer_ok(&[
        "push-file",
        &reg.addr,
        &big_ref,
        s(&tmp),
        "profile.yaml",
        s(&big),
        "application/vnd.oci.image.layer.v1.tar",
    ]);
    fails(
        &spoc(&["pull", "--plain-http", "-s", &big_ref, "-o", s(&target)]),
        1,
        "exceeds the limit of 4194304 bytes",
    );
    fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "-s",
            "--max-layer-size",
            "64",
            &r,
            "-o",
            s(&target),
        ]),
        1,
        "exceeds the limit of 64 bytes",
    );
    assert!(!target.exists());
    // A blob that grew in storage beyond its descriptor's size: refused while streaming
    // (Content-Length / bytes read), not read into memory whole.
    let grown = reg.reference("bad/grown:v1");
    ok(&spoc(&["push", "--plain-http", "-f", s(&p), &grown]));
    let m: serde_json::Value = serde_json::from_slice(&skopeo_raw(&grown).stdout).unwrap();
    let blob = reg.blob_file(m["layers"][0]["digest"].as_str().unwrap());
    std::fs::write(&blob, format!("{content}#{}\n", "y".repeat(5 << 20))).unwrap();
    fails(
        &spoc(&["pull", "--plain-http", "-s", &grown, "-o", s(&target)]),
        1,
        "exceeds the limit of 4194304 bytes",
    );
    assert!(!target.exists());
}

// covers: CLI-21 (credentials), 401 without them; auth files like skopeo/oras.
#[test]
fn htpasswd_registry_needs_credentials_cli_21() {
    let reg = Registry::start(Mode::Htpasswd("alice", "s3cret:x"));
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "p.yaml", &seccomp("p", &["read"], None));
    let r = reg.reference("private/p:v1");
    fails(
        &spoc(&["push", "--plain-http", "-f", s(&p), &r]),
        1,
        "unauthorized",
    );
    // USERNAME alone is not enough (both must be set).
    fails(
        &spoc_env(
            &["push", "--plain-http", "-f", s(&p), &r],
            &[("USERNAME", "alice")],
        ),
        1,
        "unauthorized",
    );
    ok(&spoc_env(
        &["push", "--plain-http", "-u", "alice", "-f", s(&p), &r],
        &[("PASSWORD", "s3cret:x")],
    ));
    let target = d.path().join("out.yaml");
    fails(
        &spoc(&["pull", "--plain-http", "-s", &r, "-o", s(&target)]),
        1,
        "unauthorized",
    );
    ok(&spoc_env(
        &["pull", "--plain-http", "-s", &r, "-o", s(&target)],
        &[("USERNAME", "alice"), ("PASSWORD", "s3cret:x")],
    ));
    // A Podman/skopeo auth file ($REGISTRY_AUTH_FILE).
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret:x");
    let file = write(
        d.path(),
        "auth.json",
        &format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr),
    );
    std::fs::remove_file(&target).unwrap();
    ok(&spoc_env(
        &["pull", "--plain-http", "-s", &r, "-o", s(&target)],
        &[("REGISTRY_AUTH_FILE", s(&file))],
    ));
    assert!(target.exists());
}

// HTTPS by default with our own CA + leaf: refused without --ca-file, accepted with it.
#[test]
fn tls_registry_with_own_ca() {
    let reg = Registry::start(Mode::Tls);
    let ca = reg.ca.clone().unwrap();
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "p.yaml", &seccomp("p", &["read"], None));
    let r = reg.reference("tls/p:v1");
    let err = fails(
        &spoc(&["push", "--retries", "0", "-f", s(&p), &r]),
        1,
        "cannot push",
    );
    assert!(!err.contains("panicked"), "{err}");
    ok(&spoc(&["push", "--ca-file", s(&ca), "-f", s(&p), &r]));
    let target = d.path().join("out.yaml");
    ok(&spoc(&[
        "pull",
        "--ca-file",
        s(&ca),
        "-s",
        &r,
        "-o",
        s(&target),
    ]));
    assert!(target.exists());
}

// Retries: 503 then recovery succeeds; a registry that keeps failing gives up (bounded).
#[test]
fn retries_on_503_are_bounded() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let content = seccomp("p", &["read"], None);
    let p = write(d.path(), "p.yaml", &content);
    ok(&spoc(&[
        "push",
        "--plain-http",
        "-f",
        s(&p),
        &reg.reference("r/p:v1"),
    ]));
    let flaky = Proxy::start(&reg.addr, Fault::FailFirst(2));
    let target = d.path().join("out.yaml");
    ok(&spoc(&[
        "pull",
        "--plain-http",
        "-s",
        &format!("{}/r/p:v1", flaky.addr),
        "-o",
        s(&target),
    ]));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), content);
    assert_eq!(flaky.failed.load(std::sync::atomic::Ordering::SeqCst), 2);
    let down = Proxy::start(&reg.addr, Fault::Always);
    let err = fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "-s",
            "--retries",
            "2",
            &format!("{}/r/p:v1", down.addr),
            "-o",
            s(&d.path().join("none.yaml")),
        ]),
        1,
        "failed after 3 attempt(s)",
    );
    assert!(err.contains("503"), "{err}");
    let n = down.failed.load(std::sync::atomic::Ordering::SeqCst);
    // Each attempt is a few requests (auth probe, HEAD, GET); three attempts stay bounded.
    assert!((3..=16).contains(&n), "bounded: {n} connections");
    assert!(!d.path().join("none.yaml").exists());
}

// covers: SC-17, SC-18, SC-20 via spoc: oci:// bases in validate, convert --resolve and run
// chains mixing local and OCI links; cycle detection across both.
#[test]
fn oci_base_profiles_resolve_in_mixed_chains_sc_17_sc_18() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let (key, public) = keypair(d.path(), "cosign");
    let remote_dir = d.path().join("remote");
    std::fs::create_dir(&remote_dir).unwrap();
    let root_ref = reg.reference("bases/root:v1");
    let mid_ref = reg.reference("bases/mid:v1");
    // root (OCI) ← mid (OCI, base: root) ← local-base (file, base: mid) ← app (file)
    let root = write(
        &remote_dir,
        "root.yaml",
        &seccomp("root", &["exit_group"], None),
    );
    let mid = write(
        &remote_dir,
        "mid.yaml",
        &seccomp("mid", &["write"], Some(&format!("oci://{root_ref}"))),
    );
    for (f, r) in [(&root, &root_ref), (&mid, &mid_ref)] {
        ok(&spoc_env(
            &["push", "--plain-http", "--sign-key", s(&key), "-f", s(f), r],
            &[("COSIGN_PASSWORD", "pw")],
        ));
    }
    let local = d.path().join("local");
    std::fs::create_dir(&local).unwrap();
    write(
        &local,
        "local-base.yaml",
        &seccomp("local-base", &["openat"], Some(&format!("oci://{mid_ref}"))),
    );
    let app = write(
        &local,
        "app.yaml",
        &seccomp("app", &["read"], Some("local-base")),
    );
    let out = ok(&spoc(&[
        "convert",
        "--resolve",
        "--oci-plain-http",
        "--oci-verify-key",
        s(&public),
        s(&app),
    ]));
    for sc in ["exit_group", "openat", "read", "write"] {
        assert!(out.contains(sc), "{sc} missing in {out}");
    }
    ok(&spoc(&[
        "validate",
        "--oci-plain-http",
        "--oci-verify-key",
        s(&public),
        s(&app),
    ]));
    // SC-18: unverifiable bases fail (no key; other key); disabling verification works.
    let (_k2, public2) = keypair(d.path(), "other");
    let err = fails(
        &spoc(&[
            "convert",
            "--resolve",
            "--oci-plain-http",
            "--oci-verify-key",
            s(&public2),
            s(&app),
        ]),
        1,
        "signature does not match",
    );
    assert!(err.contains("oci://"), "{err}");
    fails(
        &spoc(&["convert", "--resolve", "--oci-plain-http", s(&app)]),
        1,
        "the signature has no certificate",
    );
    ok(&spoc(&[
        "convert",
        "--resolve",
        "--oci-plain-http",
        "--oci-disable-signature-verification",
        s(&app),
    ]));
    // SC-17: an OCI base must be a SeccompProfile.
    let aa_ref = reg.reference("bases/apparmor:v1");
    let aa = write(
        &remote_dir,
        "aa.yaml",
        "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: AppArmorProfile\n\
         metadata:\n  name: aa\nspec:\n  policy: |\n    profile aa flags=(attach_disconnected) {\n    }\n",
    );
    ok(&spoc(&["push", "--plain-http", "-f", s(&aa), &aa_ref]));
    let wants_aa = write(
        d.path(),
        "wants-aa.yaml",
        &seccomp("w", &["read"], Some(&format!("oci://{aa_ref}"))),
    );
    fails(
        &spoc(&[
            "convert",
            "--resolve",
            "--oci-plain-http",
            "--oci-disable-signature-verification",
            s(&wants_aa),
        ]),
        1,
        "expected one of SeccompProfile",
    );
    // A cycle through an OCI link is detected.
    let cyc_ref = reg.reference("bases/cycle:v1");
    let cyc = write(
        &remote_dir,
        "cyc.yaml",
        &seccomp("cyc", &["read"], Some("loop-local")),
    );
    ok(&spoc(&["push", "--plain-http", "-f", s(&cyc), &cyc_ref]));
    let loop_dir = d.path().join("loop");
    std::fs::create_dir(&loop_dir).unwrap();
    let looping = write(
        &loop_dir,
        "loop-local.yaml",
        &seccomp("loop-local", &["write"], Some(&format!("oci://{cyc_ref}"))),
    );
    fails(
        &spoc(&[
            "convert",
            "--resolve",
            "--oci-plain-http",
            "--oci-disable-signature-verification",
            s(&looping),
        ]),
        1,
        "cycle",
    );
}

// Signatures are cosign's formats: an independent implementation (Python cryptography +
// PyNaCl) opens spoc's cosign.key, and spoc signs with a key that implementation wrote.
#[test]
fn cosign_key_format_interop_with_an_independent_implementation() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let (key, public) = keypair(d.path(), "cosign");
    let out = peer_ok(&["check-key", s(&key), s(&public), "pw"]);
    assert!(out.contains("secp256r1"), "{out}");
    assert!(!peer(&["check-key", s(&key), s(&public), "wrong"])
        .status
        .success());
    let py_key = d.path().join("py.key");
    let py_pub = d.path().join("py.pub");
    peer_ok(&["keygen", s(&py_key), s(&py_pub), "pypw"]);
    // An artifact pushed by another tool (oras-py), signed by `spoc sign` with that key.
    let p = write(d.path(), "p.yaml", &seccomp("p", &["read"], None));
    let tmp = d.path().join("peer");
    std::fs::create_dir(&tmp).unwrap();
    let r = reg.reference("foreign/p:v1");
    peer_ok(&[
        "push-file",
        &reg.addr,
        &r,
        s(&tmp),
        "profile.yaml",
        s(&p),
        "application/vnd.oci.image.layer.v1.tar",
    ]);
    fails(
        &spoc(&["verify", "--plain-http", "--key", s(&py_pub), &r]),
        1,
        "not signed",
    );
    ok(&spoc_env(
        &["sign", "--plain-http", "--key", s(&py_key), &r],
        &[("COSIGN_PASSWORD", "pypw")],
    ));
    ok(&spoc(&["verify", "--plain-http", "--key", s(&py_pub), &r]));
    let digest = digest_of(&r);
    let v = peer_ok(&["cosign-verify", &reg.addr, "foreign/p", &digest, s(&py_pub)]);
    assert!(v.contains("verified"));
    // A second signature is added next to the first, as cosign does.
    ok(&spoc_env(
        &["sign", "--plain-http", "--key", s(&key), &r],
        &[("COSIGN_PASSWORD", "pw")],
    ));
    ok(&spoc(&["verify", "--plain-http", "--key", s(&py_pub), &r]));
    ok(&spoc(&["verify", "--plain-http", "--key", s(&public), &r]));
    // generate-key-pair does not overwrite.
    fails(
        &spoc_env(
            &[
                "generate-key-pair",
                "--output-key-prefix",
                s(&d.path().join("cosign")),
            ],
            &[("COSIGN_PASSWORD", "pw")],
        ),
        2,
        "exists",
    );
}

// covers: CLI-23, CLI-24 (keyless: certificate chain to a configured Fulcio root, identity and
// issuer regexps), SC-18 for oci:// bases. The signature is written by the independent Python
// implementation with a leaf certificate from a test Fulcio made by openssl.
#[test]
fn keyless_signatures_check_root_identity_and_issuer_cli_24() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let (root, chain, leaf, leaf_key) =
        test_fulcio(d.path(), "dev@example.com", "https://issuer.example");
    let content = seccomp("k", &["read"], None);
    let p = write(d.path(), "p.yaml", &content);
    let r = reg.reference("keyless/p:v1");
    ok(&spoc(&["push", "--plain-http", "-f", s(&p), &r]));
    let digest = digest_of(&r);
    let tmp = d.path().join("peer");
    std::fs::create_dir(&tmp).unwrap();
    peer_ok(&[
        "keyless-sign",
        &reg.addr,
        "keyless/p",
        &digest,
        s(&leaf_key),
        s(&leaf),
        s(&chain),
        s(&tmp),
    ]);
    let target = d.path().join("out.yaml");
    let t = s(&target);
    ok(&spoc(&[
        "pull",
        "--plain-http",
        "--fulcio-root",
        s(&root),
        "--allowed-identity-regexp",
        r"^dev@example\.com$",
        "--allowed-oidc-issuer-regexp",
        r"^https://issuer\.example$",
        &r,
        "-o",
        t,
    ]));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), content);
    std::fs::remove_file(&target).unwrap();
    fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "--fulcio-root",
            s(&root),
            "-i",
            "^ops@example",
            &r,
            "-o",
            t,
        ]),
        1,
        "does not match --allowed-identity-regexp",
    );
    fails(
        &spoc_env(
            &[
                "pull",
                "--plain-http",
                "--fulcio-root",
                s(&root),
                &r,
                "-o",
                t,
            ],
            &[(
                "ALLOWED_OIDC_ISSUER_REGEXP",
                "^https://accounts\\.google\\.com$",
            )],
        ),
        1,
        "does not match --allowed-oidc-issuer-regexp",
    );
    // Default trust: the public-good Fulcio root, which did not issue this certificate.
    fails(
        &spoc(&["pull", "--plain-http", &r, "-o", t]),
        1,
        "does not chain to a trusted Fulcio root",
    );
    // Another root: refused too.
    let other = d.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (other_root, ..) = test_fulcio(&other, "dev@example.com", "https://issuer.example");
    fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "--fulcio-root",
            s(&other_root),
            &r,
            "-o",
            t,
        ]),
        1,
        "does not chain to a trusted Fulcio root",
    );
    assert!(!target.exists());
    // The same policy for an oci:// base (SC-18).
    let app = write(
        d.path(),
        "app.yaml",
        &seccomp("app", &["write"], Some(&format!("oci://{r}"))),
    );
    let out = ok(&spoc(&[
        "convert",
        "--resolve",
        "--oci-plain-http",
        "--oci-fulcio-root",
        s(&root),
        "--oci-allowed-identity-regexp",
        "example.com",
        s(&app),
    ]));
    assert!(out.contains("read") && out.contains("write"), "{out}");
    fails(
        &spoc(&[
            "convert",
            "--resolve",
            "--oci-plain-http",
            "--oci-fulcio-root",
            s(&root),
            "--oci-allowed-identity-regexp",
            "^nobody$",
            s(&app),
        ]),
        1,
        "does not match",
    );
}

// The overall timeout bounds a registry that accepts connections and never answers.
#[test]
fn overall_timeout_bounds_a_hanging_registry() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c); // never answered
        }
    });
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("out.yaml");
    fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "-s",
            "--timeout",
            "2",
            &format!("{addr}/x/y:v1"),
            "-o",
            s(&target),
        ]),
        1,
        "timed out after 2 s",
    );
    assert!(!target.exists());
}

// covers: SC-17 through `spoc run`: the oci:// base is pulled, verified and merged before the
// command runs.
#[test]
fn run_resolves_an_oci_base() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let (key, public) = keypair(d.path(), "cosign");
    let (_k2, public2) = keypair(d.path(), "other");
    let base = write(d.path(), "base.yaml", &seccomp("base", &["read"], None));
    let r = reg.reference("bases/run:v1");
    ok(&spoc_env(
        &[
            "push",
            "--plain-http",
            "--sign-key",
            s(&key),
            "-f",
            s(&base),
            &r,
        ],
        &[("COSIGN_PASSWORD", "pw")],
    ));
    let app = write(
        d.path(),
        "app.yaml",
        &format!(
            "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n\
             metadata:\n  name: app\nspec:\n  defaultAction: SCMP_ACT_ALLOW\n  \
             baseProfileName: oci://{r}\n"
        ),
    );
    ok(&spoc(&[
        "run",
        "--no-audit",
        "--oci-plain-http",
        "--oci-verify-key",
        s(&public),
        "-p",
        s(&app),
        "--",
        "/bin/true",
    ]));
    fails(
        &spoc(&[
            "run",
            "--no-audit",
            "--oci-plain-http",
            "--oci-verify-key",
            s(&public2),
            "-p",
            s(&app),
            "--",
            "/bin/true",
        ]),
        1,
        "signature does not match the key",
    );
}

// covers: CLI-21 with bearer tokens: the registry sends clients to a token service, which
// takes the basic credentials and issues a JWT (the Docker/distribution token protocol).
#[test]
fn token_auth_registry_uses_bearer_tokens_cli_21() {
    let reg = Registry::start(Mode::Token("bob", "t0ken"));
    let d = tempfile::tempdir().unwrap();
    let content = seccomp("p", &["read"], None);
    let p = write(d.path(), "p.yaml", &content);
    let r = reg.reference("private/token:v1");
    fails(
        &spoc(&["push", "--plain-http", "-f", s(&p), &r]),
        1,
        "unauthorized",
    );
    ok(&spoc_env(
        &["push", "--plain-http", "-u", "bob", "-f", s(&p), &r],
        &[("PASSWORD", "t0ken")],
    ));
    let target = d.path().join("out.yaml");
    fails(
        &spoc(&["pull", "--plain-http", "-s", &r, "-o", s(&target)]),
        1,
        "unauthorized",
    );
    ok(&spoc_env(
        &[
            "pull",
            "--plain-http",
            "-s",
            "-u",
            "bob",
            &r,
            "-o",
            s(&target),
        ],
        &[("PASSWORD", "t0ken")],
    ));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), content);
}

// covers: CLI-24 with Rekor bundles: a spent (expired) Fulcio certificate verifies at the
// bundle's integrated time when the bundle's signed entry timestamp verifies with a trusted
// Rekor key and the entry matches; not without a bundle, nor with an untrusted log, nor when
// the integrated time lies outside the certificate's validity.
#[test]
fn keyless_rekor_bundle_sets_the_verification_time() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    peer_ok(&[
        "spent-fulcio",
        s(d.path()),
        "dev@example.com",
        "https://issuer.example",
    ]);
    let (root, chain) = (d.path().join("root.pem"), d.path().join("chain.pem"));
    let (leaf, leaf_key) = (d.path().join("leaf.pem"), d.path().join("leaf.key"));
    let (rekor_key, rekor_pub) = (d.path().join("rekor.key"), d.path().join("rekor.pub"));
    peer_ok(&["rekor-keygen", s(&rekor_key), s(&rekor_pub)]);
    let (other_key, other_pub) = (d.path().join("other.key"), d.path().join("other.pub"));
    peer_ok(&["rekor-keygen", s(&other_key), s(&other_pub)]);
    let content = seccomp("k", &["read"], None);
    let p = write(d.path(), "p.yaml", &content);
    let tmp = d.path().join("peer");
    std::fs::create_dir(&tmp).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let in_validity = (now - 9000).to_string(); // 2.5 h ago
    let target = d.path().join("out.yaml");
    let t = s(&target);
    let push_signed = |repo: &str, rekor: Option<(&Path, &str)>| {
        let r = reg.reference(&format!("{repo}:v1"));
        ok(&spoc(&["push", "--plain-http", "-f", s(&p), &r]));
        let digest = digest_of(&r);
        let mut args = vec![
            "keyless-sign",
            &reg.addr,
            repo,
            &digest,
            s(&leaf_key),
            s(&leaf),
            s(&chain),
            s(&tmp),
        ];
        if let Some((k, time)) = rekor {
            args.push(s(k));
            args.push(time);
        }
        peer_ok(&args);
        r
    };
    let pull = |r: &str| {
        spoc(&[
            "pull",
            "--plain-http",
            "--fulcio-root",
            s(&root),
            "--rekor-public-key",
            s(&rekor_pub),
            r,
            "-o",
            t,
        ])
    };
    let good = push_signed("bundle/good", Some((&rekor_key, &in_validity)));
    ok(&pull(&good));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), content);
    std::fs::remove_file(&target).unwrap();
    let none = push_signed("bundle/none", None);
    fails(&pull(&none), 1, "is not valid now (no Rekor bundle)");
    let untrusted = push_signed("bundle/untrusted", Some((&other_key, &in_validity)));
    fails(&pull(&untrusted), 1, "untrusted log");
    let late = push_signed("bundle/late", Some((&rekor_key, &now.to_string())));
    fails(&pull(&late), 1, "is not valid at the Rekor integrated time");
    // The default Rekor key (public-good) does not know the test log either.
    fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "--fulcio-root",
            s(&root),
            &good,
            "-o",
            t,
        ]),
        1,
        "untrusted log",
    );
    assert!(!target.exists());
}

// covers: CLI-18 (every profile kind spo models can be pushed, validated first), CLI-26
// (pull keeps accepting only SeccompProfile / SelinuxProfile / AppArmorProfile unless
// `--allow-raw-kinds` is given; then RawSelinuxProfile and raw seccomp JSON arrive byte for byte)
#[test]
fn raw_kinds_push_validated_and_pull_only_with_opt_in_cli_18_cli_26() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let raw_se = "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: RawSelinuxProfile\n\
                  metadata:\n  name: errorlogger\nspec:\n  policy: |\n    (blockinherit container)\n    \
                  (allow process var_log_t ( dir ( open read getattr search )))\n";
    let raw_json = "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"architectures\": [\"SCMP_ARCH_X86_64\"],\n  \
                    \"syscalls\": [{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]\n}\n";
    let se = write(d.path(), "raw-selinux.yaml", raw_se);
    let js = write(d.path(), "raw.json", raw_json);
    // Invalid raw forms are refused before anything is pushed.
    let bad_se = write(
        d.path(),
        "bad-selinux.yaml",
        &raw_se.replace("(blockinherit container)", "(block inner (type t))"),
    );
    let bad_js = write(
        d.path(),
        "bad.json",
        &raw_json.replace("SCMP_ACT_ALLOW", "SCMP_ACT_SOMETIMES"),
    );
    let bad_ref = reg.reference("raw/bad:v1");
    let err = fails(
        &spoc(&["push", "--plain-http", "-f", s(&bad_se), &bad_ref]),
        1,
        "nothing pushed",
    );
    assert!(err.contains("spec.policy"), "{err}");
    let err = fails(
        &spoc(&["push", "--plain-http", "-f", s(&bad_js), &bad_ref]),
        1,
        "nothing pushed",
    );
    assert!(err.contains("bad.json"), "{err}");
    assert!(!skopeo_raw(&bad_ref).status.success(), "nothing was pushed");

    let target = d.path().join("out");
    for (file, repo, needle, content) in [
        (&se, "raw/selinux:v1", "kind \"RawSelinuxProfile\"", raw_se),
        (&js, "raw/seccomp:v1", "raw seccomp JSON", raw_json),
    ] {
        let r = reg.reference(repo);
        ok(&spoc(&["push", "--plain-http", "-f", s(file), &r]));
        // CLI-26's default: refused, with the way out named; no output file.
        let err = fails(
            &spoc(&["pull", "--plain-http", "-s", &r, "-o", s(&target)]),
            1,
            needle,
        );
        assert!(err.contains("--allow-raw-kinds"), "{err}");
        assert!(!target.exists());
        ok(&spoc(&[
            "pull",
            "--plain-http",
            "-s",
            "--allow-raw-kinds",
            &r,
            "-o",
            s(&target),
        ]));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), content);
        std::fs::remove_file(&target).unwrap();
    }
    // The opt-in widens nothing else: a ProfileBinding is still refused.
    let tmp = d.path().join("peer");
    std::fs::create_dir(&tmp).unwrap();
    let binding = write(
        d.path(),
        "b.yaml",
        "apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: ProfileBinding\n\
         metadata:\n  name: x\n",
    );
    let kind_ref = reg.reference("raw/binding:v1");
    peer_ok(&[
        "push-file",
        &reg.addr,
        &kind_ref,
        s(&tmp),
        "profile.yaml",
        s(&binding),
        "application/vnd.oci.image.layer.v1.tar",
    ]);
    fails(
        &spoc(&[
            "pull",
            "--plain-http",
            "-s",
            "--allow-raw-kinds",
            &kind_ref,
            "-o",
            s(&target),
        ]),
        1,
        "kind \"ProfileBinding\"",
    );
    assert!(!target.exists());
}

// covers: CLI-22 — a deliberate difference from upstream, which always signs keyless through
// the public Sigstore servers: `spoc push` signs only with `--sign-key`. An unsigned push
// leaves no `sha256-<hex>.sig` tag; a push with `--sign-key` creates it.
#[test]
fn push_signs_only_with_sign_key_cli_22() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let (key, _) = keypair(d.path(), "cosign");
    let p = write(d.path(), "p.yaml", &seccomp("p", &["read"], None));
    let sig_of = |out: &str, repo: &str| {
        let digest = out.trim().rsplit('@').next().unwrap().to_owned();
        reg.reference(&format!("{repo}:{}", digest.replace(':', "-") + ".sig"))
    };
    let unsigned = reg.reference("cli22/unsigned:v1");
    let out = spoc(&["push", "--plain-http", "-f", s(&p), &unsigned]);
    let stdout = ok(&out);
    assert!(
        text(&out.stderr).contains("Not signed"),
        "{}",
        text(&out.stderr)
    );
    assert!(skopeo_raw(&unsigned).status.success());
    let sig = skopeo_raw(&sig_of(&stdout, "cli22/unsigned"));
    assert!(
        !sig.status.success(),
        "an unsigned push must not create a .sig tag"
    );
    // With a key: a key-based cosign signature (no Fulcio certificate: nothing keyless).
    let signed = reg.reference("cli22/signed:v1");
    let stdout = ok(&spoc_env(
        &[
            "push",
            "--plain-http",
            "--sign-key",
            s(&key),
            "-f",
            s(&p),
            &signed,
        ],
        &[("COSIGN_PASSWORD", "pw")],
    ));
    let sig = skopeo_raw(&sig_of(&stdout, "cli22/signed"));
    assert!(sig.status.success(), "{}", text(&sig.stderr));
    let m: serde_json::Value = serde_json::from_slice(&sig.stdout).unwrap();
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert!(m["layers"][0]["annotations"]["dev.sigstore.cosign/certificate"].is_null());
}

// covers: CLI-21 with credential helpers, as docker runs them: `credHelpers[registry]` before
// `credsStore` before inline `auths`; `docker-credential-<name> get` reads the server URL on
// stdin and prints JSON; a failing or missing helper is an error that names it.
#[test]
fn credential_helpers_from_docker_config_cli_21() {
    use std::os::unix::fs::PermissionsExt;
    let reg = Registry::start(Mode::Htpasswd("alice", "s3cret:x"));
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let asked = d.path().join("asked");
    let helper = |name: &str, body: &str| {
        let p = bin.join(format!("docker-credential-{name}"));
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    helper(
        "spotest",
        &format!(
            "[ \"$1\" = get ] || exit 3\nread url\nprintf '%s' \"$url\" > {}\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret:x\"}}\\n' \"$url\"",
            asked.display()
        ),
    );
    helper("locked", "echo 'keychain is locked' >&2\nexit 1");
    helper(
        "empty",
        "echo 'credentials not found in native keychain'\nexit 1",
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cfg = d.path().join("docker");
    std::fs::create_dir(&cfg).unwrap();
    use base64::Engine as _;
    let wrong = base64::engine::general_purpose::STANDARD.encode("alice:wrong");
    let config = |json: String| std::fs::write(cfg.join("config.json"), json).unwrap();
    let p = write(d.path(), "p.yaml", &seccomp("p", &["read"], None));
    let r = reg.reference("helped/p:v1");
    let push = || {
        spoc_env(
            &["push", "--plain-http", "-f", s(&p), &r],
            &[("DOCKER_CONFIG", s(&cfg)), ("PATH", &path)],
        )
    };
    // credHelpers for this registry wins over credsStore and over wrong inline credentials.
    config(format!(
        r#"{{"auths":{{"{a}":{{"auth":"{wrong}"}}}},"credsStore":"locked","credHelpers":{{"{a}":"spotest"}}}}"#,
        a = reg.addr
    ));
    ok(&push());
    assert_eq!(std::fs::read_to_string(&asked).unwrap(), reg.addr);
    // credsStore alone is used for every registry, before inline auths.
    std::fs::remove_file(&asked).unwrap();
    config(format!(
        r#"{{"auths":{{"{a}":{{"auth":"{wrong}"}}}},"credsStore":"spotest"}}"#,
        a = reg.addr
    ));
    let target = d.path().join("out.yaml");
    ok(&spoc_env(
        &["pull", "--plain-http", "-s", &r, "-o", s(&target)],
        &[("DOCKER_CONFIG", s(&cfg)), ("PATH", &path)],
    ));
    assert!(asked.exists() && target.exists());
    // A failing helper is an error naming it (exit 1), not a silent anonymous attempt.
    config(r#"{"credsStore":"locked"}"#.into());
    let err = fails(&push(), 1, "docker-credential-locked");
    assert!(err.contains("keychain is locked"), "{err}");
    config(r#"{"credsStore":"absent"}"#.into());
    fails(&push(), 1, "docker-credential-absent");
    // "credentials not found" means none: the registry's 401 is reported.
    config(r#"{"credsStore":"empty"}"#.into());
    fails(&push(), 1, "unauthorized");
    // The docker precedence is per registry: another registry's helper is not asked.
    config(format!(
        r#"{{"auths":{{"{a}":{{"auth":"{wrong}"}}}},"credHelpers":{{"other.example:5000":"locked"}}}}"#,
        a = reg.addr
    ));
    fails(&push(), 1, "unauthorized");
}

// covers: CLI-24 with transparency: a keyless signature's Rekor bundle may carry an inclusion
// proof (RFC 6962/9162 audit path to the root of a checkpoint signed by the trusted Rekor
// key), and with `--ct-log-public-key` the Fulcio certificate must embed a verifying SCT from
// that CT log. Fixtures come from an independent implementation (Python `cryptography`, a
// recursive RFC 6962 tree); the honest case is accepted and each tamper case refused.
#[test]
fn keyless_inclusion_proofs_and_scts_cli_24() {
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    peer_ok(&[
        "ct-fulcio",
        s(d.path()),
        "dev@example.com",
        "https://issuer.example",
    ]);
    let f = |n: &str| d.path().join(n);
    let (rekor_key, rekor_pub) = (f("rekor.key"), f("rekor.pub"));
    peer_ok(&["rekor-keygen", s(&rekor_key), s(&rekor_pub)]);
    let content = seccomp("t", &["read"], None);
    let p = write(d.path(), "p.yaml", &content);
    let tmp = f("peer");
    std::fs::create_dir(&tmp).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let target = f("out.yaml");
    let mut n = 0;
    // Pushes the profile to a fresh repository and signs it keyless with `leaf`, a bundle
    // and an inclusion proof of `mode` ("" = no proof).
    let mut signed = |leaf: &str, mode: &str| {
        n += 1;
        let repo = format!("transparency/case{n}");
        let r = reg.reference(&format!("{repo}:v1"));
        ok(&spoc(&["push", "--plain-http", "-f", s(&p), &r]));
        let digest = digest_of(&r);
        let (leaf, key, chain) = (f(leaf), f("leaf.key"), f("chain.pem"));
        let mut args = vec![
            "keyless-sign",
            &reg.addr,
            &repo,
            &digest,
            s(&key),
            s(&leaf),
            s(&chain),
            s(&tmp),
            s(&rekor_key),
            &now,
        ];
        if !mode.is_empty() {
            args.push(mode);
        }
        peer_ok(&args);
        r
    };
    let (root, ct, other_ct) = (f("root.pem"), f("ct.pub"), f("other-ct.pub"));
    let pull = |r: &str, extra: &[&str]| {
        let mut args = vec![
            "pull",
            "--plain-http",
            "--fulcio-root",
            s(&root),
            "--rekor-public-key",
            s(&rekor_pub),
            "--ct-log-public-key",
            s(&ct),
            r,
            "-o",
            s(&target),
        ];
        args.extend_from_slice(extra);
        spoc(&args)
    };
    // Honest: proof and SCT verify; the bytes arrive.
    let good = signed("leaf.pem", "good");
    ok(&pull(&good, &[]));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), content);
    std::fs::remove_file(&target).unwrap();
    ok(&pull(&good, &["--require-rekor-inclusion-proof"]));
    std::fs::remove_file(&target).unwrap();
    // Inclusion-proof tampering.
    for (mode, needle) in [
        ("bad-path", "the audit path does not lead to the root hash"),
        (
            "wrong-index",
            "the audit path does not lead to the root hash",
        ),
        (
            "lying-checkpoint",
            "the audit path does not lead to the root hash",
        ),
        ("bad-root", "does not commit to the proof's tree"),
        (
            "forged-checkpoint",
            "checkpoint: the checkpoint is not signed by the trusted Rekor key",
        ),
    ] {
        let r = signed("leaf.pem", mode);
        let err = fails(&pull(&r, &[]), 1, needle);
        assert!(err.contains("Rekor inclusion proof"), "{mode}: {err}");
        assert!(!target.exists(), "{mode}");
    }
    // A bundle without a proof passes unless a proof is required.
    let no_proof = signed("leaf.pem", "");
    ok(&pull(&no_proof, &[]));
    std::fs::remove_file(&target).unwrap();
    fails(
        &pull(&no_proof, &["--require-rekor-inclusion-proof"]),
        1,
        "no inclusion proof",
    );
    // SCT tampering (each leaf is validly issued by the test Fulcio; only the SCT differs).
    for (leaf, needle) in [
        ("leaf-nosct.pem", "has no embedded SCT"),
        ("leaf-othersct.pem", "no SCT from a trusted CT log"),
        ("leaf-badsct.pem", "does not verify over this certificate"),
    ] {
        let r = signed(leaf, "good");
        let err = fails(&pull(&r, &[]), 1, needle);
        assert!(err.contains("certificate transparency"), "{leaf}: {err}");
        assert!(!target.exists(), "{leaf}");
        // The SCT is checked only against configured CT logs.
        if leaf == "leaf-othersct.pem" {
            let mut args = vec![
                "pull",
                "--plain-http",
                "--fulcio-root",
                s(&root),
                "--rekor-public-key",
                s(&rekor_pub),
                "--ct-log-public-key",
                s(&other_ct),
                &r,
                "-o",
                s(&target),
            ];
            ok(&spoc(&args));
            std::fs::remove_file(&target).unwrap();
            args.drain(6..8);
            ok(&spoc(&args));
            std::fs::remove_file(&target).unwrap();
        }
    }
}

// covers: CLI-21 without credentials against a bearer-token registry that hands out
// anonymous tokens (as public registries do): spoc's push sends its first requests without
// oci-client's per-request `/v2/` probe, meets 401, learns the challenge, fetches an
// anonymous token and succeeds; pull works anonymously too.
#[test]
fn anonymous_bearer_tokens_after_a_401_cli_21() {
    let reg = Registry::start(Mode::Token("-", "-"));
    let d = tempfile::tempdir().unwrap();
    let content = seccomp("anon", &["read"], None);
    let p = write(d.path(), "p.yaml", &content);
    let (key, public) = keypair(d.path(), "cosign");
    let r = reg.reference("public/anon:v1");
    ok(&spoc_env(
        &[
            "push",
            "--plain-http",
            "--sign-key",
            s(&key),
            "-f",
            s(&p),
            &r,
        ],
        &[("COSIGN_PASSWORD", "pw")],
    ));
    let target = d.path().join("out.yaml");
    ok(&spoc(&[
        "pull",
        "--plain-http",
        "--verify-key",
        s(&public),
        &r,
        "-o",
        s(&target),
    ]));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), content);
}

// covers: SC-17, CLI-21 for `oci://` bases: a base on a private registry is pulled with that
// registry's credentials from the Podman/Docker auth file (looked up per registry), and is
// refused as unauthorized without them.
#[test]
fn oci_base_on_a_private_registry_uses_the_auth_file_sc_17() {
    let reg = Registry::start(Mode::Htpasswd("alice", "s3cret:x"));
    let d = tempfile::tempdir().unwrap();
    let base = write(
        d.path(),
        "base.yaml",
        &seccomp("base", &["exit_group"], None),
    );
    let r = reg.reference("private/base:v1");
    ok(&spoc_env(
        &["push", "--plain-http", "-u", "alice", "-f", s(&base), &r],
        &[("PASSWORD", "s3cret:x")],
    ));
    let app = write(
        d.path(),
        "app.yaml",
        &seccomp("app", &["read"], Some(&format!("oci://{r}"))),
    );
    let args = [
        "convert",
        "--resolve",
        "--oci-plain-http",
        "--oci-disable-signature-verification",
        s(&app),
    ];
    fails(&spoc(&args), 1, "unauthorized");
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret:x");
    let file = write(
        d.path(),
        "auth.json",
        &format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr),
    );
    let out = ok(&spoc_env(&args, &[("REGISTRY_AUTH_FILE", s(&file))]));
    for sc in ["exit_group", "read"] {
        assert!(out.contains(sc), "{sc} missing in {out}");
    }
}
