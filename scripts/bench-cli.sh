#!/usr/bin/env bash
# hyperfine runs behind docs/src/performance.md: spoc run / merge / convert (release build).
# Usage: scripts/bench-cli.sh [path/to/spoc]
set -euo pipefail
SPOC=${1:-target/release/spoc}
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/spo-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)"; exit 1; }

# 50 profiles with ~60 rules each, drawn from the x86_64 syscall table.
python3 - "$work" <<'PY'
import sys, subprocess
work = sys.argv[1]
names = [l.split()[1] for l in open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h") if l.startswith("#define __NR_")]
names = [n.replace("__NR_", "") for n in names]
for i in range(50):
    picked = sorted({names[(i * 7 + k * 5) % len(names)] for k in range(60)})
    body = "".join(f"  - names: [{n}]\n    action: SCMP_ACT_ALLOW\n" for n in picked)
    open(f"{work}/p{i:02d}.yaml", "w").write(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n"
        f"metadata:\n  name: p{i:02d}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  architectures: [SCMP_ARCH_X86_64]\n  syscalls:\n{body}")
PY

hyperfine -N --warmup 5 --runs 200 --export-markdown "$work/run.md" \
  "$SPOC run -p examples/demo-profile.yaml -- /bin/true"
hyperfine -N --warmup 3 --runs 100 --export-markdown "$work/merge.md" \
  "$SPOC merge $(ls "$work"/p*.yaml | tr '\n' ' ') -o $work/merged.yaml"
hyperfine -N --warmup 5 --runs 200 --export-markdown "$work/convert.md" \
  "$SPOC convert examples/demo-profile.yaml -o $work/demo.json"
cat "$work"/run.md "$work"/merge.md "$work"/convert.md

# Peak RSS of one run (GNU time reports the largest of spoc and the command).
/usr/bin/time -f "peak RSS of spoc run: %M kB" "$SPOC" run -p examples/demo-profile.yaml -- /bin/true
/usr/bin/time -f "peak RSS of spoc merge (50 files): %M kB" "$SPOC" merge "$work"/p*.yaml -o "$work/merged.yaml"
