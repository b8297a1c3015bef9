"""CPU seconds and peak RSS of named processes, read from /proc (Linux)."""
from __future__ import annotations

import os
import subprocess
import time

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
        self._last: dict[str, tuple[float, float]] = {}

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}

    def _sample(self) -> None:
        for name, pid in self._pids.items():
            try:
                cpu, rss = cpu_seconds(pid), peak_rss_mb(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue  # exited: keep its last sample
            # A zombie still has /proc/<pid>/stat but no memory figures: keep the highest seen.
            previous = self._last.get(name, (0.0, 0.0))
            self._last[name] = (max(cpu, previous[0]), max(rss, previous[1]))

    def stop(self) -> dict:
        self._sample()
        cpu = {name: round(self._last[name][0] - self._start[name], 2) for name in self._pids}
        rss = {name: round(self._last[name][1], 1) for name in self._pids}
        return {"cpu_s": cpu, "cpu_s_total": round(sum(cpu.values()), 2),
                "peak_rss_mb": rss, "peak_rss_mb_total": round(sum(rss.values()), 1)}

    def sample_until_exit(self, proc: subprocess.Popen, interval_s: float = 0.5) -> dict:
        """For a child that exits on its own: /proc forgets it then, so sample while it runs."""
        while proc.poll() is None:
            self._sample()
            time.sleep(interval_s)
        return self.stop()
