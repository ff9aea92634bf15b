"""Request size limits: 1 MiB for every body, 256 KiB for reader uploads, 64 MiB for the
game definition file; refused with 413 JSON before any endpoint work, also when the
body comes without a Content-Length (chunked)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC

import httpx
import pytest
import yaml
from fastapi import FastAPI

from api.app import GAME_FILE_LIMIT
from checkpoints.signing import SIGNATURE_HEADER, sign
from taptrail.db import utcnow
from tests.helpers import auth
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
        streamed = await client.request(method, url, content=chunks(body), headers=headers)
        assert_413(streamed, f"{url} (chunked)")


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
