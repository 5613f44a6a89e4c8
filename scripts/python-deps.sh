#!/usr/bin/env bash
# Install Python modules the tests or benchmarks use, if missing: scripts/python-deps.sh pyarrow pandas
# (the import name; pip accepts it as the package name: adbc_driver_flightsql)
# (pip --user; falls back to --break-system-packages where the system Python is externally managed).
set -euo pipefail
missing=()
for m in "$@"; do python3 -c "import $m" 2>/dev/null || missing+=("$m"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Python modules: ${missing[*]}" >&2
python3 -m pip --version >/dev/null 2>&1 || python3 -m ensurepip --user >/dev/null 2>&1 || true
python3 -m pip install --user --quiet --disable-pip-version-check "${missing[@]}" 2>/dev/null \
  || python3 -m pip install --user --quiet --disable-pip-version-check --break-system-packages "${missing[@]}"
for m in "${missing[@]}"; do python3 -c "import $m"; done
