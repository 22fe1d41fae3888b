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
echo
echo "demo finished"
