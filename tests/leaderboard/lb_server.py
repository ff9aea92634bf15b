"""Run the test app (tests/leaderboard/lb_app.py) in a real uvicorn server subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.servers import free_port, start_server

ROOT = Path(__file__).resolve().parents[2]


class LiveServer:
    """One server process; ``restart()`` keeps the port so clients can reconnect to it."""

    def __init__(self, env: dict[str, str] | None = None, log_dir: Path | None = None) -> None:
        self.port = free_port()
        self.env = {**os.environ, **(env or {})}
        self.log_path = (log_dir or Path("/tmp")) / f"lb-server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, wait_s: float = 20.0) -> None:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.leaderboard.lb_app:create_live_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        self.proc = start_server(
            cmd,
            cwd=ROOT,
            env=self.env,
            log_path=self.log_path,
            health_url=f"{self.url}/_test/health",
            wait_s=wait_s,
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
