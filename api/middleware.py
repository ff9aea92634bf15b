"""ASGI middleware: request ids in the log context, and headers on every answer (request
bodies are guarded in ``api.body_guard``)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("taptrail.http")


class SecurityHeadersMiddleware:
    """Adds ``X-Content-Type-Options: nosniff`` to every HTTP answer (JSON, pages, assets,
    errors, refusals from other middleware): a browser must take each answer as the type it
    says, never guess a script or a page from its bytes. Meant to be the outermost layer,
    so that the server's own 500 answer carries it too."""

    HEADERS = ((b"x-content-type-options", b"nosniff"),)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


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


class CompressStatic:
    """gzip (``GZipMiddleware``) for the static files (stylesheets, scripts, the map
    library) and the web-app manifest, when the browser accepts it: they are most of what a
    page transfers. Pages themselves are left as they are: they carry a CSRF token beside
    text a visitor typed, and compressing both together would let a third party guess the
    token from the sizes (BREACH)."""

    PREFIXES = ("/static/", "/manifest.webmanifest")

    def __init__(self, app: ASGIApp, minimum_size: int = 500) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.PREFIXES):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
