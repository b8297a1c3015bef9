"""Does a unary Serve call the gateway gives up on stop the replica's work? On a real local Ray cluster:

    python docs/benchmarks/2026-12-04-recognition-cancel/serve_cancel_check.py

A replica method that sleeps 20 s counts its starts and cancellations. First the task awaiting a plain
DeploymentResponse is cancelled (what the gateway's Serve client did before 2794964), then the task
awaiting `ServeStageClients.transcribe_utterance` (which now calls `response.cancel()`).
"""
from __future__ import annotations

import asyncio

import ray
from ray import serve

from services.gateway.stage_clients import ServeStageClients
from soundloop.encoder.v1 import encoder_pb2


@serve.deployment
class Slow:
    def __init__(self):
        self.started, self.cancelled = 0, 0

    async def transcribe_utterance(self, req, trace=None):
        self.started += 1
        try:
            await asyncio.sleep(20)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return encoder_pb2.TranscribeUtteranceResponse(text="late")

    async def counts(self) -> tuple[int, int]:
        return self.started, self.cancelled


async def cancel_after(call, seconds: float = 1.0) -> str:
    task = asyncio.create_task(call)
    await asyncio.sleep(seconds)
    task.cancel()
    try:
        await task
    except BaseException as err:  # what the caller sees is what is printed
        return type(err).__name__
    return "finished"


async def main() -> None:
    handle = serve.run(Slow.bind(), name="cancel-check")
    request = encoder_pb2.TranscribeUtteranceRequest()

    async def plain():
        return await handle.transcribe_utterance.remote(request)
    print("plain await, task cancelled ->", await cancel_after(plain()))
    await asyncio.sleep(1.5)
    print("  replica (started, cancelled):", await handle.counts.remote())
    stages = ServeStageClients(encoder=handle, llm=None, decider=None, tts=None)
    print("ServeStageClients, task cancelled ->", await cancel_after(stages.transcribe_utterance(request)))
    await asyncio.sleep(1.5)
    print("  replica (started, cancelled):", await handle.counts.remote())


if __name__ == "__main__":
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        asyncio.run(main())
    finally:
        serve.shutdown()
        ray.shutdown()
