"""HTTP API and pages through httpx ASGITransport against a small test app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from api.app_state import state_of
from api.leaderboard import parse_views, player_around
from api.pages import STATIC_DIR
from leaderboard.runtime import LeaderboardRuntime
from tests.leaderboard.lb_app import DEMO, build_app, demo_game, demo_snapshot

BASE = f"/api/v1/games/{DEMO}/leaderboards"


@pytest.fixture
async def app() -> AsyncIterator[FastAPI]:
    runtime = LeaderboardRuntime(None)
    application = build_app(
        runtime,
        {DEMO: demo_game(), "empty-town": demo_game("empty-town")},
        tiles_url="https://{s}.tile.example.org/{z}/{x}/{y}.png",
        seed={DEMO: demo_snapshot()},
    )
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_team_board_shape(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{BASE}/teams", params={"limit": 5})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"game", "by", "kind", "total", "entries"}
    assert (body["game"], body["by"], body["kind"], body["total"]) == (DEMO, "total", None, 12)
    assert body["entries"][0] == {
        "rank": 1,
        "team": "ST-MARYS",
        "name": "St Mary's Primary",
        "kind": "school",
        "points": 1240,
        "active_members": 31,
        "average": 40.0,
        "distance_km": 182.4,
        "eligible": True,
    }
    assert [(e["rank"], e["team"]) for e in body["entries"][2:4]] == [
        (3, "CASTERTON"),
        (3, "ROSEGROVE"),
    ]


async def test_board_answers_are_encoded_as_json_responses_are(
    client: httpx.AsyncClient,
) -> None:
    # Bodies are encoded once per shared read and served as bytes: the same bytes and
    # headers as a JSONResponse of the same content, the first time and from the cache.
    for path in ("/teams?kind=school&by=average", "/players", "/teams/PARKRUN/around"):
        first, again = await client.get(BASE + path), await client.get(BASE + path)
        assert first.status_code == again.status_code == 200
        assert first.content == again.content == JSONResponse(first.json()).body, path
        assert first.headers["content-type"] == "application/json"
        assert first.headers["content-length"] == str(len(first.content))


async def test_team_board_filters_and_pages(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{BASE}/teams", params={"by": "average", "kind": "workplace"})
    body = r.json()
    assert body["kind"] == "workplace"
    assert [(e["team"], e["eligible"]) for e in body["entries"]] == [
        ("COUNCIL", True),
        ("NHS", False),
    ]
    r = await client.get(f"{BASE}/teams", params={"by": "distance", "limit": 2, "offset": 1})
    assert [e["team"] for e in r.json()["entries"]] == ["HOLY-TRIN", "CASTERTON"]
    for empty in ("", "all"):
        r = await client.get(f"{BASE}/teams", params={"kind": empty})
        assert r.status_code == 200 and r.json()["kind"] is None and r.json()["total"] == 12


@pytest.mark.parametrize(
    "params",
    [
        {"by": "speed"},
        {"kind": "club"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"limit": "many"},
    ],
)
async def test_team_board_rejects_bad_params(client: httpx.AsyncClient, params: dict) -> None:
    r = await client.get(f"{BASE}/teams", params=params)
    assert r.status_code == 422


async def test_unknown_game_is_404(client: httpx.AsyncClient) -> None:
    for path in (
        "/api/v1/games/nowhere/leaderboards/teams",
        "/api/v1/games/nowhere/leaderboards/players",
        "/api/v1/games/nowhere/leaderboards/teams/X/around",
    ):
        r = await client.get(path)
        assert r.status_code == 404
        assert r.json()["error"] == "not_found" and "nowhere" in r.json()["detail"]


async def test_known_game_without_boards_is_empty(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/games/empty-town/leaderboards/teams")
    assert r.status_code == 200
    assert r.json()["entries"] == [] and r.json()["total"] == 0


async def test_player_board_public_only(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{BASE}/players", params={"limit": 10})
    body = r.json()
    assert set(body) == {"game", "total", "entries"}
    assert body["total"] == 4
    assert body["entries"][:3] == [
        {"rank": 1, "nickname": "Swift Fox", "points": 320, "distance_km": 41.7},
        {"rank": 2, "nickname": "Brave Owl", "points": 300, "distance_km": 39.0},
        {"rank": 2, "nickname": "Calm Otter", "points": 300, "distance_km": 39.0},
    ]
    assert "Secret Squirrel" not in r.text
    assert (await client.get(f"{BASE}/players", params={"limit": 101})).status_code == 422


async def test_team_around(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{BASE}/teams/PARKRUN/around", params={"n": 1})
    body = r.json()
    assert body["team"] == "PARKRUN"
    assert [(e["rank"], e["team"]) for e in body["entries"]] == [
        (3, "ROSEGROVE"),
        (5, "PARKRUN"),
        (6, "TURF-MOOR"),
    ]
    r = await client.get(
        f"{BASE}/teams/PARKRUN/around", params={"n": 1, "kind": "community", "by": "average"}
    )
    assert [e["team"] for e in r.json()["entries"]] == ["TURF-MOOR", "PARKRUN", "SHUTTLE"]
    r = await client.get(f"{BASE}/teams/PARKRUN/around", params={"kind": "school"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert (await client.get(f"{BASE}/teams/PARKRUN/around", params={"n": 0})).status_code == 422


async def test_player_around_function(app: FastAPI) -> None:
    out = await player_around(state_of(app), DEMO, "3", n=1)
    assert out is not None
    assert [e.nickname for e in out.entries] == ["Brave Owl", "Calm Otter", "Happy Heron"]
    assert await player_around(state_of(app), DEMO, "4") is None  # not public


async def test_openapi_documents_the_boards(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/games/{slug}/leaderboards/teams" in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert schemas["TeamBoardOut"]["examples"][0]["entries"][0]["team"] == "ST-MARYS"
    assert "404" in spec["paths"]["/api/v1/games/{slug}/leaderboards/players"]["get"]["responses"]
    assert "/games/{slug}/board" not in spec["paths"]


def test_parse_views() -> None:
    assert parse_views(None, None) == [("teams-total", None)]
    assert parse_views("teams-average, players", "school") == [
        ("teams-average", "school"),
        ("players", None),
    ]
    for boards, kind in (("teams-speed", None), ("", None), ("players", "club")):
        with pytest.raises(ValueError):
            parse_views(boards or ",", kind)


async def test_board_page_escapes_and_sets_csp(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/games/{DEMO}/board")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert f'data-slug="{DEMO}"' in r.text and 'data-api="/api/v1"' in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "{{" not in r.text
    r = await client.get("/games/%3Cscript%3Ealert(1)/board")
    assert r.status_code == 404 and "<script>alert" not in r.text
    assert "&lt;script&gt;" in r.text


async def test_assets_are_served_from_an_allowlist(client: httpx.AsyncClient) -> None:
    for name, media in (("board.js", "text/javascript"), ("board.css", "text/css")):
        r = await client.get(f"/static/leaderboard/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    for bad in ("board.html", "..%2Fpages.py", "nope.js"):
        assert (await client.get(f"/static/leaderboard/{bad}")).status_code == 404


def test_static_scripts_never_use_inner_html() -> None:
    for path in STATIC_DIR.glob("*.js"):
        text = path.read_text()
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path.name
        assert "document.write" not in text, path.name
