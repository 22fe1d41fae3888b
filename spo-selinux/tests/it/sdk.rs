//! The public API as a crate outside spo-selinux sees it (issue 9): the `#[non_exhaustive]`
//! `Options` and `DenyOptions` are built with `Default` and `with_*` setters.

use std::collections::BTreeSet;

use spo_selinux::{validate, DenyOptions, Naming, NoParents, Options, SelinuxProfile};

use crate::common::doc;

fn profile(allow_type: &str) -> SelinuxProfile {
    SelinuxProfile::from_document(&doc(&format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1alpha2\nkind: SelinuxProfile\nmetadata: {{name: app, namespace: web}}\nspec:\n  inherit: [{{kind: System, name: container}}]\n  allow:\n    {allow_type}: {{file: [read]}}\n"
    )))
    .unwrap()
}

fn reasons(p: &SelinuxProfile, opts: &Options) -> Vec<String> {
    validate(p, opts, &NoParents)
        .unwrap()
        .into_iter()
        .map(|v| format!("{}: {}", v.path, v.reason))
        .collect()
}

// covers: SE-15, SE-16 (deny list options built outside the crate)
#[test]
fn deny_options_built_with_setters_take_effect() {
    let p = profile("var_log_t");
    assert!(reasons(&p, &Options::default()).is_empty());
    let deny = DenyOptions::default().with_denied_types(BTreeSet::from(["var_log_t".into()]));
    let opts = Options::default().with_deny(deny.clone());
    assert!(deny.types().contains("var_log_t"));
    assert!(deny.types().contains("shadow_t"), "the built-in list stays");
    let found = reasons(&p, &opts);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("var_log_t"), "{found:?}");

    // Allowing a built-in denied type lifts it.
    let p = profile("shadow_t");
    assert_eq!(reasons(&p, &Options::default()).len(), 1);
    let opts = Options::default()
        .with_deny(DenyOptions::default().with_allowed_types(BTreeSet::from(["shadow_t".into()])));
    assert!(reasons(&p, &opts).is_empty());
}

// covers: SE-01, SE-02 (naming chosen from outside the crate; a wildcard arm for later eras)
#[test]
fn naming_set_with_a_setter() {
    let opts = Options::default().with_naming(Naming::Namespaced);
    let label = match opts.naming {
        Naming::Namespaced => "name_namespace",
        _ => "name",
    };
    assert_eq!(label, "name_namespace");
    let m = spo_selinux::to_cil(&profile("var_log_t"), &opts, &NoParents).unwrap();
    assert_eq!(m.name().file_name(), "app_web.cil");
}
