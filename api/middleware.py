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
    """Refuses bodies over a limit with 413 JSON, before or while the endpoint reads them.

    ``limits`` are ``(path, limit)`` pairs: a string is a path prefix, a compiled pattern
    must match the whole path; the first that matches applies (strings are tried longest
    first, after the patterns), else the default.

    A body without a Content-Length (chunked) is counted as it arrives: once over the
    limit, the 413 is sent at once and whatever the endpoint makes of the cut-off body
    (FastAPI turns a failed read into a 400) is dropped.
    """

    def __init__(
        self, app: ASGIApp, *, default: int, limits: Sequence[tuple[str | re.Pattern[str], int]]
    ) -> None:
        self.app = app
        self.default = default
        patterns = [(p, n) for p, n in limits if isinstance(p, re.Pattern)]
        prefixes = [(p, n) for p, n in limits if isinstance(p, str)]
        self.patterns = patterns
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
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_large = {
            "error": "payload_too_large",
            "detail": f"the request body is over the limit of {limit} bytes",
        }
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_json(send, 413, too_large)
            return
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
                return  # the 413 has been sent
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
        request_id = headers.get(b"x-request-id", b"").decode()[:64] or uuid.uuid4().hex
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
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                path = route_template(scope)
                self.on_done(scope.get("method", ""), path, status, time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")
