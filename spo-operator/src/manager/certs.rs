//! Certificates without cert-manager (`operator.md` §8, manager issue deliverable 3): the
//! manager keeps its own CA (Secret `spo-ca`) and issues the webhook and metrics serving
//! certificates (Secrets `webhook-server-cert`, `metrics-server-cert`, each with `tls.crt`,
//! `tls.key` and `ca.crt`). Serving certificates are renewed a third of their lifetime before
//! expiry, or at once when the Secret carries `spo.x-k8s.io/renew: "true"`; the CA stays, so
//! clients that trust it never see a failed handshake, and servers reload the files. The CA
//! is renewed before its own expiry with an overlap: the bundle carries the old and the new
//! CA until the old one expires.
//!
//! Issuing is pure (PEM in, PEM out, clock passed in); the Secrets are the thin part.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{Api, Patch, PatchParams};
use kube::Client;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use serde_json::json;
use time::OffsetDateTime;

/// Secret holding the CA.
pub const CA_SECRET: &str = "spo-ca";
/// Annotation with a certificate's expiry (Unix seconds).
pub const NOT_AFTER: &str = "spo.x-k8s.io/not-after";
/// Annotation that forces a renewal.
pub const RENEW: &str = "spo.x-k8s.io/renew";
/// CA lifetime.
pub const CA_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);
/// Serving certificate lifetime.
pub const SERVING_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

/// Errors of issuing or storing certificates.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// rcgen refused the parameters or a key.
    #[error("{what}: {source}")]
    Issue {
        /// What was being issued.
        what: String,
        /// Why.
        source: rcgen::Error,
    },
    /// The API call failed.
    #[error("{what}: {source}")]
    Kube {
        /// What was being done.
        what: String,
        /// Why.
        source: kube::Error,
    },
}

fn ierr(what: &str) -> impl FnOnce(rcgen::Error) -> CertError + '_ {
    move |source| CertError::Issue {
        what: what.into(),
        source,
    }
}

/// A certificate and its key, PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The certificate.
    pub cert: String,
    /// The private key.
    pub key: String,
    /// Expiry.
    pub not_after: OffsetDateTime,
}

fn ca_params(now: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "security-profiles-operator-ca");
    dn.push(DnType::OrganizationName, "security-profiles-operator");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = now - time::Duration::minutes(5);
    p.not_after = now + CA_LIFETIME;
    p
}

/// A new self-signed CA valid from `now`.
pub fn issue_ca(now: OffsetDateTime) -> Result<Pair, CertError> {
    let key = KeyPair::generate().map_err(ierr("CA key"))?;
    let params = ca_params(now);
    let not_after = params.not_after;
    let cert = params.self_signed(&key).map_err(ierr("CA certificate"))?;
    Ok(Pair {
        cert: cert.pem(),
        key: key.serialize_pem(),
        not_after,
    })
}

/// A serving certificate for `dns_names`, signed by the CA whose key is `ca_key` (PEM).
pub fn issue_serving(
    ca_key: &str,
    dns_names: &[String],
    now: OffsetDateTime,
) -> Result<Pair, CertError> {
    let ca_key = KeyPair::from_pem(ca_key).map_err(ierr("CA key"))?;
    // Signing needs the CA's subject and key only; the subject is fixed.
    let issuer = Issuer::new(ca_params(now), ca_key);
    let mut p = CertificateParams::new(dns_names.to_vec()).map_err(ierr("DNS names"))?;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        dns_names.first().cloned().unwrap_or_default(),
    );
    dn.push(DnType::OrganizationName, "security-profiles-operator");
    p.distinguished_name = dn;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_before = now - time::Duration::minutes(5);
    p.not_after = now + SERVING_LIFETIME;
    let not_after = p.not_after;
    let key = KeyPair::generate().map_err(ierr("serving key"))?;
    let cert = p
        .signed_by(&key, &issuer)
        .map_err(ierr("serving certificate"))?;
    Ok(Pair {
        cert: cert.pem(),
        key: key.serialize_pem(),
        not_after,
    })
}

