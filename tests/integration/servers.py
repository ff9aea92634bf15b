"""Real ``taptrail serve`` processes for tests that need more than one server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers import free_port, start_server

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.log_path = log_dir / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, wait_s: float = 30.0) -> None:
        cmd = [sys.executable, "-m", "taptrail.cli", "serve", "--port", str(self.port)]
        self.proc = start_server(
            cmd,
            cwd=ROOT,
            env=self.env,
            log_path=self.log_path,
            health_url=f"{self.url}/healthz",
            wait_s=wait_s,
        )

    def stop(self, sig: int = signal.SIGTERM, wait_s: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        self.proc = None
        return code
