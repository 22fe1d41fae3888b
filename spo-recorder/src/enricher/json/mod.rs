//! The JSON enricher (spec §7, RC-41..RC-44): seccomp lines grouped per PID into one JSON
//! line per interval, with the process's command line, user and `kubectl exec` request UID.
//!
//! Unlike upstream (weak point 8), a bucket is flushed `interval` after its first line even
//! when the PID keeps producing lines; the next line starts a new bucket.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use spo_core::events::{AuditEvent, AuditStamp};

use super::attribution::PidMap;
use super::{
    Attribution, Attributor, AttributorOptions, ContainerInfo, ContainerResolver, Filters,
    SyscallNames,
};
use crate::audit::{parse_line, Parsed};

pub mod rotate;
mod time;

pub use rotate::{RotateOptions, RotatingWriter};

/// Where JSON lines go (RC-44): stdout, or a size-rotated file.
#[derive(Debug)]
#[non_exhaustive]
pub enum JsonOutput {
    /// Standard output, one line per write.
    Stdout,
    /// `auditLogPath` with rotation.
    File(RotatingWriter),
}

impl JsonOutput {
    /// `None` → stdout; a path → that file, rotated per `opts` (directory created 0700).
    pub fn open(
        path: Option<&Path>,
        opts: RotateOptions,
    ) -> Result<Self, crate::audit::AuditError> {
        Ok(match path {
            None => JsonOutput::Stdout,
            Some(p) => JsonOutput::File(RotatingWriter::open(p, opts)?),
        })
    }

    /// Writes one line (newline added).
    pub fn write_line(&mut self, line: &str) -> Result<(), crate::audit::AuditError> {
        match self {
            JsonOutput::Stdout => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                out.write_all(line.as_bytes())
                    .and_then(|()| out.write_all(b"\n"))
                    .and_then(|()| out.flush())
                    .map_err(|e| crate::audit::AuditError::io(Path::new("/dev/stdout"), e))
            }
            JsonOutput::File(w) => w.write_line(line.as_bytes()),
        }
    }
}

/// The `version` of every line.
pub const VERSION: &str = "spo/v1_alpha";
/// The environment variable (or command-line token) carrying the exec request UID (RC-43).
pub const REQUEST_UID_ENV: &str = "SPO_EXEC_REQUEST_UID";

/// JSON enricher settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JsonEnricherOptions {
    /// Node name (`node.name`).
    pub node: String,
    /// `auditLogIntervalSeconds` (default 60).
    pub interval: Duration,
    /// Attribution cache and /proc root.
    pub attribution: AttributorOptions,
    /// `jsonEnricherFilters`, evaluated on the JSON object.
    pub filters: Filters,
}

impl JsonEnricherOptions {
    /// Sets [`JsonEnricherOptions::node`].
    #[must_use]
    pub fn with_node(mut self, node: String) -> Self {
        self.node = node;
        self
    }

    /// Sets [`JsonEnricherOptions::interval`].
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets [`JsonEnricherOptions::attribution`].
    #[must_use]
    pub fn with_attribution(mut self, attribution: AttributorOptions) -> Self {
        self.attribution = attribution;
        self
    }

    /// Sets [`JsonEnricherOptions::filters`].
    #[must_use]
    pub fn with_filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
    }
}

impl Default for JsonEnricherOptions {
    fn default() -> Self {
        JsonEnricherOptions {
            node: String::new(),
            interval: Duration::from_secs(60),
            attribution: AttributorOptions::default(),
            filters: Filters::default(),
        }
    }
}

/// What the enricher knows about a process, captured on its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// `uid=` of the line.
    pub uid: u32,
    /// `gid=` of the line.
    pub gid: u32,
    /// `exe=` of the line.
    pub executable: String,
    /// `/proc/<pid>/cmdline`, NULs as spaces.
    pub cmdline: String,
    /// `SPO_EXEC_REQUEST_UID` from the environment, else from the command line.
    pub request_uid: Option<String>,
}

