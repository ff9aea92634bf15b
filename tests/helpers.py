"""Small helpers shared by tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any


def letters(text: str) -> str:
    """``text`` with its digits written as letters: a unique nickname part from a slug that
    never looks like a phone number (nicknames refuse runs of digits)."""
    return text.translate(str.maketrans("0123456789", "ghjkmnpqrs")).replace("-", "")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Clock:
    """A server clock a test sets and moves (``app.state.clock``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@contextmanager
def server_clock(app: Any, now: datetime) -> Iterator[Clock]:
    """The app's clock reads ``now`` (until the test moves it) inside the block."""
    clock = Clock(now)
    app.state.clock = clock
    try:
        yield clock
    finally:
        app.state.clock = None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    cmd: list[str], *, cwd: Any, env: dict[str, str], log_path: Any, health_url: str, wait_s: float
) -> Any:
    """Starts a server subprocess (output to ``log_path``) and waits until ``health_url``
    answers 200; raises with the log's tail if it exits or does not come up."""
    import subprocess
    import time

    import httpx

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
