#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests of spo-seccomp: fixtures, malformed corpus, properties, the real kernel
//! and the install step.

mod fixtures;
mod install;
#[cfg(feature = "libseccomp")]
mod kernel;
mod malformed;
mod props;
mod runtime;
mod sdk;
