"""Every route of the real app against every kind of caller (table in access_table.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import WebSocketRoute

from tests.security.access_calls import Call
from tests.security.access_table import ALLOWED, REDIRECTED, RULES, expected
from tests.security.asgi_ws import open_socket
from tests.security.world import PRINCIPALS, World, build_world

UNKNOWN = "no-such-game-x9"


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route, WebSockets as "WS"; HEAD goes with GET."""
    found = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, WebSocketRoute):
            found.add(("WS", str(route.path)))
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, str(route.path)))
    return found


@pytest.fixture(scope="module")
async def world(app: FastAPI) -> AsyncIterator[World]:
    yield await build_world(app)


async def test_every_route_has_an_access_rule(app: FastAPI) -> None:
    routes = app_routes(app)
    missing = sorted(routes - set(RULES))
    stale = sorted(set(RULES) - routes)
    assert not missing, (
        f"routes without an access rule in tests/security/access_table.py: {missing}"
    )
    assert not stale, f"access rules for routes that no longer exist: {stale}"
    # The enumeration sees everything the OpenAPI document describes.
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert documented <= routes


def test_the_table_covers_every_kind_of_rule() -> None:
    assert {rule.access for rule in RULES.values()} == set(ALLOWED)


async def _send(world: World, call: Call, principal: str) -> tuple[int, str]:
    headers = {**world.headers(principal), **call.headers}
    if call.method == "WS":
        result = await open_socket(world.app, call.url, headers)
        if result.accepted and result.first_message is not None:
            return 200, result.first_message
        return result.close_code or 0, ""
    async with world.client() as client:
        response = await client.request(
            call.method,
            call.url,
            json=call.json,
            content=call.content,
            params=call.params,
            headers=headers,
        )
    return response.status_code, response.text[:300]


@pytest.mark.parametrize("key", sorted(RULES), ids=lambda k: f"{k[0]} {k[1]}")
async def test_access(world: World, key: tuple[str, str]) -> None:
    rule = RULES[key]
    wrong = []
    for principal in PRINCIPALS:
        call = await rule.call(world, principal)
        status, text = await _send(world, call, principal)
        want = expected(rule.access, principal)
        ok = 200 <= status < 300 if want is None else status == want
        if not ok:
            wrong.append(f"{principal}: got {status}, expected {want or '2xx'}: {text}")
    assert not wrong, f"{rule.access} {key}:\n" + "\n".join(wrong)


def _probe_principal(access: str) -> str:
    allowed = ALLOWED[access]
    if not allowed:  # the same answer for every caller (a page that moved)
        return "anonymous"
    return "organiser" if "organiser" in allowed else sorted(allowed)[0]


@pytest.mark.parametrize(
    "key",
    sorted(
        k
        for k, r in RULES.items()
        if "{slug}" in k[1]
        and r.access != "reader_signature"
        and r.access not in REDIRECTED  # console pages: sign-in first (tests/staff check 404)
        and k != ("PUT", "/api/v1/admin/games/{slug}")  # creates the game
    ),
    ids=lambda k: f"{k[0]} {k[1]}",
)
async def test_unknown_game_is_404_and_only_after_authentication(
    world: World, key: tuple[str, str]
) -> None:
    rule = RULES[key]
    principal = _probe_principal(rule.access)
    call = await rule.call(world, principal)
    call.url = call.url.replace(world.slug, UNKNOWN)
    status, text = await _send(world, call, principal)
    assert status == (4404 if call.method == "WS" else 404), text
    if rule.access not in ("public", "moved"):
        anonymous, text = await _send(world, call, "anonymous")
        assert anonymous == 401, text
