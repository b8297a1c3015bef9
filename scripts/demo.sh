#!/usr/bin/env bash
# Sets everything up (default profile) and runs `soundloop demo`: the README's first command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh default
exec .venv/bin/soundloop demo "$@"
