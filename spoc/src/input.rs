//! Reading profile files: manifests (multi-document YAML) or raw OCI seccomp JSON, and a
//! directory-backed base-profile resolver.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use spo_core::{DecodeError, Document, Kind};
use spo_seccomp::resolve::{BaseProfileResolver, BoxError};
use spo_seccomp::runtime::{arch_from_name, parse_kernel, Target, DEFAULT_CAPS};
use spo_seccomp::SeccompProfile;
use std::sync::OnceLock;

/// Settings every reader follows, from the global flags.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What runtime seccomp JSON is evaluated for.
    pub target: Target,
    /// Largest input accepted, in bytes.
    pub max_input_size: u64,
}

/// The default input-size limit: 16 MiB.
pub const DEFAULT_MAX_INPUT: u64 = 16 << 20;

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Sets the reader settings from the global flags (once, before any input is read).
pub fn configure(global: &crate::cli::Global) -> Result<()> {
    let arch = match global.arch.as_deref() {
        Some(a) => arch_from_name(a)
            .ok_or_else(|| anyhow::anyhow!("--arch: unknown architecture {a:?}"))?,
        None => spo_core::Arch::native(),
    };
    let kernel = match global.kernel.as_deref() {
        Some(k) => {
            parse_kernel(k).ok_or_else(|| anyhow::anyhow!("--kernel: {k:?} is not major.minor"))?
        }
        None => std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .and_then(|r| parse_kernel(&r))
            .unwrap_or((0, 0)),
    };
    let target = match &global.caps {
        Some(caps) => Target::new(arch, caps.iter().filter(|c| !c.is_empty()), kernel),
        None => Target::new(arch, DEFAULT_CAPS, kernel),
    };
    let _ = SETTINGS.set(Settings {
        target,
        max_input_size: global.max_input_size,
    });
    Ok(())
}

/// The reader settings (defaults when [`configure`] was not called).
pub fn settings() -> &'static Settings {
    SETTINGS.get_or_init(|| Settings {
        target: Target::default(),
        max_input_size: DEFAULT_MAX_INPUT,
    })
}

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
    /// Raw seccomp JSON (no `kind`: OCI, moby, containers-common), evaluated for the
    /// target, as a profile named after the file.
    RawSeccomp {
        /// The profile (`metadata.name` derived from the file stem).
        profile: SeccompProfile,
        /// Problems of the runtime form itself (`archMap` with `architectures`, unknown
        /// errno names...), paths relative to the JSON.
        problems: spo_core::Violations,
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
            Item::RawSeccomp { profile, .. } => (1, profile.metadata.name.clone()),
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
        Ok(self.seccomp_cow()?.into_owned())
    }

    /// [`Item::seccomp`] without copying an already decoded profile.
    pub fn seccomp_cow(&self) -> Result<std::borrow::Cow<'_, SeccompProfile>> {
        use std::borrow::Cow;
        match self {
            Item::Manifest(d) => Ok(Cow::Owned(SeccompProfile::from_document(d)?)),
            Item::Seccomp(_, p) | Item::RawSeccomp { profile: p, .. } => Ok(Cow::Borrowed(p)),
        }
    }
}

/// Text of `path`, `-` meaning standard input, at most [`Settings::max_input_size`] bytes.
pub fn read_text(path: &Path) -> Result<String> {
    let limit = settings().max_input_size;
    let (display, reader): (String, Box<dyn Read>) = if path == Path::new("-") {
        ("<stdin>".into(), Box::new(std::io::stdin().lock()))
    } else {
        let display = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| Unreadable {
            path: display.clone(),
            what: e.to_string(),
        })?;
        (display, Box::new(f))
    };
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Unreadable {
            path: display.clone(),
            what: e.to_string(),
        })?;
    if bytes.len() as u64 > limit {
        return Err(Unreadable {
            path: display,
            what: format!(
                "larger than the input limit of {limit} bytes (raise it with --max-input-size)"
            ),
        }
        .into());
    }
    String::from_utf8(bytes).map_err(|e| {
        Unreadable {
            path: display,
            what: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        }
        .into()
    })
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

/// True when `text` is one JSON object without `kind` but with `defaultAction`: raw seccomp
/// JSON. Probed without building a tree (serde skips values; its depth limit applies).
fn is_raw_seccomp_json(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        kind: Option<serde::de::IgnoredAny>,
        #[serde(rename = "defaultAction")]
        default_action: Option<serde::de::IgnoredAny>,
    }
    text.trim_start().starts_with('{')
        && spo_core::limits::check_nesting(text, spo_core::limits::MAX_NESTING).is_ok()
        && serde_json::from_str::<Probe>(text)
            .is_ok_and(|p| p.kind.is_none() && p.default_action.is_some())
}

fn raw_item(text: &str, path: &Path) -> Result<Item> {
    let raw = spo_seccomp::runtime::runtime_from_raw_json(text)
        .with_context(|| path.display().to_string())?;
    let problems = raw.violations();
    Ok(Item::RawSeccomp {
        profile: SeccompProfile::new(
            spo_core::ObjectMeta::named(name_from_path(path)),
            raw.into_spec(&settings().target),
        ),
        problems,
    })
}

/// Parses `text` read from `path`.
pub fn load_text(text: &str, path: &Path) -> Result<Vec<Item>> {
    if is_raw_seccomp_json(text) {
        return Ok(vec![raw_item(text, path)?]);
    }
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
        return Ok(vec![raw_item(text, path)?]);
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

/// `e` and its sources, `: `-joined, without a leading `path: ` (for [`Unreadable`], which
/// prints the path itself).
pub fn describe(e: &dyn std::error::Error, path: &Path) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    let prefix = format!("{}: ", path.display());
    match out.strip_prefix(&prefix) {
        Some(rest) => rest.to_string(),
        None => out,
    }
}

/// Exit code for an error: 2 when the input was unreadable/unparseable, else 1.
pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| {
        c.downcast_ref::<Unreadable>().is_some()
            || c.downcast_ref::<crate::output::WriteFailed>().is_some()
    }) {
        2
    } else {
        1
    }
}
