"""Measures the encoder's per-call cost on real recordings.

    python -m services.encoder.benchmark [--asr whisper-tiny.en whisper-base]
    python -m services.encoder.benchmark --compare [ENGINE ...]   # ASR engines only: see asr_compare

AnalyzeChunk: CPU time of the calling thread per 100 ms chunk (model calls run
in it: onnxruntime with one thread), split by whether a YAMNet window completed.
TranscribeUtterance: wall time per 2-4 s utterance, after one warm-up decode.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

UTTERANCES = ("/usr/share/codec2/wav/hts2a.wav", "/usr/share/codec2/wav/mmt1.wav",
              "/usr/share/sounds/alsa/Front_Center.wav")
STREAM = "/usr/share/codec2/raw/speech_orig_16k.wav"


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    p90 = sorted(values)[int(0.9 * len(values))]
    return f"median {statistics.median(values) * 1000:.3f} ms, p90 {p90 * 1000:.3f} ms"


def bench_chunks(stage, load) -> None:
    from soundloop.audio import codec
    from soundloop.encoder.v1 import encoder_pb2

    for encoding, rate in ((codec.PCM16, 16000), (codec.PCM16, 48000), (codec.MULAW, 8000)):
        fmt = codec.Format(encoding, rate)
        data = codec.encode(fmt, load(STREAM, rate))
        step = fmt.byte_count(100)
        state, plain, windowed, wall, sizes = b"", [], [], [], []
        for _ in range(3):
            state = b""
            for i in range(0, len(data) - step + 1, step):
                req = encoder_pb2.AnalyzeChunkRequest(format=fmt.to_proto(), audio=data[i:i + step], stream_state=state)
                t0, c0 = time.perf_counter(), time.thread_time()
                resp = stage._analyze(req)
                cpu, elapsed = time.thread_time() - c0, time.perf_counter() - t0
                state = resp.stream_state
                (windowed if resp.sound_tags or _window_completed(stage, i // step) else plain).append(cpu)
                wall.append(elapsed)
                sizes.append(len(state))
        print(f"AnalyzeChunk {fmt.describe()}, 100 ms chunks: CPU without YAMNet window {_ms(plain)}; "
              f"with a window {_ms(windowed)}; wall {_ms(wall)}; stream_state max {max(sizes)} bytes")


def _window_completed(stage, chunk_index: int) -> bool:
    # Windows end at 0.975 s + k * hop; a 100 ms chunk ending past such a point ran one.
    end_ms, prev_ms = (chunk_index + 1) * 100, chunk_index * 100
    first, hop = 975, stage.settings.sound_hop_ms
    k = max(0, -(-(prev_ms + 1 - first) // hop))
    return first + k * hop <= end_ms


def bench_asr(model: str, load) -> None:
    from services.encoder.transcriber import Transcriber
    from soundloop.audio import codec
    from soundloop.models import model_path
    from soundloop.settings import EncoderSettings

    enc = EncoderSettings()
    t0 = time.perf_counter()
    asr = Transcriber(model_path(model), enc.asr_threads, enc.asr_beam_size)
    loaded = time.perf_counter() - t0
    clips = [load(path, codec.MODEL_RATE) for path in UTTERANCES]
    asr.transcribe(clips[0], "en", timestamps=False)
    walls, cpus = [], []
    for _ in range(3):
        for clip in clips:
            t0, c0 = time.perf_counter(), time.process_time()
            asr.transcribe(clip, "en", timestamps=False)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    print(f"TranscribeUtterance {model} (beam {enc.asr_beam_size}, {enc.asr_threads} threads, load {loaded:.2f} s): "
          f"wall {_ms(walls)}; process CPU {_ms(cpus)} over {len(walls)} decodes of 1.4-4 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asr", nargs="*", default=["whisper-tiny.en", "whisper-base"])
    parser.add_argument("--compare", nargs="*", metavar="ENGINE",
                        help="only compare ASR engines (latency by length and threads, WER by corpus); "
                             "default: whisper-tiny.en whisper-base moonshine-tiny moonshine-base")
    args = parser.parse_args()
    if args.compare is not None:
        from services.encoder import asr_compare

        asr_compare.main(args.compare or ["whisper-tiny.en", "whisper-base", "moonshine-tiny", "moonshine-base"])
        return

    import soundfile as sf

    from services.encoder.stage import EncoderStage
    from soundloop.audio import codec
    from soundloop.settings import load_settings

    def load(path: str, rate: int):
        samples, file_rate = sf.read(path, dtype="float32", always_2d=True)
        return codec.resample(samples.mean(axis=1), file_rate, rate)

    stage = EncoderStage.from_settings(load_settings(profile="light"))
    bench_chunks(stage, load)
    stage.close()
    for model in args.asr:
        bench_asr(model, load)


if __name__ == "__main__":
    main()