/// Whether a certificate that expires at `not_after` (of `lifetime`) is due at `now`:
/// within the last third of its life, or already expired.
pub fn due(not_after: Option<OffsetDateTime>, lifetime: Duration, now: OffsetDateTime) -> bool {
    match not_after {
        None => true,
        Some(t) => now + lifetime / 3 >= t,
    }
}

/// DNS names of the webhook Service (`operator.md` §8).
pub fn webhook_names(ns: &str) -> Vec<String> {
    vec![
        format!("webhook-service.{ns}.svc"),
        format!("webhook-service.{ns}.svc.cluster.local"),
        // A webhook server registered by URL on loopback (make cluster-up, tests).
        "localhost".into(),
    ]
}

/// DNS names of the metrics Service (`operator.md` §8).
pub fn metrics_names(ns: &str) -> Vec<String> {
    vec![
        format!("metrics.{ns}"),
        format!("metrics.{ns}.svc"),
        format!("metrics.{ns}.svc.cluster.local"),
        "localhost".into(),
    ]
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(s.parse().ok()?).ok()
}

fn fmt_time(t: OffsetDateTime) -> String {
    t.unix_timestamp().to_string()
}

fn data(s: &Secret, k: &str) -> Option<String> {
    s.data
        .as_ref()?
        .get(k)
        .and_then(|b| String::from_utf8(b.0.clone()).ok())
}

fn secret(
    ns: &str,
    name: &str,
    entries: &[(&str, &str)],
    not_after: OffsetDateTime,
    tls: bool,
) -> Secret {
    let data: BTreeMap<String, ByteString> = entries
        .iter()
        .map(|(k, v)| ((*k).to_string(), ByteString(v.as_bytes().to_vec())))
        .collect();
    let mut s: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": ns,
            "labels": {"app": "security-profiles-operator", "app.kubernetes.io/managed-by": "spo-operator"},
            "annotations": {NOT_AFTER: fmt_time(not_after), RENEW: "false"}},
        "type": if tls { "kubernetes.io/tls" } else { "Opaque" },
    }))
    .unwrap_or_default();
    s.data = Some(data);
    s
}

/// The CA bundle (PEM) after making sure the CA and both serving certificates exist and are
/// fresh. Returns the bundle and the Secrets that were (re)issued.
pub async fn ensure(client: &Client, ns: &str) -> Result<(String, Vec<String>), CertError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    let now = OffsetDateTime::now_utc();
    let kerr = |what: String| move |source| CertError::Kube { what, source };
    let pp = PatchParams::apply(super::spod::FIELD_MANAGER).force();
    let mut issued = Vec::new();
    let ca_live = api
        .get_opt(CA_SECRET)
        .await
        .map_err(kerr(format!("reading {CA_SECRET}")))?;
    let ca_expiry = ca_live
        .as_ref()
        .and_then(|s| s.metadata.annotations.as_ref()?.get(NOT_AFTER).cloned())
        .and_then(|t| parse_time(&t));
    let (ca_key, bundle, new_ca) = match (&ca_live, due(ca_expiry, CA_LIFETIME, now)) {
        (Some(s), false) => (
            data(s, "tls.key").unwrap_or_default(),
            data(s, "ca.crt").unwrap_or_default(),
            false,
        ),
        _ => {
            let ca = issue_ca(now)?;
            // Overlap: the old CA stays in the bundle while it is still valid.
            let mut bundle = ca.cert.clone();
            if let (Some(old), Some(exp)) = (&ca_live, ca_expiry) {
                if exp > now {
                    bundle.push_str(&data(old, "tls.crt").unwrap_or_default());
                }
            }
            let s = secret(
                ns,
                CA_SECRET,
                &[
                    ("tls.crt", &ca.cert),
                    ("tls.key", &ca.key),
                    ("ca.crt", &bundle),
                ],
                ca.not_after,
                false,
            );
            api.patch(CA_SECRET, &pp, &Patch::Apply(&s))
                .await
                .map_err(kerr(format!("writing {CA_SECRET}")))?;
            issued.push(CA_SECRET.to_string());
            (ca.key, bundle, true)
        }
    };
    for (name, names) in [
        (super::desired::webhook::CERT_SECRET, webhook_names(ns)),
        (super::desired::metrics::CERT_SECRET, metrics_names(ns)),
    ] {
        let live = api
            .get_opt(name)
            .await
            .map_err(kerr(format!("reading {name}")))?;
        let ann = live
            .as_ref()
            .and_then(|s| s.metadata.annotations.clone())
            .unwrap_or_default();
        let forced = ann.get(RENEW).map(String::as_str) == Some("true");
        let expiry = ann.get(NOT_AFTER).and_then(|t| parse_time(t));
        let stale_ca = live.as_ref().and_then(|s| data(s, "ca.crt")) != Some(bundle.clone());
        if live.is_some() && !forced && !new_ca && !stale_ca && !due(expiry, SERVING_LIFETIME, now)
        {
            continue;
        }
        let pair = issue_serving(&ca_key, &names, now)?;
        let s = secret(
            ns,
            name,
            &[
                ("tls.crt", &pair.cert),
                ("tls.key", &pair.key),
                ("ca.crt", &bundle),
            ],
            pair.not_after,
            true,
        );
        api.patch(name, &pp, &Patch::Apply(&s))
            .await
            .map_err(kerr(format!("writing {name}")))?;
        issued.push(name.to_string());
    }
    Ok((bundle, issued))
}

