#!/usr/bin/env bash
# Downloads udica's SELinux container templates (udica==0.2.2 sdist, from PyPI with pip) into
# <target>/udica/templates, for the spo-selinux tests that compile generated CIL against
# real templates. Idempotent; exits non-zero when the download is impossible.
set -euo pipefail
target="${1:-$(cd "$(dirname "$0")/.." && pwd)/target}"
dest="$target/udica"
[ -f "$dest/templates/base_container.cil" ] && exit 0
mkdir -p "$dest"
pip="$(command -v pip3 || command -v pip || true)"
if [ -z "$pip" ]; then
	if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
		pip="python3 -m pip"
	else
		echo "fetch-udica: no pip available" >&2
		exit 1
	fi
fi
$pip download --quiet --no-deps --no-binary :all: -d "$dest" udica==0.2.2 >&2
tmp="$(mktemp -d "$dest/.extract.XXXXXX")"
tar -xzf "$dest"/udica-0.2.2.tar.gz -C "$tmp"
rm -rf "$dest/templates"
mv "$tmp"/udica-0.2.2/udica/templates "$dest/templates"
rm -rf "$tmp"
echo "fetch-udica: templates in $dest/templates" >&2
