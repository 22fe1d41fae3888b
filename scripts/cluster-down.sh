#!/usr/bin/env bash
# Stops what scripts/cluster-up.sh started, by PID: the operator's processes, then the control
# plane (scripts/kube-down.sh).
D=${SPO_CLUSTER_DIR:-/tmp/spo-cluster}
cd "$(dirname "$0")/.."
for p in webhook manager daemon; do
  f="$D/$p.pid"; [ -f "$f" ] || continue
  pid=$(cat "$f"); kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  rm -f "$f"
done
bash scripts/kube-down.sh "$D"
echo "spo test cluster in $D stopped"
