#!/usr/bin/env bash
# Python packages the spoc lint tests use as independent readers of spoc's reports:
# jsonschema (validates SARIF against the SARIF 2.1.0 schema) and junitparser (reads JUnit
# XML). Idempotent; quick when both import.
set -euo pipefail
py="$(command -v python3 || true)"
[ -n "$py" ] || { echo "pip-test-deps: python3 missing" >&2; exit 1; }
if "$py" -c 'import jsonschema, junitparser' 2>/dev/null; then exit 0; fi
pkgs=(jsonschema junitparser)
"$py" -m pip install --quiet "${pkgs[@]}" 2>/dev/null \
	|| "$py" -m pip install --quiet --break-system-packages "${pkgs[@]}"
"$py" -c 'import jsonschema, junitparser'
