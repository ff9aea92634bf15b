"""The board reads' fast lane (api/board_lane.py) answers exactly as FastAPI's routes do.

Through the real application on both backends: every request is made with the lane and
again with it switched off (everything then goes through FastAPI), with the board cache
emptied in between so both are fresh reads; status, headers (but the request id) and body
must be equal, and so must the route logs and metrics are labelled with. The lane must take
the plainly written reads and pass everything else on; a read the cache does not answer is
one Redis command (the store's script).
"""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from redis.exceptions import ConnectionError as RedisConnectionError

from api import middleware
from api.app_state import state_of
from api.board_lane import BoardReadLane
from harness.game_files import game_file
from kernel.vocabulary import TEAM_KINDS
from leaderboard.models import BoardSnapshot, PlayerRecord, TeamRecord
from tests.helpers import auth

NAMES = ["Ålesund Ramblers", 'The "Quoted" Club', "Ysgol Gymraeg Bro Dinefwr", "名前 Walkers", ""]

# Read plainly: the lane answers these.
TAKEN = [
    "/teams",
    "/teams?limit=5",
    "/teams?by=average&kind=school&limit=3&offset=2",
    "/teams?by=distance&kind=",
    "/teams?kind=all&offset=0",
    "/teams?limit=100&offset=999999999",
    "/teams?%6Cimit=2",
    "/teams?limit=2&utm_source=poster&utm_source=flyer",
    "/players",
    "/players?limit=1&offset=3",
    "/teams/T01/around",
    "/teams/T01/around?n=1&by=average&kind=school",
    "/teams/T02/around?kind=family",
    "/teams/NOPE/around",
]
# Anything unusual: FastAPI answers these, with the lane on as with it off.
PASSED_ON = [
    "/teams?limit=0",
    "/teams?limit=101",
    "/teams?limit=05",
    "/teams?limit=%2B5",
    "/teams?limit=%205",
    "/teams?limit=",
    "/teams?limit=many",
    "/teams?offset=-1",
    "/teams?offset=1000000000",
    "/teams?by=speed",
    "/teams?by=Total",
    "/teams?kind=club",
    "/teams?kind=School",
    "/teams?limit=2&limit=3",
    "/teams/",
    "/Teams",
    "/players?limit=2&offset=1&offset=2",
    "/players?offset=1.0",
    "/teams/T01/around?n=0",
    "/teams/T01/around?n=51",
    "/teams/T 01/around",
    "/teams/T01/around/",
]


def _snapshot(rng: random.Random) -> BoardSnapshot:
    teams = [
        TeamRecord(
            f"T{i:02d}",
            f"{rng.choice(NAMES)} {i % 7}",
            rng.choice(TEAM_KINDS),
            rng.randrange(0, 300, 10),
            rng.random() * 90_000,
            rng.randrange(0, 9),
        )
        for i in range(40)
    ]
    players = [
        PlayerRecord(
            str(i),
            f"Fox {rng.choice(NAMES)} {i % 5}",
            rng.randrange(0, 80, 10),
            rng.random() * 9_000,
            rng.random() < 0.8,
        )
        for i in range(60)
    ]
    return BoardSnapshot.of(teams, players)


@pytest.fixture
async def boards(app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str) -> str:
    """A game (not in play: nothing rebuilds its boards) with boards of its own."""
    r = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(game_file(slug)),
        headers={**auth(organiser_token), "content-type": "application/yaml"},
    )
    assert r.status_code == 200, r.text
    await state_of(app).leaderboard.publish_snapshot(slug, _snapshot(random.Random(5)))
    return f"/api/v1/games/{slug}/leaderboards"


def _answer(r: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in r.headers.items() if k != "x-request-id")
    return r.status_code, headers, r.content


