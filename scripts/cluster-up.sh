#!/usr/bin/env bash
# A local cluster a user can try: the test control plane (scripts/kube-up.sh), deploy/'s CRDs,
# and the operator's components as local processes — the daemon as node $(hostname) with a
# kubelet directory under the cluster directory, the manager's node-status aggregation, and the
# conversion webhook (registered by URL on every CRD).
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
"$BIN" manager > "$D/manager.log" 2>&1 &
echo $! > "$D/manager.pid"
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
echo "spo test cluster up in $D (logs: $D/*.log)"
echo "export KUBECONFIG=$KUBECONFIG"
echo "export SPO_KUBELET_DIR=$KUBELET"
if [ ${#REC[@]} -gt 0 ]; then
  echo "# profile recording on: eBPF, and audit lines from $SPO_RECORDING_AUDIT_LOG"
fi
