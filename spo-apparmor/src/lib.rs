//! # spo-apparmor
//!
//! Will own (issue: spo-apparmor): raw and structured AppArmorProfile models, validation that
//! rejects injection, an AST with a renderer producing AppArmor policy text, recording support
//! and merging, and a thin `apparmor_parser` loader.
#![deny(missing_docs)]
