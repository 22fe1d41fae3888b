//! # spo-operator
//!
//! Will own: the CRD types (kube derive + schemars, behind the optional `kube` feature),
//! controllers, admission webhooks and metrics of the Security Profiles Operator.
#![deny(missing_docs)]