/// Reads `/proc/<pid>/cmdline` and `/proc/<pid>/environ` below `proc_root` (RC-43).
/// `None` when the process is gone.
pub fn read_process(
    proc_root: &Path,
    pid: u32,
    uid: u32,
    gid: u32,
    exe: &str,
) -> Option<ProcessInfo> {
    let dir = proc_root.join(pid.to_string());
    let raw = std::fs::read(dir.join("cmdline")).ok()?;
    let args: Vec<&[u8]> = raw.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
    let cmdline = args
        .iter()
        .map(|a| String::from_utf8_lossy(a))
        .collect::<Vec<_>>()
        .join(" ");
    let prefix = format!("{REQUEST_UID_ENV}=");
    let from_env = std::fs::read(dir.join("environ")).ok().and_then(|env| {
        env.split(|b| *b == 0).find_map(|kv| {
            kv.strip_prefix(prefix.as_bytes())
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
    });
    let from_cmdline = || {
        args.iter().find_map(|a| {
            let a = String::from_utf8_lossy(a);
            a.split_ascii_whitespace()
                .find_map(|t| t.strip_prefix(&prefix).map(str::to_string))
        })
    };
    let request_uid = from_env.or_else(from_cmdline).filter(|v| !v.is_empty());
    Some(ProcessInfo {
        uid,
        gid,
        executable: exe.to_string(),
        cmdline,
        request_uid,
    })
}

#[derive(Debug)]
struct Bucket {
    created: Instant,
    stamp: AuditStamp,
    syscalls: Vec<String>,
    process: Option<ProcessInfo>,
    container: Option<Arc<ContainerInfo>>,
}

/// Counters of a [`JsonEnricher`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonStats {
    /// Seccomp lines taken.
    pub seccomp: u64,
    /// Lines emitted.
    pub emitted: u64,
    /// Buckets dropped because the process was already gone (no process info).
    pub no_process: u64,
    /// Lines dropped by a filter.
    pub filtered: u64,
    /// Seccomp lines with an unknown syscall number.
    pub unknown_syscall: u64,
}

/// The JSON enricher.
pub struct JsonEnricher<R> {
    opts: JsonEnricherOptions,
    proc_root: PathBuf,
    attributor: Attributor,
    resolver: R,
    names: SyscallNames,
    buckets: PidMap<Bucket>,
    stats: JsonStats,
    exec_snoop: Option<ExecSnoop>,
}

/// The last source of a request UID (RC-43): a lookup by PID into an exec snoop (the eBPF
/// recorder's cache of `execve` arguments and environment).
pub type ExecSnoop = Box<dyn Fn(u32) -> Option<String> + Send>;

impl<R> std::fmt::Debug for JsonEnricher<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonEnricher")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// A fresh random (version 4) UUID.
pub fn new_uuid() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No entropy source: fall back to time-derived bytes (IDs stay unique per process).
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = n.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

impl<R: ContainerResolver> JsonEnricher<R> {
    /// A new JSON enricher.
    pub fn new(opts: JsonEnricherOptions, resolver: R) -> Self {
        JsonEnricher {
            proc_root: opts.attribution.proc_root.clone(),
            attributor: Attributor::new(opts.attribution.clone()),
            opts,
            resolver,
            names: SyscallNames::new(),
            buckets: PidMap::default(),
            stats: JsonStats::default(),
            exec_snoop: None,
        }
    }

    /// Sets the exec snoop consulted when neither the environment nor the command line of a
    /// process carries `SPO_EXEC_REQUEST_UID` (RC-43).
    pub fn set_exec_snoop(&mut self, snoop: ExecSnoop) {
        self.exec_snoop = Some(snoop);
    }

    /// Counters so far.
    pub fn stats(&self) -> JsonStats {
        self.stats
    }

    /// Takes one line; only seccomp records count (spec §7).
    pub fn process_line(&mut self, line: &[u8], now: Instant) {
        let Parsed::Event(AuditEvent::Seccomp(ev)) = parse_line(line) else {
            return;
        };
        self.stats.seccomp += 1;
        let Some(name) = self.names.name(ev.audit_arch, ev.syscall) else {
            self.stats.unknown_syscall += 1;
            return;
        };
        if let Some(b) = self.buckets.get_mut(&ev.pid) {
            if !b.syscalls.iter().any(|s| s == name) {
                b.syscalls.push(name.to_string());
            }
            return;
        }
        let mut process = read_process(
            &self.proc_root,
            ev.pid,
            ev.uid.unwrap_or(0),
            ev.gid.unwrap_or(0),
            &ev.exe,
        );
        if let (Some(p), Some(snoop)) = (process.as_mut(), self.exec_snoop.as_ref()) {
            if p.request_uid.is_none() {
                p.request_uid = snoop(ev.pid).filter(|v| !v.is_empty());
            }
        }
        let container = match self.attributor.lookup(ev.pid, now) {
            Attribution::Container(id) => self.resolver.resolve(&id),
            _ => None,
        };
        self.buckets.insert(
            ev.pid,
            Bucket {
                created: now,
                stamp: ev.stamp,
                syscalls: vec![name.to_string()],
                process,
                container,
            },
        );
    }

    /// Emits the buckets that are at least one interval old.
    pub fn flush_due(&mut self, now: Instant, out: &mut dyn FnMut(&str)) {
        let interval = self.opts.interval;
        let mut due: Vec<u32> = self
            .buckets
            .iter()
            .filter(|(_, b)| now.saturating_duration_since(b.created) >= interval)
            .map(|(p, _)| *p)
            .collect();
        due.sort_unstable_by_key(|p| self.buckets.get(p).map(|b| b.stamp));
        for pid in due {
            if let Some(b) = self.buckets.remove(&pid) {
                self.emit(pid, b, out);
            }
        }
    }

    /// Emits every bucket (shutdown).
    pub fn flush_all(&mut self, out: &mut dyn FnMut(&str)) {
        let mut all: Vec<(u32, Bucket)> = self.buckets.drain().collect();
        all.sort_by_key(|(_, b)| b.stamp);
        for (pid, b) in all {
            self.emit(pid, b, out);
        }
    }

    fn emit(&mut self, pid: u32, b: Bucket, out: &mut dyn FnMut(&str)) {
        let Some(p) = b.process else {
            self.stats.no_process += 1;
            return;
        };
        let obj = line_object(
            &self.opts.node,
            pid,
            b.stamp.seconds,
            &b.syscalls,
            &p,
            b.container.as_deref(),
            &new_uuid(),
        );
        if !self.opts.filters.is_empty() && !self.opts.filters.allows(&obj) {
            self.stats.filtered += 1;
            return;
        }
        self.stats.emitted += 1;
        out(&Value::Object(obj).to_string());
    }
}

/// The JSON object of one line (RC-41): keys in alphabetical order.
pub fn line_object(
    node: &str,
    pid: u32,
    seconds: u64,
    syscalls: &[String],
    p: &ProcessInfo,
    container: Option<&ContainerInfo>,
    audit_id: &str,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("auditID".into(), Value::from(audit_id));
    m.insert("cmdLine".into(), Value::from(p.cmdline.as_str()));
    m.insert("executable".into(), Value::from(p.executable.as_str()));
    m.insert("gid".into(), Value::from(p.gid));
    let mut n = Map::new();
    n.insert("name".into(), Value::from(node));
    m.insert("node".into(), Value::Object(n));
    m.insert("pid".into(), Value::from(pid));
    if let Some(r) = &p.request_uid {
        m.insert("requestUID".into(), Value::from(r.as_str()));
    }
    let resource = match container {
        Some(c) => {
            let mut r = Map::new();
            r.insert("container".into(), Value::from(c.container.as_str()));
            r.insert("namespace".into(), Value::from(c.namespace.as_str()));
            r.insert("pod".into(), Value::from(c.pod.as_str()));
            Value::Object(r)
        }
        None => Value::Null,
    };
    m.insert("resource".into(), resource);
    m.insert(
        "syscalls".into(),
        Value::Array(syscalls.iter().map(|s| Value::from(s.as_str())).collect()),
    );
    m.insert(
        "timestamp".into(),
        Value::from(time::rfc3339_seconds(seconds)),
    );
    m.insert("uid".into(), Value::from(p.uid));
    m.insert("version".into(), Value::from(VERSION));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rc_41_spec_example_shape() {
        let p = ProcessInfo {
            uid: 0,
            gid: 0,
            executable: "/usr/bin/ls".into(),
            cmdline: "ls -l /home".into(),
            request_uid: Some("dbbf5fca-c955-4922-99d2-27a50212071c".into()),
        };
        let c = ContainerInfo {
            namespace: "default".into(),
            pod: "my-pod".into(),
            container: "nginx".into(),
            record_profile: None,
        };
        let obj = line_object(
            "node-1",
            4242,
            1_744_780_616,
            &["execve".into(), "clone".into()],
            &p,
            Some(&c),
            "5b1f2c3e-0000-4000-8000-000000000000",
        );
        assert_eq!(
            Value::Object(obj).to_string(),
            r#"{"auditID":"5b1f2c3e-0000-4000-8000-000000000000","cmdLine":"ls -l /home","executable":"/usr/bin/ls","gid":0,"node":{"name":"node-1"},"pid":4242,"requestUID":"dbbf5fca-c955-4922-99d2-27a50212071c","resource":{"container":"nginx","namespace":"default","pod":"my-pod"},"syscalls":["execve","clone"],"timestamp":"2025-04-16T05:16:56.000Z","uid":0,"version":"spo/v1_alpha"}"#
        );
        let no_ctr = line_object(
            "n",
            1,
            0,
            &[],
            &ProcessInfo {
                request_uid: None,
                ..p
            },
            None,
            "x",
        );
        let s = Value::Object(no_ctr).to_string();
        assert!(
            s.contains(r#""resource":null"#) && !s.contains("requestUID"),
            "{s}"
        );
    }

    #[test]
    fn uuids_are_v4() {
        let a = new_uuid();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(a, new_uuid());
    }
}
