#!/usr/bin/env bash
# `make demo`: a program runs under a seccomp profile, then under the same profile with one
# syscall removed, and spoc shows the denial. If the eBPF recorder is built in and we are
# root, the profile is first recorded from the program itself.
set -uo pipefail
SPOC=${1:-target/release/spoc}
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/spo-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
prog=(/bin/sh -c "mkdir -p $work/data && echo 'hello from a confined program' > $work/data/f && cat $work/data/f")
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "spoc version"
"$SPOC" version

profile=examples/demo-profile.yaml
if "$SPOC" record --help >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
  step "record the program's syscalls with eBPF: spoc record -o $work/recorded.yaml -- ${prog[*]}"
  if "$SPOC" record -o "$work/recorded.yaml" -- "${prog[@]}"; then
    profile=$work/recorded.yaml
    rm -rf "$work/data"
  else
    echo "(recording failed; using the shipped profile $profile)"
  fi
fi

step "validate the profile: spoc validate $profile"
"$SPOC" validate "$profile" || exit 1

step "run the program under it: spoc run -p $profile -- ${prog[*]}"
"$SPOC" run -p "$profile" -- "${prog[@]}"
echo "exit status: $?"
rm -rf "$work/data"

step "the same profile without mkdir/mkdirat"
grep -v -E '^ *- (mkdir|mkdirat)$' "$profile" > "$work/no-mkdir.yaml"
diff <(grep -E '^ *- ' "$profile") <(grep -E '^ *- ' "$work/no-mkdir.yaml") | sed 's/^/  /'

step "run again: the kernel denies mkdir, spoc names it"
"$SPOC" run -p "$work/no-mkdir.yaml" -- "${prog[@]}"
status=$?
echo "exit status: $status (the program's own, passed through)"
[ "$status" -ne 0 ] || { echo "expected a failure"; exit 1; }

step "merge --check: does the reduced profile still cover the original?"
"$SPOC" merge --check "$work/no-mkdir.yaml" "$profile" 2>&1 | tail -1

if command -v docker-registry >/dev/null; then
  step "OCI round trip: push a signed profile to a local registry, pull it back, run it"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$work" "$port" > "$work/registry.yml"
  docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
  reg_pid=$!
  trap 'kill "$reg_pid" 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  ref="127.0.0.1:$port/profiles/demo:v1"
  COSIGN_PASSWORD=demo "$SPOC" generate-key-pair --output-key-prefix "$work/cosign" 2>&1 | sed "s/^/  /"
  echo "spoc push --plain-http --sign-key cosign.key -f $profile $ref"
  COSIGN_PASSWORD=demo "$SPOC" push --plain-http --sign-key "$work/cosign.key" -f "$profile" "$ref" || exit 1
  echo "spoc pull --plain-http --verify-key cosign.pub $ref -o pulled.yaml"
  "$SPOC" pull --plain-http --verify-key "$work/cosign.pub" "$ref" -o "$work/pulled.yaml" || exit 1
  echo "without the key, the pull is refused (keyless verification wants a Fulcio certificate):"
  "$SPOC" pull --plain-http "$ref" -o "$work/unsigned.yaml" 2>&1 | sed 's/^/  /' | cut -c1-160
  echo "spoc run -p pulled.yaml -- ${prog[*]}"
  "$SPOC" run -p "$work/pulled.yaml" -- "${prog[@]}" || exit 1
  rm -rf "$work/data"
  kill "$reg_pid" 2>/dev/null
else
  echo "(docker-registry not installed: skipping the OCI round trip; run make deps)"
fi
echo
echo "demo finished"
