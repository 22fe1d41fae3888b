//! Golden files: SPOD spec → every object the manager applies (`operator.md` §2, §4, §7).
//! Each case is one YAML file under `tests/golden/manager/` a reader can diff; run with
//! `UPDATE_GOLDEN=1` to rewrite them after an intended change. Besides the byte comparison,
//! each case asserts the behaviour its OP- IDs name, and every object must survive a round
//! trip through the k8s-openapi types unchanged (no misspelled or unknown field).

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use spo_operator::manager::config::{ManagerEnv, SpodConfig};
use spo_operator::manager::desired::{desired, Desired};

fn env() -> ManagerEnv {
    ManagerEnv {
        image: "registry.local/spo:v1".into(),
        selinuxd_image: "registry.local/selinuxd:el9".into(),
        ..ManagerEnv::default()
    }
}

fn roundtrip<T: DeserializeOwned + Serialize>(v: &Value) {
    let t: T = serde_json::from_value(v.clone()).expect("typed");
    let back = serde_json::to_value(&t).expect("json");
    assert_eq!(&back, v, "object survives the typed round trip");
}

fn render(case: &str, spec: Value, env: &ManagerEnv) -> (SpodConfig, Desired) {
    let cfg = SpodConfig::from_spec("spod", &spec, env).expect("valid spec");
    let d = desired(&cfg, env);
    use k8s_openapi::api::admissionregistration::v1::{
        MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
    };
    use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
    use k8s_openapi::api::core::v1::Service;
    roundtrip::<DaemonSet>(&d.daemonset);
    roundtrip::<Service>(&d.metrics_service);
    for o in &d.webhook {
        match o["kind"].as_str() {
            Some("Deployment") => roundtrip::<Deployment>(o),
            Some("Service") => roundtrip::<Service>(o),
            Some("MutatingWebhookConfiguration") => roundtrip::<MutatingWebhookConfiguration>(o),
            Some("ValidatingWebhookConfiguration") => {
                roundtrip::<ValidatingWebhookConfiguration>(o)
            }
            k => panic!("unexpected kind {k:?}"),
        }
    }
    let mut docs = vec![format!(
        "# input: SPOD spec\n{}",
        comment(&serde_yaml::to_string(&spec).expect("yaml"))
    )];
    for o in std::iter::once(&d.daemonset)
        .chain(d.webhook.iter())
        .chain([&d.metrics_service, &d.service_monitor])
        .chain(d.profiles.iter())
    {
        docs.push(serde_yaml::to_string(o).expect("yaml"));
    }
    let text = docs.join("---\n");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/manager")
        .join(format!("{case}.yaml"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("write golden");
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        want == text,
        "{} differs from the builders' output; diff it after UPDATE_GOLDEN=1",
        path.display()
    );
    (cfg, d)
}

fn comment(s: &str) -> String {
    s.lines().map(|l| format!("# {l}\n")).collect()
}

fn container<'a>(ds: &'a Value, name: &str) -> Option<&'a Value> {
    let spec = &ds["spec"]["template"]["spec"];
    spec["containers"]
        .as_array()
        .into_iter()
        .chain(spec["initContainers"].as_array())
        .flatten()
        .find(|c| c["name"] == name)
}

fn names(ds: &Value, list: &str) -> Vec<String> {
    ds["spec"]["template"]["spec"][list]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_string())
        .collect()
}

fn args(c: &Value) -> Vec<String> {
    c["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("str").to_string())
        .collect()
}

fn envv<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c["env"].as_array()?.iter().find(|e| e["name"] == name)?["value"].as_str()
}

