//! Linux capability names AppArmor accepts (§2), lower case without `CAP_`.

use std::fmt;

/// Every capability name the model accepts, in kernel order.
pub const CAPABILITIES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// A known capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capability(&'static str);

impl Capability {
    /// Parses a name case-insensitively after trimming whitespace (`" SYS_ADMIN"` →
    /// `sys_admin`); `CAP_` prefixes and unknown names are refused (AA-11).
    pub fn parse(text: &str) -> Result<Self, String> {
        let normalized = text.trim().to_ascii_lowercase();
        CAPABILITIES
            .iter()
            .find(|c| **c == normalized)
            .map(|c| Capability(c))
            .ok_or_else(|| {
                let hint = if normalized.starts_with("cap_") {
                    " (write it without the CAP_ prefix)"
                } else {
                    ""
                };
                format!("{text:?} is not a known capability{hint}")
            })
    }

    /// The kernel capability number (index in [`CAPABILITIES`]).
    pub fn from_number(number: u32) -> Option<Self> {
        CAPABILITIES.get(number as usize).map(|c| Capability(c))
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: AA-11
    #[test]
    fn aa_11_capabilities_are_normalised_or_refused() {
        assert_eq!(
            Capability::parse(" DAC_OVERRIDE ").unwrap().as_str(),
            "dac_override"
        );
        assert_eq!(Capability::from_number(21).unwrap().as_str(), "sys_admin");
        assert_eq!(
            Capability::from_number(40).unwrap().as_str(),
            "checkpoint_restore"
        );
        for bad in ["CAP_CHOWN", "chown, net_admin", "audit", "", "sys_admin\n"] {
            if bad == "sys_admin\n" {
                // Trimmed whitespace is tolerated, as upstream does.
                assert!(Capability::parse(bad).is_ok());
                continue;
            }
            assert!(Capability::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Capability::parse("CAP_CHOWN").unwrap_err().contains("CAP_"));
    }
}
