"""CPU seconds and peak RSS of named processes, read from /proc (Linux)."""
from __future__ import annotations

import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its reaped children so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class ProcessStats:
    def __init__(self, pids: dict[str, int]):
        self._pids = pids
        self._start: dict[str, float] = {}

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}

    def stop(self) -> dict:
        cpu = {name: round(cpu_seconds(pid) - self._start[name], 2) for name, pid in self._pids.items()}
        rss = {name: round(peak_rss_mb(pid), 1) for name, pid in self._pids.items()}
        return {"cpu_s": cpu, "cpu_s_total": round(sum(cpu.values()), 2),
                "peak_rss_mb": rss, "peak_rss_mb_total": round(sum(rss.values()), 1)}
