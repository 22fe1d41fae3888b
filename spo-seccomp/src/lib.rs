//! # spo-seccomp
//!
//! Everything about SeccompProfiles, from manifest to kernel:
//!
//! | Module | Job | Spec |
//! |---|---|---|
//! | [`model`] | the profile model; decoding from any served API version | SC-01..SC-05, SC-10, VER-08 |
//! | [`validate`] | every violation, with field paths; syscall names checked per architecture | SC-01..SC-05 |
//! | [`json`] | the on-disk JSON and the indented raw JSON | SC-08, SC-09, CLI-05 |
//! | [`merge`] | syscall union (1.0 and 0.10 algorithms), profile merge, coverage check | SC-24, SC-25, CLI-15, CLI-16 |
//! | [`resolve`] | base-profile chains behind a resolver trait, with cycle detection | SC-16, SC-21..SC-23, SC-26 |
//! | [`runtime`] | moby / containers-common JSON (`archMap`, `includes`/`excludes`), evaluated for a target | |
//! | [`allowed`] | the SPOD `allowedSyscalls` / `allowedSeccompActions` compliance check | SC-37..SC-39 |
//! | `compile` | BPF with libseccomp, and loading it into a child process | CLI-12 |
//! | [`install`] | the node file: atomic, no symlink following, only when changed | SC-06, SC-07, SC-11, SC-12, ARCH-12 |
//! | [`record`] | profiles from recorded syscall sets | CLI-02..CLI-04, RC-19 |
//! | [`syscalls`] | syscall tables per architecture; the 83 base syscalls | |
//! | [`lint`] | lint rules: findings with rule IDs, for `spoc lint` and CI tools | SC-16, SC-37..SC-39 |
//! | [`diff`] | semantic diff, normalised per syscall and architecture | |
//! | [`subset`] | subset with witnesses, intersection (argument conditions, per architecture) | |
//! | [`inspect`] | filter sizes; instructions a syscall executes, from the compiled program | |
//!
//! Only `compile::CompiledFilter::apply_to_command` and [`install`] touch the system.
//!
//! ## Features
//!
//! | Feature | Default | Adds |
//! |---|---|---|
//! | `libseccomp` | yes | the `compile` module (links the host's libseccomp) |
//!
//! Without default features the crate is pure Rust: syscall names are checked against spo's
//! own tables ([`syscalls`], Linux [`syscalls::KERNEL_VERSION`]), so validation gives the
//! same answer on every host.
//!
//! ```
//! use spo_seccomp::{SeccompProfile, validate::validate};
//!
//! let yaml = "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n\
//!             metadata: {name: demo}\n\
//!             spec: {defaultAction: SCMP_ACT_ERRNO, \
//!                    syscalls: [{action: SCMP_ACT_ALLOW, names: [read, wirte]}]}\n";
//! let profile = SeccompProfile::from_yaml(yaml)?.remove(0);
//! let violations = validate(&profile);
//! assert_eq!(violations.as_slice()[0].path, "spec.syscalls[0].names[1]");
//! # Ok::<(), spo_seccomp::SeccompError>(())
//! ```
#![deny(missing_docs)]
// The only unsafe code is the two system calls between fork and exec that load a filter
// (`compile`, feature `libseccomp`); without that feature the crate forbids it.
#![cfg_attr(feature = "libseccomp", deny(unsafe_code))]
#![cfg_attr(not(feature = "libseccomp"), forbid(unsafe_code))]

pub mod allowed;
#[cfg(feature = "libseccomp")]
pub mod compile;
pub mod diff;
pub mod error;
#[cfg(feature = "libseccomp")]
pub mod inspect;
pub mod install;
pub mod json;
pub mod lint;
pub mod merge;
pub mod model;
pub mod record;
pub mod resolve;
pub mod runtime;
pub mod subset;
pub mod syscalls;
pub mod validate;

pub use error::SeccompError;
/// The crate's error type under the SDK's common name.
pub use error::SeccompError as Error;
/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(feature = "libseccomp")]
pub use compile::{compile, CompiledFilter};
pub use merge::{merge_profiles, union};
pub use model::{Action, Arg, ArgOp, Flag, ProfileState, SeccompProfile, SeccompSpec, Syscall};
pub use resolve::resolve;
pub use runtime::{
    runtime_from_raw_json, spec_from_raw_json, spec_from_raw_json_for, RuntimeProfile, Target,
};
pub use validate::{validate, validate_spec, warnings};
