"""The tap-to-screen benchmark's servers: ``taptrail serve`` processes sharing the scratch
database and Redis, as behind a load balancer, and what the run reads back from the database
and Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from processes import process_cpu

from harness.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


async def outcome_mix(db: asyncpg.Connection) -> dict[str, int]:
    rows = await db.fetch("SELECT outcome, count(*) AS n FROM taps GROUP BY outcome")
    return {str(r["outcome"] or "not scored"): int(r["n"]) for r in rows}


@dataclass
class Server:
    index: int
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        return process_cpu(self.proc.pid)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server(
    index: int, url: str, key: str, redis_url: str, log_dir: Path, periodic_jobs: bool
) -> Server:
    port = free_port()
    env = {**os.environ, "TAPTRAIL_DATABASE_URL": url, "TAPTRAIL_SECRET_KEY": key}
    env["TAPTRAIL_REDIS_URL"] = redis_url
    env["TAPTRAIL_LOG_LEVEL"] = "WARNING"
    env["TAPTRAIL_PERIODIC_JOBS"] = "true" if periodic_jobs else "false"
    log_path = log_dir / f"server-{index}-{port}.log"
    command = [sys.executable, "-m", "taptrail.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Server(index, port, proc, log_path)
