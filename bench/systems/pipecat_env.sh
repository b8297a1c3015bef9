#!/usr/bin/env bash
# Creates .venv-pipecat, a venv of its own for the Pipecat baseline (issue #3).
# Kept apart from .venv because pipecat-ai pins numpy/protobuf/onnxruntime
# ranges that need not agree with soundloop's grpcio/protobuf/numpy pins.
#
# Extras: whisper (faster-whisper), openai (OpenAILLMService for the
# llama_cpp.server endpoint), piper (piper-tts, run in-process). Silero VAD and
# Smart Turn v3.2 ship inside the pipecat-ai wheel itself (pipecat/audio/vad/data,
# pipecat/audio/turn/smart_turn/data), so no extra and no download is needed.
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

PIPECAT_SPEC="pipecat-ai[whisper,openai,piper]==1.14.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${PIPECAT_VENV:-$ROOT/.venv-pipecat}"

if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(0 if m.version("pipecat-ai") == "1.14.0" and m.version("piper-tts") and m.version("faster-whisper") else 1)
PY
then
    echo "pipecat baseline venv ready: $VENV"
    exit 0
fi

python3.11 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "$PIPECAT_SPEC"
echo "pipecat baseline venv ready: $VENV"
