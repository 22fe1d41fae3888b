//! Webhook handlers, as pure functions over the AdmissionReview request ([`admission`]):
//! CRD conversion ([`convert`]), validation at apply time ([`validate`]), ProfileBinding
//! ([`binding`]), recording ([`recording`]) and exec metadata ([`execmeta`]). [`server`] serves
//! them over TLS; [`state`] holds the thin, cached view of the cluster the mutating handlers read
//! and the bookkeeping writes they make.

pub mod admission;
pub mod binding;
pub mod config;
pub mod convert;
pub mod execmeta;
pub mod recording;
pub mod server;
pub mod state;
pub mod validate;
