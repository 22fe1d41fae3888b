//! Recording events: what an event source (audit log, eBPF) observed, independent of where
//! it came from. Parsers in spo-recorder produce these; the LSM crates turn them into profiles.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// The `audit(<seconds>.<millis>:<serial>)` stamp of an audit record.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct AuditStamp {
    /// Seconds since the epoch.
    pub seconds: u64,
    /// Milliseconds within the second.
    pub millis: u32,
    /// Record serial number.
    pub serial: u64,
}

impl std::fmt::Display for AuditStamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}:{}", self.seconds, self.millis, self.serial)
    }
}

/// A seccomp audit record (`type=SECCOMP` / `type=1326`).
///
/// Generic over the string type: parsers yield borrowed views (`SeccompEvent<&str>` or
/// `SeccompEvent<Cow<str>>`) without copying the line; `SeccompEvent` (= `String`) is the
/// owned form. [`SeccompEvent::to_owned_event`] converts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeccompEvent<S = String> {
    /// When and which record.
    pub stamp: AuditStamp,
    /// Process ID (in the initial PID namespace).
    pub pid: u32,
    /// `uid=`, when present.
    pub uid: Option<u32>,
    /// `gid=`, when present.
    pub gid: Option<u32>,
    /// `comm=`, when present.
    pub comm: Option<S>,
    /// `exe=`.
    pub exe: S,
    /// The record's `arch=` (an `AUDIT_ARCH_*` value); resolve with `Arch::from_audit`.
    pub audit_arch: u32,
    /// The syscall number on that architecture.
    pub syscall: u64,
    /// `code=`: the seccomp action that was taken (e.g. `0x7ffc0000` = LOG).
    pub code: Option<u32>,
}

impl<S: AsRef<str>> SeccompEvent<S> {
    /// The owned copy of a borrowed event.
    pub fn to_owned_event(&self) -> SeccompEvent {
        SeccompEvent {
            stamp: self.stamp,
            pid: self.pid,
            uid: self.uid,
            gid: self.gid,
            comm: self.comm.as_ref().map(|c| c.as_ref().to_string()),
            exe: self.exe.as_ref().to_string(),
            audit_arch: self.audit_arch,
            syscall: self.syscall,
            code: self.code,
        }
    }
}

/// An SELinux AVC record (`type=AVC`). Generic over the string type like [`SeccompEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvcEvent<S = String> {
    /// When and which record.
    pub stamp: AuditStamp,
    /// Process ID.
    pub pid: u32,
    /// `denied` or `granted`.
    pub denied: bool,
    /// Permissions inside `{ … }`, in record order.
    pub perms: Vec<S>,
    /// Source context, e.g. `system_u:system_r:selinuxrecording.process:s0:c1,c2`.
    pub scontext: S,
    /// Target context, e.g. `system_u:object_r:kubernetes_file_t:s0`.
    pub tcontext: S,
    /// Target class, e.g. `file`.
    pub tclass: S,
    /// `comm=`, when present.
    pub comm: Option<S>,
}

impl<S: AsRef<str>> AvcEvent<S> {
    /// The type (third `:`-separated field) of the target context.
    pub fn tcontext_type(&self) -> Option<&str> {
        self.tcontext.as_ref().split(':').nth(2)
    }

    /// The type (third `:`-separated field) of the source context.
    pub fn scontext_type(&self) -> Option<&str> {
        self.scontext.as_ref().split(':').nth(2)
    }

    /// The owned copy of a borrowed event.
    pub fn to_owned_event(&self) -> AvcEvent {
        AvcEvent {
            stamp: self.stamp,
            pid: self.pid,
            denied: self.denied,
            perms: self.perms.iter().map(|p| p.as_ref().to_string()).collect(),
            scontext: self.scontext.as_ref().to_string(),
            tcontext: self.tcontext.as_ref().to_string(),
            tclass: self.tclass.as_ref().to_string(),
            comm: self.comm.as_ref().map(|c| c.as_ref().to_string()),
        }
    }
}

/// An AppArmor audit record (`type=APPARMOR` / `type=1400`). Generic over the string type
/// like [`SeccompEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppArmorAuditEvent<S = String> {
    /// When and which record.
    pub stamp: AuditStamp,
    /// Process ID.
    pub pid: u32,
    /// `apparmor=`: `DENIED`, `ALLOWED`, `AUDIT`…
    pub apparmor: S,
    /// `operation=`, e.g. `exec`, `open`.
    pub operation: S,
    /// `profile=`.
    pub profile: S,
    /// `name=`, the object (empty when the record has none, e.g. capability checks).
    pub name: S,
    /// `comm=`.
    pub comm: S,
    /// Everything after `comm=…`, double quotes turned into single quotes.
    pub extra: S,
}

