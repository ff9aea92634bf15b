"""Request bodies: a bearer token checked before any body is read, and every route's size
limit enforced while the body streams in.

Contract of :class:`BodyGuard` (an ASGI middleware, HTTP only):

* **Limits.** ``limits`` are ``(path, BodyLimit)`` pairs: a string is a path prefix, a
  compiled pattern must match the whole path; patterns are tried first, then prefixes
  longest first, else ``default`` applies. A declared Content-Length over the limit is
  refused with 413 at once, before anything else. Otherwise the body is handed to the
  endpoint as it arrives, through a receive that counts it: the chunk that passes the limit
  (declared length or not, chunked or not) ends the request with 413, and whatever the
  endpoint then makes of the cut body is dropped. Nothing is buffered here, so an endpoint
  that never reads its body never has it read at all.
* **Token first.** When a request may carry a body (a Content-Length above 0, or a
  Transfer-Encoding), the first time anything asks for its body, and so after the router
  has chosen the route (``scope["route"]``) but before a byte is read, ``needs_token(scope)``
  says whether that route needs a bearer token and if so ``check_token(scope)`` checks it;
  a refusal (its sentence) is answered 401 with ``WWW-Authenticate: Bearer`` and the body
  is never read. Asking the router's own choice, not a copy of its rules, means no route can
  be missed. Requests without a body, and endpoints that never read theirs, are left to the
  endpoint's own authentication.

Every refusal is ``{"error": code, "detail": sentence}`` JSON. Any answer given before the
body was read to its end carries ``Connection: close``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """The largest body a route accepts, and how a refusal names it."""

    size: int
    what: str = "the request body"
    setting: str | None = None  # the environment variable that sets it, if any

    def refusal(self) -> dict[str, str]:
        detail = f"{self.what} is over its limit of {self.size} bytes ({_human(self.size)})"
        if self.setting:
            detail += f", set by {self.setting}"
        return {"error": "payload_too_large", "detail": detail}


def _human(size: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


class BodyRefused(Exception):
    """Raised to the endpoint reading a body that was refused (413 or 401 already sent)."""


async def send_json(
    send: Send,
    status: int,
    body: Mapping[str, object],
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


# A body not read to its end (refused, or the endpoint answered without it): the connection
# is closed after the answer, so the client stops sending and the server does not go on
# receiving the rest only to throw it away.
CLOSE = (b"connection", b"close")


def _may_have_body(headers: Mapping[bytes, bytes]) -> bool:
    length = headers.get(b"content-length")
    if length is not None:
        return length.strip() not in (b"0", b"")
    return b"transfer-encoding" in headers


class BodyGuard:
    """See the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: BodyLimit,
        limits: Sequence[tuple[str | re.Pattern[str], BodyLimit]],
        needs_token: Callable[[Scope], bool],
        check_token: Callable[[Scope], Awaitable[str | None]],
    ) -> None:
        self.app = app
        self.default = default
        self.patterns = [(p, n) for p, n in limits if isinstance(p, re.Pattern)]
        prefixes = [(p, n) for p, n in limits if isinstance(p, str)]
        self.prefixes = sorted(prefixes, key=lambda item: -len(item[0]))
        self.needs_token = needs_token
        self.check_token = check_token

    def limit_for(self, path: str) -> BodyLimit:
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
        if length is not None and length.isdigit() and int(length) > limit.size:
            await send_json(send, 413, limit.refusal(), [CLOSE])
            return
        await self._streamed(scope, receive, send, limit, _may_have_body(headers))

    async def _streamed(
        self, scope: Scope, receive: Receive, send: Send, limit: BodyLimit, has_body: bool
    ) -> None:
        received = 0
        started = False
        rejected = False
        unchecked = has_body
        unread = has_body

        async def refuse(status: int, body: dict[str, str], *headers: tuple[bytes, bytes]) -> None:
            nonlocal rejected
            if not started and not rejected:
                rejected = True
                await send_json(send, status, body, [*headers, CLOSE])
            raise BodyRefused

        async def limited_receive() -> Message:
            nonlocal received, unchecked, unread
            if unchecked:
                unchecked = False
                if self.needs_token(scope):
                    refused = await self.check_token(scope)
                    if refused is not None:
                        unauthorized = {"error": "unauthorized", "detail": refused}
                        await refuse(401, unauthorized, (b"www-authenticate", b"Bearer"))
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.size:
                    await refuse(413, limit.refusal())
                if not message.get("more_body", False):
                    unread = False
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # refused and answered: drop what the endpoint made of it
            if message["type"] == "http.response.start":
                started = True
                if unread:  # answered without reading the body (a 401 or 404 of its own)
                    message["headers"] = [*message.get("headers", []), CLOSE]
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not rejected:
                raise
