//! The spod DaemonSet (`operator.md` §2.1–§2.4) as a pure function of the configuration.

use serde_json::{json, Value};

use super::super::config::{ManagerEnv, SpodConfig};

const DAEMON: &str = "security-profiles-operator";

/// Where the standalone node services serve their counters (`<service>.sock`) and the daemon
/// collects them for `/metrics-spod` (an emptyDir the daemon container shares with them).
const METRICS_DIR: &str = "/var/run/spo-metrics";
const METRICS_VOLUME: &str = "spo-metrics-volume";

fn resources(req_mem: &str, req_cpu: &str, req_eph: &str, lim_mem: &str, lim_eph: &str) -> Value {
    json!({
        "requests": {"memory": req_mem, "cpu": req_cpu, "ephemeral-storage": req_eph},
        "limits": {"memory": lim_mem, "ephemeral-storage": lim_eph}
    })
}

fn env(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

fn field_env(name: &str, path: &str) -> Value {
    json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}})
}

fn mount(name: &str, path: &str, read_only: bool) -> Value {
    if read_only {
        json!({"name": name, "mountPath": path, "readOnly": true})
    } else {
        json!({"name": name, "mountPath": path})
    }
}

fn host_volume(name: &str, path: &str, kind: Option<&str>) -> Value {
    match kind {
        Some(t) => json!({"name": name, "hostPath": {"path": path, "type": t}}),
        None => json!({"name": name, "hostPath": {"path": path}}),
    }
}

