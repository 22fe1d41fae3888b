#!/usr/bin/env bash
# Recording demo: record real programs with eBPF, then run each under its own recorded
# profile (the round trip), and show that the profile is tight. Needs root.
# Usage: scripts/demo-record.sh [path/to/spoc]
set -uo pipefail
SPOC=${1:-target/release/spoc}
work=$(mktemp -d /tmp/spo-demo-record.XXXXXX)
trap 'rm -rf "$work"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ "$(id -u)" = 0 ] || { echo "spoc record needs root (eBPF); run: sudo $0 $SPOC"; exit 1; }

programs=(
  "ls -l /usr"
  "sh -c 'ls /usr/bin | sort | head -3 | wc -l; echo done | tr a-z A-Z'"
)
if command -v python3 >/dev/null; then
  programs+=("python3 -c 'import json, threading; t = [threading.Thread(target=lambda i=i: json.dumps([i] * 3)) for i in range(4)]; [x.start() for x in t]; [x.join() for x in t]; print(\"4 threads ok\")'")
fi

failed=0
for i in "${!programs[@]}"; do
  p=${programs[$i]}
  out=$work/p$i.yaml
  step "spoc record -o $out -- $p"
  eval "\"$SPOC\" record -o \"$out\" -- $p" > /dev/null || { echo "record failed"; failed=1; continue; }
  echo "  $(grep -c '^    - ' "$out") syscalls allowed, default action: $(grep defaultAction "$out" | awk '{print $2}')"
  step "spoc run -p $out -- $p"
  if eval "\"$SPOC\" run -p \"$out\" -- $p"; then
    echo "  -> runs under its recorded profile"
  else
    echo "  -> FAILED under its recorded profile"; failed=1
  fi
done

step "a profile is specific: run 'python3 -c ...' under the profile recorded from 'ls'"
if command -v python3 >/dev/null; then
  "$SPOC" run -p "$work/p0.yaml" -- python3 -c 'print(1)' && { echo "unexpectedly allowed"; failed=1; } \
    || echo "  -> refused, as it should be (ls never needed what python3 does)"
fi

step "record a running process tree: spoc record --pid"
(sleep 0.3; ls / > /dev/null; sleep 0.3) &
bg=$!
"$SPOC" record -n --pid "$bg" -o "$work/pid.yaml"
echo "  recorded $(grep -c '^    - ' "$work/pid.yaml") syscalls of pid $bg and its children"

echo
[ "$failed" = 0 ] && echo "recording demo finished: every program ran under its recorded profile" \
  || { echo "recording demo FAILED"; exit 1; }
