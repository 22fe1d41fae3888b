//! Reading profile files: manifests (multi-document YAML) or raw OCI seccomp JSON, and a
//! directory-backed base-profile resolver.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use spo_core::{DecodeError, Document, Kind};
use spo_seccomp::resolve::{BaseProfileResolver, BoxError};
use spo_seccomp::{SeccompProfile, SeccompSpec};

/// The input could not be read or parsed at all (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {what}")]
pub struct Unreadable {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub what: String,
}

/// One item of an input file.
#[derive(Debug, Clone)]
pub enum Item {
    /// A manifest of an SPO kind.
    Manifest(Document),
    /// A SeccompProfile decoded on the fast path (document number, profile).
    Seccomp(usize, SeccompProfile),
    /// Raw OCI seccomp JSON (no `kind`), with a name derived from the file.
    RawSeccomp {
        /// The spec.
        spec: SeccompSpec,
        /// Name derived from the file stem.
        name: String,
    },
}

impl Item {
    /// The kind the item is (raw JSON counts as SeccompProfile).
    pub fn kind(&self) -> Kind {
        match self {
            Item::Manifest(d) => d.kind,
            Item::RawSeccomp { .. } | Item::Seccomp(..) => Kind::SeccompProfile,
        }
    }

    /// 1-based document number and object name.
    pub fn position(&self) -> (usize, String) {
        match self {
            Item::Manifest(d) => (d.index, d.metadata.name.clone()),
            Item::Seccomp(i, p) => (*i, p.metadata.name.clone()),
            Item::RawSeccomp { name, .. } => (1, name.clone()),
        }
    }

    /// The API version the item was written in (`v1` for raw JSON).
    pub fn version(&self) -> spo_core::Version {
        match self {
            Item::Manifest(d) => d.version,
            Item::Seccomp(_, p) => p.version,
            Item::RawSeccomp { .. } => spo_core::Version::V1,
        }
    }

    /// The item as a SeccompProfile; errors if it is another kind or does not decode.
    pub fn seccomp(&self) -> Result<SeccompProfile> {
        match self {
            Item::Manifest(d) => Ok(SeccompProfile::from_document(d.clone())?),
            Item::Seccomp(_, p) => Ok(p.clone()),
            Item::RawSeccomp { spec, name } => Ok(SeccompProfile::new(
                spo_core::ObjectMeta::named(name.clone()),
                spec.clone(),
            )),
        }
    }
}

/// Text of `path`, `-` meaning standard input.
pub fn read_text(path: &Path) -> Result<String> {
    let display = path.display().to_string();
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Unreadable {
                path: "<stdin>".into(),
                what: e.to_string(),
            })?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| Unreadable {
            path: display,
            what: e.to_string(),
        })?;
    }
    Ok(text)
}

/// A name for a profile read from raw JSON at `path`.
pub fn name_from_path(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| *s != "-")
        .unwrap_or("profile");
    spo_seccomp::record::name_from_command(stem)
}

/// Reads every item of a file. Syntax errors and unreadable files are [`Unreadable`].
pub fn load(path: &Path) -> Result<Vec<Item>> {
    let text = read_text(path)?;
    load_text(&text, path)
}

/// Loads many files on all cores, keeping their order.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Vec<Item>>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len());
    if workers <= 1 {
        return paths.iter().map(|p| load(p)).collect();
    }
    let chunk = paths.len().div_ceil(workers);
    std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(|p| load(p)).collect::<Vec<_>>()))
            .collect();
        let mut out = Vec::with_capacity(paths.len());
        for h in handles {
            let results = h
                .join()
                .map_err(|_| anyhow::anyhow!("a loader thread panicked"))?;
            for r in results {
                out.push(r?);
            }
        }
        Ok(out)
    })
}

/// Parses `text` read from `path`.
pub fn load_text(text: &str, path: &Path) -> Result<Vec<Item>> {
    if let Some(profiles) = SeccompProfile::from_yaml_fast(text) {
        return Ok(profiles
            .into_iter()
            .enumerate()
            .map(|(i, p)| Item::Seccomp(i + 1, p))
            .collect());
    }
    let display = path.display().to_string();
    let raw = spo_core::parse_stream(text).map_err(|e| match e {
        DecodeError::Syntax { .. } => anyhow::Error::new(Unreadable {
            path: display.clone(),
            what: e.to_string(),
        }),
        other => anyhow::Error::new(other).context(display.clone()),
    })?;
    if raw.is_empty() {
        return Err(Unreadable {
            path: display,
            what: "no document found".into(),
        }
        .into());
    }
    if raw.len() == 1 && !raw[0].has_kind() && raw[0].value.get("defaultAction").is_some() {
        let spec = spo_seccomp::model::spec_from_raw_json(text).with_context(|| display.clone())?;
        return Ok(vec![Item::RawSeccomp {
            spec,
            name: name_from_path(path),
        }]);
    }
    raw.into_iter()
        .map(|r| Document::from_raw(r).map(Item::Manifest))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| display)
}

/// The `*.yaml`, `*.yml` and `*.json` files of `dirs`, each directory's sorted by name;
/// missing directories are skipped.
pub fn manifest_files<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// Base profiles found in directories: every SeccompProfile of every `*.yaml`, `*.yml` and
/// `*.json` file, by name. Files that do not parse are skipped (logged at debug level).
#[derive(Debug, Default)]
pub struct DirResolver {
    profiles: HashMap<String, SeccompProfile>,
}

impl DirResolver {
    /// Indexes `dirs` (missing directories are ignored).
    pub fn new<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> Self {
        let mut profiles = HashMap::new();
        for f in manifest_files(dirs) {
            match load(&f) {
                Ok(items) => {
                    for item in items.iter().filter(|i| i.kind() == Kind::SeccompProfile) {
                        if let Ok(p) = item.seccomp() {
                            profiles.entry(p.metadata.name.clone()).or_insert(p);
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(file = %f.display(), error = %format!("{e:#}"), "skipped")
                }
            }
        }
        DirResolver { profiles }
    }

    /// For a profile read from `file`: its directory plus `extra`.
    pub fn for_file(file: &Path, extra: &[PathBuf]) -> Self {
        let parent = file.parent().map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        });
        let mut dirs: Vec<&Path> = parent.into_iter().collect();
        dirs.extend(extra.iter().map(PathBuf::as_path));
        Self::new(dirs)
    }
}

impl BaseProfileResolver for DirResolver {
    fn fetch(&self, name: &str) -> Result<Option<SeccompProfile>, BoxError> {
        if name.starts_with("oci://") {
            return crate::cmd::oci::fetch_base(name).map(Some);
        }
        Ok(self.profiles.get(name).cloned())
    }
}

/// Exit code for an error: 2 when the input was unreadable/unparseable, else 1.
pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.downcast_ref::<Unreadable>().is_some()) {
        2
    } else {
        1
    }
}
