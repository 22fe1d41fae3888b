//! SPO metrics with the exact names of `operator.md` §7 (`security_profiles_operator_*`),
//! served as Prometheus text at `/metrics-spod`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// `operation` label of the profile counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabel {
    /// `update` or `delete`.
    pub operation: String,
}

/// `reason` label of the error counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// The event reason, e.g. `ProfileNotAllowed`.
    pub reason: String,
}

/// The daemon's counters.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    seccomp_total: Family<OperationLabel, Counter>,
    seccomp_errors: Family<ReasonLabel, Counter>,
    selinux_total: Family<OperationLabel, Counter>,
    selinux_errors: Family<ReasonLabel, Counter>,
    apparmor_total: Family<OperationLabel, Counter>,
    apparmor_errors: Family<ReasonLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every counter registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let m = |name: &str| format!("security_profiles_operator_{name}");
        let seccomp_total = Family::<OperationLabel, Counter>::default();
        let seccomp_errors = Family::<ReasonLabel, Counter>::default();
        let selinux_total = Family::<OperationLabel, Counter>::default();
        let selinux_errors = Family::<ReasonLabel, Counter>::default();
        let apparmor_total = Family::<OperationLabel, Counter>::default();
        let apparmor_errors = Family::<ReasonLabel, Counter>::default();
        registry.register(
            m("seccomp_profile"),
            "Counter about seccomp profile operations.",
            seccomp_total.clone(),
        );
        registry.register(
            m("seccomp_profile_error"),
            "Counter about seccomp profile errors.",
            seccomp_errors.clone(),
        );
        registry.register(
            m("selinux_profile"),
            "Counter about selinux profile operations.",
            selinux_total.clone(),
        );
        registry.register(
            m("selinux_profile_error"),
            "Counter about selinux profile errors.",
            selinux_errors.clone(),
        );
        registry.register(
            m("apparmor_profile"),
            "Counter about apparmor profile operations.",
            apparmor_total.clone(),
        );
        registry.register(
            m("apparmor_profile_error"),
            "Counter about apparmor profile errors.",
            apparmor_errors.clone(),
        );
        Metrics {
            registry,
            seccomp_total,
            seccomp_errors,
            selinux_total,
            selinux_errors,
            apparmor_total,
            apparmor_errors,
        }
    }

    /// `seccomp_profile_total{operation}` += 1.
    pub fn seccomp_op(&self, operation: &str) {
        self.seccomp_total
            .get_or_create(&OperationLabel {
                operation: operation.into(),
            })
            .inc();
    }

    /// `seccomp_profile_error_total{reason}` += 1.
    pub fn seccomp_error(&self, reason: &str) {
        self.seccomp_errors
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// `selinux_profile_total{operation}` += 1.
    pub fn selinux_op(&self, operation: &str) {
        self.selinux_total
            .get_or_create(&OperationLabel {
                operation: operation.into(),
            })
            .inc();
    }

    /// `selinux_profile_error_total{reason}` += 1.
    pub fn selinux_error(&self, reason: &str) {
        self.selinux_errors
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// `apparmor_profile_total{operation}` += 1.
    pub fn apparmor_op(&self, operation: &str) {
        self.apparmor_total
            .get_or_create(&OperationLabel {
                operation: operation.into(),
            })
            .inc();
    }

    /// `apparmor_profile_error_total{reason}` += 1.
    pub fn apparmor_error(&self, reason: &str) {
        self.apparmor_errors
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: SC-42 (metric names)
    #[test]
    fn metric_names_match_upstream() {
        let m = Metrics::new();
        m.seccomp_op("update");
        m.seccomp_error("ProfileNotAllowed");
        let text = m.encode();
        assert!(
            text.contains(
                "security_profiles_operator_seccomp_profile_total{operation=\"update\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("security_profiles_operator_seccomp_profile_error_total{reason=\"ProfileNotAllowed\"} 1"), "{text}");
    }
}
