#!/bin/sh
# hyperfine figures of spoc push / pull against Debian's docker-registry on 127.0.0.1
# (docs/src/performance.md, "OCI artifacts"). Usage: scripts/bench-oci.sh [RUNS]
# Needs a release build (cargo build --release -p spoc), hyperfine and docker-registry.
set -eu
runs=${1:-20}
spoc=${SPOC:-$(pwd)/target/release/spoc}
port=${PORT:-5077}
work=$(mktemp -d)
cat >"$work/cfg.yml" <<CFG
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: 127.0.0.1:$port
log:
  level: error
  accesslog:
    disabled: true
CFG
docker-registry serve "$work/cfg.yml" >"$work/registry.log" 2>&1 &
pid=$!
trap 'kill $pid; rm -rf "$work"' EXIT
i=0
until curl -sf "http://127.0.0.1:$port/v2/" >/dev/null; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "registry did not start" >&2; exit 1; }; sleep 0.05
done
export COSIGN_PASSWORD=pw
"$spoc" generate-key-pair --output-key-prefix "$work/cosign" >/dev/null
files=""
for arch in amd64 arm64 riscv64; do
  cat >"$work/$arch.yaml" <<P
apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: bench-$arch
spec:
  defaultAction: SCMP_ACT_ERRNO
  syscalls:
  - action: SCMP_ACT_ALLOW
    names: [read, write, exit_group, futex, mmap, close]
P
  files="$files -f $work/$arch.yaml -p linux/$arch"
done
ref=127.0.0.1:$port/bench/profile
echo "load before: $(uptime)"
# `--prepare 'sleep 1'`: the manifest's `created` annotation has one-second resolution, so
# each timed push makes a new digest (a fresh artifact and signature, as in real use) instead
# of appending another signature to the previous run's.
hyperfine -N --warmup 2 --runs "$runs" --prepare 'sleep 1' \
  -n "push 3 profiles, signed" "$spoc push --plain-http --sign-key $work/cosign.key $files $ref:signed" \
  -n "push 3 profiles, unsigned" "$spoc push --plain-http $files $ref:unsigned" \
  -n "pull, key verification" "$spoc pull --plain-http --verify-key $work/cosign.pub -o $work/out.yaml $ref:signed"
echo "load after: $(uptime)"