/// Writes the CA bundle into the conversion webhook of every CRD of our group that converts by
/// webhook (the conversion server serves with `webhook-server-cert`).
pub async fn inject_crd_ca(client: &Client, bundle: &str) -> Result<(), CertError> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let list = api
        .list(&Default::default())
        .await
        .map_err(|source| CertError::Kube {
            what: "listing CRDs".into(),
            source,
        })?;
    let ca = ByteString(bundle.as_bytes().to_vec());
    for crd in list.items {
        if crd.spec.group != crate::api::GROUP {
            continue;
        }
        let Some(conv) = &crd.spec.conversion else {
            continue;
        };
        let Some(wh) = &conv.webhook else { continue };
        // Only conversions served by the in-cluster webhook Service use our certificate; a
        // server registered by URL brings its own CA (make cluster-up, tests).
        let ours = wh
            .client_config
            .as_ref()
            .and_then(|c| c.service.as_ref())
            .is_some_and(|s| s.name == super::desired::webhook::SERVICE);
        if !ours {
            continue;
        }
        if wh.client_config.as_ref().and_then(|c| c.ca_bundle.as_ref()) == Some(&ca) {
            continue;
        }
        let name = crd.metadata.name.clone().unwrap_or_default();
        let patch =
            json!({"spec": {"conversion": {"webhook": {"clientConfig": {"caBundle": ca}}}}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|source| CertError::Kube {
                what: format!("injecting the CA into {name}"),
                source,
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // covers: §8 certificates (own CA, serving certificates, renewal window)
    #[test]
    fn ca_signs_serving_certificates_and_renewal_is_due_in_the_last_third() {
        let now = OffsetDateTime::now_utc();
        let ca = issue_ca(now).expect("ca");
        assert!(ca.cert.starts_with("-----BEGIN CERTIFICATE-----"));
        let s = issue_serving(&ca.key, &webhook_names("ns"), now).expect("serving");
        assert!(s.key.contains("PRIVATE KEY"));
        assert_eq!(s.not_after, now + SERVING_LIFETIME);
        assert!(!due(Some(s.not_after), SERVING_LIFETIME, now));
        assert!(due(
            Some(s.not_after),
            SERVING_LIFETIME,
            now + Duration::from_secs(61 * 24 * 3600)
        ));
        assert!(due(None, SERVING_LIFETIME, now));
        assert!(issue_serving("not a key", &webhook_names("ns"), now).is_err());
    }
}
