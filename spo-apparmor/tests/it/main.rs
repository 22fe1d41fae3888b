//! Integration tests of spo-apparmor: golden texts, the real `apparmor_parser`, upstream
//! examples, injection, recording and install with a fake runner.
#![allow(clippy::unwrap_used)] // tests may unwrap (RULES: no unwrap outside tests)

mod corpus;
mod examples;
mod golden;
mod injection;
mod install;
mod merge;
mod record;
mod sdk;
mod support;
