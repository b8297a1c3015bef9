"""Pipecat as a baseline: drives `bench/systems/pipecat_runner.py` in its own
virtualenv (`.venv-pipecat`, made by `bench/systems/pipecat_env.sh`; Pipecat's
pins clash with ours), against a llama.cpp OpenAI-compatible server on the
profile's LLM. Scenarios cross over as .npz files; outcomes come back as JSON.
"""
from __future__ import annotations

import json
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

from bench.outcome import Outcome, ReplyTurn
from bench.process_stats import ProcessStats
from bench.scenarios import Scenario, export
from soundloop.models import REPO_ROOT, model_path
from soundloop.settings import load_settings

VENV_PYTHON = REPO_ROOT / ".venv-pipecat" / "bin" / "python"
RUNNER = REPO_ROOT / "bench" / "systems" / "pipecat_runner.py"
SETUP = REPO_ROOT / "bench" / "systems" / "pipecat_env.sh"


def available() -> str | None:
    """None when Pipecat can run, else why not."""
    if not VENV_PYTHON.exists():
        return f"{VENV_PYTHON} missing: run bash {SETUP.relative_to(REPO_ROOT)}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(port: int, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError("llama_cpp.server did not open its port")


def run_all(profile: str, scenarios: list[Scenario], log_dir: pathlib.Path) -> tuple[list[Outcome], dict, dict]:
    """Returns (outcomes, resources, runner facts such as the Pipecat version and turn detection)."""
    settings = load_settings(profile=profile).resolved()
    port = _free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, open(log_dir / f"llama-server-{profile}.log", "w") as server_log, \
            open(log_dir / f"pipecat-{profile}.log", "w") as runner_log:
        server = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path(settings.llm.model, "model.gguf")),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads",
             str(settings.llm.threads)], stdout=server_log, stderr=subprocess.STDOUT)
        try:
            _wait_http(port, server)
            folder, out = pathlib.Path(tmp) / "scenarios", pathlib.Path(tmp) / "outcomes.json"
            export(scenarios, folder)
            runner = subprocess.Popen([str(VENV_PYTHON), str(RUNNER), "--scenarios", str(folder), "--out", str(out),
                                       "--profile", profile, "--llm-url", f"http://127.0.0.1:{port}/v1"],
                                      stdout=runner_log, stderr=subprocess.STDOUT)
            stats = ProcessStats({"pipecat": runner.pid, "llama_server": server.pid})
            stats.start()
            peak = stats.sample_until_exit(runner)
            if runner.returncode != 0:
                raise RuntimeError(f"pipecat runner exited with {runner.returncode}; see {runner_log.name}")
            data = json.loads(out.read_text())
        finally:
            server.terminate()
            server.wait(timeout=30)
    outcomes = [_outcome(o) for o in data["outcomes"]]
    facts = {k: v for k, v in data.items() if k != "outcomes"}
    return outcomes, peak, facts


def _outcome(raw: dict) -> Outcome:
    raw_turns = raw.get("turns", [])
    stages = raw.get("stages", []) + [{}] * len(raw_turns)  # Pipecat's metrics may miss a turn
    turns = [ReplyTurn(t["first_audio_s"], t["last_audio_s"], text=t.get("text", ""),
                       interrupted=bool(t.get("interrupted")), stages=stage)
             for t, stage in zip(raw_turns, stages[:len(raw_turns)], strict=True)]
    return Outcome(raw["id"], "pipecat", error=raw.get("error"), unsupported=raw.get("unsupported"),
                   transcripts=raw.get("transcripts", []), turns=turns, overlay_at=raw.get("overlay_at"),
                   call_s=raw.get("call_s", 0.0))
