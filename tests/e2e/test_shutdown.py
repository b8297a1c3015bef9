"""`soundloop serve` stops everything it started on SIGTERM (docker stop, Kubernetes) and on Ctrl-C
(SIGINT to the terminal's whole process group), in both modes: it exits 0, and the process table
holds nothing of its session afterwards (Redis, Ray's GCS, raylet and agents, Serve replicas, stage
servers). Ray's own SIGTERM handler used to abort
the Serve mode with a stack dump and leave half of that running."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from soundloop.local_redis import free_port

pytestmark = [pytest.mark.e2e]


@contextlib.contextmanager
def _interruptible_children():
    """Children start with SIGINT's default action, as a terminal's foreground job does. A test run started
    in the background of a non-interactive shell ignores SIGINT, every child inherits that across exec,
    and `soundloop serve` then rightly ignores Ctrl-C too (found when CI was launched with `&`)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a handler is not inherited; SIG_IGN is
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _session_processes(sid: int) -> list[str]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,sid=,comm="], capture_output=True, text=True, check=True).stdout
    return [line.split(None, 2)[2] for line in out.splitlines() if int(line.split()[1]) == sid]


@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"])
@pytest.mark.parametrize("mode", [pytest.param("serve", marks=pytest.mark.serve), "processes"])
def test_stopping_soundloop_serve_stops_every_process_it_started(mode, how):
    env = {**os.environ, "SOUNDLOOP_PROFILE": "light"}
    # Its own session: every process it starts (and theirs) can be found by session id afterwards.
    command = [sys.executable, "-m", "soundloop.cli", "serve", "--mode", mode, "--port", str(free_port())]
    with _interruptible_children():
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    output = []
    try:
        for line in proc.stdout:
            output.append(line)
            if "ready:" in line:
                break
        else:
            pytest.fail("soundloop serve exited before it was ready:\n" + "".join(output[-40:]))
        started = _session_processes(proc.pid)
        assert "redis-server" in started and len(started) >= 6, started

        if how == "sigterm":
            proc.send_signal(signal.SIGTERM)
        else:  # what a terminal does on Ctrl-C: SIGINT to every process of the foreground group
            os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=90)
        output.append(rest)
        assert proc.returncode == 0, "".join(output[-40:])
        assert "SIGTERM received" not in rest and "Traceback" not in rest, rest[-3000:]  # a clean exit
        deadline = time.monotonic() + 15
        while (left := _session_processes(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert left == [], left
    finally:
        if proc.poll() is None:
            proc.kill()
        subprocess.run(["pkill", "-9", "-s", str(proc.pid)], check=False)