impl<S: AsRef<str>> AppArmorAuditEvent<S> {
    /// The owned copy of a borrowed event.
    pub fn to_owned_event(&self) -> AppArmorAuditEvent {
        AppArmorAuditEvent {
            stamp: self.stamp,
            pid: self.pid,
            apparmor: self.apparmor.as_ref().to_string(),
            operation: self.operation.as_ref().to_string(),
            profile: self.profile.as_ref().to_string(),
            name: self.name.as_ref().to_string(),
            comm: self.comm.as_ref().to_string(),
            extra: self.extra.as_ref().to_string(),
        }
    }
}

/// Any audit event a log source can yield. Generic over the string type like
/// [`SeccompEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AuditEvent<S = String> {
    /// A seccomp record.
    Seccomp(SeccompEvent<S>),
    /// An SELinux AVC record.
    Avc(AvcEvent<S>),
    /// An AppArmor record.
    AppArmor(AppArmorAuditEvent<S>),
}

impl<S> AuditEvent<S> {
    /// The PID of the process the record is about.
    pub fn pid(&self) -> u32 {
        match self {
            AuditEvent::Seccomp(e) => e.pid,
            AuditEvent::Avc(e) => e.pid,
            AuditEvent::AppArmor(e) => e.pid,
        }
    }

    /// The record's stamp.
    pub fn stamp(&self) -> AuditStamp {
        match self {
            AuditEvent::Seccomp(e) => e.stamp,
            AuditEvent::Avc(e) => e.stamp,
            AuditEvent::AppArmor(e) => e.stamp,
        }
    }
}

impl AuditEvent {
    /// A borrowed view of an owned event (the inverse of [`AuditEvent::to_owned_event`]).
    pub fn to_borrowed_event(&self) -> AuditEvent<Cow<'_, str>> {
        fn b(s: &str) -> Cow<'_, str> {
            Cow::Borrowed(s)
        }
        match self {
            AuditEvent::Seccomp(s) => AuditEvent::Seccomp(SeccompEvent {
                stamp: s.stamp,
                pid: s.pid,
                uid: s.uid,
                gid: s.gid,
                comm: s.comm.as_deref().map(b),
                exe: b(&s.exe),
                audit_arch: s.audit_arch,
                syscall: s.syscall,
                code: s.code,
            }),
            AuditEvent::Avc(a) => AuditEvent::Avc(AvcEvent {
                stamp: a.stamp,
                pid: a.pid,
                denied: a.denied,
                perms: a.perms.iter().map(|p| b(p)).collect(),
                scontext: b(&a.scontext),
                tcontext: b(&a.tcontext),
                tclass: b(&a.tclass),
                comm: a.comm.as_deref().map(b),
            }),
            AuditEvent::AppArmor(a) => AuditEvent::AppArmor(AppArmorAuditEvent {
                stamp: a.stamp,
                pid: a.pid,
                apparmor: b(&a.apparmor),
                operation: b(&a.operation),
                profile: b(&a.profile),
                name: b(&a.name),
                comm: b(&a.comm),
                extra: b(&a.extra),
            }),
        }
    }
}

impl<S: AsRef<str>> AuditEvent<S> {
    /// The owned copy of a borrowed event.
    pub fn to_owned_event(&self) -> AuditEvent {
        match self {
            AuditEvent::Seccomp(e) => AuditEvent::Seccomp(e.to_owned_event()),
            AuditEvent::Avc(e) => AuditEvent::Avc(e.to_owned_event()),
            AuditEvent::AppArmor(e) => AuditEvent::AppArmor(e.to_owned_event()),
        }
    }
}

/// How a recorded program used a file (RC-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FileUse {
    /// The file was executed (`execve`).
    Exec,
    /// The file was mapped executable (a library).
    MapExec,
    /// Opened for reading.
    Read,
    /// Opened for writing.
    Write,
    /// Opened for reading and writing.
    ReadWrite,
}

/// Socket families/types a recorded program created (RC-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SocketUse {
    /// `SOCK_RAW`.
    Raw,
    /// `SOCK_STREAM` over IP (TCP).
    Tcp,
    /// `SOCK_DGRAM` over IP (UDP).
    Udp,
}

/// One observation an AppArmor recording is built from (RC-21).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AppArmorObservation {
    /// A file path and how it was used.
    File {
        /// Absolute path as observed (not yet normalised).
        path: String,
        /// How it was used.
        access: FileUse,
    },
    /// A capability check, by name without the `CAP_` prefix, lower case (`net_bind_service`).
    Capability(String),
    /// A socket created.
    Socket(SocketUse),
}
