"""A minimal in-process WebSocket client for an ASGI app (httpx has none)."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI


@dataclass
class SocketResult:
    accepted: bool
    first_message: str | None
    close_code: int | None


async def open_socket(
    app: FastAPI, path: str, headers: dict[str, str] | None = None, query: str = ""
) -> SocketResult:
    """Connects, waits for the accept and the first message (or a close), then hangs up."""
    to_app: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "http_version": "1.1",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "state": {},
    }
    await to_app.put({"type": "websocket.connect"})
    task = asyncio.create_task(app(scope, to_app.get, from_app.put))
    accepted, first, code = False, None, None
    try:
        while True:
            message = await asyncio.wait_for(from_app.get(), 10)
            if message["type"] == "websocket.accept":
                accepted = True
            elif message["type"] == "websocket.send":
                first = message.get("text") or (message.get("bytes") or b"").decode()
                break
            elif message["type"] == "websocket.close":
                code = message.get("code", 1000)
                break
            elif message["type"] == "websocket.http.response.start":
                code = message["status"]
                break
    finally:
        await to_app.put({"type": "websocket.disconnect", "code": 1000})
        try:
            await asyncio.wait_for(task, 10)
        except Exception:  # noqa: BLE001 - the app may complain about the hang-up
            task.cancel()
    return SocketResult(accepted, first, code)