// covers: OP-03, OP-09, OP-18, OP-19, OP-20, OP-22, OP-23, OP-24, OP-37
#[test]
fn default_spod() {
    let (_, d) = render("default", json!({}), &env());
    let ds = &d.daemonset;
    assert_eq!(ds["metadata"]["name"], "spod", "OP-03 named after the SPOD");
    assert_eq!(names(ds, "initContainers"), ["non-root-enabler"]);
    assert_eq!(names(ds, "containers"), ["security-profiles-operator"]);
    let daemon = container(ds, "security-profiles-operator").expect("daemon");
    assert_eq!(daemon["image"], "registry.local/spo:v1", "OP-03 image");
    assert!(
        args(daemon).contains(&"--with-recording=false".into()),
        "OP-09"
    );
    assert_eq!(ds["spec"]["template"]["spec"].get("hostPID"), None, "OP-09");
    assert_eq!(daemon["resources"]["requests"]["memory"], "64Mi", "OP-18");
    assert_eq!(daemon["resources"]["limits"]["memory"], "128Mi", "OP-18");
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["priorityClassName"], "system-node-critical", "OP-19");
    assert_eq!(
        pod["tolerations"].as_array().expect("tol").len(),
        3,
        "OP-19"
    );
    for c in ["non-root-enabler", "security-profiles-operator"] {
        let c = container(ds, c).expect("c");
        assert_eq!(envv(c, "SPO_VERBOSITY"), Some("0"), "OP-20");
        assert_eq!(
            c["securityContext"]["seLinuxOptions"]["type"], "spc_t",
            "OP-08"
        );
    }
    assert_eq!(envv(daemon, "SPOD_NAME"), Some("spod"));
    assert_eq!(
        d.webhook.len(),
        4,
        "OP-22 webhook objects managed by default"
    );
    let mutating = &d.webhook[2];
    let hooks: Vec<&str> = mutating["webhooks"]
        .as_array()
        .expect("hooks")
        .iter()
        .map(|w| w["name"].as_str().expect("n"))
        .collect();
    assert_eq!(
        hooks,
        ["binding.spo.io", "recording.spo.io"],
        "OP-23, OP-24"
    );
    assert_eq!(
        mutating["metadata"]["name"],
        "spo-mutating-webhook-configuration"
    );
    for w in mutating["webhooks"].as_array().expect("hooks") {
        assert_eq!(w["failurePolicy"], "Fail", "OP-23");
    }
    assert_eq!(
        mutating["webhooks"][0]["namespaceSelector"]["matchExpressions"][0]["key"],
        "spo.x-k8s.io/enable-binding"
    );
    assert_eq!(d.metrics_service["spec"]["ports"][0]["port"], 443, "OP-37");
    assert_eq!(d.metrics_service["spec"]["ports"][0]["targetPort"], 9443);
    assert_eq!(
        d.service_monitor["spec"]["endpoints"][1]["path"],
        "/metrics-spod"
    );
    assert_eq!(d.service_monitor["spec"]["endpoints"][0]["scheme"], "https");
}

// covers: OP-06, OP-08
#[test]
fn selinux_enabled_with_type_tag() {
    let (_, d) = render(
        "selinux",
        json!({"selinux": {"enable": true, "typeTag": "my_spo_t"}}),
        &env(),
    );
    let ds = &d.daemonset;
    assert_eq!(
        names(ds, "initContainers"),
        ["non-root-enabler", "selinux-shared-policies-copier"]
    );
    assert_eq!(
        names(ds, "containers"),
        ["security-profiles-operator", "selinuxd"]
    );
    let daemon = container(ds, "security-profiles-operator").expect("daemon");
    assert!(
        args(daemon).contains(&"--with-selinux=true".into()),
        "OP-06"
    );
    assert!(args(daemon).contains(&"--with-raw-selinux=true".into()));
    for c in names(ds, "containers")
        .iter()
        .chain(names(ds, "initContainers").iter())
    {
        let c = container(ds, c).expect("c");
        assert_eq!(
            c["securityContext"]["seLinuxOptions"]["type"], "my_spo_t",
            "OP-08"
        );
    }
    let selinuxd = container(ds, "selinuxd").expect("selinuxd");
    assert_eq!(selinuxd["image"], "registry.local/selinuxd:el9", "§2.5");
    assert_eq!(
        envv(selinuxd, "NODE_NAME"),
        None,
        "selinuxd gets no NODE_NAME"
    );
}

