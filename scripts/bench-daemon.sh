#!/usr/bin/env bash
# Figures of the node daemon alone (docs/src/performance.md, "Operator: SeccompProfile → file
# on disk"): a test control plane on its own ports (scripts/kube-up.sh), deploy/'s CRDs, and a
# release `spo-operator daemon` (seccomp only, no recorder); then
# `examples/bench_install.rs` N profiles created at once, RUNS times, and finally 1,000 profiles
# kept installed for the RSS figure. Everything started is stopped by PID at the end.
# Usage: scripts/bench-daemon.sh [N=200] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}; RUNS=${2:-3}
[ -n "${SPO_BENCH_NO_BUILD:-}" ] || cargo build --release -p spo-operator --bin spo-operator --example bench_install >/dev/null
D=$(mktemp -d /tmp/spo-bench-daemon.XXXXXX)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
export API_PORT=$(port) ETCD_PORT=$(port) ETCD_PEER_PORT=$(port) WITH_KCM=0 WITH_SCHEDULER=0
bash scripts/kube-up.sh "$D" >/dev/null
cleanup() {
  [ -f "$D/daemon.pid" ] && kill "$(cat "$D/daemon.pid")" 2>/dev/null || true
  bash scripts/kube-down.sh "$D" >/dev/null 2>&1 || true
}
trap cleanup EXIT
export KUBECONFIG="$D/kubeconfig"
kubectl apply --server-side -k deploy/crds >/dev/null
kubectl wait --for condition=established --timeout=60s crd --all >/dev/null
kubectl create namespace security-profiles-operator >/dev/null
mkdir -p "$D/kubelet"
NODE_NAME=bench-node KUBELET_DIR="$D/kubelet" SPO_HEALTH_ADDR=127.0.0.1:$(port) RUST_LOG=warn \
  target/release/spo-operator daemon > "$D/daemon.log" 2>&1 &
echo $! > "$D/daemon.pid"
export SPO_KUBELET_DIR="$D/kubelet" SPO_DAEMON_PID=$(cat "$D/daemon.pid")
sleep 2
for i in $(seq 1 "$RUNS"); do
  echo "== run $i: $N profiles (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  target/release/examples/bench_install "$N"
done
echo "== 1000 profiles kept (load: $(cut -d' ' -f1-3 /proc/loadavg))"
target/release/examples/bench_install 1000 --keep
echo "daemon log warnings: $(grep -c WARN "$D/daemon.log" || true)"
