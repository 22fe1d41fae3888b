//! Webhook handlers, as pure functions. This issue delivers the CRD conversion logic
//! ([`convert`]); the TLS server that serves it at `/convert` comes next.

pub mod convert;