// covers: OP-09, OP-11, OP-17, OP-20, SC-41 — flat 0.10 names (deliverable 0)
#[test]
fn log_enricher_with_filters_source_and_proc_path() {
    let (cfg, d) = render(
        "log-enricher",
        json!({
            "enableLogEnricher": true,
            "logEnricherFilters": "[{\"level\":\"Metadata\",\"matchKeys\":[\"version\"]}]",
            "logEnricherSource": "bpf",
            "hostProcVolumePath": "/proc/host",
            "verbosity": 1
        }),
        &env(),
    );
    assert!(cfg.log_enricher);
    let ds = &d.daemonset;
    assert_eq!(ds["spec"]["template"]["spec"]["hostPID"], true, "OP-09");
    let le = container(ds, "log-enricher").expect("OP-09 log-enricher container");
    let a = args(le);
    assert!(
        a.contains(&"--enricher-log-source=bpf".into()),
        "OP-11 {a:?}"
    );
    assert!(
        a.iter()
            .any(|x| x.starts_with("--enricher-filters-json=[{")),
        "OP-11"
    );
    assert!(
        le["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .any(|m| m["mountPath"] == "/proc" && m["name"] == "host-proc-volume"),
        "OP-17"
    );
    let daemon = container(ds, "security-profiles-operator").expect("daemon");
    assert!(
        args(daemon).contains(&"--with-recording=true".into()),
        "OP-09"
    );
    assert_eq!(envv(daemon, "ENABLE_LOG_ENRICHER"), Some("true"));
    assert_eq!(envv(le, "SPO_VERBOSITY"), Some("1"), "OP-20");
    assert_eq!(d.profiles.len(), 1, "SC-41 log-enricher-trace");
    assert_eq!(d.profiles[0]["spec"]["defaultAction"], "SCMP_ACT_LOG");
}

// covers: OP-14, OP-09 (bpf recorder), OP-08 (no type tag with AppArmor)
#[test]
fn apparmor_and_bpf_recorder() {
    let (_, d) = render(
        "apparmor-bpf",
        json!({"enableAppArmor": true, "enricher": {"enableBpfRecorder": true}}),
        &env(),
    );
    let ds = &d.daemonset;
    let daemon = container(ds, "security-profiles-operator").expect("daemon");
    assert_eq!(daemon["securityContext"]["privileged"], true, "OP-14");
    assert_eq!(daemon["securityContext"]["runAsUser"], 0, "OP-14");
    assert!(
        args(daemon).contains(&"--with-apparmor=true".into()),
        "OP-14"
    );
    let nre = container(ds, "non-root-enabler").expect("nre");
    assert!(args(nre).contains(&"--apparmor=true".into()), "OP-14");
    assert_eq!(
        ds["spec"]["template"]["metadata"]["annotations"]
            ["container.apparmor.security.beta.kubernetes.io/security-profiles-operator"],
        "localhost/spo-apparmor",
        "OP-14"
    );
    assert!(container(ds, "bpf-recorder").is_some(), "OP-09");
    for c in names(ds, "containers") {
        let c = container(ds, &c).expect("c");
        assert_eq!(c["securityContext"].get("seLinuxOptions"), None, "OP-08");
    }
}

// covers: OP-12, OP-13, OP-24, OP-10
#[test]
fn json_enricher_options_and_exec_webhooks() {
    let (_, d) = render(
        "json-enricher",
        json!({"enricher": {"enableJsonEnricher": true, "jsonEnricherFilters": "[]",
            "jsonEnricherOptions": {"auditLogIntervalSeconds": 30, "auditLogPath": "/var/log/spo/audit.log",
                "auditLogMaxSize": 10, "auditLogMaxBackups": 3, "auditLogMaxAge": 7}}}),
        &env(),
    );
    let je = container(&d.daemonset, "json-enricher").expect("json-enricher");
    assert_eq!(
        args(je),
        [
            "json-enricher",
            "--enricher-filters-json=[]",
            "--audit-log-interval-seconds=30",
            "--audit-log-path=/var/log/spo/audit.log",
            "--audit-log-maxsize=10",
            "--audit-log-maxbackup=3",
            "--audit-log-maxage=7",
            "--metrics-socket=/var/run/spo-metrics/json-enricher.sock"
        ],
        "OP-12"
    );
    // operator.md §7: the enricher's counters reach the daemon over a socket in a shared
    // emptyDir, mounted read-only in the daemon container.
    let vols = d.daemonset["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes");
    assert!(vols
        .iter()
        .any(|v| v["name"] == "spo-metrics-volume" && v["emptyDir"].is_object()));
    let daemon = container(&d.daemonset, "security-profiles-operator").expect("daemon");
    let shared = |c: &Value| {
        c["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .any(|m| m["name"] == "spo-metrics-volume" && m["mountPath"] == "/var/run/spo-metrics")
    };
    assert!(shared(daemon) && shared(je), "{daemon}\n{je}");
    let hooks = d.webhook[2]["webhooks"].as_array().expect("hooks");
    let ignore: Vec<&str> = hooks
        .iter()
        .filter(|w| w["failurePolicy"] == "Ignore")
        .map(|w| w["name"].as_str().expect("n"))
        .collect();
    assert_eq!(
        ignore,
        ["execmetadata.spo.io", "nodedebuggingpod.spo.io"],
        "OP-24"
    );
    // OP-13: log volume and mount path from the operator ConfigMap.
    let cm_env = ManagerEnv {
        json_log_volume: Some(
            json!({"hostPath": {"path": "/var/log/spo-json", "type": "DirectoryOrCreate"}}),
        ),
        json_log_mount_path: Some("/var/log/enricher".into()),
        ..env()
    };
    let cfg =
        SpodConfig::from_spec("spod", &json!({"enableJsonEnricher": true}), &cm_env).expect("cfg");
    let ds = desired(&cfg, &cm_env).daemonset;
    let vol = ds["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "json-enricher-log-volume")
        .cloned()
        .expect("OP-13 volume");
    assert_eq!(vol["hostPath"]["path"], "/var/log/spo-json", "OP-13");
    let je = container(&ds, "json-enricher").expect("json-enricher");
    assert!(
        je["volumeMounts"].to_string().contains("/var/log/enricher"),
        "OP-13"
    );
    // OP-10: the manager's env turns the enricher on even when the SPOD does not.
    let on = ManagerEnv::from_lookup(|k| (k == "ENABLE_JSON_ENRICHER").then(|| "true".into()));
    let cfg = SpodConfig::from_spec("spod", &json!({}), &on).expect("cfg");
    assert!(container(&desired(&cfg, &on).daemonset, "json-enricher").is_some());
}

// covers: OP-15, OP-16, OP-21
#[test]
fn profiling_memory_optimisation_insecure_metrics() {
    let (_, d) = render(
        "profiling-memoptim-insecure",
        json!({"enableProfiling": true, "enableMemoryOptimization": true,
               "enableInsecureMetricsAccess": true, "enableSelinux": true,
               "enableLogEnricher": true}),
        &env(),
    );
    let ds = &d.daemonset;
    let daemon = container(ds, "security-profiles-operator").expect("daemon");
    let a = args(daemon);
    assert!(a.contains(&"--with-mem-optim=true".into()), "OP-15");
    assert!(
        a.contains(&"--with-insecure-metrics-access=true".into()),
        "OP-16"
    );
    assert_eq!(envv(daemon, "SPO_PROFILING_PORT"), Some("6060"), "OP-21");
    assert_eq!(
        envv(
            container(ds, "log-enricher").expect("le"),
            "SPO_PROFILING_PORT"
        ),
        Some("6062"),
        "OP-21 index after selinuxd"
    );
    let sd = container(ds, "selinuxd").expect("selinuxd");
    assert!(
        args(sd).contains(&"--enable-profiling=true".into()),
        "OP-21"
    );
    assert_eq!(envv(sd, "SPO_PROFILING"), None);
    for e in d.service_monitor["spec"]["endpoints"]
        .as_array()
        .expect("eps")
    {
        assert_eq!(e["scheme"], "http", "OP-16");
        assert_eq!(e.get("bearerTokenSecret"), None, "OP-16");
    }
}

// covers: OP-18, OP-19, OP-25, OP-35
#[test]
fn scheduling_resources_webhook_options_restricted_namespace() {
    let env = ManagerEnv {
        restrict_to_namespace: Some("team-a,team-b".into()),
        ..env()
    };
    let (_, d) = render(
        "scheduling-webhookoptions-restricted",
        json!({
            "tolerations": [],
            "priorityClassName": "spo-critical",
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                {"nodeSelectorTerms": [{"matchExpressions": [{"key": "spo", "operator": "In", "values": ["yes"]}]}]}}},
            "imagePullSecrets": [{"name": "regcred"}],
            "daemonResourceRequirements": {"requests": {"memory": "256Mi", "cpu": "250m"}, "limits": {"memory": "512Mi"}},
            "webhookOptions": [
                {"name": "binding.spo.io", "failurePolicy": "Ignore"},
                {"name": "recording.spo.io", "objectSelector": {"matchLabels": {"record": "yes"}}},
                {"name": "no-such.spo.io", "failurePolicy": "Ignore"}
            ]
        }),
        &env,
    );
    let pod = &d.daemonset["spec"]["template"]["spec"];
    assert_eq!(
        pod["tolerations"],
        json!([]),
        "OP-19 empty list removes defaults"
    );
    assert_eq!(pod["priorityClassName"], "spo-critical", "OP-19");
    assert_eq!(pod["imagePullSecrets"][0]["name"], "regcred", "OP-19");
    assert!(pod["affinity"]["nodeAffinity"].is_object(), "OP-19");
    let daemon = container(&d.daemonset, "security-profiles-operator").expect("daemon");
    assert_eq!(daemon["resources"]["limits"]["memory"], "512Mi", "OP-18");
    assert_eq!(
        envv(daemon, "RESTRICT_TO_NAMESPACE"),
        Some("team-a,team-b"),
        "OP-35"
    );
    let hooks = d.webhook[2]["webhooks"].as_array().expect("hooks");
    assert_eq!(hooks[0]["failurePolicy"], "Ignore", "OP-25");
    assert_eq!(
        hooks[0]["objectSelector"]["matchExpressions"][0]["key"], "name",
        "OP-25 other fields keep defaults"
    );
    assert_eq!(hooks[1]["failurePolicy"], "Fail", "OP-25");
    assert_eq!(
        hooks[1]["objectSelector"],
        json!({"matchLabels": {"record": "yes"}}),
        "OP-25"
    );
    assert_eq!(hooks.len(), 2, "unknown option names are ignored");
}

// covers: OP-22
#[test]
fn static_webhook_config_manages_no_webhook_objects() {
    let (_, d) = render(
        "static-webhook",
        json!({"staticWebhookConfig": true}),
        &env(),
    );
    assert!(d.webhook.is_empty(), "OP-22");
}
