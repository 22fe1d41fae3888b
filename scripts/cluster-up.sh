#!/usr/bin/env bash
# A local cluster a user can try: the test control plane (scripts/kube-up.sh), deploy/'s CRDs,
# and the operator's components as local processes — the daemon as node $(hostname) with a
# kubelet directory under the cluster directory, the manager's node-status aggregation, and the
# webhook (conversion registered by URL on every CRD; the admission webhooks too).
# Ends with the `export` lines to paste. Stop everything with scripts/cluster-down.sh.
# Env: SPO_CLUSTER_DIR (default /tmp/spo-cluster), SPO_OPERATOR_BIN (default
# target/debug/spo-operator), API_PORT/ETCD_PORT/ETCD_PEER_PORT as for kube-up.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${SPO_CLUSTER_DIR:-/tmp/spo-cluster}
BIN=${SPO_OPERATOR_BIN:-target/debug/spo-operator}
[ -x "$BIN" ] || { echo "missing $BIN: run cargo build -p spo-operator (make cluster-up does)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
if [ -f "$D/apiserver.pid" ] && kill -0 "$(cat "$D/apiserver.pid")" 2>/dev/null; then
  echo "a cluster is already running in $D (scripts/cluster-down.sh stops it)" >&2; exit 1
fi
bash scripts/kube-build.sh >/dev/null
rm -rf "$D"; mkdir -p "$D"
bash scripts/kube-up.sh "$D" >/dev/null
export KUBECONFIG="$D/kubeconfig"
kubectl apply --server-side -k deploy/crds >/dev/null
kubectl wait --for condition=established --timeout=60s crd --all >/dev/null
kubectl create namespace security-profiles-operator >/dev/null
KUBELET="$D/kubelet"
mkdir -p "$KUBELET"
# Profile recording (docs/src/recording-cluster.md): the eBPF recorder needs root and BTF;
# Logs recordings read $SPO_RECORDING_AUDIT_LOG (default $D/audit.log, created empty).
REC=()
if [ "$(id -u)" = 0 ] && [ -e /sys/kernel/btf/vmlinux ]; then
  : "${SPO_RECORDING_AUDIT_LOG:=$D/audit.log}"
  touch "$SPO_RECORDING_AUDIT_LOG"
  REC=(--with-recording true --recording-state "$D/recorder-state.json"
       --recording-audit-log "$SPO_RECORDING_AUDIT_LOG")
fi
NODE_NAME=$(hostname) KUBELET_DIR="$KUBELET" SPO_HEALTH_ADDR=${SPO_HEALTH_ADDR:-127.0.0.1:8085} \
  "$BIN" daemon "${REC[@]}" > "$D/daemon.log" 2>&1 &
echo $! > "$D/daemon.pid"
# The conversion webhook, registered by URL with a certificate of the cluster's CA.
C="$D/certs"
openssl req -newkey rsa:2048 -nodes -subj /CN=spo-webhook -keyout "$C/wh.key" -out "$C/wh.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$C/wh.cnf"
openssl x509 -req -in "$C/wh.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial -days 2 \
  -extfile "$C/wh.cnf" -out "$C/wh.crt" 2>/dev/null
WP=${SPO_WEBHOOK_PORT:-19443}
"$BIN" webhook --bind 127.0.0.1 --port "$WP" --tls-cert-file "$C/wh.crt" --tls-key-file "$C/wh.key" \
  > "$D/webhook.log" 2>&1 &
echo $! > "$D/webhook.pid"
CA=$(base64 -w0 < "$C/ca.crt")
for crd in $(kubectl get crd -o name | grep security-profiles-operator); do
  kubectl patch "$crd" --type=merge -p "{\"spec\":{\"conversion\":{\"strategy\":\"Webhook\",\"webhook\":{\"conversionReviewVersions\":[\"v1\"],\"clientConfig\":{\"url\":\"https://127.0.0.1:$WP/convert\",\"caBundle\":\"$CA\"}}}}}" >/dev/null
done
# The manager: default SPOD, the spod DaemonSet (no kubelet runs its pods here), its own CA
# and serving certificates for in-cluster use, the webhook configurations (every admission
# webhook) registered by URL for the local webhook server above (so with that server's CA),
# metrics on ${SPO_METRICS_ADDR:-127.0.0.1:9444} (certificates from the metrics-server-cert Secret,
# written to $D/metrics-certs below).
mkdir -p "$D/metrics-certs"
OPERATOR_NAMESPACE=security-profiles-operator "$BIN" manager --image "${SPO_IMAGE:-spo-operator:latest}" \
  --webhook-url "https://127.0.0.1:$WP" --webhook-ca-file "$C/ca.crt" \
  --metrics-addr "${SPO_METRICS_ADDR:-127.0.0.1:9444}" --metrics-cert-dir "$D/metrics-certs" \
  > "$D/manager.log" 2>&1 &
echo $! > "$D/manager.pid"
for _ in $(seq 100); do
  kubectl -n security-profiles-operator get secret metrics-server-cert >/dev/null 2>&1 && break; sleep 0.2
done
for k in tls.crt tls.key ca.crt; do
  kubectl -n security-profiles-operator get secret metrics-server-cert -o "jsonpath={.data.${k//./\\.}}" 2>/dev/null \
    | base64 -d > "$D/metrics-certs/$k" || true
done
# The admission webhooks (validation at apply time, ProfileBinding, recording; exec metadata
# while the JSON enricher is on, OP-24) are registered by the manager above, from its one
# builder, by URL with the cluster's CA. Wait until the webhook's caches are filled.
for _ in $(seq 1 100); do grep -q "pod webhooks ready" "$D/webhook.log" 2>/dev/null && break; sleep 0.2; done
for _ in $(seq 1 100); do
  kubectl get validatingwebhookconfiguration spo-validating-webhook-configuration >/dev/null 2>&1 && break; sleep 0.2
done
echo "spo test cluster up in $D (logs: $D/*.log)"
echo "export KUBECONFIG=$KUBECONFIG"
echo "export SPO_KUBELET_DIR=$KUBELET"
if [ ${#REC[@]} -gt 0 ]; then
  echo "# profile recording on: eBPF, and audit lines from $SPO_RECORDING_AUDIT_LOG"
fi
