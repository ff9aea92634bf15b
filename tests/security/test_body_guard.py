"""The body guard on its own (a bare ASGI endpoint behind it): a chunked body reaches the
endpoint as it arrives, the limit is enforced while it streams, and a route that needs a
token is refused before its body is read."""

from __future__ import annotations

from typing import Any

from starlette.types import Message, Receive, Scope, Send

from api.body_guard import BodyGuard, BodyLimit

CHUNK = 100


class Body:
    """``chunks`` chunks of CHUNK bytes without a Content-Length; counts what was pulled."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def receive(self) -> Message:
        self.pulled += 1
        return {
            "type": "http.request",
            "body": b"x" * CHUNK,
            "more_body": self.pulled < self.chunks,
        }


def scope(path: str = "/x", **headers: str) -> Scope:
    raw = [(b"transfer-encoding", b"chunked")]
    raw += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": "POST", "path": path, "root_path": "", "headers": raw}


class Answers:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


def reading_endpoint(seen: list[int], body: Body) -> Any:
    """Reads its body to the end, noting how much had been pulled at its first message."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        seen.append(body.pulled)
        while message.get("more_body"):
            message = await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return endpoint


async def no_token(scope: Scope) -> str | None:
    raise AssertionError("the token is checked only for routes that need one")


def guard(endpoint: Any, limit: int, *, needs: bool = False, check: Any = no_token) -> BodyGuard:
    return BodyGuard(
        endpoint,
        default=BodyLimit(limit),
        limits=[],
        needs_token=lambda scope: needs,
        check_token=check,
    )


async def test_a_chunked_body_streams_into_the_endpoint() -> None:
    body, seen, answers = Body(10), list[int](), Answers()
    await guard(reading_endpoint(seen, body), 10 * CHUNK)(scope(), body.receive, answers.send)
    assert seen == [1]  # the endpoint had the first chunk before the rest was read
    assert answers.status == 200 and body.pulled == 10


async def test_the_limit_is_enforced_while_the_body_streams() -> None:
    body, seen, answers = Body(1000), list[int](), Answers()
    await guard(reading_endpoint(seen, body), 5 * CHUNK)(scope(), body.receive, answers.send)
    assert answers.status == 413
    assert b"payload_too_large" in answers.body
    assert body.pulled == 6  # cut off at the first chunk over the limit
    assert len(answers.messages) == 2  # the endpoint's own answer was dropped


async def test_a_route_that_needs_a_token_is_refused_before_its_body_is_read() -> None:
    body, seen, answers = Body(1000), list[int](), Answers()

    async def refuse(scope: Scope) -> str | None:
        return "a bearer token is required"

    app = guard(reading_endpoint(seen, body), 10**9, needs=True, check=refuse)
    await app(scope(), body.receive, answers.send)
    assert answers.status == 401
    assert body.pulled == 0 and seen == []
    headers = dict(answers.messages[0]["headers"])
    assert headers[b"www-authenticate"] == b"Bearer"
    assert headers[b"connection"] == b"close"  # the client is told to stop sending


async def test_a_valid_token_lets_the_body_through() -> None:
    body, seen, answers = Body(3), list[int](), Answers()
    checked: list[Scope] = []

    async def accept(scope: Scope) -> str | None:
        checked.append(scope)
        return None

    app = guard(reading_endpoint(seen, body), 10**9, needs=True, check=accept)
    await app(scope(authorization="Bearer t"), body.receive, answers.send)
    assert answers.status == 200 and len(checked) == 1 and seen == [1]


async def test_an_answer_before_the_body_is_read_closes_the_connection() -> None:
    body, answers = Body(1000), Answers()

    async def refuses_itself(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await guard(refuses_itself, 10**9)(scope(), body.receive, answers.send)
    assert answers.status == 404 and body.pulled == 0
    assert (b"connection", b"close") in answers.messages[0]["headers"]
    # an endpoint that read its body keeps the connection
    body, seen, answers = Body(3), list[int](), Answers()
    await guard(reading_endpoint(seen, body), 10**9)(scope(), body.receive, answers.send)
    assert answers.status == 200 and b"connection" not in dict(answers.messages[0]["headers"])


async def test_a_request_without_a_body_is_not_checked_here() -> None:
    answers = Answers()

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    plain = {"type": "http", "method": "GET", "path": "/x", "root_path": "", "headers": []}
    await guard(endpoint, 10, needs=True)(plain, Body(0).receive, answers.send)
    assert answers.status == 204  # the endpoint's own authentication answers
