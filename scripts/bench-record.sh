#!/usr/bin/env bash
# Figures behind docs/src/recording-bpf.md: cost of `spoc record` (release build, root).
# Usage: scripts/bench-record.sh [path/to/spoc]
set -euo pipefail
SPOC=${1:-target/release/spoc}
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "spoc record needs root"; exit 1; }
work=$(mktemp -d /tmp/spo-bench-record.XXXXXX)
trap 'rm -rf "$work"' EXIT
DD="dd if=/dev/zero of=/dev/null bs=1 count=2000000"

echo "== syscall-heavy target (~4M syscalls): plain vs recorded"
hyperfine -N --warmup 1 --runs "${RUNS:-10}" --export-json "$work/dd.json" \
  "$DD" "$SPOC record -o $work/dd.yaml -- $DD"

echo "== start-up: spoc record -- /bin/true"
hyperfine -N --warmup 3 --runs "${RUNS_TRUE:-30}" --export-json "$work/true.json" \
  "$SPOC record -o $work/true.yaml -- /bin/true"

python3 - "$work/dd.json" "$work/true.json" <<'PY'
import json, sys
dd = json.load(open(sys.argv[1]))["results"]
plain, rec = dd[0]["median"], dd[1]["median"]
print(f"median dd plain {plain:.3f} s, under spoc record {rec:.3f} s: {rec / plain:.2f}x")
t = json.load(open(sys.argv[2]))["results"][0]
print(f"median spoc record -- /bin/true: {t['median'] * 1000:.1f} ms (min {t['min'] * 1000:.1f} ms)")
PY
# GNU time reports the peak RSS of the largest process (spoc; /bin/true is far smaller).
for _ in 1 2 3; do
  /usr/bin/time -f "peak RSS of spoc record -- /bin/true: %M kB" \
    "$SPOC" record -o "$work/true.yaml" -- /bin/true 2>&1 | grep "peak RSS"
done
