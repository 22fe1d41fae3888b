//! Counters of the log enricher (operator spec §7; RC-31..RC-33), registered in a
//! prometheus-client [`Registry`] the caller owns. prometheus-client appends `_total` to
//! counter names, so `seccomp_profile_audit` is exposed as `seccomp_profile_audit_total`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of `seccomp_profile_audit_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeccompLabels {
    /// Node name.
    pub node: String,
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// Syscall name.
    pub syscall: String,
}

/// Labels of `selinux_profile_audit_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SelinuxLabels {
    /// Node name.
    pub node: String,
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// Source context.
    pub scontext: String,
    /// Target context.
    pub tcontext: String,
}

/// Labels of `apparmor_profile_audit_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AppArmorLabels {
    /// Node name.
    pub node: String,
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// AppArmor profile.
    pub profile: String,
    /// Operation.
    pub operation: String,
    /// `DENIED`, `ALLOWED`, …
    pub apparmor: String,
}

/// Labels of `apparmor_profile_denial_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DenialLabels {
    /// AppArmor profile.
    pub profile: String,
    /// Operation.
    pub operation: String,
}

/// The enricher's counter families. Cloning shares the counters.
#[derive(Debug, Clone, Default)]
pub struct EnricherMetrics {
    /// `seccomp_profile_audit_total`.
    pub seccomp_audit: Family<SeccompLabels, Counter>,
    /// `selinux_profile_audit_total`.
    pub selinux_audit: Family<SelinuxLabels, Counter>,
    /// `apparmor_profile_audit_total`.
    pub apparmor_audit: Family<AppArmorLabels, Counter>,
    /// `apparmor_profile_denial_total`.
    pub apparmor_denial: Family<DenialLabels, Counter>,
}

impl EnricherMetrics {
    /// Creates the families and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = EnricherMetrics::default();
        registry.register(
            "seccomp_profile_audit",
            "Seccomp audit records per container and syscall",
            m.seccomp_audit.clone(),
        );
        registry.register(
            "selinux_profile_audit",
            "SELinux AVC records per container and context",
            m.selinux_audit.clone(),
        );
        registry.register(
            "apparmor_profile_audit",
            "AppArmor audit records per container, profile and operation",
            m.apparmor_audit.clone(),
        );
        registry.register(
            "apparmor_profile_denial",
            "AppArmor denials per profile and operation",
            m.apparmor_denial.clone(),
        );
        m
    }
}
