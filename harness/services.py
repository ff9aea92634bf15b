"""Private Redis and PostgreSQL instances that a test may stop, cut and restart.

The PostgreSQL and Redis on 127.0.0.1:5432/6379 are shared with other people's test runs:
fault tests never touch them. Instead each fault test gets its own ``redis-server``
(no persistence, so a restart comes back empty, as a lost Redis would) and its own
PostgreSQL cluster (``initdb`` into a temporary directory, run as the ``postgres`` OS user
when we are root, since PostgreSQL refuses to run as root). ``bench/soak.py`` uses the
same classes.

Both are plain context managers: whatever happens, ``close()`` kills the server and
removes its files.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import asyncpg

from harness.servers import free_port


class ServiceUnavailable(RuntimeError):
    """The binaries needed to run a private instance are not on this machine."""


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """``redis-server`` on a free port of 127.0.0.1; ``stop()`` then ``start()`` keeps the
    port and comes back with no data (``--save "" --appendonly no``)."""

    def __init__(self, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceUnavailable("redis-server is not installed")
        self.binary = binary
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="taptrail-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, wait_s: float = 15.0) -> None:
        if self.proc is not None:
            return
        log = (self.dir / "redis.log").open("ab")
        cmd = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"redis-server exited: {self.log_tail()}")
            if self._ping():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start: {self.log_tail()}")

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGKILL: Redis is gone at once, as when its machine dies."""
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None
        deadline = time.monotonic() + 5
        while _listening(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1

    def log_tail(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _pg_bindir() -> Path:
    override = os.environ.get("TAPTRAIL_PG_BINDIR")
    candidates = [override] if override else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if directory and (Path(directory) / "initdb").exists():
            return Path(directory)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ServiceUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port, trust authentication, no fsync.

    ``stop()``/``start()`` cut and restore it; ``restart()`` is ``pg_ctl restart -m fast``
    (every connection is terminated, transactions in flight roll back).
    """

    def __init__(self, port: int | None = None) -> None:
        self.bindir = _pg_bindir()
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="taptrail-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.running = False
        self.restarts = 0
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise ServiceUnavailable("running as root and there is no postgres user") from None
            os.chown(self.dir, account.pw_uid, account.pw_gid)
            runuser = shutil.which("runuser")
            self._prefix = [runuser, "-u", "postgres", "--"] if runuser else []
            if not self._prefix:
                raise ServiceUnavailable("running as root and runuser is missing")
        self._run(
            [str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"],
            timeout=120,
        )

    def _run(self, cmd: list[str], timeout: float = 60) -> None:
        done = subprocess.run(
            self._prefix + cmd, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")

    @property
    def server_url(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT`` (asyncpg style, no database)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database of this cluster."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        cmd = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w"]
        self._run([*cmd, "-t", "60", *extra, "-o", options, action], timeout=90)

    def start(self) -> None:
        if not self.running:
            self._ctl("start")
            self.running = True

    def stop(self, mode: str = "fast") -> None:
        """``fast``: connections are terminated and roll back; ``immediate``: a crash."""
        if self.running:
            self._ctl("stop", "-m", mode)
            self.running = False

    def restart(self, mode: str = "fast") -> None:
        self._ctl("restart", "-m", mode)
        self.running = True
        self.restarts += 1

    async def create_database(self, name: str) -> str:
        conn = await asyncpg.connect(f"{self.server_url}/postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.running or (self.data / "postmaster.pid").exists():
                self.running = True
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
