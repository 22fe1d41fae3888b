//! The recorder without the `bpf` feature: same API, every constructor returns
//! [`BpfError::FeatureDisabled`].

use std::convert::Infallible;

use super::cgroup::RecordCgroup;
use super::error::BpfError;
use super::recorded::Recorded;
use super::{LoadOptions, TargetId};

/// Stand-in for the eBPF recorder; it cannot be constructed.
#[derive(Debug)]
pub struct Recorder {
    never: Infallible,
    pub(super) opts: LoadOptions,
    pub(super) cgroup_mount: std::path::PathBuf,
}

impl Recorder {
    /// Always [`BpfError::FeatureDisabled`].
    pub fn new() -> Result<Recorder, BpfError> {
        Err(BpfError::FeatureDisabled)
    }

    /// Always [`BpfError::FeatureDisabled`].
    pub fn load(_opts: &LoadOptions) -> Result<Recorder, BpfError> {
        Err(BpfError::FeatureDisabled)
    }

    /// Unreachable (no value exists).
    pub fn hold_attached(&mut self, _hold: bool) -> Result<(), BpfError> {
        match self.never {}
    }

    /// Unreachable (no value exists).
    pub fn is_held(&self) -> bool {
        match self.never {}
    }

    /// Unreachable (no value exists).
    pub fn is_attached(&self) -> bool {
        match self.never {}
    }

    /// Unreachable (no value exists).
    pub fn start(&mut self, _cgroups: &[&RecordCgroup]) -> Result<TargetId, BpfError> {
        match self.never {}
    }

    /// Unreachable (no value exists).
    pub fn add_cgroup(&mut self, _target: TargetId, _cg: &RecordCgroup) -> Result<(), BpfError> {
        match self.never {}
    }

    /// Unreachable (no value exists).
    pub fn enable_apparmor(&mut self) -> Result<(), BpfError> {
        match self.never {}
    }

    /// Unreachable (no value exists).
    pub fn apparmor_capabilities(&self) -> Result<(), String> {
        match self.never {}
    }

    /// Unreachable (no value exists).
    pub fn snapshot(&self, _target: TargetId) -> Result<Recorded, BpfError> {
        match self.never {}
    }

    /// Unreachable (no value exists).
    pub fn stop(&mut self, _target: TargetId) -> Result<Recorded, BpfError> {
        match self.never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_feature_the_recorder_says_so() {
        let e = Recorder::new().unwrap_err();
        assert!(matches!(e, BpfError::FeatureDisabled));
        assert!(e.to_string().contains("`bpf` feature"), "{e}");
    }
}
