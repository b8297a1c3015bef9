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


def _status_mb(pid: int, field: str) -> float:
    """A memory field of /proc/<pid>/status (kB there) in MB; 0 if absent (a zombie)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM")


def rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS")


class ProcessStats:
    def __init__(self, pids: dict[str, int]):
        self._pids = pids
        self._start: dict[str, float] = {}
        self._last: dict[str, tuple[float, float]] = {}

    def start(self) -> None:
        self._start = {}
        for name, pid in self._pids.items():
            try:
                self._start[name] = cpu_seconds(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue  # already gone: not counted
        self._sample()

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
        names = [name for name in self._pids if name in self._last and name in self._start]
        cpu = {name: round(self._last[name][0] - self._start[name], 2) for name in names}
        rss = {name: round(self._last[name][1], 1) for name in names}
        return {"cpu_s": cpu, "cpu_s_total": round(sum(cpu.values()), 2),
                "peak_rss_mb": rss, "peak_rss_mb_total": round(sum(rss.values()), 1)}

    def sample_until_exit(self, proc: subprocess.Popen, interval_s: float = 0.5) -> dict:
        """For a child that exits on its own: /proc forgets it then, so sample while it runs."""
        while proc.poll() is None:
            self._sample()
            time.sleep(interval_s)
        return self.stop()


# ---------------------------------------------------------------------------- Ray's processes and niceness

def _stat_fields(pid: int | str) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()  # from field 3 (state) on; the name may hold spaces


def nice_of(pid: int) -> int:
    return int(_stat_fields(pid)[16])


def _cmdline(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]


SERVE_REPLICA_PREFIX = "ray::ServeReplica:"


def _program(args: list[str]) -> str:
    return os.path.basename(args[0].split()[0]) if args and args[0].split() else ""


def process_name(args: list[str]) -> str:
    """A readable name from a command line: Ray's actors and workers retitle themselves `ray::<Class>`
    (a Serve replica `ray::ServeReplica:<app>:<Deployment>`: its deployment's name); a Python script its
    file's stem; anything else its program's name."""
    if not args:
        return "?"
    if args[0].startswith("ray::"):
        title = args[0].split()[0]
        return title.rsplit(":", 1)[-1] if title.startswith(SERVE_REPLICA_PREFIX) else title[len("ray::"):]
    program = _program(args)
    if program.startswith("python"):
        script = next((a for a in args[1:] if a.endswith(".py")), None)
        if script:
            return os.path.splitext(os.path.basename(script))[0]
        if len(args) > 2 and args[1] == "-m":
            return args[2]
    return program


def descendants(root: int, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """Every live process below `root`, by name (`process_name`; repeated names get #2, #3...), leaving out
    subtrees whose program name is in `skip`."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(int(_stat_fields(entry)[1]), []).append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    out: dict[str, int] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop(0)
        try:
            args = _cmdline(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        if args and _program(args) in skip:
            continue
        name, n = process_name(args), 1
        while (name if n == 1 else f"{name}#{n}") in out:
            n += 1
        out[name if n == 1 else f"{name}#{n}"] = pid
        todo += children.get(pid, [])
    return out


def is_serve_replica(pid: int) -> bool:
    try:
        args = _cmdline(pid)
    except (FileNotFoundError, ProcessLookupError):
        return False
    return bool(args) and args[0].startswith(SERVE_REPLICA_PREFIX)


def serve_replica_nice(pids) -> int | None:
    """The niceness Ray gave the Serve replicas among `pids` (its worker_niceness); None if none is a replica."""
    return max((nice_of(pid) for pid in pids if is_serve_replica(pid)), default=None)


def match_niceness(nice: int | None) -> int:
    """Raises this process (every thread) to `nice` if that is higher, so a benchmark client has no priority
    the Serve replicas lack; returns this process's niceness after."""
    own = nice_of(os.getpid())
    if nice is not None and nice > own:
        renice_threads(os.getpid(), nice)
        own = nice
    return own


def renice_threads(pid: int, nice: int) -> None:
    """Sets every thread of `pid` to `nice`. On Linux niceness is per thread and a new thread takes its
    creator's, so this reaches threads started later too. Raising it needs no privilege; lowering does."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.setpriority(os.PRIO_PROCESS, int(tid), nice)
        except ProcessLookupError:
            continue  # the thread ended meanwhile
