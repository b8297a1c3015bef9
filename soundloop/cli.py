"""soundloop command line.

    soundloop serve                 # the whole system on this machine (Ray Serve app)
    soundloop converse FILE         # stream a WAV to a running server, print events, save the reply
    soundloop transcribe FILE       # offline transcription (+ sound events) of a file
    soundloop demo                  # all of the above in one go, on a generated example call
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import pathlib
import sys
import time

DEFAULT_ADDRESS = "127.0.0.1:50051"


def _progress(message: str) -> None:
    print(f"[soundloop {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------ serve

@contextlib.contextmanager
def _redis(url: str):
    if url:
        yield url
        return
    from soundloop.local_redis import local_redis_server
    with local_redis_server() as started:
        _progress(f"started a local redis-server at {started}")
        yield started


@contextlib.contextmanager
def running_system(profile: str, redis_url: str, port: int, mode: str, metrics_port: int = 0,
                   insecure: bool = False):
    """Starts Redis (if needed) and the system; yields the gateway address. `metrics_port` (Serve mode):
    the Ray node's Prometheus port, with every replica's soundloop metrics. `insecure`: local development
    (plaintext, no API keys, loopback only); otherwise the SOUNDLOOP_SECURITY__* settings apply."""
    import os

    from soundloop.settings import LOCAL_DEVELOPMENT_ENV
    if insecure:
        _progress("--insecure: plaintext, no API keys, on 127.0.0.1 only (local development)")
        os.environ.update(LOCAL_DEVELOPMENT_ENV)  # read by every process started below
    with _redis(redis_url) as url:
        if mode == "processes":
            from soundloop.local_stack import local_stack
            _progress(f"starting stage servers and gateway ({profile} profile)...")
            with local_stack(profile, url, gateway_port=port) as stack:
                yield stack.gateway_address
            return
        from soundloop.serve_runner import serve_app
        with serve_app(profile, url, port, progress=_progress, metrics_port=metrics_port) as address:
            yield address


def cmd_serve(args) -> None:
    import signal

    from soundloop.settings import load_settings

    # SIGTERM (docker stop, Kubernetes) unwinds like Ctrl-C, so stages and Redis are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings = load_settings(**({"profile": args.profile} if args.profile else {}))
    with running_system(settings.profile, args.redis_url or settings.redis_url, args.port, args.mode,
                        settings.metrics_port, insecure=args.insecure) as address:
        _progress(f"ready: soundloop.v1.Interaction on {address} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            _progress("stopping")


# ------------------------------------------------------------------ converse / transcribe

def _print_event(received) -> None:
    from soundloop.instructions import describe
    from soundloop.v1 import interaction_pb2 as pb
    ev, kind = received.event, received.kind
    if kind == "reply_audio":
        return
    detail = {
        "session_started": lambda: f"session {ev.session_started.session_id}",
        "transcript": lambda: f"{'FINAL' if ev.transcript.is_final else 'partial'} {ev.transcript.text!r}",
        "decision": lambda: f"{pb.Action.Name(ev.decision.action)} ({ev.decision.reason})",
        "sound_event": lambda: f"{ev.sound_event.label} {ev.sound_event.score:.2f}",
        "reply_text": lambda: repr(ev.reply_text.delta),
        "turn_started": lambda: f"{ev.turn_started.turn_id} <- {ev.turn_started.prompt!r}",
        "turn_completed": lambda: f"{ev.turn_completed.turn_id}: {ev.turn_completed.text!r}",
        "turn_interrupted": lambda: f"{ev.turn_interrupted.turn_id}, heard {ev.turn_interrupted.heard_text!r}",
        "error": lambda: f"{ev.error.code}: {ev.error.message}",
        "mode_changed": lambda: f"{describe(ev.mode_changed.response)} <- {ev.mode_changed.instruction!r}",
    }.get(kind, lambda: "")()
    print(f"{received.at:7.3f}s  #{ev.sequence:<4} audio {ev.audio_offset.ToMilliseconds() / 1000:6.2f}s  "
          f"{kind:<16} {detail}", flush=True)


def _encoding_config(encoding: str, rate: int | None):
    from soundloop.v1 import audio_pb2
    if encoding in ("mulaw", "alaw"):
        enc = audio_pb2.AUDIO_ENCODING_MULAW if encoding == "mulaw" else audio_pb2.AUDIO_ENCODING_ALAW
        return audio_pb2.AudioFormat(encoding=enc, sample_rate_hz=8000)
    return audio_pb2.AudioFormat(encoding=audio_pb2.AUDIO_ENCODING_PCM16LE, sample_rate_hz=rate or 16000)


def converse_file(address: str, path: str, *, encoding: str = "pcm16", rate: int | None = None,
                  speed: float = 1.0, out: str | None = None, instructions: str = "", texts=(),
                  response_mode: str = "", wake_phrases=(), max_sentences: int = 0, api_key: str = "",
                  tls: dict | None = None):
    import soundfile as sf

    from soundloop.client import CallerScript, auth_metadata, converse
    from soundloop.v1 import interaction_pb2 as pb
    audio, file_rate = sf.read(path, dtype="float32", always_2d=True)
    fmt = _encoding_config(encoding, rate)
    config = pb.SessionConfig(input_audio=fmt, instructions=instructions, response=pb.ResponsePolicy(
        mode=pb.ResponseMode.Value(f"RESPONSE_MODE_{response_mode.upper()}") if response_mode else 0,
        wake_phrases=list(wake_phrases), max_sentences=max_sentences))
    script = CallerScript(audio=audio.mean(axis=1), rate=file_rate, texts=list(texts))
    record = asyncio.run(converse(address, config, script, speed=speed, on_event=_print_event,
                                  metadata=auth_metadata(api_key), tls=tls))
    if out and record.reply_audio:
        _write_reply(out, record)
    return record


def _write_reply(path: str, record) -> None:
    import numpy as np
    import soundfile as sf

    from soundloop.audio import codec
    fmt = codec.Format.from_proto(record.output_format)
    samples = codec.decode(fmt, bytes(record.reply_audio))
    sf.write(path, samples.astype(np.float32), fmt.sample_rate_hz)
    _progress(f"wrote {len(samples) / fmt.sample_rate_hz:.1f} s of reply audio to {path}")


def cmd_converse(args) -> None:
    converse_file(args.address, args.file, encoding=args.encoding, rate=args.rate, speed=args.speed,
                  out=args.out, instructions=args.instructions, texts=[(0.0, t) for t in args.text],
                  response_mode=args.response_mode, wake_phrases=args.wake_phrase, max_sentences=args.max_sentences,
                  api_key=args.api_key, tls=_tls(args))


def cmd_transcribe(args) -> None:
    import soundfile as sf

    from soundloop.audio import codec
    from soundloop.client import auth_metadata, channel
    from soundloop.v1 import audio_pb2, interaction_pb2 as pb, interaction_pb2_grpc
    audio, rate = sf.read(args.file, dtype="float32", always_2d=True)
    # Sent at the rate the models consume: the server has nothing to resample.
    audio = codec.resample(audio.mean(axis=1), rate, codec.MODEL_RATE)
    fmt = codec.Format(audio_pb2.AUDIO_ENCODING_PCM16LE, codec.MODEL_RATE)

    async def run():
        async with channel(args.address, **_tls(args)) as ch:
            stub = interaction_pb2_grpc.InteractionStub(ch)
            request = dict(audio_format=fmt.to_proto(), audio=codec.encode(fmt, audio))
            metadata = auth_metadata(args.api_key) or None
            if args.ask:
                return await stub.AnswerAboutClip(pb.AnswerAboutClipRequest(**request, instruction=args.ask),
                                                  metadata=metadata)
            return await stub.Transcribe(pb.TranscribeRequest(**request), metadata=metadata)
    result = asyncio.run(run())
    if args.ask:
        print(result.answer)
        result = result.perception
    for seg in result.segments:
        print(f"[{seg.start.ToMilliseconds() / 1000:6.2f} - {seg.end.ToMilliseconds() / 1000:6.2f}] {seg.text}")
    for ev in result.sound_events:
        print(f"  sound {ev.label} {ev.score:.2f} at {ev.start.ToMilliseconds() / 1000:.2f} s")


# ------------------------------------------------------------------ demo

def cmd_demo(args) -> None:
    from soundloop.demo import run_demo
    run_demo(profile=args.profile or "default", mode=args.mode, out_dir=pathlib.Path(args.out_dir),
             progress=_progress, print_event=_print_event, converse_file=converse_file,
             running_system=running_system)


def _client_security(parser: argparse.ArgumentParser) -> None:
    import os
    parser.add_argument("--api-key", default=os.environ.get("SOUNDLOOP_API_KEY", ""),
                        help="the tenant's API key (default: $SOUNDLOOP_API_KEY)")
    parser.add_argument("--tls", action="store_true", help="connect with TLS, trusting the system's roots")
    parser.add_argument("--tls-ca", default="", help="CA certificate to trust (implies --tls)")
    parser.add_argument("--tls-cert", default="", help="client certificate, for servers that require mTLS")
    parser.add_argument("--tls-key", default="", help="client certificate's key")


def _tls(args) -> dict:
    return {"tls": args.tls or bool(args.tls_ca or args.tls_cert), "tls_ca": args.tls_ca, "tls_cert": args.tls_cert,
            "tls_key": args.tls_key}


RESPONSE_MODES = ["converse", "transcribe_only", "quiet_until_addressed", "sounds_only"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="soundloop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the whole system locally")
    serve.add_argument("--profile", choices=["default", "light"])
    serve.add_argument("--redis-url", default="", help="default: start a local redis-server")
    serve.add_argument("--port", type=int, default=50051)
    serve.add_argument("--mode", choices=["serve", "processes"], default="serve",
                       help="Ray Serve application (default) or plain processes without Ray")
    serve.add_argument("--insecure", action="store_true",
                       help="local development: no TLS, no API keys, listen on 127.0.0.1 only (otherwise "
                            "SOUNDLOOP_SECURITY__* must name TLS files and a tenants file)")
    serve.set_defaults(func=cmd_serve)

    conv = sub.add_parser("converse", help="stream a file to a running server")
    conv.add_argument("file")
    conv.add_argument("--address", default=DEFAULT_ADDRESS)
    conv.add_argument("--encoding", choices=["pcm16", "mulaw", "alaw"], default="pcm16")
    conv.add_argument("--rate", type=int, help="PCM16 sample rate to send (default 16000)")
    conv.add_argument("--speed", type=float, default=1.0, help="1 = real time, 0 = as fast as possible")
    conv.add_argument("--out", default="reply.wav", help="where to write the reply audio")
    conv.add_argument("--instructions", default="")
    conv.add_argument("--text", action="append", default=[], help="typed input sent at the start")
    conv.add_argument("--response-mode", choices=RESPONSE_MODES, default="",
                      help="what the server answers (default: converse, or what --instructions say)")
    conv.add_argument("--wake-phrase", action="append", default=[],
                      help="with quiet_until_addressed: a word or name that addresses the assistant")
    conv.add_argument("--max-sentences", type=int, default=0, help="cut every reply after this many sentences")
    _client_security(conv)
    conv.set_defaults(func=cmd_converse)

    tr = sub.add_parser("transcribe", help="transcribe a whole file (offline task)")
    tr.add_argument("file")
    tr.add_argument("--address", default=DEFAULT_ADDRESS)
    tr.add_argument("--ask", default="", help="answer this instruction about the clip instead")
    _client_security(tr)
    tr.set_defaults(func=cmd_transcribe)

    demo = sub.add_parser("demo", help="assemble models, start everything, run an example call")
    demo.add_argument("--profile", choices=["default", "light"])
    demo.add_argument("--mode", choices=["serve", "processes"], default="serve")
    demo.add_argument("--out-dir", default="demo-out")
    demo.set_defaults(func=cmd_demo)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
