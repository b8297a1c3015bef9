#!/usr/bin/env bash
# Sets everything up (light profile) and runs the whole test suite: the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh light
echo "[test] fetching the benchmark's event sounds (Debian packages, checked by sha256)"
.venv/bin/python -m bench.sound_bank
echo "[test] checking generated contract code is fresh"
.venv/bin/python scripts/gen_protos.py --check
if command -v npm >/dev/null 2>&1; then
  echo "[test] buf lint protos/"
  npm install --silent --no-audit --no-fund >/dev/null
  npx --no-install buf lint
else
  echo "[test] npm not found: skipping buf lint"
fi
echo "[test] ruff"
.venv/bin/ruff check .
echo "[test] pytest"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ $status -eq 5 ]; then
  echo "[test] pytest collected no tests: that is a failure" >&2
fi
exit $status
