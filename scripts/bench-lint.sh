#!/usr/bin/env bash
# hyperfine runs behind the `spoc lint` figures of docs/src/performance.md (release build):
# 1,000 SeccompProfiles of ~60 rules in one directory, and a single file.
# Usage: scripts/bench-lint.sh [path/to/spoc]
set -euo pipefail
SPOC=${1:-target/release/spoc}
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/spo-bench-lint.XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)"; exit 1; }

# 1,000 profiles, 62 rules each (60 drawn from the x86_64 table, plus execve and exit_group);
# many draw a syscall the runtime defaults block, so most files have findings to locate.
python3 - "$work" <<'PY'
import os, sys
work = sys.argv[1]
names = [l.split()[1] for l in open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h") if l.startswith("#define __NR_")]
names = [n.replace("__NR_", "") for n in names]
os.makedirs(f"{work}/many")
for i in range(1000):
    picked = sorted({names[(i * 7 + k * 5) % len(names)] for k in range(60)} | {"execve", "exit_group"})
    body = "".join(f"  - names: [{n}]\n    action: SCMP_ACT_ALLOW\n" for n in picked)
    open(f"{work}/many/p{i:04d}.yaml", "w").write(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n"
        f"metadata:\n  name: p{i:04d}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n"
        f"  architectures: [SCMP_ARCH_X86_64]\n  syscalls:\n{body}")
PY
"$SPOC" lint "$work/many" >/dev/null 2>"$work/summary" || true
cat "$work/summary"
hyperfine -N -i --warmup 3 --runs 20 "$SPOC lint $work/many" "$SPOC lint --format sarif $work/many"
hyperfine -N -i --warmup 10 --runs 200 "$SPOC lint $work/many/p0001.yaml" \
  "$SPOC lint examples/demo-profile.yaml"
