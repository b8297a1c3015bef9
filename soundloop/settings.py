"""Settings of every soundloop process, overridable by environment variables.

One model for local runs, standalone stage servers, Ray Serve and Kubernetes:
`SOUNDLOOP_PROFILE=light`, `SOUNDLOOP_LLM__BACKEND=openai`, ... (nested fields
use a double underscore). Profiles pick the models; explicit fields win.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Profile = Literal["default", "light"]


class EncoderSettings(BaseModel):
    # Assembled model folder name (soundloop.models); empty: chosen by the profile.
    # English is recognized by `asr_model`; other languages by `asr_multilingual_model`
    # (a Whisper), when `asr_model` is English-only ("": other languages are refused).
    asr_model: str = ""
    asr_multilingual_model: str = ""
    # 0: by engine. Moonshine on 1 thread was as fast as on 2 (a 2.5 s utterance: ~0.2 s
    # either way) and leaves a core to the LLM; Whisper's fixed 30 s pass wants both.
    asr_threads: int = 0
    asr_beam_size: int = 1
    # VAD hysteresis: speech starts after `vad_start_ms` above `vad_threshold`,
    # ends after `vad_end_ms` below `vad_threshold - 0.15`.
    vad_threshold: float = 0.5
    vad_start_ms: int = 64
    vad_end_ms: int = 160
    # Sound tagging: one YAMNet window (0.96 s) every `sound_hop_ms`.
    sound_hop_ms: int = 480
    sound_report_threshold: float = 0.2


    @property
    def english_only(self) -> bool:
        """True when no engine of the encoder hears languages other than English."""
        return english_only_model(self.asr_model) and (
            not self.asr_multilingual_model or english_only_model(self.asr_multilingual_model))


def english_only_model(name: str) -> bool:
    return name.endswith(".en") or name.startswith("moonshine")


class LlmSettings(BaseModel):
    backend: Literal["llama_cpp", "openai"] = "llama_cpp"
    model: str = ""  # assembled GGUF folder for llama_cpp; empty: chosen by the profile
    context_tokens: int = 4096
    # 0: by profile. A 135M model decodes faster on one thread than on two here
    # (thread wake-ups cost more than the matmuls); a 1.5B model wants both cores.
    threads: int = 0
    # Added to the niceness of the thread that runs the model (and of the compute threads it starts), so
    # that under contention the other stages' short jobs (the final recognition, the first phrase's
    # synthesis) go first. 5: default profile's first reply audio 1747 -> 1555 ms p50 in process mode,
    # light unchanged; 10 gained nothing. Under Ray Serve it was slower (1561 -> 1754 ms, four pairs), so the Serve
    # configs set 0 (docs/benchmarks/2026-12-04-llm-priority/). Only ever raised (lowering needs
    # privileges); Linux caps it at 19.
    nice: int = Field(default=5, ge=0, le=19)
    max_tokens: int = 160
    temperature: float = 0.3
    # OpenAI-compatible endpoint (vLLM, Ray Serve LLM, llama_cpp.server).
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = "default"
    openai_api_key: str = "none"


class DeciderSettings(BaseModel):
    # GGUF model scoring end-of-turn probability of a transcript.
    eot_model: str = "smollm2-135m"
    # How the end of a caller's turn is told when the session does not say (TurnDetection.model):
    # "learned" (services/decider/turn_model.py) or "rules" (silences and the LM's score). Learned on
    # both profiles, as measured with both arms in one invocation per profile
    # (docs/benchmarks/2026-12-05-corrected-labels): pause takeover light 0.14 vs 0.42, default
    # 0.08 vs 0.12 (two runs), turn-taking success as good or better, the same decision p50 and a
    # lower p95. The rules answer one- to three-word turns sooner ("Yes.": ~0.5 s, the learned model
    # waits for max_silence): sessions of yes/no flows ask for them.
    turn_model: Literal["rules", "learned"] = "learned"


class TtsSettings(BaseModel):
    engine: Literal["", "piper", "espeak-ng", "flite"] = ""  # empty: chosen by the profile
    voice: str = ""


class StageAddresses(BaseModel):
    """Where the gateway finds the stages when they run as standalone gRPC servers."""
    encoder: str = "127.0.0.1:50061"
    llm: str = "127.0.0.1:50062"
    decider: str = "127.0.0.1:50063"
    tts: str = "127.0.0.1:50064"


class GatewaySettings(BaseModel):
    host: str = "0.0.0.0"
    port: int = 50051
    # Caller audio is batched into chunks of this length before it crosses to a stage.
    chunk_ms: int = 100
    # Partial transcripts once a turn has gone on this long, and as often after (0: none;
    # unset: by the ASR engine). Each re-recognizes the whole turn so far: Moonshine's cost grows with the
    # audio (~0.1 s for 2.5 s), so every second; Whisper's is ~0.7-1.1 s whatever the length,
    # and one still running when the caller stops delays the final transcript: every 3 s.
    partial_transcript_ms: int | None = None
    # Start recognition once the caller has been quiet this long, before the VAD
    # confirms the end of speech (0: wait for the VAD). Wasted if the caller goes on.
    early_recognition_ms: int = 64
    # Generate the reply as soon as the caller is quiet and recognized, before the decider
    # calls the turn finished; held until it does, dropped if the caller goes on.
    speculative_reply: bool = True
    max_sessions: int = 64
    # Caller audio a session may queue ahead of its stages; beyond it the stream reader waits
    # (gRPC flow control then slows the caller) rather than buffering more or dropping audio.
    inbox_audio_ms: int = 10000
    # Reply audio is paced at real time with this much lead over the caller's playback.
    playback_lead_ms: int = 200
    # The reply's first words go to TTS at a phrase boundary this long after the LLM's first token at
    # the latest, even if the first clause is not complete (soundloop/clauses.py, cut_early; 0: off).
    # A 1.5B model on 2 cores writes ~12 tokens a second, so six words wait ~0.6 s otherwise.
    first_clause_budget_ms: int = Field(default=300, ge=0)
    # A caller that does not read for this long is cut off.
    send_timeout_s: float = 10.0
    # Per-chunk stage calls (AnalyzeChunk, Decide): an attempt without an answer this long is given up
    # and sent again, as is one that finds the stage unreachable, until the stage has been away
    # for stage_outage_s; then the call ends UNAVAILABLE (services/gateway/stage_retry.py).
    stage_attempt_timeout_s: float = Field(default=2.0, gt=0)
    # 30 s: a killed Serve replica was replaced (noticed, models loaded) in 10-18 s on 2 cores; the
    # caller's audio waits in the bounded inbox meanwhile, then gRPC flow control holds the caller.
    stage_outage_s: float = Field(default=30.0, gt=0)
    # One recognition of an utterance gets no longer than this (the caller is told if it fails).
    recognition_timeout_s: float = Field(default=15.0, gt=0)
    # A caller may send audio this far ahead of real time (a burst after a network hiccup); beyond
    # it the stream is read at real-time pace, so gRPC flow control paces the sender and one fast
    # caller cannot take the stages from the others.
    max_ahead_s: float = Field(default=5.0, gt=0)
    # Typed messages queued for the conversation; more are refused (an error event) until it catches up.
    max_pending_texts: int = Field(default=16, gt=0)
    # The longest clip Transcribe and AnswerAboutClip take (they share the encoder with live calls).
    max_clip_s: float = Field(default=600.0, gt=0)
    default_instructions: str = (
        "You are a helpful voice assistant on a phone call. Answer in one or two short spoken "
        "sentences, without lists or markdown.")


class SecuritySettings(BaseModel):
    """Who may call the public API and over what (services/gateway/access.py, transport.py).

    A gateway starts only with TLS files or `plaintext`, and only with a tenants file or `anonymous`:
    an open door is always asked for, never a default."""
    # JSON file of tenants and the SHA-256 hashes of their API keys (the keys themselves are never
    # stored); callers send `authorization: Bearer <key>`. Reread when the file changes.
    tenants_file: str = ""
    # PEM files. With a client CA, callers must also present a certificate it signed (mTLS).
    # Reread when they change (checked at most every few seconds, on new connections).
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    # Without TLS: local development, tests, or a mesh sidecar that terminates TLS.
    plaintext: bool = False
    # Without API keys: every caller is the tenant "local". Local development and tests only.
    anonymous: bool = False
    # gRPC server reflection on the public port (lets grpcurl list the API); off in production.
    reflection: bool = True


class SessionSettings(BaseModel):
    ttl_s: int = 3600  # a session (and its resume token) lives this long after its last write
    # ... and this long once the caller ended it (end of input): time to fetch a replay, no resume needed.
    ended_ttl_s: int = Field(default=300, gt=0)
    event_log_max: int = 5000  # events kept per session for replay, reply audio apart
    audio_log_max: int = 300  # reply audio events kept for replay: the last ~30 s of replies
    # Per Redis command: a Redis that stopped answering is noticed this soon.
    redis_timeout_s: float = Field(default=0.5, gt=0)
    # How long a live call rides out an unreachable Redis (its progress kept in memory and
    # written once Redis answers) before it ends UNAVAILABLE, resumable once Redis is back.
    store_outage_s: float = Field(default=10.0, gt=0)
    # Caller audio between two progress writes while nothing else happens (services/gateway/progress.py):
    # what a gateway that dies without stopping may lose of the turn in progress. 0: every 100 ms chunk.
    progress_every_ms: int = Field(default=500, ge=0, le=5000)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOUNDLOOP_", env_nested_delimiter="__")

    profile: Profile = "default"
    # Empty: `soundloop serve` starts a local redis-server.
    redis_url: str = ""
    encoder: EncoderSettings = Field(default_factory=EncoderSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    decider: DeciderSettings = Field(default_factory=DeciderSettings)
    tts: TtsSettings = Field(default_factory=TtsSettings)
    stages: StageAddresses = Field(default_factory=StageAddresses)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    session: SessionSettings = Field(default_factory=SessionSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    # Prometheus /metrics of this process on this port (0: none). soundloop/metrics.py.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # Log lines as JSON or text ("": text at a terminal, else JSON). Read by soundloop/logs.py from
    # SOUNDLOOP_LOG_FORMAT itself, since logging starts before the settings load.
    log_format: Literal["json", "text", ""] = ""

    def resolved(self) -> Settings:
        """A copy with the profile's model choices filled in where fields are empty."""
        light = self.profile == "light"
        out = self.model_copy(deep=True)
        out.encoder.asr_model = out.encoder.asr_model or ("moonshine-tiny" if light else "moonshine-base")
        moonshine = out.encoder.asr_model.startswith("moonshine")
        if not light and not self.encoder.asr_model and not out.encoder.asr_multilingual_model:
            out.encoder.asr_multilingual_model = "whisper-base"  # languages other than English
        out.encoder.asr_threads = out.encoder.asr_threads or (1 if moonshine else 2)
        if out.gateway.partial_transcript_ms is None:
            out.gateway.partial_transcript_ms = 1000 if moonshine else 3000
        out.llm.model = out.llm.model or ("smollm2-135m" if light else "qwen2.5-coder-1.5b")
        out.llm.threads = out.llm.threads or (1 if light else 2)
        out.tts.engine = out.tts.engine or ("espeak-ng" if light else "piper")
        return out


# What `soundloop serve --insecure`, the demo and the tests set, explicitly: a gateway anyone on this
# machine may call, without TLS or API keys, listening on loopback only.
LOCAL_DEVELOPMENT_ENV = {"SOUNDLOOP_SECURITY__PLAINTEXT": "true", "SOUNDLOOP_SECURITY__ANONYMOUS": "true",
                         "SOUNDLOOP_GATEWAY__HOST": "127.0.0.1"}


def load_settings(**overrides) -> Settings:
    return Settings(**overrides).resolved()
