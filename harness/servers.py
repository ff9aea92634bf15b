"""Servers for tests and benchmarks: a free port, an app served in the test's own event
loop (``serving``), a server subprocess that is waited for
until it answers, the app served by uvicorn for a test's browser (``app_server``), and real
``taptrail serve`` processes (``ServerProcess``) for tests that need more than one server."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: Any, **config: Any) -> AsyncIterator[str]:
    """``app`` served by uvicorn in this event loop on a free loopback port (``config``:
    more ``uvicorn.Config`` settings); yields ``host:port`` once it listens, and stops the
    server on the way out."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        if not server.started:
            raise RuntimeError(f"uvicorn did not start on port {port} within 10 s")
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def start_server(
    cmd: list[str], *, cwd: Any, env: dict[str, str], log_path: Any, health_url: str, wait_s: float
) -> Any:
    """Starts a server subprocess (output to ``log_path``) and waits until ``health_url``
    answers 200; raises with the log's tail if it exits or does not come up."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
        try:
            if httpx.get(health_url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    proc.wait(5)
    raise RuntimeError(f"server did not start: {log_path.read_text()[-3000:]}")


def app_env(**settings: str) -> dict[str, str]:
    """This process's environment without its ``TAPTRAIL_`` settings, with ``settings``
    (``database_url="..."`` becomes ``TAPTRAIL_DATABASE_URL``) and this checkout on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TAPTRAIL_")}
    env |= {f"TAPTRAIL_{key.upper()}": value for key, value in settings.items()}
    env["PYTHONPATH"] = str(ROOT)
    return env


@contextmanager
def app_server(env: dict[str, str], log_path: Path, wait_s: float = 30.0) -> Iterator[str]:
    """The app (``taptrail.server:create_app`` under uvicorn) on a free port with ``env``;
    yields its URL once it answers, and stops it afterwards."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "taptrail.server:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    proc = start_server(
        cmd, cwd=ROOT, env=env, log_path=log_path, health_url=f"{url}/healthz", wait_s=wait_s
    )
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def wait_ready(
    base: str,
    proc: subprocess.Popen[bytes] | Any,
    *,
    name: str = "server",
    log_tail: Callable[[], str] | None = None,
    attempts: int = 600,
) -> None:
    """For a benchmark: waits (0.1 s a try) until ``base``/healthz answers 200; exits the
    benchmark saying so, with ``log_tail()`` when given, if the process ends or never
    answers."""
    tail = (lambda: ":\n" + log_tail()) if log_tail is not None else (lambda: "")
    async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
        for _ in range(attempts):
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited during start-up{tail()}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{name} did not start{tail()}")


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