/// Default tolerations of the spod pods (§1.1).
pub fn default_tolerations() -> Vec<Value> {
    vec![
        json!({"key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}),
    ]
}

/// The desired DaemonSet for `cfg` (OP-03, OP-06, OP-08, OP-09, OP-11, OP-12, OP-14, OP-15,
/// OP-16, OP-17, OP-18, OP-19, OP-20, OP-21, OP-35).
pub fn daemonset(cfg: &SpodConfig, env_: &ManagerEnv) -> Value {
    let kubelet = env_.kubelet_dir.trim_end_matches('/');
    let mut init = vec![non_root_enabler(cfg, kubelet)];
    let mut containers = vec![daemon(cfg, env_, kubelet)];
    let mut volumes = vec![
        host_volume("host-varlib-volume", "/var/lib", Some("Directory")),
        host_volume(
            "host-operator-volume",
            "/var/lib/security-profiles-operator",
            Some("DirectoryOrCreate"),
        ),
        json!({"name": "operator-profiles-volume", "configMap": {"name": "security-profiles-operator-profile"}}),
        host_volume("host-root-volume", "/", Some("Directory")),
        host_volume(
            "selinux-drop-dir",
            "/etc/selinux.d",
            Some("DirectoryOrCreate"),
        ),
        host_volume(
            "selinuxd-private-volume",
            "/var/run/selinuxd",
            Some("DirectoryOrCreate"),
        ),
        host_volume(
            "profile-recording-output-volume",
            "/tmp/profile-recordings",
            Some("DirectoryOrCreate"),
        ),
        json!({"name": "grpc-server-volume", "emptyDir": {}}),
        json!({"name": "home-volume", "emptyDir": {}}),
        json!({"name": "tmp-volume", "emptyDir": {}}),
        json!({"name": "metrics-cert-volume", "secret": {"secretName": "metrics-server-cert", "defaultMode": 420}}),
    ];
    if cfg.selinux {
        init.push(policies_copier());
        containers.push(selinuxd(cfg, env_));
    }
    let custom_proc = cfg.host_proc != "/proc";
    if custom_proc && cfg.recording() {
        volumes.push(host_volume("host-proc-volume", &cfg.host_proc, None));
    }
    if cfg.log_enricher {
        containers.push(log_enricher(cfg, custom_proc));
        volumes.push(host_volume(
            "host-auditlog-volume",
            "/var/log/audit",
            Some("DirectoryOrCreate"),
        ));
        volumes.push(host_volume(
            "host-syslog-volume",
            "/var/log",
            Some("DirectoryOrCreate"),
        ));
    }
    if cfg.bpf_recorder {
        containers.push(bpf_recorder(custom_proc));
        volumes.push(host_volume(
            "sys-kernel-debug-volume",
            "/sys/kernel/debug",
            Some("Directory"),
        ));
        volumes.push(host_volume(
            "sys-kernel-security-volume",
            "/sys/kernel/security",
            Some("Directory"),
        ));
        volumes.push(host_volume(
            "sys-kernel-tracing-volume",
            "/sys/kernel/tracing",
            Some("Directory"),
        ));
        volumes.push(host_volume(
            "host-etc-osrelease-volume",
            "/etc/os-release",
            Some("File"),
        ));
    }
    if cfg.json_enricher {
        let mount = env_
            .json_log_mount_path
            .as_deref()
            .unwrap_or("/var/log/spo");
        containers.push(json_enricher(cfg, custom_proc, mount));
        // OP-13: the volume source from the operator ConfigMap, else an emptyDir.
        let mut vol = json!({"name": "json-enricher-log-volume"});
        match env_.json_log_volume.as_ref().and_then(Value::as_object) {
            Some(src) => {
                for (k, v) in src {
                    if k != "name" {
                        vol[k] = v.clone();
                    }
                }
            }
            None => vol["emptyDir"] = json!({}),
        }
        volumes.push(vol);
    }
    // The standalone services' counters reach the daemon's /metrics-spod over unix sockets
    // in a shared emptyDir (operator.md §7; docs/src/recording-cluster.md).
    if cfg.recording() {
        volumes.push(json!({"name": METRICS_VOLUME, "emptyDir": {}}));
        for c in containers.iter_mut() {
            let name = c["name"].as_str().unwrap_or_default().to_string();
            if name == DAEMON {
                push(
                    &mut c["volumeMounts"],
                    mount(METRICS_VOLUME, METRICS_DIR, true),
                );
            } else if matches!(
                name.as_str(),
                "log-enricher" | "bpf-recorder" | "json-enricher"
            ) {
                push(
                    &mut c["args"],
                    json!(format!("--metrics-socket={METRICS_DIR}/{name}.sock")),
                );
                push(
                    &mut c["volumeMounts"],
                    mount(METRICS_VOLUME, METRICS_DIR, false),
                );
            }
        }
    }
    // §2.3: overrides on every container; §2.4: profiling on the regular ones.
    for c in init.iter_mut().chain(containers.iter_mut()) {
        overrides(c, cfg, env_, kubelet);
    }
    if cfg.profiling {
        for (i, c) in containers.iter_mut().enumerate() {
            if c["name"] == "selinuxd" {
                push(&mut c["args"], json!("--enable-profiling=true"));
            } else {
                push(&mut c["env"], env("SPO_PROFILING", "true"));
                push(
                    &mut c["env"],
                    env("SPO_PROFILING_PORT", (6060 + i).to_string()),
                );
            }
        }
    }
    let mut pod_spec = json!({
        "serviceAccountName": "spod",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": 65535},
        "priorityClassName": cfg.priority_class,
        "tolerations": cfg.tolerations.clone().unwrap_or_else(default_tolerations),
        "initContainers": init,
        "containers": containers,
        "volumes": volumes,
    });
    if cfg.recording() || cfg.apparmor {
        pod_spec["hostPID"] = json!(true);
    }
    if let Some(a) = &cfg.affinity {
        pod_spec["affinity"] = a.clone();
    }
    if !cfg.image_pull_secrets.is_empty() {
        pod_spec["imagePullSecrets"] = json!(cfg.image_pull_secrets);
    }
    let mut ds_annotations = json!({});
    if cfg.apparmor {
        ds_annotations[format!("container.seccomp.security.alpha.kubernetes.io/{DAEMON}")] =
            json!("unconfined");
    }
    // AppArmor profiles go through the pod annotations every API server version knows (the
    // `appArmorProfile` field is 1.30+ and server-side apply rejects unknown fields).
    let mut pod_annotations = json!({"openshift.io/scc": "privileged"});
    if cfg.apparmor {
        pod_annotations[format!("container.apparmor.security.beta.kubernetes.io/{DAEMON}")] =
            json!("localhost/spo-apparmor");
        if cfg.bpf_recorder {
            pod_annotations["container.apparmor.security.beta.kubernetes.io/bpf-recorder"] =
                json!("localhost/bpfrecorder-apparmor");
        }
    }
    let mut meta = json!({
        "name": cfg.name,
        "namespace": env_.namespace,
        "labels": {"app": "security-profiles-operator", "name": cfg.name, "app.kubernetes.io/managed-by": "spo-operator"},
    });
    if cfg.apparmor {
        meta["annotations"] = ds_annotations;
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": meta,
        "spec": {
            "selector": {"matchLabels": {"app": "security-profiles-operator", "name": cfg.name}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "100%"}},
            "template": {
                "metadata": {
                    "labels": {"app": "security-profiles-operator", "name": cfg.name},
                    "annotations": pod_annotations
                },
                "spec": pod_spec
            }
        }
    })
}

