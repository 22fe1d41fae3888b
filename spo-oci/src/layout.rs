//! The artifact layout of upstream SPO (spoc.md §7, CLI-18..CLI-20, CLI-25, CLI-26), as pure
//! code: pairing profiles with platforms, annotations, the manifest, and picking and
//! checking the profile of a pulled artifact.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use oci_spec::image::{
    Arch, Descriptor, DescriptorBuilder, Digest, ImageManifest, ImageManifestBuilder, MediaType,
    Os, PlatformBuilder,
};
use sha2::{Digest as _, Sha256};
use spo_core::Kind;
use thiserror::Error;

use crate::platform::Platform;

/// Media type of every layer upstream pushes (it holds YAML, not a tar: weak point 7).
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
/// Layer media types accepted on pull besides [`LAYER_MEDIA_TYPE`].
pub const ACCEPTED_LAYER_MEDIA_TYPES: &[&str] = &[
    LAYER_MEDIA_TYPE,
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "application/vnd.oci.image.layer.v1.tar+yaml",
    "application/octet-stream",
];
/// `artifactType` of the manifest.
pub const ARTIFACT_TYPE: &str = "application/vnd.unknown.config.v1+json";
/// Media type of the OCI empty descriptor.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// Digest of `{}`.
pub const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
/// Content of the empty config blob.
pub const EMPTY_CONFIG: &[u8] = b"{}";
/// Image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Layer annotation naming the file.
pub const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";
/// Manifest annotation with the creation time.
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
/// The file every platform falls back to (CLI-25).
pub const FALLBACK_TITLE: &str = "profile.yaml";
/// The profile pushed when none is given (weak point 2: the documented fallback).
pub const DEFAULT_PROFILE: &str = "/tmp/profile.yaml";

/// A layout rule was broken.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LayoutError {
    /// Several profiles and no platform (CLI-19).
    #[error("multiple profiles provided but no platforms set")]
    MultipleProfilesNoPlatforms,
    /// Counts differ (CLI-19).
    #[error("number of profiles and platforms do not match ({profiles} profiles, {platforms} platforms)")]
    CountMismatch {
        /// Profiles given.
        profiles: usize,
        /// Platforms given.
        platforms: usize,
    },
    /// The same platform twice (CLI-19).
    #[error("duplicate platform {0}")]
    DuplicatePlatform(String),
    /// `--annotations` without `:` or with an empty key (CLI-20).
    #[error("invalid annotation {0:?}: expected KEY:VALUE")]
    BadAnnotation(String),
    /// An annotation would overwrite the layer title.
    #[error("annotation {0:?} is reserved for the layer file name")]
    ReservedAnnotation(String),
    /// The manifest is not a profile artifact.
    #[error("not a security profile artifact: {0}")]
    NotAnArtifact(String),
    /// No layer for the platform and no `profile.yaml` (CLI-25).
    #[error("the artifact has no profile for platform {wanted} (available: {available})")]
    NoPlatform {
        /// The platform asked for.
        wanted: String,
        /// The platforms (titles) the artifact holds.
        available: String,
    },
    /// The profile content is not one of the accepted kinds (CLI-26).
    #[error("the artifact holds {found}, expected one of {expected}")]
    WrongKind {
        /// What was found.
        found: String,
        /// What is accepted.
        expected: String,
    },
    /// The profile content does not parse.
    #[error("the artifact's profile {title} does not parse: {reason}")]
    BadContent {
        /// The layer title.
        title: String,
        /// The parser's message.
        reason: String,
    },
}

/// Pairs profile files with platforms by the rules of spoc.md §7.1 (CLI-19):
/// no platforms and one profile → the host platform; no platforms and several profiles →
/// error; duplicate platforms → error; platforms but no profiles → the first platform with
/// [`DEFAULT_PROFILE`]; neither → [`DEFAULT_PROFILE`] for the host (weak point 2); different
/// counts → error.
pub fn pair(
    profiles: &[PathBuf],
    platforms: &[Platform],
) -> Result<Vec<(Platform, PathBuf)>, LayoutError> {
    let mut seen = BTreeSet::new();
    for p in platforms {
        if !seen.insert(p) {
            return Err(LayoutError::DuplicatePlatform(p.to_string()));
        }
    }
    match (profiles.len(), platforms.len()) {
        (0, 0) => Ok(vec![(Platform::host(), PathBuf::from(DEFAULT_PROFILE))]),
        (1, 0) => Ok(vec![(Platform::host(), profiles[0].clone())]),
        (_, 0) => Err(LayoutError::MultipleProfilesNoPlatforms),
        (0, _) => Ok(vec![(platforms[0].clone(), PathBuf::from(DEFAULT_PROFILE))]),
        (a, b) if a != b => Err(LayoutError::CountMismatch {
            profiles: a,
            platforms: b,
        }),
        _ => Ok(platforms
            .iter()
            .cloned()
            .zip(profiles.iter().cloned())
            .collect()),
    }
}

