"""Regression tests for what the fuzzing (test_schemathesis.py) and the security review
found; each would fail without its fix."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from api.errors import ERROR_SCHEMA
from tests.helpers import auth
from tests.security.access_table import RULES
from tests.security.world import definition, nickname


def _is_error_body(body: object) -> bool:
    if not isinstance(body, dict) or not {"error", "detail"} <= set(body):
        return False
    if not set(body) <= {"error", "detail", "fields"}:
        return False
    fields = body.get("fields", [])
    return isinstance(fields, list) and all(set(f) == {"field", "message"} for f in fields)


async def test_validation_errors_are_documented_as_they_are_sent(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The document described 422 answers with FastAPI's {"detail": [...]} shape."""
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["HTTPValidationError"] == ERROR_SCHEMA
    answer = await client.get("/api/v1/games/x/leaderboards/teams", params={"limit": "many"})
    assert answer.status_code == 422
    assert _is_error_body(answer.json())
    assert answer.json()["fields"] == [
        {
            "field": "limit",
            "message": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]


async def test_a_body_that_is_not_utf8_is_a_422(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    """FastAPI answered 400 "There was an error parsing the body", documented nowhere."""
    for url in (f"/api/v1/games/{slug}/registrations", "/api/v1/app/checkins"):
        answer = await client.post(
            url,
            content=b'{"nickname": "\xff\xfe"}',
            headers={**auth(organiser_token), "content-type": "application/json"},
        )
        assert answer.status_code == 422, (url, answer.text)
        assert answer.json()["error"] == "validation_error"
        assert answer.json()["fields"] == [
            {"field": "body", "message": "not valid JSON: the body must be UTF-8 text"}
        ]


async def test_malformed_json_names_the_body(client: httpx.AsyncClient, slug: str) -> None:
    answer = await client.post(
        f"/api/v1/games/{slug}/registrations",
        content=b'{"nickname": ',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422
    [field] = answer.json()["fields"]
    assert field["field"] == "body"
    assert field["message"].startswith("not valid JSON: ")


async def test_nul_characters_are_refused_not_a_server_error(
    client: httpx.AsyncClient, organiser_token: str, slug: str, backend: str
) -> None:
    """PostgreSQL refuses NUL in text: the fuzzer's {"checkpoint": "\\u0000"} to a reader
    move was a 500 (sqlalchemy DataError, invalid byte sequence for encoding "UTF8")."""
    loaded = await client.put(
        f"/api/v1/admin/games/{slug}", json=definition(slug), headers=auth(organiser_token)
    )
    assert loaded.status_code == 200
    move = await client.post(
        f"/api/v1/admin/games/{slug}/readers/R-{slug}-C/move",
        json={"checkpoint": "A\u0000"},
        headers=auth(organiser_token),
    )
    in_path = await client.get(f"/api/v1/games/{slug}%00x/teams")
    registration = await client.post(
        f"/api/v1/games/{slug}/registrations",
        json={
            "nickname": nickname(),
            "age_band": "25-44",
            "gender": "male",
            "email": "nul\u0000@example.org",
        },
    )
    for answer in (move, in_path, registration):
        assert answer.status_code < 500, answer.text
        assert _is_error_body(answer.json()) or answer.status_code == 201
    if backend == "postgres":
        for answer in (move, in_path, registration):
            assert answer.status_code == 422
            assert "NUL" in answer.json()["detail"]


async def test_odd_request_ids_are_replaced_not_a_server_error(client: httpx.AsyncClient) -> None:
    """A non-UTF-8 X-Request-ID was an unhandled UnicodeDecodeError (500); control
    characters went into every log line of the request."""
    for raw in (b"\xff\xfe", b"id\x1b[31mred", b"x" * 65, b"two words"):
        answer = await client.get("/api/v1/games", headers={b"x-request-id": raw})
        assert answer.status_code == 200
        assert answer.headers["x-request-id"] != raw.decode("latin-1")
        assert len(answer.headers["x-request-id"]) == 32
    plain = await client.get("/api/v1/games", headers={"x-request-id": "lb-7f3a:42"})
    assert plain.headers["x-request-id"] == "lb-7f3a:42"


async def test_every_protected_operation_documents_its_errors(app: FastAPI) -> None:
    """Undocumented 404s (no such game) and 401/403s were answered by several operations."""
    missing = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            access = RULES[(method.upper(), path)].access
            wanted = {"404"} if "{slug}" in path else set()
            if access not in ("public", "reader_signature"):
                wanted |= {"401", "403"}
            if (method, path) == ("put", "/api/v1/admin/games/{slug}"):
                wanted.discard("404")  # creates the game
            if wanted - codes:
                missing.append(f"{method.upper()} {path}: {sorted(wanted - codes)}")
    assert not missing