fn push(list: &mut Value, v: Value) {
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(a) = list.as_array_mut() {
        a.push(v);
    }
}

fn overrides(c: &mut Value, cfg: &SpodConfig, env_: &ManagerEnv, kubelet: &str) {
    c["image"] = if c["name"] == "selinuxd" || c["name"] == "selinux-shared-policies-copier" {
        json!(env_.selinuxd_image)
    } else {
        json!(env_.image)
    };
    c["imagePullPolicy"] = json!(env_.pull_policy);
    push(&mut c["env"], env("KUBELET_DIR", kubelet));
    push(
        &mut c["env"],
        env("SPO_VERBOSITY", cfg.verbosity.to_string()),
    );
    if !cfg.apparmor {
        c["securityContext"]["seLinuxOptions"] = json!({"type": cfg.type_tag});
    }
}

fn non_root_enabler(cfg: &SpodConfig, kubelet: &str) -> Value {
    let mut args = vec![json!("non-root-enabler"), json!("--runtime=containerd")];
    let mut sc = json!({
        "runAsUser": 0,
        "readOnlyRootFilesystem": true,
        "allowPrivilegeEscalation": true,
        "capabilities": {"drop": ["ALL"], "add": ["CHOWN", "FOWNER", "FSETID", "DAC_OVERRIDE"]}
    });
    if cfg.apparmor {
        args.push(json!("--apparmor=true"));
        sc["privileged"] = json!(true);
    }
    let _ = kubelet;
    json!({
        "name": "non-root-enabler",
        "args": args,
        "env": [field_env("NODE_NAME", "spec.nodeName")],
        "securityContext": sc,
        "resources": resources("32Mi", "100m", "10Mi", "64Mi", "50Mi"),
        "volumeMounts": [
            mount("host-varlib-volume", "/var/lib", false),
            mount("operator-profiles-volume", "/opt/spo-profiles", true),
            mount("host-root-volume", "/host", false),
        ]
    })
}

