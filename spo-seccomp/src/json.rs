//! The JSON forms of a seccomp spec: the compact on-disk file (SC-08, SC-09) and the
//! indented raw JSON of `spoc convert` / `spoc record -t raw-seccomp` (CLI-05, CLI-14).

use crate::model::{ProfileState, SeccompSpec};

/// Which upstream release line's file format to produce: `V1` (1.0+, the file starts with
/// `"state":"Enabled"`) or `Legacy` (0.10, no `state` key).
pub use spo_core::Era;

/// The compact single-line JSON a node's seccomp file holds, keys in SC-08 order.
pub fn to_disk_json(spec: &SeccompSpec, era: Era) -> String {
    let mut spec = spec.clone();
    spec.state = match era {
        Era::Legacy => None,
        // V1 and any later era write the state.
        _ => Some(spec.state.unwrap_or(ProfileState::Enabled)),
    };
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string(&spec).unwrap_or_default()
}

/// The spec as JSON indented with two spaces, as `spoc convert` writes it.
pub fn to_pretty_json(spec: &SeccompSpec) -> String {
    let mut out = serde_json::to_string_pretty(spec).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, Arg, ArgOp, Syscall};
    use spo_core::Arch;

    fn worked_example() -> SeccompSpec {
        let mut s = SeccompSpec::new(Action::Errno);
        s.base_profile_name = Some("runc-v1.2.0".into());
        s.architectures = vec![Arch::X86_64];
        let mut personality = Syscall::new(["personality"], Action::Allow);
        personality.args = vec![Arg {
            index: 0,
            value: 8,
            value_two: 0,
            op: ArgOp::Equal,
        }];
        let mut mkdir = Syscall::new(["mkdir"], Action::Errno);
        mkdir.errno_ret = Some(1);
        s.syscalls = vec![
            Syscall::new(["exit_group", "read", "write"], Action::Allow),
            personality,
            mkdir,
        ];
        s
    }

    // covers: SC-08, SC-09, SC-10
    #[test]
    fn sc_08_sc_09_worked_example_byte_for_byte() {
        let v1 = r#"{"state":"Enabled","baseProfileName":"runc-v1.2.0","defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["exit_group","read","write"],"action":"SCMP_ACT_ALLOW"},{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#;
        assert_eq!(to_disk_json(&worked_example(), Era::V1), v1);
        let legacy = v1.replace(r#""state":"Enabled","#, "");
        assert_eq!(to_disk_json(&worked_example(), Era::Legacy), legacy);
    }

    // covers: SC-09
    #[test]
    fn sc_09_minimal_profile() {
        let s = SeccompSpec::new(Action::Log);
        assert_eq!(
            to_disk_json(&s, Era::V1),
            r#"{"state":"Enabled","defaultAction":"SCMP_ACT_LOG"}"#
        );
        assert_eq!(
            to_disk_json(&s, Era::Legacy),
            r#"{"defaultAction":"SCMP_ACT_LOG"}"#
        );
    }

    // covers: SC-10
    #[test]
    fn sc_10_zero_values_are_omitted_but_index_is_not() {
        let mut s = SeccompSpec::new(Action::Errno);
        let mut r = Syscall::new(["read"], Action::Errno);
        r.errno_ret = Some(0);
        r.args = vec![Arg {
            index: 0,
            value: 0,
            value_two: 0,
            op: ArgOp::Equal,
        }];
        s.syscalls = vec![r];
        let j = to_disk_json(&s, Era::Legacy);
        assert_eq!(
            j,
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"op":"SCMP_CMP_EQ"}]}]}"#
        );
    }

    // covers: CLI-05
    #[test]
    fn cli_05_pretty_json_is_two_space_indented() {
        let mut s = SeccompSpec::new(Action::Errno);
        s.architectures = vec![Arch::X86_64];
        let out = to_pretty_json(&s);
        assert_eq!(out, "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"architectures\": [\n    \"SCMP_ARCH_X86_64\"\n  ]\n}\n");
    }
}