async def _both(
    app: FastAPI,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    url: str,
    **kwargs: Any,
) -> tuple[Any, Any, bool]:
    """(the answer and route label with the lane, the same without it, lane took it)."""
    labels: list[str] = []
    taken: list[bool] = []
    template, take = middleware.route_template, BoardReadLane.take

    def spy_template(scope: Any) -> str:
        labels.append(template(scope))
        return labels[-1]

    def spy_take(self: BoardReadLane, scope: Any) -> Any:
        read = take(self, scope)
        taken.append(read is not None)
        return read

    cache = state_of(app).leaderboard.cache
    with monkeypatch.context() as m:
        m.setattr(middleware, "route_template", spy_template)
        m.setattr(BoardReadLane, "take", spy_take)
        cache.invalidate(None)
        lane = _answer(await client.request(method, url, **kwargs)), labels[-1]
        m.setattr(BoardReadLane, "take", lambda self, scope: None)
        cache.invalidate(None)
        fastapi = _answer(await client.request(method, url, **kwargs)), labels[-1]
    return lane, fastapi, any(taken)


@pytest.mark.parametrize("path", TAKEN)
async def test_the_lane_answers_plain_reads_as_fastapi_does(
    app: FastAPI,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    boards: str,
    path: str,
) -> None:
    lane, fastapi, taken = await _both(app, client, monkeypatch, "GET", boards + path)
    assert taken, "the lane should answer this read"
    assert lane == fastapi
    assert lane[0][0] in (200, 404)


@pytest.mark.parametrize("path", PASSED_ON)
async def test_the_lane_passes_anything_unusual_on(
    app: FastAPI,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    boards: str,
    path: str,
) -> None:
    lane, fastapi, taken = await _both(app, client, monkeypatch, "GET", boards + path)
    assert not taken, "the lane should leave this to FastAPI"
    assert lane == fastapi


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("HEAD", "/teams", {}),
        ("POST", "/teams", {}),
        ("GET", "/teams", {"content": b"{}"}),
        ("GET", "/teams", {"headers": {"transfer-encoding": "chunked"}, "content": b""}),
    ],
)
async def test_other_methods_and_bodies_go_to_fastapi(
    app: FastAPI,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    boards: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    lane, fastapi, taken = await _both(app, client, monkeypatch, method, boards + path, **kwargs)
    assert not taken
    assert lane == fastapi


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/games/no-such-game/leaderboards/teams",
        "/api/v1/games/no-such-game/leaderboards/players",
        "/api/v1/games/no-such-game/leaderboards/teams/T01/around",
    ],
)
async def test_unknown_games_answer_the_same(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    lane, fastapi, taken = await _both(app, client, monkeypatch, "GET", url)
    assert taken and lane == fastapi
    assert lane[0][0] == 404


@pytest.mark.parametrize("path", ["/teams?limit=3", "/players", "/teams/T01/around"])
async def test_unreadable_boards_answer_503_the_same(
    app: FastAPI,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    boards: str,
    path: str,
) -> None:
    async def down(*args: Any, **kwargs: Any) -> Any:
        raise RedisConnectionError("Redis is down (test)")

    store = state_of(app).leaderboard.reads.store
    for read in ("teams", "players", "team_around"):
        monkeypatch.setattr(store, read, down)
    lane, fastapi, taken = await _both(app, client, monkeypatch, "GET", boards + path)
    assert taken and lane == fastapi
    assert lane[0][0] == 503 and ("retry-after", "1") in lane[0][1]


def test_the_lane_knows_every_board_route() -> None:
    lane = BoardReadLane(lambda scope, receive, send: None, prefix="/api/v1")  # type: ignore[arg-type, return-value]
    assert len(lane.routes) == 3


async def test_an_uncached_read_is_one_redis_command(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, boards: str
) -> None:
    redis = state_of(app).redis
    if redis is None:
        pytest.skip("in-process boards: no Redis")
    sent: list[str] = []
    execute = redis.execute_command

    async def counted(*args: Any, **kwargs: Any) -> Any:
        sent.append(str(args[0]))
        return await execute(*args, **kwargs)

    monkeypatch.setattr(redis, "execute_command", counted)
    for path in ("/teams?limit=7&offset=3", "/players?offset=2", "/teams/T01/around?n=2"):
        state_of(app).leaderboard.cache.invalidate(None)
        sent.clear()
        assert (await client.get(boards + path)).status_code == 200
        assert sent == ["EVALSHA"], path
