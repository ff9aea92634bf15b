"""ASGI middleware: request ids in the log context, and request size limits."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("taptrail.http")


class BodyTooLarge(Exception):
    pass


async def _send_json(send: Send, status: int, body: Mapping[str, object]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class SizeLimitMiddleware:
    """Refuses bodies over a limit with 413 JSON, before the endpoint runs.

    ``limits`` are ``(path, limit)`` pairs: a string is a path prefix, a compiled pattern
    must match the whole path; patterns are tried first, then prefixes longest first, else
    the default applies.

    A declared Content-Length over the limit is refused at once; a body longer than it
    declared is cut off with 413 as it arrives. A body without a Content-Length (chunked)
    is read whole, up to the limit, before the endpoint runs: every endpoint is limited,
    also those that never read their body.
    """

    def __init__(
        self, app: ASGIApp, *, default: int, limits: Sequence[tuple[str | re.Pattern[str], int]]
    ) -> None:
        self.app = app
        self.default = default
        self.patterns = [(p, n) for p, n in limits if isinstance(p, re.Pattern)]
        prefixes = [(p, n) for p, n in limits if isinstance(p, str)]
        self.prefixes = sorted(prefixes, key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.patterns:
            if pattern.fullmatch(path):
                return limit
        for prefix, limit in self.prefixes:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        too_large = {
            "error": "payload_too_large",
            "detail": f"the request body is over the limit of {limit} bytes",
        }
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit():
            if int(length) > limit:
                await _send_json(send, 413, too_large)
                return
            await self._streamed(scope, receive, send, limit, too_large)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_json(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)

    async def _streamed(
        self, scope: Scope, receive: Receive, send: Send, limit: int, too_large: dict[str, str]
    ) -> None:
        received = 0
        started = False
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started and not rejected:
                        rejected = True
                        await _send_json(send, 413, too_large)
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 has been sent; drop what the endpoint made of the cut body
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not rejected:
                raise


def route_template(scope: Scope) -> str:
    """The matched route as a template (``/api/v1/games/{slug}``), for low-cardinality
    metric labels: path parameter values are put back as their names."""
    if scope.get("route") is None:
        return "unmatched"
    params = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    parts = scope["path"].split("/")
    return "/".join(f"{{{params[p]}}}" if p in params else p for p in parts)


_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def request_id_from(header: bytes | None) -> str:
    """The caller's X-Request-ID if it is a plain token (it goes into every log line and
    back in the answer), else a new one: never undecodable bytes or control characters."""
    if header is not None and _REQUEST_ID.fullmatch(header):
        return header.decode("ascii")
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Binds a request id (from X-Request-ID or new) to every log line of the request."""

    def __init__(self, app: ASGIApp, *, on_done: Callable[[str, str, int, float], None]) -> None:
        self.app = app
        self.on_done = on_done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = request_id_from(headers.get(b"x-request-id"))
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            # A socket's messages need no header: its sends skip the wrapper (a live board
            # sends a message to every screen for each update).
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            if scope["type"] == "http":
                path = route_template(scope)
                self.on_done(scope.get("method", ""), path, status, time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")
