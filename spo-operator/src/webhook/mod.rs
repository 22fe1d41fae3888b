//! Webhook handlers, as pure functions. This issue delivers the CRD conversion logic
//! ([`convert`]); [`server`] serves it at `/convert` over TLS.

pub mod convert;
pub mod server;
