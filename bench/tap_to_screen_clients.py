"""The tap-to-screen benchmark's WebSocket clients: a separate process that opens the hall
screens' sockets, subscribed as ``api/static/board.js`` is, reads every message of the run and
records when each probe team's points first showed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tap_to_screen_town import BOARDS, PROBE_POINTS


@dataclass
class ClientRecord:
    server: int
    kind: str | None
    url: str
    arrivals: list[list[float]]  # per probe team: when count 1, 2, ... first showed
    connected: bool = False
    connected_at: float = 0.0
    messages: int = 0
    probe_messages: int = 0
    bytes: int = 0
    disconnects: int = 0
    errors: int = 0
    last_error: str = ""
    absent: int = 0  # teams-total messages without a probe team that had scored
    anomalies: int = 0  # probe points not a multiple of PROBE_POINTS, or going down
    first: asyncio.Event = field(default_factory=asyncio.Event)


def run_fast(main: Coroutine[Any, Any, Any]) -> Any:
    """Runs ``main`` on uvloop when it is installed: the clients and the uploader stand in
    for screens and boxes with CPUs of their own, so they take as little of this one as
    they can."""
    runner: Callable[[Coroutine[Any, Any, Any]], Any] = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    return runner(main)


def clients_process(conn: Connection, config: dict[str, Any]) -> None:
    """Entry point of the clients' process."""
    run_fast(_clients_main(conn, config))


async def _clients_main(conn: Connection, config: dict[str, Any]) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    probe_index = {f"PRB{i}": i for i in range(config["probe_teams"])}
    compression = None if config["no_deflate"] else "deflate"
    records: list[ClientRecord] = []
    urls: list[str] = config["urls"]
    for j in range(config["clients"]):
        server = j % len(urls)
        school = (j // len(urls)) % 100 < round(config["school_share"] * 100)
        kind = "school" if school else None
        url = f"{urls[server]}?boards={BOARDS}" + (f"&kind={kind}" if kind else "")
        records.append(ClientRecord(server, kind, url, [[] for _ in probe_index]))

    def on_message(rec: ClientRecord, message: str | bytes, now: float) -> None:
        rec.messages += 1
        rec.bytes += len(message)
        text = message.decode() if isinstance(message, bytes) else message
        if '"teams-total"' not in text:
            return
        data = json.loads(text)
        if data.get("board") != "teams-total":
            return
        rec.probe_messages += 1
        seen = set()
        for entry in data["entries"]:
            i = probe_index.get(entry["team"])
            if i is None:
                continue
            seen.add(i)
            n, rest = divmod(int(entry["points"]), PROBE_POINTS)
            arrivals = rec.arrivals[i]
            if rest or n < len(arrivals):
                rec.anomalies += 1
            while len(arrivals) < n:
                arrivals.append(now)
        rec.absent += sum(1 for i, a in enumerate(rec.arrivals) if a and i not in seen)

    gate = asyncio.Semaphore(config["connect_concurrency"])

    async def client(rec: ClientRecord) -> None:
        first = True
        while True:
            try:
                # The first connections are opened a few at a time, like screens coming on.
                async with gate if first else contextlib.nullcontext():
                    ws = await connect(
                        rec.url,
                        compression=compression,
                        proxy=None,
                        open_timeout=60,
                        ping_interval=None,  # browsers do not ping; the server does
                        max_size=None,
                    )
            except Exception as exc:  # refused, timed out, rejected: count it and retry
                rec.errors += 1
                rec.last_error = f"{type(exc).__name__}: {exc}"[:200]
                first = False
                rec.first.set()
                await asyncio.sleep(1.0)
                continue
            if not rec.connected:
                rec.connected, rec.connected_at = True, time.monotonic()
            first = False
            rec.first.set()
            try:
                async with ws:
                    async for message in ws:
                        on_message(rec, message, time.monotonic())
            except ConnectionClosed as exc:
                rec.last_error = f"closed: {exc}"[:200]
            rec.disconnects += 1
            await asyncio.sleep(1.0)

    lags: list[float] = []

    async def lag_monitor() -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.05)
            lags.append(time.monotonic() - t - 0.05)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_command() -> None:
        while conn.poll():
            if conn.recv() == "stop":
                stop.set()

    loop.add_reader(conn.fileno(), on_command)
    started = time.monotonic()
    tasks = [asyncio.create_task(client(rec)) for rec in records]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(*(rec.first.wait() for rec in records)), config["connect_timeout"]
        )
    connected = sum(rec.connected for rec in records)
    conn.send(("ready", connected, time.monotonic() - started))
    monitor = asyncio.create_task(lag_monitor())
    await stop.wait()
    stopped = time.monotonic()
    for task in [*tasks, monitor]:
        task.cancel()
    await asyncio.gather(*tasks, monitor, return_exceptions=True)
    result = {
        "clients": [
            {
                "server": rec.server,
                "kind": rec.kind,
                "arrivals": rec.arrivals,
                "connected": rec.connected,
                "connected_at": rec.connected_at,
                "messages": rec.messages,
                "probe_messages": rec.probe_messages,
                "bytes": rec.bytes,
                "disconnects": rec.disconnects,
                "errors": rec.errors,
                "last_error": rec.last_error,
                "absent": rec.absent,
                "anomalies": rec.anomalies,
            }
            for rec in records
        ],
        "stopped": stopped,
        "lags": lags,
    }
    # A file, not the pipe: a large message cut short by a dying process would leave the
    # parent blocked in recv().
    path = Path(config["result_path"])
    path.with_suffix(".tmp").write_text(json.dumps(result))
    path.with_suffix(".tmp").replace(path)
    conn.send(("result", str(path)))


async def receive(conn: Connection, proc: Any, wait_s: float) -> Any:
    """The next (small) message from the clients' process, which must stay alive."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(conn.poll, 0.5):
            try:
                return conn.recv()
            except EOFError:
                break
        if not proc.is_alive():
            break
    if proc.is_alive():
        raise SystemExit("the clients' process did not answer in time")
    raise SystemExit(f"the clients' process died (exit code {proc.exitcode})")
