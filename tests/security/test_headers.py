"""Response headers: ``X-Content-Type-Options: nosniff`` on every kind of answer, the pages'
Content-Security-Policy (``connect-src`` only the page's own origin), and the report page
never takes a token in its address."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI

from api.app_state import state_of
from kernel.settings import Settings
from taptrail.server import create_app
from tests.helpers import auth
from tests.security.world import definition


@pytest.fixture
async def town(client: httpx.AsyncClient, organiser_token: str, slug: str) -> str:
    response = await client.put(
        f"/api/v1/admin/games/{slug}", json=definition(slug), headers=auth(organiser_token)
    )
    assert response.status_code == 200, response.text
    return slug


def assert_nosniff(response: httpx.Response, what: str) -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", (
        what,
        response.status_code,
        dict(response.headers),
    )


async def test_every_kind_of_answer_says_nosniff(
    client: httpx.AsyncClient, organiser_token: str, town: str
) -> None:
    big = b" " * ((1 << 20) + 1)
    answers = {
        "json": await client.get("/api/v1/games"),
        "json of a game": await client.get(f"/api/v1/games/{town}"),
        "board page": await client.get(f"/games/{town}/board"),
        "map page": await client.get(f"/games/{town}/boxes"),
        "report page": await client.get(f"/games/{town}/report"),
        "missing page": await client.get("/games/no-such-game-x9/board"),
        "script": await client.get("/static/leaderboard/board.js"),
        "style": await client.get("/static/leaderboard/board.css"),
        "report script": await client.get("/static/evaluation/report.js"),
        "missing asset": await client.get("/static/leaderboard/nothing.js"),
        "docs": await client.get("/docs"),
        "openapi": await client.get("/openapi.json"),
        "metrics": await client.get("/metrics"),
        "health": await client.get("/healthz"),
        "404 error": await client.get("/api/v1/games/no-such-game-x9"),
        "unrouted": await client.get("/no/such/route"),
        "401 from the endpoint": await client.get(f"/api/v1/admin/games/{town}/boxes"),
        "401 before the body": await client.put(f"/api/v1/admin/games/{town}", content=b"x"),
        "413": await client.post(
            f"/api/v1/games/{town}/registrations",
            content=big,
            headers={"content-type": "application/json"},
        ),
        "422": await client.post(f"/api/v1/games/{town}/registrations", json={}),
        "organiser json": await client.get(
            f"/api/v1/admin/games/{town}/boxes", headers=auth(organiser_token)
        ),
    }
    statuses = {what: r.status_code for what, r in answers.items()}
    assert statuses["401 before the body"] == 401 and statuses["413"] == 413, statuses
    assert statuses["organiser json"] == 200 and statuses["unrouted"] == 404, statuses
    for what, response in answers.items():
        assert_nosniff(response, what)


async def test_a_server_error_says_nosniff_too(settings: Settings) -> None:
    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.get("/boom")
    assert response.status_code == 500
    assert_nosniff(response, "500")


def directives(policy: str) -> dict[str, str]:
    out = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        out[name] = value.strip()
    return out


async def test_pages_connect_only_to_their_own_origin(
    client: httpx.AsyncClient, app: FastAPI, town: str
) -> None:
    settings = state_of(app).settings
    settings.map_tiles_url = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    try:
        pages = [f"/games/{town}/{page}" for page in ("board", "boxes", "report")]
        for url in pages:
            response = await client.get(url)
            assert response.status_code == 200, url
            policy = directives(response.headers["content-security-policy"])
            assert policy["connect-src"] == "'self'", (url, policy)
            assert policy["default-src"] == "'none'", (url, policy)
    finally:
        settings.map_tiles_url = None


class Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.inputs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.forms.append(dict(attrs))
        elif tag == "input":
            self.inputs.append(dict(attrs))


async def test_the_report_page_never_puts_a_token_in_an_address(
    client: httpx.AsyncClient, town: str
) -> None:
    response = await client.get(f"/games/{town}/report")
    page = Forms()
    page.feed(response.text)
    # Submitted without its script (or before it loads), the form must not send the token
    # in the address: a POST, and the token field has no name (it is never submitted).
    assert page.forms and all((f.get("method") or "").lower() == "post" for f in page.forms)
    secret = [i for i in page.inputs if i.get("type") == "password"]
    assert secret and all(i.get("name") is None for i in secret), secret
    assert response.headers["referrer-policy"] == "no-referrer"
    # The script takes the token only from the form, never from the address.
    script = (await client.get("/static/evaluation/report.js")).text
    assert "URLSearchParams" not in script and "searchParams" not in script
    assert "location.href" not in script and "location.hash" not in script
    assert re.search(r"Authorization:\s*\"Bearer \"", script)
