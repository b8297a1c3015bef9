"""A stage server as its own process (`python -m services.<stage>.server`, light profile),
for the tests that check the one-command entry point: ready line, serving, clean SIGTERM."""
from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
from collections.abc import AsyncIterator

from soundloop.models import REPO_ROOT


class StageProcess:
    def __init__(self, stage: str, proc: asyncio.subprocess.Process):
        self.stage = stage
        self.proc = proc
        self.log = ""  # everything it logged up to its ready line
        self.port = 0

    async def wait_ready(self, timeout_s: float = 60) -> None:
        while not (ready := re.search(rf"{self.stage} ready on port (\d+)", self.log)):
            line = await asyncio.wait_for(self.proc.stderr.readline(), timeout_s)
            assert line, f"{self.stage} server exited before it was ready:\n{self.log}"
            self.log += line.decode()
        self.port = int(ready.group(1))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> str:
        """SIGTERM; asserts a clean exit and returns what it logged while stopping."""
        self.proc.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(self.proc.stderr.read(), 20)).decode()
        assert await asyncio.wait_for(self.proc.wait(), 15) == 0, rest
        assert f"{self.stage} stopping" in rest and f"{self.stage} stopped" in rest, rest
        return rest


@contextlib.asynccontextmanager
async def stage_server(stage: str) -> AsyncIterator[StageProcess]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"services.{stage}.server", "--host", "127.0.0.1", "--port", "0",
        "--profile", "light", cwd=REPO_ROOT, stderr=asyncio.subprocess.PIPE)
    server = StageProcess(stage, proc)
    try:
        await server.wait_ready()
        yield server
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
