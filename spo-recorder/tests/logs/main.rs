//! Integration tests of log-based recording: parser, tailer, attribution, enricher, JSON
//! enricher, and real audit records (auditd / kmsg). One binary so the tests that start
//! auditd can be serialised.
#![allow(clippy::unwrap_used, missing_docs)]

mod attribution;
mod auditd;
mod enricher;
mod json;
mod parse;
mod tailer;