/// Parses `KEY:VALUE` pairs; the value keeps every `:` after the first (weak point 3).
pub fn parse_annotations(pairs: &[String]) -> Result<Vec<(String, String)>, LayoutError> {
    pairs
        .iter()
        .map(|s| {
            let (k, v) = s
                .split_once(':')
                .ok_or_else(|| LayoutError::BadAnnotation(s.clone()))?;
            let k = k.trim();
            if k.is_empty() {
                return Err(LayoutError::BadAnnotation(s.clone()));
            }
            if k == TITLE_ANNOTATION {
                return Err(LayoutError::ReservedAnnotation(k.into()));
            }
            Ok((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in Sha256::digest(data) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// One profile layer to push.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Its platform.
    pub platform: Platform,
    /// The raw file bytes.
    pub data: Vec<u8>,
}

fn oci_err(e: oci_spec::OciSpecError) -> LayoutError {
    LayoutError::NotAnArtifact(e.to_string())
}

/// The layer descriptor of `layer` (title, extra annotations, platform).
pub fn layer_descriptor(
    layer: &Layer,
    annotations: &[(String, String)],
) -> Result<Descriptor, LayoutError> {
    let mut ann: HashMap<String, String> = annotations.iter().cloned().collect();
    ann.insert(TITLE_ANNOTATION.into(), layer.platform.title());
    let mut pb = PlatformBuilder::default()
        .architecture(Arch::from(layer.platform.arch.as_str()))
        .os(Os::from(layer.platform.os.as_str()));
    if let Some(v) = &layer.platform.variant {
        pb = pb.variant(v.clone());
    }
    if let Some(v) = &layer.platform.os_version {
        pb = pb.os_version(v.clone());
    }
    let platform = pb.build().map_err(oci_err)?;
    let digest: Digest = sha256_digest(&layer.data)
        .parse()
        .map_err(|e: oci_spec::OciSpecError| oci_err(e))?;
    DescriptorBuilder::default()
        .media_type(MediaType::Other(LAYER_MEDIA_TYPE.into()))
        .digest(digest)
        .size(layer.data.len() as u64)
        .annotations(ann)
        .platform(platform)
        .build()
        .map_err(oci_err)
}

/// The OCI empty descriptor used as config (`{}`, with its data inlined as oras does).
pub fn empty_config() -> Result<Descriptor, LayoutError> {
    let digest: Digest = EMPTY_DIGEST
        .parse()
        .map_err(|e: oci_spec::OciSpecError| oci_err(e))?;
    DescriptorBuilder::default()
        .media_type(MediaType::EmptyJSON)
        .digest(digest)
        .size(2u64)
        .data("e30=")
        .build()
        .map_err(oci_err)
}

/// The manifest upstream's `spoc push` writes (CLI-18): schema 2, OCI manifest media type,
/// `artifactType` [`ARTIFACT_TYPE`], the empty config, one layer per profile, and the
/// `created` annotation (RFC 3339 UTC, given by the caller).
pub fn manifest(
    layers: &[Layer],
    annotations: &[(String, String)],
    created: &str,
) -> Result<ImageManifest, LayoutError> {
    let descs = layers
        .iter()
        .map(|l| layer_descriptor(l, annotations))
        .collect::<Result<Vec<_>, _>>()?;
    ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .artifact_type(MediaType::Other(ARTIFACT_TYPE.into()))
        .config(empty_config()?)
        .layers(descs)
        .annotations(HashMap::from([(
            CREATED_ANNOTATION.to_owned(),
            created.to_owned(),
        )]))
        .build()
        .map_err(oci_err)
}

/// `now` as RFC 3339 UTC with second precision.
pub fn rfc3339_utc(unix_secs: u64) -> String {
    let days = unix_secs / 86_400;
    let rem = unix_secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

/// Parses a pulled manifest and checks that it is a profile artifact: an image manifest
/// whose layers are all files with a title and an accepted media type.
pub fn parse_manifest(raw: &[u8]) -> Result<ImageManifest, LayoutError> {
    let m: ImageManifest = serde_json::from_slice(raw)
        .map_err(|e| LayoutError::NotAnArtifact(format!("manifest does not parse: {e}")))?;
    if m.layers().is_empty() {
        return Err(LayoutError::NotAnArtifact(
            "the manifest has no layers".into(),
        ));
    }
    for l in m.layers() {
        let mt = l.media_type().to_string();
        if !ACCEPTED_LAYER_MEDIA_TYPES.contains(&mt.as_str()) {
            return Err(LayoutError::NotAnArtifact(format!(
                "layer {} has media type {mt}, not a profile file",
                l.digest()
            )));
        }
        if title_of(l).is_none() {
            return Err(LayoutError::NotAnArtifact(format!(
                "layer {} has no {TITLE_ANNOTATION} annotation",
                l.digest()
            )));
        }
    }
    Ok(m)
}

/// The title annotation of a layer.
pub fn title_of(d: &Descriptor) -> Option<&str> {
    d.annotations()
        .as_ref()?
        .get(TITLE_ANNOTATION)
        .map(String::as_str)
}

/// Picks the layer for `platform`: its title, else `profile.yaml` (CLI-25). Logs
/// "Trying to read profile: `<file>`" like upstream.
pub fn pick<'m>(m: &'m ImageManifest, platform: &Platform) -> Result<&'m Descriptor, LayoutError> {
    for wanted in [platform.title(), FALLBACK_TITLE.to_owned()] {
        tracing::info!("Trying to read profile: {wanted}");
        if let Some(d) = m.layers().iter().find(|d| title_of(d) == Some(&wanted)) {
            return Ok(d);
        }
    }
    let available: Vec<String> = m
        .layers()
        .iter()
        .map(|d| {
            d.platform()
                .as_ref()
                .map(|p| {
                    let mut s = format!("{}/{}", p.os(), p.architecture());
                    if let Some(v) = p.variant() {
                        s.push('/');
                        s.push_str(v);
                    }
                    if let Some(v) = p.os_version() {
                        s.push(':');
                        s.push_str(v);
                    }
                    s
                })
                .unwrap_or_else(|| title_of(d).unwrap_or("?").to_owned())
        })
        .collect();
    Err(LayoutError::NoPlatform {
        wanted: platform.to_string(),
        available: available.join(", "),
    })
}

/// The kinds `spoc pull` accepts (CLI-26).
pub const PULLABLE: &[Kind] = &[
    Kind::SeccompProfile,
    Kind::SelinuxProfile,
    Kind::AppArmorProfile,
];

/// The profile kinds beyond [`PULLABLE`] that `spoc push` publishes and `spoc pull
/// --allow-raw-kinds` accepts: `RawSelinuxProfile` (raw seccomp JSON is the other raw form,
/// see [`check_content`]).
pub const RAW_KINDS: &[Kind] = &[Kind::RawSelinuxProfile];

/// Whether `data` looks like raw seccomp JSON (an OCI runtime / moby / containers-common
/// profile): a JSON object with `defaultAction` and no `kind`.
pub fn is_raw_seccomp_json(data: &[u8]) -> bool {
    let trimmed = data.trim_ascii_start();
    if !trimmed.starts_with(b"{") {
        return false;
    }
    // Only the top-level keys matter; an unparsable document is not raw JSON.
    #[derive(serde::Deserialize)]
    struct Probe {
        kind: Option<serde::de::IgnoredAny>,
        #[serde(rename = "defaultAction")]
        default_action: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(trimmed)
        .map(|p| p.kind.is_none() && p.default_action.is_some())
        .unwrap_or(false)
}

/// [`check_kind`], and when `raw_seccomp_json` is set also raw seccomp JSON, which must
/// parse as a runtime profile; it is reported as [`Kind::SeccompProfile`] with an empty name.
pub fn check_content(
    data: &[u8],
    title: &str,
    accepted: &[Kind],
    raw_seccomp_json: bool,
) -> Result<(Kind, String), LayoutError> {
    if raw_seccomp_json && is_raw_seccomp_json(data) {
        let text = std::str::from_utf8(data).map_err(|e| LayoutError::BadContent {
            title: title.into(),
            reason: format!("not UTF-8: {e}"),
        })?;
        spo_seccomp::runtime_from_raw_json(text).map_err(|e| LayoutError::BadContent {
            title: title.into(),
            reason: e.to_string(),
        })?;
        return Ok((Kind::SeccompProfile, String::new()));
    }
    if is_raw_seccomp_json(data) {
        return Err(LayoutError::WrongKind {
            found: "raw seccomp JSON".into(),
            expected: accepted
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    check_kind(data, title, accepted)
}

/// Checks that `data` (layer `title`) is one manifest of one of `accepted` kinds and returns
/// the kind and name.
pub fn check_kind(
    data: &[u8],
    title: &str,
    accepted: &[Kind],
) -> Result<(Kind, String), LayoutError> {
    let bad = |reason: String| LayoutError::BadContent {
        title: title.into(),
        reason,
    };
    let text = std::str::from_utf8(data).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let docs = spo_core::parse_stream(text).map_err(|e| bad(e.to_string()))?;
    let expected = accepted
        .iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let [doc] = docs.as_slice() else {
        return Err(bad(format!("expected one document, found {}", docs.len())));
    };
    let kind = doc
        .value
        .get("kind")
        .and_then(|k| k.as_str())
        .ok_or_else(|| bad("no `kind` field".into()))?;
    let Some(k) = accepted.iter().find(|k| k.to_string() == kind) else {
        return Err(LayoutError::WrongKind {
            found: format!("kind {kind:?}"),
            expected,
        });
    };
    let name = doc
        .value
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or_default()
        .to_owned();
    Ok((*k, name))
}

/// The file name a profile would be pushed under, for messages.
pub fn display(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plat(s: &str) -> Platform {
        Platform::parse(s).unwrap()
    }

    // covers: CLI-19
    #[test]
    fn pairing_rules_cli_19() {
        let a = PathBuf::from("a.yaml");
        let b = PathBuf::from("b.yaml");
        assert_eq!(
            pair(std::slice::from_ref(&a), &[]).unwrap(),
            vec![(Platform::host(), a.clone())]
        );
        assert_eq!(
            pair(&[a.clone(), b.clone()], &[]).unwrap_err().to_string(),
            "multiple profiles provided but no platforms set"
        );
        assert_eq!(
            pair(&[], &[plat("linux/arm64"), plat("linux/amd64")]).unwrap(),
            vec![(plat("linux/arm64"), PathBuf::from(DEFAULT_PROFILE))]
        );
        assert_eq!(
            pair(&[], &[]).unwrap(),
            vec![(Platform::host(), PathBuf::from(DEFAULT_PROFILE))]
        );
        assert!(pair(
            std::slice::from_ref(&a),
            &[plat("linux/arm64"), plat("linux/amd64")]
        )
        .unwrap_err()
        .to_string()
        .starts_with("number of profiles and platforms do not match"));
        assert_eq!(
            pair(
                &[a.clone(), b.clone()],
                &[plat("linux/arm64"), plat("linux/arm64")]
            ),
            Err(LayoutError::DuplicatePlatform("linux/arm64".into()))
        );
        assert_eq!(
            pair(
                &[a.clone(), b.clone()],
                &[plat("linux/amd64"), plat("linux/arm64")]
            )
            .unwrap(),
            vec![(plat("linux/amd64"), a), (plat("linux/arm64"), b)]
        );
    }

    // covers: CLI-20 (weak point 3)
    #[test]
    fn annotations_keep_every_colon_after_the_first() {
        let a = parse_annotations(&["url:https://x.io:443/a".into(), "k:".into()]).unwrap();
        assert_eq!(a[0], ("url".into(), "https://x.io:443/a".into()));
        assert_eq!(a[1], ("k".into(), String::new()));
        assert!(parse_annotations(&["novalue".into()]).is_err());
        assert!(parse_annotations(&[":v".into()]).is_err());
        assert!(parse_annotations(&[format!("{TITLE_ANNOTATION}:x")]).is_err());
    }

    // covers: CLI-18
    #[test]
    fn manifest_has_the_upstream_layout() {
        let layers = vec![
            Layer {
                platform: plat("linux/amd64"),
                data: b"kind: SeccompProfile\n".to_vec(),
            },
            Layer {
                platform: plat("linux/arm/v7"),
                data: b"x".to_vec(),
            },
        ];
        let m = manifest(
            &layers,
            &[("a".into(), "b:c".into())],
            "2024-01-02T03:04:05Z",
        )
        .unwrap();
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["schemaVersion"], 2);
        assert_eq!(v["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(v["artifactType"], ARTIFACT_TYPE);
        assert_eq!(v["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        assert_eq!(v["config"]["digest"], EMPTY_DIGEST);
        assert_eq!(v["config"]["size"], 2);
        assert_eq!(sha256_digest(EMPTY_CONFIG), EMPTY_DIGEST);
        assert_eq!(v["annotations"][CREATED_ANNOTATION], "2024-01-02T03:04:05Z");
        let l0 = &v["layers"][0];
        assert_eq!(l0["mediaType"], LAYER_MEDIA_TYPE);
        assert_eq!(l0["size"], 21);
        assert_eq!(l0["digest"], sha256_digest(b"kind: SeccompProfile\n"));
        assert_eq!(
            l0["annotations"][TITLE_ANNOTATION],
            "profile-linux-amd64.yaml"
        );
        assert_eq!(l0["annotations"]["a"], "b:c");
        assert_eq!(l0["platform"]["os"], "linux");
        assert_eq!(l0["platform"]["architecture"], "amd64");
        let l1 = &v["layers"][1];
        assert_eq!(
            l1["annotations"][TITLE_ANNOTATION],
            "profile-linux-arm-v7.yaml"
        );
        assert_eq!(l1["platform"]["variant"], "v7");
        // Round trip through the pull-side parser.
        let raw = serde_json::to_vec(&m).unwrap();
        let back = parse_manifest(&raw).unwrap();
        assert_eq!(back.layers().len(), 2);
    }

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_709_210_096), "2024-02-29T12:34:56Z");
    }

    // covers: CLI-25
    #[test]
    fn pick_falls_back_to_profile_yaml_and_lists_platforms() {
        let layers = vec![Layer {
            platform: plat("linux/arm64"),
            data: b"x".to_vec(),
        }];
        let m = manifest(&layers, &[], "t").unwrap();
        assert_eq!(
            title_of(pick(&m, &plat("linux/arm64")).unwrap()),
            Some("profile-linux-arm64.yaml")
        );
        let e = pick(&m, &plat("linux/s390x")).unwrap_err().to_string();
        assert!(
            e.contains("linux/s390x") && e.contains("available: linux/arm64"),
            "{e}"
        );
        // A profile.yaml layer (as oras push writes it) serves every platform.
        let mut v = serde_json::to_value(&m).unwrap();
        v["layers"][0]["annotations"][TITLE_ANNOTATION] = "profile.yaml".into();
        let m2 = parse_manifest(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(
            title_of(pick(&m2, &plat("linux/s390x")).unwrap()),
            Some("profile.yaml")
        );
    }

    #[test]
    fn non_artifacts_are_refused() {
        assert!(parse_manifest(b"{}").is_err());
        let mut v = serde_json::to_value(
            manifest(
                &[Layer {
                    platform: plat("linux/amd64"),
                    data: b"x".to_vec(),
                }],
                &[],
                "t",
            )
            .unwrap(),
        )
        .unwrap();
        v["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip".into();
        let e = parse_manifest(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(e.to_string().contains("not a profile file"), "{e}");
    }

    // covers: CLI-26
    #[test]
    fn kind_check_cli_26() {
        let ok = b"apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata:\n  name: p\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n";
        assert_eq!(
            check_kind(ok, "t", PULLABLE).unwrap(),
            (Kind::SeccompProfile, "p".into())
        );
        let e = check_kind(
            b"kind: ProfileBinding\nmetadata: {name: x}\n",
            "t",
            PULLABLE,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("ProfileBinding") && e.contains("SeccompProfile"),
            "{e}"
        );
        let e = check_kind(b"kind: Pod\n", "t", &[Kind::SeccompProfile]).unwrap_err();
        assert!(matches!(e, LayoutError::WrongKind { .. }));
        assert!(check_kind(b"\xff\xfe", "t", PULLABLE).is_err());
        assert!(check_kind(b"a: [", "t", PULLABLE).is_err());
    }

    // covers: CLI-26 (raw forms only on request)
    #[test]
    fn raw_forms_need_the_opt_in_cli_26() {
        let json = br#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#;
        assert!(is_raw_seccomp_json(json));
        assert!(!is_raw_seccomp_json(b"kind: SeccompProfile\n"));
        assert!(!is_raw_seccomp_json(
            br#"{"kind": "SeccompProfile", "defaultAction": "x"}"#
        ));
        let e = check_content(json, "t", PULLABLE, false).unwrap_err();
        assert!(e.to_string().contains("raw seccomp JSON"), "{e}");
        assert_eq!(
            check_content(json, "t", PULLABLE, true).unwrap(),
            (Kind::SeccompProfile, String::new())
        );
        let bad = br#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": 3}"#;
        assert!(matches!(
            check_content(bad, "t", PULLABLE, true),
            Err(LayoutError::BadContent { .. })
        ));
        let raw_se = b"kind: RawSelinuxProfile\nmetadata: {name: r}\nspec: {policy: x}\n";
        assert!(check_content(raw_se, "t", PULLABLE, true).is_err());
        let mut all = PULLABLE.to_vec();
        all.extend_from_slice(RAW_KINDS);
        assert_eq!(
            check_content(raw_se, "t", &all, true).unwrap(),
            (Kind::RawSelinuxProfile, "r".into())
        );
    }
}
