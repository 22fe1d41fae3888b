#!/usr/bin/env bash
# Memory and latency figures of the operator's components on the test control plane
# (docs/src/performance.md, "the SPOD manager"): N Pod objects (default 10000), 110 of them on
# the daemon's node; the daemon's and the manager's peak RSS after they synced; the latency of
# a SPOD change reaching the DaemonSet. Usage: scripts/bench-spod.sh [N]
# Env: SPO_OPERATOR_BIN (default target/debug/spo-operator), API_PORT etc. as kube-up.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
BIN=$(realpath "${SPO_OPERATOR_BIN:-target/debug/spo-operator}")
D=$(mktemp -d /tmp/spo-bench-spod.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; bash scripts/kube-down.sh "$D" >/dev/null 2>&1 || true; }
trap cleanup EXIT
WITH_KCM=0 WITH_SCHEDULER=0 API_PORT=${API_PORT:-19443} ETCD_PORT=${ETCD_PORT:-19379} ETCD_PEER_PORT=${ETCD_PEER_PORT:-19380} \
  bash scripts/kube-up.sh "$D" >/dev/null
export KUBECONFIG="$D/kubeconfig"
kubectl apply --server-side -f deploy/operator.yaml >/dev/null 2>&1 || {
  kubectl wait --for condition=established --timeout=60s crd --all >/dev/null
  kubectl apply --server-side -f deploy/operator.yaml >/dev/null; }
kubectl delete ds spod -n security-profiles-operator --ignore-not-found >/dev/null
kubectl create namespace bench >/dev/null
python3 - "$N" > "$D/pods.json" <<'PY'
import json, sys
n = int(sys.argv[1])
items = []
for i in range(n):
    spec = {"containers": [{"name": "c", "image": "registry.local/app:1",
            "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "operator/p.json"}}}]}
    spec["nodeName"] = "bench-node" if i < 110 else f"other-{i % 90}"
    items.append({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": f"p{i}", "namespace": "bench", "labels": {"app": f"a{i % 50}"}},
                  "spec": spec})
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
PY
t0=$(date +%s.%N)
kubectl create -f "$D/pods.json" >/dev/null
echo "created $N pods in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
NODE_NAME=bench-node KUBELET_DIR="$D/kubelet" "$BIN" daemon --health-addr 127.0.0.1:0 > "$D/daemon.log" 2>&1 &
pids+=($!); dpid=$!
OPERATOR_NAMESPACE=security-profiles-operator "$BIN" manager --leader-elect=false > "$D/manager.log" 2>&1 &
pids+=($!); mpid=$!
for _ in $(seq 100); do kubectl -n security-profiles-operator get ds spod >/dev/null 2>&1 && break; sleep 0.2; done
sleep 10
hwm() { grep VmHWM "/proc/$1/status" | awk '{printf "%.1f MiB", $2/1024}'; }
echo "daemon peak RSS with $N pods (110 on its node): $(hwm "$dpid")"
echo "manager peak RSS: $(hwm "$mpid")"
for i in 1 2 3 4 5; do
  v=$((i % 2))
  t0=$(date +%s%N)
  kubectl -n security-profiles-operator patch spod spod --type=merge -p "{\"spec\":{\"verbosity\":$v}}" >/dev/null
  until kubectl -n security-profiles-operator get ds spod -o jsonpath='{.spec.template.spec.containers[0].env}' | grep -q "\"SPO_VERBOSITY\",\"value\":\"$v\""; do sleep 0.02; done
  echo "SPOD change → DaemonSet: $(( ($(date +%s%N) - t0) / 1000000 )) ms (includes kubectl's own start-up)"
done
echo "manager peak RSS after the changes: $(hwm "$mpid")"
