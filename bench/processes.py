"""The benchmarks' server processes: stopping them, and who used the machine's CPUs during
a run (Linux /proc)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path


def stop_processes(procs: Iterable[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every process still running, then wait (30 s, then SIGKILL)."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc), 0.0 if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class BackendCpu:
    """CPU of the PostgreSQL backends serving one database, and of ``redis-server``.

    Backends come and go (a pool's overflow connections), so ``sample`` runs every half
    second and keeps each process's first and last figure: a backend that lived less than
    half a second between two samples is missed."""

    def __init__(self, database: str) -> None:
        self.pattern = f" {database} ".encode()
        self.first: dict[int, tuple[str, float]] = {}
        self.last: dict[int, float] = {}
        self.started = False

    def sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                head, rest = (proc / "stat").read_text().rsplit(")", 1)
                name = head.split("(", 1)[1]
                if name == "postgres" and self.pattern not in (proc / "cmdline").read_bytes():
                    continue
                if name not in ("postgres", "redis-server"):
                    continue
                fields = rest.split()
                seconds = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                continue
            pid = int(proc.name)
            # Alive at the first sample: count from there; born later: from zero.
            self.first.setdefault(pid, (name, seconds if not self.started else 0.0))
            self.last[pid] = seconds
        self.started = True

    def totals(self) -> dict[str, float]:
        out = {"postgres": 0.0, "redis-server": 0.0}
        for pid, (name, first) in self.first.items():
            out[name] += self.last[pid] - first
        return out

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            self.sample()
            await asyncio.sleep(0.5)
        self.sample()


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick
