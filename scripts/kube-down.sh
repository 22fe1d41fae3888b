#!/usr/bin/env bash
# Stop what kube-up.sh started in DATA_DIR, by PID, newest first, and wait until each has exited
# so the ports are free for the next run.
# Usage: scripts/kube-down.sh DATA_DIR
D=${1:?usage: kube-down.sh DATA_DIR}
for p in scheduler kcm apiserver etcd; do
  f="$D/$p.pid"; [ -f "$f" ] || continue
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  rm -f "$f"
done
exit 0
