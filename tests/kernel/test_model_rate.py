"""One owner for the model sample rate: `soundloop.audio.codec.MODEL_RATE`.

Production code that means "the rate VAD, ASR and the sound tagger consume" asks
codec for it. A literal 16000 anywhere else is that fact written twice, unless it
is one of the few uses listed below that mean something else.
"""
import ast
import pathlib

import pytest

pytestmark = pytest.mark.unit

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("soundloop", "services")
OWNER = "soundloop/audio/codec.py"  # MODEL_RATE, and 16 kHz among the PCM_RATES callers may send
LITERAL = 16000

# 16000s that are not the model rate: path -> (at most this many, why).
ALLOWED = {
    "soundloop/cli.py": (1, "`converse` sends PCM16 at 16 kHz unless --rate says otherwise: a caller format"),
    "services/encoder/benchmark.py": (1, "PCM16 at 16 kHz is one of the caller formats whose chunks are timed"),
}


def _production_modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel != OWNER and "_pb2" not in path.name:  # generated code is not ours to edit
                yield rel, path


def _literal_lines(source: str) -> list[int]:
    return sorted(node.lineno for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == LITERAL)


def test_the_model_rate_is_written_once():
    found = {rel: lines for rel, path in _production_modules()
             if (lines := _literal_lines(path.read_text(encoding="utf-8")))}
    extra = [f"{rel}:{line}" for rel, lines in found.items()
             for line in lines[ALLOWED.get(rel, (0, ""))[0]:]]
    assert not extra, (f"literal {LITERAL} outside {OWNER}: use codec.MODEL_RATE, or, if it means something "
                       f"else (a caller's format), add it to ALLOWED with the reason: {extra}")


def test_the_scan_finds_every_spelling():
    # Guards the test above against passing because it looks at nothing.
    assert _literal_lines("RATE = 16_000\nHALF = 16000.0 / 2\nHELP = '16000'\nHOP = 160\n") == [1, 2]
    assert any(rel == "soundloop/cli.py" for rel, _ in _production_modules())
