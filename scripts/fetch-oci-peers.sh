#!/usr/bin/env bash
# Installs the Python OCI/signature peers the spoc OCI interop tests run against into
# <target>/pypeers (pip --target, no venv needed): oras (oras-py, the ORAS project's Python
# client) and PyNaCl (libsodium's secretbox, to open cosign keys independently of our code).
# Idempotent; exits non-zero when pip cannot install them.
set -euo pipefail
target="${1:-$(cd "$(dirname "$0")/.." && pwd)/target}"
dest="$target/pypeers"
if PYTHONPATH="$dest" python3 -c 'import oras.client, nacl.secret, cryptography' 2>/dev/null; then
	exit 0
fi
pip="$(command -v pip3 || command -v pip || true)"
[ -n "$pip" ] || pip="python3 -m pip"
mkdir -p "$dest"
$pip install --quiet --disable-pip-version-check --target "$dest" --upgrade "oras==0.2.*" "pynacl>=1.5" >&2 || \
	$pip install --quiet --disable-pip-version-check --break-system-packages --target "$dest" --upgrade "oras==0.2.*" "pynacl>=1.5" >&2
PYTHONPATH="$dest" python3 -c 'import oras.client, nacl.secret, cryptography'
echo "fetch-oci-peers: oras-py and PyNaCl in $dest" >&2
