"""Request bodies: 1 MiB for every body, 256 KiB for reader uploads, 64 MiB for the game
definition file, enforced as the body streams in (a declared Content-Length over the limit
is refused at once; a chunked body is cut off with 413 when it passes the limit, never
buffered before the endpoint). A route that needs a bearer token refuses a request without
a valid one with 401 before a byte of its body is read."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import route_needs_bearer
from checkpoints.signing import SIGNATURE_HEADER, sign
from kernel.db import utcnow
from taptrail.server import GAME_FILE_LIMIT
from tests.helpers import auth
from tests.security.access_table import RULES
from tests.security.test_access import app_routes
from tests.security.world import definition

MIB = 1 << 20
READER_LIMIT = 256 * 1024


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def writes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted((m, p) for m, p in app_routes(app) if m in ("POST", "PUT", "PATCH"))


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


class CountedBody:
    """A chunked request body (no Content-Length), made as the server pulls it: ``pulled``
    counts the bytes handed over so far."""

    def __init__(self, size: int, chunk: int = MIB) -> None:
        self.size = size
        self.chunk = chunk
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        block = b" " * self.chunk
        while self.pulled < self.size:
            piece = block[: min(self.chunk, self.size - self.pulled)]
            self.pulled += len(piece)
            yield piece


SESSION_ACCESS = (
    "staff_session",
    "public_form",
    "family_session",
)  # console pages: a session cookie


def needs_token(access: str) -> bool:
    return access not in ("public", "moved", "reader_signature", *SESSION_ACCESS)


def assert_413(response: httpx.Response, where: str) -> None:
    assert response.status_code == 413, (where, response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/json"), where
    assert response.json()["error"] == "payload_too_large", where


async def test_two_mib_is_refused_by_every_write_endpoint(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str
) -> None:
    body = b'{"pad": "' + b"x" * (2 * MIB) + b'"}'
    routes = writes(app)
    assert len(routes) >= 25
    for method, path in routes:
        if (method, path) == ("PUT", "/api/v1/admin/games/{slug}"):
            continue
        url = concrete(path)
        headers = {**auth(organiser_token), "content-type": "application/json"}
        assert_413(await client.request(method, url, content=body, headers=headers), url)
        # Chunked: cut off as it streams in; an endpoint that never reads its body is
        # answered without reading any of it (nothing is buffered on its behalf).
        counted = CountedBody(2 * MIB, chunk=64 * 1024)
        streamed = await client.request(method, url, content=counted, headers=headers)
        if counted.pulled:
            assert_413(streamed, f"{url} (chunked)")
            assert counted.pulled <= MIB + 64 * 1024, (url, counted.pulled)


async def test_just_under_the_limit_passes_the_size_check(
    client: httpx.AsyncClient, organiser_token: str
) -> None:
    body = b" " * (MIB - 2) + b"{}"
    response = await client.post(
        "/api/v1/games/no-such-game-x9/registrations",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422  # parsed and validated: not refused for its size


async def test_the_game_file_may_be_large(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    text = "# " + "padding " * (3 * MIB // 8) + "\n" + yaml.safe_dump(definition(slug))
    assert len(text) > 3 * MIB
    headers = {**auth(organiser_token), "content-type": "application/yaml"}
    url = f"/api/v1/admin/games/{slug}"
    loaded = await client.put(url, content=text.encode(), headers=headers)
    assert loaded.status_code == 200, loaded.text[:300]
    streamed = await client.put(url, content=chunks(text.encode()), headers=headers)
    assert streamed.status_code == 200, streamed.text[:300]
    assert_413(await client.put(url, content=b"#" * (GAME_FILE_LIMIT + 1), headers=headers), url)
    # The game's other admin endpoints keep the ordinary limit.
    campaigns = await client.post(f"{url}/campaigns", content=b" " * (MIB + 1), headers=headers)
    assert_413(campaigns, "campaigns")


@pytest.fixture
async def town(client: httpx.AsyncClient, organiser_token: str, slug: str) -> str:
    response = await client.put(
        f"/api/v1/admin/games/{slug}", json=definition(slug), headers=auth(organiser_token)
    )
    assert response.status_code == 200, response.text
    return slug


def padded_upload(slug: str, size: int) -> tuple[bytes, dict[str, str]]:
    now = utcnow().astimezone(UTC).isoformat()
    payload = json.dumps(
        {"sent_at": now, "taps": [{"seq": 1, "card_uid": "04000000000001", "tapped_at": now}]}
    ).encode()
    raw = payload + b" " * (size - len(payload))  # JSON allows trailing whitespace
    assert len(raw) == size
    secret = f"{slug}-A-" + "s" * 32
    return raw, {"content-type": "application/json", SIGNATURE_HEADER: sign(secret, raw)}


async def test_reader_uploads_are_limited_to_256_kib(client: httpx.AsyncClient, town: str) -> None:
    url = f"/api/v1/readers/R-{town}-A/taps"
    too_big, headers = padded_upload(town, READER_LIMIT + 1)
    assert_413(await client.post(url, content=too_big, headers=headers), url)
    assert_413(await client.post(url, content=chunks(too_big), headers=headers), url)
    beat = f"/api/v1/readers/R-{town}-A/heartbeat"
    assert_413(await client.post(beat, content=too_big, headers=headers), beat)
    at_limit, headers = padded_upload(town, READER_LIMIT)
    accepted = await client.post(url, content=at_limit, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted"] == 1


# ------------------------------------------------------------------ authentication first


def token_writes() -> list[tuple[str, str]]:
    return sorted(
        key
        for key, rule in RULES.items()
        if key[0] in ("POST", "PUT", "PATCH", "DELETE") and needs_token(rule.access)
    )


def assert_401(response: httpx.Response, where: str) -> None:
    assert response.status_code == 401, (where, response.status_code, response.text[:200])
    assert response.json()["error"] == "unauthorized", where
    assert response.headers["www-authenticate"] == "Bearer", where


async def test_a_game_file_without_a_valid_token_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient, slug: str
) -> None:
    url = f"/api/v1/admin/games/{slug}"
    for headers in ({}, auth("tt_not-a-real-token"), {"Authorization": "Basic eDp5"}):
        body = CountedBody(GAME_FILE_LIMIT)
        response = await client.put(
            url, content=body, headers={**headers, "content-type": "application/yaml"}
        )
        assert_401(response, str(headers))
        assert body.pulled == 0, (headers, body.pulled)
    # Declared lengths too: nothing is read before the token is known.
    body = CountedBody(MIB // 2)
    declared = {"content-type": "application/yaml", "content-length": str(MIB // 2)}
    assert_401(await client.put(url, content=body, headers=declared), "declared")
    assert body.pulled == 0


async def test_no_route_that_needs_a_token_reads_a_body_without_one(
    client: httpx.AsyncClient,
) -> None:
    routes = token_writes()
    assert len(routes) >= 20
    for method, path in routes:
        url = concrete(path)
        for headers in ({}, auth("tt_not-a-real-token")):
            body = CountedBody(2 * MIB, chunk=64 * 1024)
            headers = {**headers, "content-type": "application/json"}
            response = await client.request(method, url, content=body, headers=headers)
            assert_401(response, f"{method} {url}")
            assert body.pulled == 0, (method, url, body.pulled)


async def test_no_console_form_reads_a_body_without_a_session(client: httpx.AsyncClient) -> None:
    routes = sorted(
        key
        for key, rule in RULES.items()
        if key[0] == "POST" and rule.access in ("staff_session", "family_session")
    )
    assert routes
    for method, path in routes:
        url = concrete(path)
        body = CountedBody(2 * MIB, chunk=64 * 1024)
        headers = {"content-type": "application/x-www-form-urlencoded"}
        response = await client.request(method, url, content=body, headers=headers)
        assert response.status_code == 303, (method, url, response.status_code)
        assert body.pulled == 0, (method, url, body.pulled)


def test_the_routes_that_need_a_token_are_found_from_their_dependencies(app: FastAPI) -> None:
    found = 0
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for method in (route.methods or set()) - {"HEAD"}:
            rule = RULES[(method, str(context.path))]
            assert route_needs_bearer(route) is needs_token(rule.access), (method, context.path)
            found += 1
    assert found >= 60


async def test_a_chunked_game_file_over_its_limit_is_cut_off_with_413(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    body = CountedBody(GAME_FILE_LIMIT + 8 * MIB)
    headers = {**auth(organiser_token), "content-type": "application/yaml"}
    response = await client.put(f"/api/v1/admin/games/{slug}", content=body, headers=headers)
    assert_413(response, "game file")
    assert body.pulled <= GAME_FILE_LIMIT + MIB
    detail = response.json()["detail"]
    assert "game definition file" in detail and str(GAME_FILE_LIMIT) in detail, detail
    assert "TAPTRAIL_MAX_GAME_FILE_BYTES" in detail, detail
