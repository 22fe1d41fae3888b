//! The audit line parser (RC-28): one pass over the bytes of a line, no regular expressions,
//! no copies of the line (strings are borrowed unless they had to be decoded), never panics.
//!
//! Recognised forms — the record kind is found at the start of an auditd line
//! (`[node=N ]type=NAME msg=audit(…): …`) or behind `audit: type=NNNN` in syslog and
//! `/dev/kmsg` lines:
//!
//! | Record | auditd | syslog / kmsg |
//! |---|---|---|
//! | seccomp | `type=SECCOMP` | `audit: type=1326` |
//! | SELinux AVC | `type=AVC` with `avc: … { perms }` | not matched (spec §4.2) |
//! | AppArmor | `type=APPARMOR`, or `type=AVC` with `apparmor=` | `audit: type=1400` with `apparmor=` |
//!
//! Everything after auditd's ENRICHED separator `\x1d` is ignored. `USER_AVC` and every other
//! record type are [`Parsed::Ignored`]; a recognised record missing a required field is
//! [`Parsed::Malformed`].

use std::borrow::Cow;

use spo_core::events::{AppArmorAuditEvent, AuditEvent, AuditStamp, AvcEvent, SeccompEvent};

use super::fields::{dec_u32, dec_u64, hex_prefix_u32, text, untrusted, Field, Fields};

/// A parsed event borrowing from its line.
pub type Event<'a> = AuditEvent<Cow<'a, str>>;

/// The result of parsing one line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Parsed<'a> {
    /// A seccomp, AVC or AppArmor record.
    Event(Event<'a>),
    /// Not a record the enricher handles.
    Ignored,
    /// A record of a handled type that could not be read.
    Malformed(Malformed),
}

/// Why a recognised record was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    /// No readable `audit(<secs>.<millis>:<serial>)` stamp.
    Stamp,
    /// A required field is absent or not a number.
    Field(&'static str),
    /// An AVC record without `{ permissions }`.
    Permissions,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Malformed::Stamp => f.write_str("no readable audit(…) stamp"),
            Malformed::Field(k) => write!(f, "field {k}= missing or invalid"),
            Malformed::Permissions => f.write_str("AVC record without { permissions }"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Seccomp,
    /// `type=AVC`: SELinux, or AppArmor when it has an `apparmor=` field.
    Avc,
    AppArmor,
    /// `audit: type=1400`: AppArmor when it has an `apparmor=` field, else ignored.
    Avc1400,
}

/// Parses one line (with or without its trailing newline).
pub fn parse_line(line: &[u8]) -> Parsed<'_> {
    // ENRICHED format: the interpreted copy of the fields follows a \x1d byte.
    let line = match memchr::memchr(0x1d, line) {
        Some(i) => &line[..i],
        None => line,
    };
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some((kind, after_type)) = find_kind(line) else {
        return Parsed::Ignored;
    };
    let Some((stamp, body)) = stamp_and_body(&line[after_type..]) else {
        return Parsed::Malformed(Malformed::Stamp);
    };
    let result = match kind {
        Kind::Seccomp => seccomp(stamp, body),
        Kind::AppArmor => apparmor(stamp, body),
        Kind::Avc => {
            if has_key(body, b"apparmor") {
                apparmor(stamp, body)
            } else {
                avc(stamp, body)
            }
        }
        Kind::Avc1400 => {
            if has_key(body, b"apparmor") {
                apparmor(stamp, body)
            } else {
                return Parsed::Ignored;
            }
        }
    };
    match result {
        Ok(e) => Parsed::Event(e),
        Err(m) => Parsed::Malformed(m),
    }
}

