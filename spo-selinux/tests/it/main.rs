//! Integration tests of spo-selinux (one binary): worked examples, the real SELinux
//! compiler, injection attempts and the install step.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;
mod compile;
mod examples;
mod fixtures;
mod injection;
mod install;
mod sdk;
