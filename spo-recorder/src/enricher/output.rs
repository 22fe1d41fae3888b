//! Enriched events as structured log lines (RC-31..RC-33): a text form
//! (`"audit" timestamp="…" type="seccomp" …`, strings quoted, numbers bare) and a JSON form
//! (`{"msg":"audit","timestamp":"…",…}`), keys in the spec's order. Written straight into a
//! byte buffer: no allocation per line.

use std::io::Write;

use spo_core::events::AuditEvent;

use super::Enriched;

/// Output formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputFormat {
    /// `"audit" key="value" key=123 …`
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Output switches (default: text, no container ID).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct OutputOptions {
    /// The format.
    pub format: OutputFormat,
    /// Append a `containerID` key (the 64-hex ID, empty when unattributed) after the
    /// spec's keys — useful outside Kubernetes, where pod fields stay empty.
    pub container_id: bool,
}

impl OutputOptions {
    /// Sets [`OutputOptions::format`].
    #[must_use]
    pub fn with_format(mut self, format: OutputFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets [`OutputOptions::container_id`].
    #[must_use]
    pub fn with_container_id(mut self, container_id: bool) -> Self {
        self.container_id = container_id;
        self
    }
}

/// The punctuation of a line format; values are written the same way in both (strings
/// quoted and escaped, numbers bare).
struct Style {
    start: &'static [u8],
    key_open: &'static [u8],
    key_close: &'static [u8],
    end: &'static [u8],
}

const TEXT: Style = Style {
    start: b"\"audit\"",
    key_open: b" ",
    key_close: b"=",
    end: b"\n",
};

const JSON: Style = Style {
    start: b"{\"msg\":\"audit\"",
    key_open: b",\"",
    key_close: b"\":",
    end: b"}\n",
};

/// One line being written in a [`Style`].
struct Line<'b> {
    out: &'b mut Vec<u8>,
    style: &'static Style,
}

impl Line<'_> {
    fn start(&mut self) {
        self.out.extend_from_slice(self.style.start);
    }
    fn key(&mut self, key: &str) {
        self.out.extend_from_slice(self.style.key_open);
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(self.style.key_close);
    }
    fn str(&mut self, key: &str, v: &str) {
        self.key(key);
        quote(self.out, v);
    }
    fn num(&mut self, key: &str, v: u64) {
        self.key(key);
        push_u64(self.out, v);
    }
    fn end(&mut self) {
        self.out.extend_from_slice(self.style.end);
    }
    /// Where the event happened: `node`, `namespace`, `pod`, `container` (empty when the
    /// process is not in a known container).
    fn place(&mut self, e: &Enriched<'_>) {
        let (ns, pod, ctr) = placement(e);
        self.str("node", e.node);
        self.str("namespace", ns);
        self.str("pod", pod);
        self.str("container", ctr);
    }
    /// The event's time stamp as a quoted string, written in place (digits need no escaping).
    fn stamp(&mut self, key: &str, e: &Enriched<'_>) {
        self.key(key);
        self.out.push(b'"');
        push_stamp(self.out, e);
        self.out.push(b'"');
    }
}

/// Namespace, pod and container of the event's process, empty when unattributed.
fn placement<'e>(e: &Enriched<'e>) -> (&'e str, &'e str, &'e str) {
    match e.info {
        Some(i) => (i.namespace.as_str(), i.pod.as_str(), i.container.as_str()),
        None => ("", "", ""),
    }
}

/// Appends `<seconds>.<millis>:<serial>` without the formatting machinery.
fn push_stamp(out: &mut Vec<u8>, e: &Enriched<'_>) {
    let st = e.event.stamp();
    let m = st.millis.min(999);
    push_u64(out, st.seconds);
    out.extend_from_slice(&[
        b'.',
        b'0' + (m / 100) as u8,
        b'0' + (m / 10 % 10) as u8,
        b'0' + (m % 10) as u8,
        b':',
    ]);
    push_u64(out, st.serial);
}

