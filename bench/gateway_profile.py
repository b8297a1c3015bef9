"""Where the gateway's own CPU goes: cProfile of a gateway in this process while callers in another process
stream to it, on real light-profile stages.

    python -m bench.gateway_profile [--callers 2] [--seconds 20] [--top 25] [--out bench-out/gateway.prof]

The callers stream silence in 20 ms frames (bench.orchestration_cost's silence workload): every frame
read, every 100 ms chunk analysed, decided and saved, no speech or reply, so the profile is the floor
every live call pays. cProfile slows Python code down and does not see gRPC's C threads; read the
shares, not the seconds. Prints the gateway's functions by cumulative time and saves the profile.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import sys
import tempfile
import time
from cProfile import Profile

from soundloop.local_redis import free_port, local_redis_server
from soundloop.local_stack import local_stack
from soundloop.settings import load_settings

CALLERS = """
import asyncio, sys
from bench.orchestration_cost import silent_calls
async def main(address, callers, seconds):
    started = __import__("time").monotonic()
    await asyncio.gather(*(silent_calls(address, i, started, started + seconds, []) for i in range(callers)))
asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
"""


async def _profile(callers: int, seconds: float, out: str) -> None:
    from services.gateway.server import start_gateway
    from services.gateway.stage_clients import GrpcStageClients

    settings = load_settings(profile="light")
    address = f"127.0.0.1:{free_port()}"
    gateway = await start_gateway(settings, GrpcStageClients(settings.stages), address)
    try:
        client = await asyncio.create_subprocess_exec(sys.executable, "-c", CALLERS, address, str(callers),
                                                      str(seconds))
        profile, cpu, wall = Profile(), time.process_time(), time.monotonic()
        profile.enable()
        await client.wait()
        profile.disable()
        print(f"gateway process CPU {time.process_time() - cpu:.2f} s over {time.monotonic() - wall:.1f} s "
              f"({callers} callers; gRPC's own threads included)")
        profile.dump_stats(out)
    finally:
        await gateway.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", default="bench-out/gateway.prof")
    args = parser.parse_args(argv)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with local_redis_server() as url, tempfile.TemporaryDirectory() as logs, \
            local_stack("light", url, log_dir=logs) as stack:
        # The gateway here uses the stack's stages and Redis, as the stack's own gateway does.
        os.environ["SOUNDLOOP_REDIS_URL"] = url
        for stage, stage_address in stack.stage_addresses.items():
            os.environ[f"SOUNDLOOP_STAGES__{stage.upper()}"] = stage_address
        asyncio.run(_profile(args.callers, args.seconds, args.out))
    stats = pstats.Stats(args.out)
    stats.sort_stats("cumulative").print_stats(r"services/gateway", args.top)


if __name__ == "__main__":
    main()
