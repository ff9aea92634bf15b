"""SIGTERM: in-flight uploads finish and are stored, live sockets are closed cleanly."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from checkpoints.signing import sign
from harness.servers import ROOT, ServerProcess
from tests.integration.live_town import live_game, load


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServerProcess, str, Path]]:
    db = tmp_path / "shutdown.db"
    env = {
        "TAPTRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "TAPTRAIL_SECRET_KEY_FILE": str(tmp_path / "key"),
        "TAPTRAIL_PERIODIC_JOBS": "false",
    }
    proc = ServerProcess(env, tmp_path)
    proc.start()
    token = (
        subprocess.run(
            [sys.executable, "-m", "taptrail.cli", "token", "create", "--role", "organiser"],
            cwd=ROOT,
            env=proc.env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    yield proc, token, db
    proc.stop()


async def test_sigterm_finishes_uploads_and_closes_sockets(
    server: tuple[ServerProcess, str, Path],
) -> None:
    proc, token, db = server
    data = live_game("shutdown-town")
    reader = data["readers"][0]
    start = datetime.now(UTC) - timedelta(hours=2)
    bodies = []
    for batch in range(6):
        taps = [
            {
                "seq": batch * 500 + i + 1,
                "card_uid": f"04{(i % 10) + 1:012X}",
                "tapped_at": (start + timedelta(seconds=batch * 500 + i)).isoformat(),
            }
            for i in range(500)
        ]
        bodies.append(
            json.dumps({"sent_at": datetime.now(UTC).isoformat(), "boot": 0, "taps": taps}).encode()
        )
    async with httpx.AsyncClient(base_url=proc.url, timeout=60) as client:
        await load(client, token, data)
        async with connect(f"{proc.ws_url}/api/v1/games/shutdown-town/live") as socket:
            await asyncio.wait_for(socket.recv(), 10)
            # The client offered permessage-deflate; `taptrail serve` declines it by default
            # (TAPTRAIL_WS_COMPRESSION), so one board update is not compressed per socket.
            assert socket.response is not None
            extensions = socket.response.headers.get("Sec-WebSocket-Extensions") or ""
            assert "permessage-deflate" not in extensions

            async def upload(body: bytes) -> int:
                response = await client.post(
                    f"/api/v1/readers/{reader['id']}/taps",
                    content=body,
                    headers={
                        "X-Reader-Signature": sign(reader["secret"], body),
                        "content-type": "application/json",
                    },
                )
                return response.status_code

            uploads = [asyncio.create_task(upload(b)) for b in bodies]
            await asyncio.sleep(0.05)  # the uploads are in flight
            assert proc.proc is not None
            proc.proc.terminate()
            statuses = await asyncio.gather(*uploads, return_exceptions=True)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(socket.recv(), 20)
            assert closed.value.rcvd is not None  # a close frame, not a dropped connection
            assert closed.value.rcvd.code in (1001, 1012)
    # uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM.
    assert proc.proc.wait(30) in (0, -15)
    answered = [s for s in statuses if isinstance(s, int)]
    assert answered and all(s == 200 for s in answered), statuses
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM taps").fetchone()[0]
        unscored = conn.execute("SELECT COUNT(*) FROM taps WHERE outcome IS NULL").fetchone()[0]
    # Every acknowledged batch is stored whole and scored; nothing half-stored.
    assert stored == 500 * len(answered)
    assert unscored == 0