/// Appends `v` in decimal.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Bytes that need an escape inside a JSON string.
static ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Appends `s` as a double-quoted string with JSON escapes (valid for both forms).
pub(crate) fn quote(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if !ESCAPE[c as usize] {
            continue;
        }
        out.extend_from_slice(&b[start..i]);
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                let _ = write!(out, "\\u{c:04x}");
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// Appends one enriched event as a line in the chosen format.
pub fn write_event(out: &mut Vec<u8>, e: &Enriched<'_>, opts: &OutputOptions) {
    let style = match opts.format {
        OutputFormat::Text => &TEXT,
        OutputFormat::Json => &JSON,
    };
    fields(&mut Line { out, style }, e, opts.container_id);
}

fn fields(s: &mut Line<'_>, e: &Enriched<'_>, with_id: bool) {
    s.start();
    s.stamp("timestamp", e);
    match e.event {
        AuditEvent::Seccomp(ev) => {
            s.str("type", "seccomp");
            s.place(e);
            s.str("executable", &ev.exe);
            s.num("pid", u64::from(ev.pid));
            s.num("syscallID", ev.syscall);
            s.str("syscallName", e.syscall_name.unwrap_or_default());
        }
        AuditEvent::Avc(ev) => {
            s.str("type", "selinux");
            let profile = e
                .info
                .and_then(|i| i.record_profile.as_deref())
                .unwrap_or_default();
            s.str("profile", profile);
            s.place(e);
            s.str("perm", &ev.perms.join(" "));
            s.str("scontext", &ev.scontext);
            s.str("tcontext", &ev.tcontext);
            s.str("tclass", &ev.tclass);
        }
        AuditEvent::AppArmor(ev) => {
            s.str("type", "apparmor");
            s.place(e);
            s.str("executable", &ev.comm);
            s.num("pid", u64::from(ev.pid));
            s.str("apparmor", &ev.apparmor);
            s.str("operation", &ev.operation);
            s.str("profile", &ev.profile);
            s.str("name", &ev.name);
            if !ev.extra.is_empty() {
                s.str("extra_info", &ev.extra);
            }
        }
        _ => s.str("type", "unknown"),
    }
    if with_id {
        s.str("containerID", e.container_id.unwrap_or_default());
    }
    s.end();
}

/// Emits one enriched event as a structured `tracing` event with message `audit` and the
/// spec's keys in order (RC-31..RC-33), for daemons whose subscriber writes the log lines.
pub fn trace_event(e: &Enriched<'_>) {
    let (namespace, pod, container) = placement(e);
    let node = e.node;
    let mut stamp = Vec::with_capacity(32);
    push_stamp(&mut stamp, e);
    let ts = std::str::from_utf8(&stamp).unwrap_or_default();
    match e.event {
        AuditEvent::Seccomp(ev) => tracing::info!(
            timestamp = ts, r#type = "seccomp", node, namespace, pod, container,
            executable = %ev.exe, pid = ev.pid, syscallID = ev.syscall,
            syscallName = e.syscall_name.unwrap_or_default(), "audit"
        ),
        AuditEvent::Avc(ev) => {
            let perm = ev.perms.join(" ");
            let profile = e
                .info
                .and_then(|i| i.record_profile.as_deref())
                .unwrap_or_default();
            tracing::info!(
                timestamp = ts, r#type = "selinux", profile, node, namespace, pod, container,
                perm, scontext = %ev.scontext, tcontext = %ev.tcontext, tclass = %ev.tclass,
                "audit"
            )
        }
        AuditEvent::AppArmor(ev) if ev.extra.is_empty() => tracing::info!(
            timestamp = ts, r#type = "apparmor", node, namespace, pod, container,
            executable = %ev.comm, pid = ev.pid, apparmor = %ev.apparmor,
            operation = %ev.operation, profile = %ev.profile, name = %ev.name, "audit"
        ),
        AuditEvent::AppArmor(ev) => tracing::info!(
            timestamp = ts, r#type = "apparmor", node, namespace, pod, container,
            executable = %ev.comm, pid = ev.pid, apparmor = %ev.apparmor,
            operation = %ev.operation, profile = %ev.profile, name = %ev.name,
            extra_info = %ev.extra, "audit"
        ),
        _ => tracing::info!(timestamp = ts, r#type = "unknown", node, "audit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_json_specials() {
        let mut v = Vec::new();
        quote(&mut v, "a\"b\\c\nd\u{1}é");
        assert_eq!(String::from_utf8(v).unwrap(), "\"a\\\"b\\\\c\\nd\\u0001é\"");
        let mut n = Vec::new();
        push_u64(&mut n, 0);
        push_u64(&mut n, 18_446_744_073_709_551_615);
        assert_eq!(n, b"018446744073709551615");
    }
}