fn daemon(cfg: &SpodConfig, env_: &ManagerEnv, kubelet: &str) -> Value {
    let mut args = vec![json!("daemon"), json!("--metrics-addr=0.0.0.0:9443")];
    if cfg.selinux {
        args.push(json!("--with-selinux=true"));
        args.push(json!(format!("--with-raw-selinux={}", cfg.raw_selinux)));
    }
    args.push(json!(format!("--with-recording={}", cfg.recording())));
    if cfg.apparmor {
        args.push(json!("--with-apparmor=true"));
    }
    if cfg.mem_optim {
        args.push(json!("--with-mem-optim=true"));
    }
    if cfg.insecure_metrics {
        args.push(json!("--with-insecure-metrics-access=true"));
    }
    let mut envs = vec![
        field_env("NODE_NAME", "spec.nodeName"),
        field_env("OPERATOR_NAMESPACE", "metadata.namespace"),
        env("SPOD_NAME", cfg.name.clone()),
        env("HOME", "/home"),
        field_env("POD_NAME", "metadata.name"),
    ];
    if let Some(ns) = &env_.restrict_to_namespace {
        envs.push(env("RESTRICT_TO_NAMESPACE", ns.clone()));
    }
    if cfg.log_enricher {
        envs.push(env("ENABLE_LOG_ENRICHER", "true"));
    }
    if cfg.bpf_recorder {
        envs.push(env("ENABLE_BPF_RECORDER", "true"));
    }
    if cfg.json_enricher {
        envs.push(env("ENABLE_JSON_ENRICHER", "true"));
    }
    let sc = if cfg.apparmor {
        json!({
            "privileged": true,
            "runAsUser": 0,
            "runAsGroup": 0,
            "readOnlyRootFilesystem": false,
            "allowPrivilegeEscalation": true
        })
    } else {
        json!({
            "runAsUser": 65535,
            "runAsGroup": 65535,
            "readOnlyRootFilesystem": true,
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "Localhost", "localhostProfile": "security-profiles-operator.json"}
        })
    };
    let probe = |period: u32, failures: u32| {
        json!({
            "httpGet": {"path": "/healthz", "port": "liveness-port"},
            "periodSeconds": period,
            "failureThreshold": failures
        })
    };
    json!({
        "name": DAEMON,
        "args": args,
        "env": envs,
        "ports": [
            {"name": "liveness-port", "containerPort": 8085},
            {"name": "metrics", "containerPort": 9443}
        ],
        "securityContext": sc,
        "resources": cfg.daemon_resources.clone()
            .unwrap_or_else(|| resources("64Mi", "100m", "50Mi", "128Mi", "200Mi")),
        "startupProbe": probe(3, 10),
        "livenessProbe": probe(10, 1),
        "volumeMounts": [
            mount("host-operator-volume", &format!("{kubelet}/seccomp/operator"), false),
            mount("selinux-drop-dir", "/etc/selinux.d", false),
            mount("selinuxd-private-volume", "/var/run/selinuxd", false),
            mount("profile-recording-output-volume", "/tmp/profile-recordings", false),
            mount("grpc-server-volume", "/var/run/grpc", false),
            mount("home-volume", "/home", false),
            mount("tmp-volume", "/tmp", false),
            mount("metrics-cert-volume", "/var/run/secrets/metrics", true),
        ]
    })
}

fn policies_copier() -> Value {
    json!({
        "name": "selinux-shared-policies-copier",
        "args": ["cp", "-r", "/usr/share/selinuxd/templates/.", "/etc/selinux.d/"],
        "securityContext": {"runAsUser": 0, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"], "add": ["CHOWN", "FOWNER", "FSETID", "DAC_OVERRIDE"]}},
        "resources": resources("32Mi", "100m", "10Mi", "1024Mi", "50Mi"),
        "volumeMounts": [mount("selinux-drop-dir", "/etc/selinux.d", false)]
    })
}

fn selinuxd(cfg: &SpodConfig, _env: &ManagerEnv) -> Value {
    let _ = cfg;
    json!({
        "name": "selinuxd",
        "args": [
            "daemon", "--datastore-path", "/var/run/selinuxd/selinuxd.db",
            "--socket-path", "/var/run/selinuxd/selinuxd.sock",
            "--socket-uid", "0", "--socket-gid", "65535"
        ],
        "securityContext": {
            "runAsUser": 0, "runAsGroup": 0, "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"], "add": ["CHOWN", "FOWNER", "FSETID", "DAC_OVERRIDE"]},
            "seLinuxOptions": {"type": "selinuxd.process"}
        },
        "resources": resources("512Mi", "100m", "200Mi", "1024Mi", "400Mi"),
        "volumeMounts": [
            mount("selinux-drop-dir", "/etc/selinux.d", true),
            mount("selinuxd-private-volume", "/var/run/selinuxd", false),
        ]
    })
}

