#!/usr/bin/env bash
# hyperfine runs behind the "Hostile and large input" table of docs/src/performance.md.
# Usage: scripts/bench-hostile.sh [path/to/spoc]
set -euo pipefail
SPOC=$(realpath "${1:-target/release/spoc}")
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/spo-hostile.XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)"; exit 1; }

python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
table = open("spo-seccomp/src/syscalls/table.rs").read()
x86 = table[table.index("static X86_64"):]
names = re.findall(r'\("(\w+)", \d+\)', x86[: x86.index("];")])[:384]
head = ("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n"
        "metadata:\n  name: big\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n")
rule = "  - action: SCMP_ACT_ALLOW\n    names:\n" + "".join(f"    - {n}\n" for n in names)
body = head
while len(body) + len(rule) < 16 * 1024 * 1024 - 100:
    body += rule
open(f"{work}/valid16m.yaml", "w").write(body)
rules = [{"action": "SCMP_ACT_ALLOW", "names": names} for _ in range(2500)]
open(f"{work}/valid1m.json", "w").write(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": rules}))
same = ",".join('"read"' for _ in range(1_000_000))
open(f"{work}/dup1m.json", "w").write(
    '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW","names":[' + same + "]}]}")
open(f"{work}/nest.json", "w").write("[" * 100_000)
open(f"{work}/nestmap.yaml", "w").write("{a: " * 100_000)
args = [{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": i, "op": "SCMP_CMP_EQ"}]} for i in range(100_000)]
open(f"{work}/args100k.json", "w").write(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": args}))
PY

hyperfine -N -i --warmup 2 --runs 10 "$SPOC validate $work/valid16m.yaml" "$SPOC validate $work/valid1m.json"
hyperfine -i --warmup 1 --runs 5 "$SPOC validate $work/dup1m.json > /dev/null"
hyperfine -N -i --warmup 5 --runs 50 "$SPOC validate $work/nest.json" "$SPOC validate $work/nestmap.yaml" \
  "$SPOC validate $work/args100k.json"
for f in valid16m.yaml valid1m.json dup1m.json nest.json args100k.json; do
  /usr/bin/time -f "$f: peak RSS %M kB" "$SPOC" validate "$work/$f" >/dev/null || true
done