/// Finds the record kind; returns it with the offset just past the type token.
fn find_kind(line: &[u8]) -> Option<(Kind, usize)> {
    let mut start = 0;
    if line.starts_with(b"node=") {
        start = memchr::memchr(b' ', line)? + 1;
    }
    if line[start..].starts_with(b"type=") {
        let tok = start + 5;
        let end = token_end(line, tok);
        let kind = match &line[tok..end] {
            b"SECCOMP" => Kind::Seccomp,
            b"AVC" => Kind::Avc,
            b"APPARMOR" => Kind::AppArmor,
            _ => return None,
        };
        return Some((kind, end));
    }
    // syslog / kmsg: "… audit: type=1326 audit(…)"; named types forwarded by audisp also
    // appear inside syslog lines.
    let finder = memchr::memmem::find_iter(line, b"type=");
    for pos in finder {
        if pos > 0 && line[pos - 1] != b' ' && line[pos - 1] != b';' {
            continue;
        }
        let tok = pos + 5;
        let end = token_end(line, tok);
        let kind = match &line[tok..end] {
            b"1326" if preceded_by_audit(line, pos) => Kind::Seccomp,
            b"1400" if preceded_by_audit(line, pos) => Kind::Avc1400,
            b"SECCOMP" => Kind::Seccomp,
            b"AVC" => Kind::Avc,
            b"APPARMOR" => Kind::AppArmor,
            _ => return None,
        };
        return Some((kind, end));
    }
    None
}

fn preceded_by_audit(line: &[u8], pos: usize) -> bool {
    line[..pos].ends_with(b"audit: ") || line[..pos].ends_with(b"audit:")
}

fn token_end(line: &[u8], from: usize) -> usize {
    let rest = line.get(from..).unwrap_or_default();
    from + memchr::memchr(b' ', rest).unwrap_or(rest.len())
}

/// `… audit(1613596317.899:6461): body` → stamp and body.
fn stamp_and_body(rest: &[u8]) -> Option<(AuditStamp, &[u8])> {
    // Fast path: " msg=audit(" (auditd) or " audit(" (kernel log) right after the type.
    let trimmed = rest.strip_prefix(b" ").unwrap_or(rest);
    let trimmed = trimmed.strip_prefix(b"msg=").unwrap_or(trimmed);
    let open = if trimmed.starts_with(b"audit(") {
        rest.len() - trimmed.len() + 6
    } else {
        memchr::memmem::find(rest, b"audit(")? + 6
    };
    let close = open + memchr::memchr(b')', &rest[open..])?;
    let stamp = parse_stamp(&rest[open..close])?;
    let mut body = &rest[close + 1..];
    body = body.strip_prefix(b":").unwrap_or(body);
    Some((stamp, body))
}

fn parse_stamp(s: &[u8]) -> Option<AuditStamp> {
    let dot = memchr::memchr(b'.', s)?;
    let colon = dot + memchr::memchr(b':', &s[dot..])?;
    let seconds = dec_u64(&s[..dot])?;
    let frac = &s[dot + 1..colon];
    let millis = match frac.len() {
        1..=3 => {
            let v = dec_u32(frac)?;
            v * 10u32.pow(3 - frac.len() as u32)
        }
        4..=9 => dec_u32(&frac[..3])?,
        _ => return None,
    };
    let serial = dec_u64(&s[colon + 1..])?;
    Some(AuditStamp {
        seconds,
        millis,
        serial,
    })
}

fn has_key(body: &[u8], key: &[u8]) -> bool {
    Fields::new(body).any(|f| f.key == key)
}

fn seccomp(stamp: AuditStamp, body: &[u8]) -> Result<Event<'_>, Malformed> {
    let mut pid = None;
    let mut uid = None;
    let mut gid = None;
    let mut comm = None;
    let mut exe = None;
    let mut arch = None;
    let mut syscall = None;
    let mut code = None;
    for f in Fields::new(body) {
        match f.key {
            b"pid" => pid = Some(dec_u32(f.value).ok_or(Malformed::Field("pid"))?),
            b"uid" => uid = dec_u32(f.value),
            b"gid" => gid = dec_u32(f.value),
            b"comm" => comm = Some(untrusted(f.value, f.quoted)),
            b"exe" => exe = Some(untrusted(f.value, f.quoted)),
            b"arch" => arch = hex_prefix_u32(f.value),
            b"syscall" => syscall = Some(dec_u64(f.value).ok_or(Malformed::Field("syscall"))?),
            b"code" => code = hex_prefix_u32(f.value),
            _ => {}
        }
    }
    Ok(AuditEvent::Seccomp(SeccompEvent {
        stamp,
        pid: pid.ok_or(Malformed::Field("pid"))?,
        uid,
        gid,
        comm,
        exe: exe.ok_or(Malformed::Field("exe"))?,
        audit_arch: arch.unwrap_or(0),
        syscall: syscall.ok_or(Malformed::Field("syscall"))?,
        code,
    }))
}

