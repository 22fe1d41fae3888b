//! # spo-selinux
//!
//! Will own (issue: spo-selinux): the SelinuxProfile and RawSelinuxProfile models decoded
//! through spo-core's version-tolerant decoder, validation returning every violation, CIL as
//! an AST with a deterministic printer (`@self`, inherit, permissive), inherit resolution,
//! AVC → profile building and merging, and a thin `semodule` install step.
#![deny(missing_docs)]
