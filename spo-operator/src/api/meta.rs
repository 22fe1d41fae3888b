//! The `kube::Resource` glue shared by every kind: a macro that wraps a spec type (owned by
//! an LSM crate or by this crate) and a status type into a Kubernetes object.

use std::borrow::Cow;

/// What the CRD generator needs to know about a kind besides its schema.
pub trait SpoResource {
    /// `Kind`.
    const KIND: &'static str;
    /// Plural resource name.
    const PLURAL: &'static str;
    /// Short names (`kubectl get sp`).
    const SHORT_NAMES: &'static [&'static str];
    /// Served versions, storage first; the first one is `v1`, the hub.
    const VERSIONS: &'static [&'static str];
    /// True for cluster-scoped kinds.
    const CLUSTER_SCOPED: bool;
    /// One-line description (the schema's root description).
    const DESCRIPTION: &'static str;
    /// Printer columns as `(name, type, jsonPath, priority)`.
    const COLUMNS: &'static [(&'static str, &'static str, &'static str, i32)];
}

/// Marker: cluster-scoped.
pub type ClusterResource = k8s_openapi::ClusterResourceScope;
/// Marker: namespaced.
pub type NamespacedResource = k8s_openapi::NamespaceResourceScope;

/// The kind's group/version string for the hub.
pub(crate) fn hub_api_version() -> Cow<'static, str> {
    Cow::Owned(format!("{}/{}", spo_core::GROUP, super::HUB))
}

/// Declares a resource type `$name { metadata, spec: $spec, status: Option<$status> }` with
/// `kube::Resource`, serde (apiVersion/kind written on output) and [`SpoResource`].
macro_rules! spo_resource {
    (
        $(#[$doc:meta])*
        $name:ident {
            spec: $spec:ty,
            status: $status:ty,
            kind: $kind:literal,
            plural: $plural:literal,
            short: [$($short:literal),*],
            versions: [$($ver:literal),+],
            scope: $scope:ident,
            description: $descr:literal,
            columns: [$(($cn:literal, $ct:literal, $cp:literal, $cprio:literal)),*] $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Standard object metadata.
            #[serde(default)]
            pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
            /// The desired state.
            pub spec: $spec,
            /// The observed state.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub status: Option<$status>,
        }

        impl $name {
            /// A new object with a name and a spec.
            pub fn new(name: &str, spec: $spec) -> Self {
                $name {
                    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                        name: Some(name.to_string()),
                        ..Default::default()
                    },
                    spec,
                    status: None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct(stringify!($name), 5)?;
                st.serialize_field("apiVersion", &$crate::api::meta::hub_api_version())?;
                st.serialize_field("kind", $kind)?;
                st.serialize_field("metadata", &self.metadata)?;
                st.serialize_field("spec", &self.spec)?;
                if let Some(status) = &self.status {
                    st.serialize_field("status", status)?;
                }
                st.end()
            }
        }

        impl kube::Resource for $name {
            type DynamicType = ();
            type Scope = $crate::api::meta::$scope;
            fn kind(_: &()) -> std::borrow::Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> std::borrow::Cow<'_, str> {
                spo_core::GROUP.into()
            }
            fn version(_: &()) -> std::borrow::Cow<'_, str> {
                $crate::api::HUB.into()
            }
            fn plural(_: &()) -> std::borrow::Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }
            fn meta_mut(
                &mut self,
            ) -> &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }

        impl $crate::api::meta::SpoResource for $name {
            const KIND: &'static str = $kind;
            const PLURAL: &'static str = $plural;
            const SHORT_NAMES: &'static [&'static str] = &[$($short),*];
            const VERSIONS: &'static [&'static str] = &[$($ver),+];
            const CLUSTER_SCOPED: bool = spo_resource!(@cluster $scope);
            const DESCRIPTION: &'static str = $descr;
            const COLUMNS: &'static [(&'static str, &'static str, &'static str, i32)] =
                &[$(($cn, $ct, $cp, $cprio)),*];
        }

        impl $crate::crd::HasSchemas for $name {
            fn spec_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
                g.subschema_for::<$spec>()
            }
            fn status_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
                g.subschema_for::<$status>()
            }
        }
    };
    (@cluster ClusterResource) => { true };
    (@cluster NamespacedResource) => { false };
}
pub(crate) use spo_resource;
