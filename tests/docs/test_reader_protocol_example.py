"""The worked example of docs/reader-protocol.md, checked byte for byte (both backends).

The page's secret, body, signature header and answers are read from the page itself: the
signature is recomputed from the exact body bytes, and the requests are sent to a server
whose clock reads the documented receive time, so the answers must equal the page's.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI

from api.deps import server_now
from checkpoints.signing import SIGNATURE_HEADER, sign
from harness.game_files import game_file
from tests.helpers import auth

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reader-protocol.md"


def block(name: str) -> str:
    """The fenced block that follows ``<!-- example:NAME -->`` in the page."""
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(rf"<!-- example:{name} -->\s*```[a-z]*\n(.*?)\n```", text, re.S)
    assert match, f"docs/reader-protocol.md has no example block {name!r}"
    return match.group(1)


def test_the_signature_is_the_hmac_of_the_exact_body() -> None:
    secret, body = block("secret"), block("body").encode("utf-8")
    header = block("signature")
    assert header == f"{SIGNATURE_HEADER}: {sign(secret, body)}"


def test_the_body_is_one_line_of_the_documented_json() -> None:
    body = block("body")
    assert "\n" not in body
    parsed = json.loads(body)
    assert parsed["boot"] == 7 and len(parsed["taps"]) == 3


@pytest.fixture
def receive_time(app: FastAPI) -> object:
    moment = datetime.fromisoformat(block("receive-time").replace("Z", "+00:00"))
    app.dependency_overrides[server_now] = lambda: moment.astimezone(UTC)
    yield moment
    app.dependency_overrides.pop(server_now, None)


async def test_the_documented_answers(
    client: httpx.AsyncClient, organiser_token: str, slug: str, receive_time: object
) -> None:
    secret, body = block("secret"), block("body").encode("utf-8")
    reader = block("reader-id")
    data = game_file(slug)
    data["readers"] = [{"id": reader, "checkpoint": "A", "secret": secret}]
    data["cards"].append({"number": "0001234", "uid": "04A1B2C3D4E5F6", "activation_code": "K7Q2"})
    loaded = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(data, sort_keys=False),
        headers={**auth(organiser_token), "content-type": "application/yaml"},
    )
    assert loaded.status_code == 200, loaded.text
    name, value = block("signature").split(": ", 1)
    headers = {"content-type": "application/json", name: value}
    path = f"/api/v1/readers/{reader}/taps"

    first = await client.post(path, content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == json.loads(block("answer"))

    again = await client.post(path, content=body, headers=headers)
    assert again.json() == json.loads(block("answer-again"))

    tampered = body.replace(b'"boot":7', b'"boot":8')
    refused = await client.post(path, content=tampered, headers=headers)
    assert refused.status_code == 401
