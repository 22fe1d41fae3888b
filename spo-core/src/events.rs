//! Recording events: what an event source (audit log, eBPF) observed, independent of where
//! it came from. Parsers in spo-recorder produce these; the LSM crates turn them into profiles.

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeccompEvent {
    /// When and which record.
    pub stamp: AuditStamp,
    /// Process ID (in the initial PID namespace).
    pub pid: u32,
    /// `uid=`, when present.
    pub uid: Option<u32>,
    /// `gid=`, when present.
    pub gid: Option<u32>,
    /// `comm=`, when present.
    pub comm: Option<String>,
    /// `exe=`.
    pub exe: String,
    /// The record's `arch=` (an `AUDIT_ARCH_*` value); resolve with `Arch::from_audit`.
    pub audit_arch: u32,
    /// The syscall number on that architecture.
    pub syscall: u64,
    /// `code=`: the seccomp action that was taken (e.g. `0x7ffc0000` = LOG).
    pub code: Option<u32>,
}

/// An SELinux AVC record (`type=AVC`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvcEvent {
    /// When and which record.
    pub stamp: AuditStamp,
    /// Process ID.
    pub pid: u32,
    /// `denied` or `granted`.
    pub denied: bool,
    /// Permissions inside `{ … }`, in record order.
    pub perms: Vec<String>,
    /// Source context, e.g. `system_u:system_r:selinuxrecording.process:s0:c1,c2`.
    pub scontext: String,
    /// Target context, e.g. `system_u:object_r:kubernetes_file_t:s0`.
    pub tcontext: String,
    /// Target class, e.g. `file`.
    pub tclass: String,
    /// `comm=`, when present.
    pub comm: Option<String>,
}

impl AvcEvent {
    /// The type (third `:`-separated field) of the target context.
    pub fn tcontext_type(&self) -> Option<&str> {
        self.tcontext.split(':').nth(2)
    }

    /// The type (third `:`-separated field) of the source context.
    pub fn scontext_type(&self) -> Option<&str> {
        self.scontext.split(':').nth(2)
    }
}

/// An AppArmor audit record (`type=APPARMOR` / `type=1400`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppArmorAuditEvent {
    /// When and which record.
    pub stamp: AuditStamp,
    /// Process ID.
    pub pid: u32,
    /// `apparmor=`: `DENIED`, `ALLOWED`, `AUDIT`…
    pub apparmor: String,
    /// `operation=`, e.g. `exec`, `open`.
    pub operation: String,
    /// `profile=`.
    pub profile: String,
    /// `name=`, the object.
    pub name: String,
    /// `comm=`.
    pub comm: String,
    /// Everything after `comm=…`, double quotes turned into single quotes.
    pub extra: String,
}

/// Any audit event a log source can yield.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditEvent {
    /// A seccomp record.
    Seccomp(SeccompEvent),
    /// An SELinux AVC record.
    Avc(AvcEvent),
    /// An AppArmor record.
    AppArmor(AppArmorAuditEvent),
}

impl AuditEvent {
    /// The PID of the process the record is about.
    pub fn pid(&self) -> u32 {
        match self {
            AuditEvent::Seccomp(e) => e.pid,
            AuditEvent::Avc(e) => e.pid,
            AuditEvent::AppArmor(e) => e.pid,
        }
    }
}

/// How a recorded program used a file (RC-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
