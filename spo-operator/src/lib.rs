//! # spo-operator
//!
//! The Kubernetes side of spo: resources wrapping the LSM crates' spec types, CRD generation,
//! the per-node daemon that installs profiles, and the manager's status aggregation.
//!
//! Features: `kube` (default) brings the Kubernetes client, runtime and schemas; without it
//! only the pure parts (names, aggregation) build.
//!
//! Data flow: profile object → API server → daemon watch → spo-seccomp/selinux/apparmor
//! (resolve, validate, render) → host effect (file, semodule, apparmor_parser) → node status
//! (server-side apply) → manager aggregate → profile status.
//!
//! Recording: pod annotations → node recorder (`daemon::recorder`, spo-recorder's eBPF
//! recorder or its log enricher via [`enrichers`]) → profile objects → manager merger
//! (`manager::merger`).
#![deny(missing_docs)]

#[cfg(feature = "kube")]
pub mod api;
#[cfg(feature = "kube")]
pub mod crd;
#[cfg(feature = "kube")]
pub mod daemon;
#[cfg(feature = "kube")]
pub mod enrichers;
#[cfg(feature = "kube")]
pub mod error;
#[cfg(feature = "kube")]
pub mod manager;
#[cfg(feature = "kube")]
pub mod metrics;
#[cfg(feature = "kube")]
pub mod metrics_server;
#[cfg(feature = "kube")]
pub mod webhook;

#[cfg(feature = "kube")]
pub use error::{Context, Error, Result};