fn avc(stamp: AuditStamp, body: &[u8]) -> Result<Event<'_>, Malformed> {
    let open = memchr::memchr(b'{', body).ok_or(Malformed::Permissions)?;
    let close = open + memchr::memchr(b'}', &body[open..]).ok_or(Malformed::Permissions)?;
    let head = &body[..open];
    let denied = memchr::memmem::find(head, b"denied").is_some();
    let perms: Vec<Cow<'_, str>> = body[open + 1..close]
        .split(|c| *c == b' ')
        .filter(|p| !p.is_empty())
        .map(text)
        .collect();
    if perms.is_empty() {
        return Err(Malformed::Permissions);
    }
    let mut pid = None;
    let mut scontext = None;
    let mut tcontext = None;
    let mut tclass = None;
    let mut comm = None;
    for f in Fields::new(&body[close + 1..]) {
        match f.key {
            b"pid" => pid = Some(dec_u32(f.value).ok_or(Malformed::Field("pid"))?),
            b"scontext" => scontext = Some(text(f.value)),
            b"tcontext" => tcontext = Some(text(f.value)),
            b"tclass" => tclass = Some(text(f.value)),
            b"comm" => comm = Some(untrusted(f.value, f.quoted)),
            _ => {}
        }
    }
    Ok(AuditEvent::Avc(AvcEvent {
        stamp,
        pid: pid.ok_or(Malformed::Field("pid"))?,
        denied,
        perms,
        scontext: nonempty(scontext, "scontext")?,
        tcontext: nonempty(tcontext, "tcontext")?,
        tclass: nonempty(tclass, "tclass")?,
        comm,
    }))
}

fn nonempty<'a>(v: Option<Cow<'a, str>>, key: &'static str) -> Result<Cow<'a, str>, Malformed> {
    v.filter(|s| !s.is_empty()).ok_or(Malformed::Field(key))
}

fn apparmor(stamp: AuditStamp, body: &[u8]) -> Result<Event<'_>, Malformed> {
    let mut apparmor = None;
    let mut operation = None;
    let mut profile = None;
    let mut name = None;
    let mut pid = None;
    let mut comm: Option<(Field<'_>, usize)> = None;
    for f in Fields::new(body) {
        match f.key {
            b"apparmor" => apparmor = Some(untrusted(f.value, f.quoted)),
            b"operation" => operation = Some(untrusted(f.value, f.quoted)),
            b"profile" => profile = Some(untrusted(f.value, f.quoted)),
            b"name" if name.is_none() => name = Some(untrusted(f.value, f.quoted)),
            b"pid" => pid = Some(dec_u32(f.value).ok_or(Malformed::Field("pid"))?),
            // Everything after comm is the "extra" part (spec §4.2).
            b"comm" => comm = Some((f, f.end)),
            _ => {}
        }
    }
    let (comm_field, comm_end) = comm.ok_or(Malformed::Field("comm"))?;
    let rest = body.get(comm_end..).unwrap_or_default();
    let rest = rest.trim_ascii();
    let extra = if rest.contains(&b'"') {
        Cow::Owned(text(rest).replace('"', "'"))
    } else {
        text(rest)
    };
    Ok(AuditEvent::AppArmor(AppArmorAuditEvent {
        stamp,
        pid: pid.ok_or(Malformed::Field("pid"))?,
        apparmor: apparmor.ok_or(Malformed::Field("apparmor"))?,
        operation: operation.ok_or(Malformed::Field("operation"))?,
        profile: profile.ok_or(Malformed::Field("profile"))?,
        name: name.unwrap_or(Cow::Borrowed("")),
        comm: untrusted(comm_field.value, comm_field.quoted),
        extra,
    }))
}