fn recorder_common(name: &str, args: Vec<Value>, custom_proc: bool) -> Value {
    let mut mounts = vec![mount("grpc-server-volume", "/var/run/grpc", false)];
    if custom_proc {
        mounts.push(mount("host-proc-volume", "/proc", true));
    }
    json!({
        "name": name,
        "args": args,
        "env": [field_env("NODE_NAME", "spec.nodeName")],
        "securityContext": {"privileged": true, "runAsUser": 0, "runAsGroup": 0, "readOnlyRootFilesystem": true},
        "volumeMounts": mounts
    })
}

fn log_enricher(cfg: &SpodConfig, custom_proc: bool) -> Value {
    let mut args = vec![json!("log-enricher")];
    if !cfg.log_enricher_filters.is_empty() {
        args.push(json!(format!(
            "--enricher-filters-json={}",
            cfg.log_enricher_filters
        )));
    }
    args.push(json!(format!(
        "--enricher-log-source={}",
        cfg.log_enricher_source
    )));
    let mut c = recorder_common("log-enricher", args, custom_proc);
    push(
        &mut c["volumeMounts"],
        mount("host-auditlog-volume", "/var/log/audit", true),
    );
    push(
        &mut c["volumeMounts"],
        mount("host-syslog-volume", "/var/log", true),
    );
    c["resources"] = resources("64Mi", "50m", "10Mi", "256Mi", "128Mi");
    c
}

fn bpf_recorder(custom_proc: bool) -> Value {
    let mut c = recorder_common("bpf-recorder", vec![json!("bpf-recorder")], custom_proc);
    c["securityContext"]["seccompProfile"] =
        json!({"type": "Localhost", "localhostProfile": "bpf-recorder.json"});
    for (v, p) in [
        ("sys-kernel-debug-volume", "/sys/kernel/debug"),
        ("sys-kernel-security-volume", "/sys/kernel/security"),
        ("sys-kernel-tracing-volume", "/sys/kernel/tracing"),
        ("host-etc-osrelease-volume", "/etc/os-release"),
    ] {
        push(&mut c["volumeMounts"], mount(v, p, true));
    }
    push(&mut c["volumeMounts"], mount("tmp-volume", "/tmp", false));
    c["resources"] = resources("64Mi", "50m", "10Mi", "128Mi", "20Mi");
    c
}

fn json_enricher(cfg: &SpodConfig, custom_proc: bool, log_mount: &str) -> Value {
    let mut args = vec![json!("json-enricher")];
    if !cfg.json_enricher_filters.is_empty() {
        args.push(json!(format!(
            "--enricher-filters-json={}",
            cfg.json_enricher_filters
        )));
    }
    let o = &cfg.json_options;
    if let Some(v) = o.interval_seconds {
        args.push(json!(format!("--audit-log-interval-seconds={v}")));
    }
    if let Some(v) = &o.path {
        args.push(json!(format!("--audit-log-path={v}")));
    }
    if let Some(v) = o.max_size {
        args.push(json!(format!("--audit-log-maxsize={v}")));
    }
    if let Some(v) = o.max_backups {
        args.push(json!(format!("--audit-log-maxbackup={v}")));
    }
    if let Some(v) = o.max_age {
        args.push(json!(format!("--audit-log-maxage={v}")));
    }
    let mut c = recorder_common("json-enricher", args, custom_proc);
    c["securityContext"]["capabilities"] =
        json!({"add": ["SYS_PTRACE", "SYS_RESOURCE", "BPF", "PERFMON"]});
    push(
        &mut c["volumeMounts"],
        mount("json-enricher-log-volume", log_mount, false),
    );
    c["resources"] = resources("64Mi", "50m", "10Mi", "256Mi", "128Mi");
    c
}
