"""Bursts: a hall of phones opening the same board at once (both store backends).

Identical board reads share one store read for a short while (leaderboard.board_cache);
a failing read is logged once and answered 503; live-socket joins survive a burst.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.exceptions import ConnectionError as RedisConnectionError
from websockets.asyncio.client import connect

from api import errors
from harness.servers import serving
from kernel.errors import Unavailable
from leaderboard import board_cache
from leaderboard.board_cache import BoardCache, CachedBoards
from leaderboard.bus import LocalBus
from leaderboard.fanout import Broadcaster, View
from leaderboard.models import BoardChanges, BoardPage, BoardSnapshot, TeamDelta, TeamEntry
from leaderboard.runtime import LeaderboardRuntime
from leaderboard.store import LeaderboardStore
from tests.leaderboard.conftest import KEY_PREFIX
from tests.leaderboard.lb_app import DEMO, build_app, demo_game, demo_snapshot
from tests.leaderboard.lb_helpers import team

BURST = 400


class Counting:
    """Stands in for a store's team reads: counts them, and takes a moment like a network
    round trip, so concurrent callers overlap."""

    def __init__(self, store: LeaderboardStore, *, fail: bool = False) -> None:
        self.store = store
        self.fail = fail
        self.calls = 0

    async def teams(self, *args: Any, **kwargs: Any) -> BoardPage[TeamEntry]:
        self.calls += 1
        await asyncio.sleep(0.02)
        if self.fail:
            raise RedisConnectionError("No connection available.")
        return await self.store.teams(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def seed(store: LeaderboardStore, game: str) -> None:
    teams = [team("A", 100, members=5), team("B", 50, members=5), team("C", 10, members=5)]
    await store.replace(game, BoardSnapshot.of(teams, []))


async def test_identical_reads_within_the_ttl_make_one_store_read(
    store: LeaderboardStore, game: str
) -> None:
    await seed(store, game)
    counting, clock = Counting(store), Clock()
    reads = CachedBoards(counting, BoardCache(ttl_s=1.0, clock=clock))  # type: ignore[arg-type]

    pages = await asyncio.gather(*(reads.teams(game, "average") for _ in range(BURST)))
    assert counting.calls == 1
    assert all(p == pages[0] for p in pages)
    assert [e.team for e in pages[0].entries] == ["A", "B", "C"]

    # Other parameters are other reads.
    await reads.teams(game, "average", limit=2)
    await reads.teams(game, "total")
    await reads.teams(game, "average", "school")
    assert counting.calls == 4

    # New points land without a notice to this cache: within the TTL the board is as read...
    await store.apply(game, BoardChanges(teams=[TeamDelta("C", points=500)]))
    clock.now += 0.9
    stale = await reads.teams(game, "average")
    assert stale == pages[0] and counting.calls == 4
    # ... and a read after the TTL sees them.
    clock.now += 0.2
    fresh = await reads.teams(game, "average")
    assert counting.calls == 5
    assert fresh.entries[0].team == "C" and fresh.entries[0].points == 510
    assert fresh.version > pages[0].version


async def test_an_encoded_read_is_encoded_once_per_store_read(
    store: LeaderboardStore, game: str
) -> None:
    await seed(store, game)
    counting, clock = Counting(store), Clock()
    cache = BoardCache(ttl_s=1.0, clock=clock)
    reads = CachedBoards(counting, cache)  # type: ignore[arg-type]
    encoded: list[list[str]] = []

    def encode(page: BoardPage[TeamEntry]) -> bytes:
        encoded.append([e.team for e in page.entries])
        return json.dumps(encoded[-1]).encode()

    bodies = await asyncio.gather(
        *(reads.teams_encoded(game, "total", None, 20, 0, encode) for _ in range(BURST))
    )
    assert counting.calls == 1 and encoded == [["A", "B", "C"]]
    assert set(bodies) == {b'["A", "B", "C"]'}
    # The plain read of the same page shares the store read (the live socket's snapshots).
    assert [e.team for e in (await reads.teams(game, "total")).entries] == ["A", "B", "C"]
    assert counting.calls == 1

    # A change notice, or the TTL running out, means a new read and a new encoding.
    await store.apply(game, BoardChanges(teams=[TeamDelta("C", points=500)]))
    cache.invalidate(game)
    assert await reads.teams_encoded(game, "total", None, 20, 0, encode) == b'["C", "A", "B"]'
    await store.apply(game, BoardChanges(teams=[TeamDelta("B", points=900)]))
    clock.now += 1.1
    assert await reads.teams_encoded(game, "total", None, 20, 0, encode) == b'["B", "C", "A"]'
    assert counting.calls == 3 and len(encoded) == 3


async def test_expired_reads_are_dropped_as_new_reads_start(
    store: LeaderboardStore, game: str
) -> None:
    await seed(store, game)
    counting, clock, gate = Counting(store), Clock(), asyncio.Event()
    cache = BoardCache(ttl_s=1.0, clock=clock)
    reads = CachedBoards(counting, cache)  # type: ignore[arg-type]
    for limit in range(1, 11):
        await reads.teams(game, "total", limit=limit)
    assert len(cache) == 10

    async def held() -> BoardPage[TeamEntry]:
        await gate.wait()
        return await store.teams(game, "average")

    slow = asyncio.create_task(cache.get(game, "held", held))  # in flight across the TTL
    await asyncio.sleep(0)
    clock.now += 1.5
    await reads.teams(game, "distance")
    assert len(cache) == 2  # the read in flight and the new one: nothing expired is kept
    joined = asyncio.create_task(cache.get(game, "held", held))  # joins the read in flight
    await asyncio.sleep(0)
    gate.set()
    assert await joined == await slow
    assert cache.loads == 12


async def test_reads_in_flight_outlive_a_zero_ttl(store: LeaderboardStore, game: str) -> None:
    # Every read is expired at once: those in flight stay (and are not looked at forever).
    await seed(store, game)
    cache, gate = BoardCache(ttl_s=0.0), asyncio.Event()

    async def held() -> BoardPage[TeamEntry]:
        await gate.wait()
        return await store.teams(game)

    reads = [asyncio.create_task(cache.get(game, ("held", i), held)) for i in range(3)]
    await asyncio.sleep(0)
    assert len(cache) == 3
    gate.set()
    pages = await asyncio.gather(*reads)
    assert all(p.entries[0].team == "A" for p in pages)
    await cache.get(game, "after", held)
    assert len(cache) == 1


async def test_a_change_notice_drops_the_games_cached_boards(
    store: LeaderboardStore, game: str
) -> None:
    await seed(store, game)
    cache = BoardCache(ttl_s=60.0)
    broadcaster = Broadcaster(store, LocalBus(), cache=cache)
    await broadcaster.start()
    try:
        reads = CachedBoards(store, cache)
        before = await reads.teams(game, "total")
        await store.apply(game, BoardChanges(teams=[TeamDelta("B", points=500)]))
        assert await reads.teams(game, "total") == before  # cached, no notice yet
        await broadcaster.notify(game, ["teams-total"])
        after = await reads.teams(game, "total")
        assert after.entries[0].team == "B" and after.version > before.version
    finally:
        await broadcaster.stop()


async def test_a_read_in_flight_when_the_game_changes_is_read_again(
    store: LeaderboardStore, game: str
) -> None:
    await seed(store, game)
    counting = Counting(store)
    cache = BoardCache(ttl_s=60.0)
    reads = CachedBoards(counting, cache)  # type: ignore[arg-type]

    first = asyncio.create_task(reads.teams(game, "total"))
    await asyncio.sleep(0.005)  # the read is in flight ...
    await store.apply(game, BoardChanges(teams=[TeamDelta("C", points=500)]))
    cache.invalidate(game)  # ... when the change notice comes
    page = await first
    assert counting.calls == 2
    assert page.entries[0].team == "C"


async def test_a_joiner_whose_cached_board_is_older_also_gets_the_last_one_sent(
    store: LeaderboardStore, game: str
) -> None:
    await seed(store, game)
    bc = Broadcaster(store, LocalBus(), cache=BoardCache(ttl_s=60.0), throttle_s=0.0)
    await bc.start()
    try:
        first = await bc.subscribe(game, [("teams-total", None)])  # its snapshot is cached
        v1 = json.loads(await asyncio.wait_for(first.get(), 3))["version"]
        # A change whose notice is still on its way, read by a send an earlier notice caused:
        await store.apply(game, BoardChanges(teams=[TeamDelta("C", points=500)]))
        bc._schedule(View(game, "teams-total"))
        v2 = json.loads(await asyncio.wait_for(first.get(), 3))["version"]
        assert v2 > v1

        late = await bc.subscribe(game, [("teams-total", None)])
        got = [json.loads(await asyncio.wait_for(late.get(), 3)) for _ in range(2)]
        assert [m["version"] for m in got] == [v1, v2]  # the cached board, then the newer one
        assert got[1]["entries"][0]["team"] == "C"
    finally:
        await bc.stop()


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        def record(event: str, **kw: Any) -> None:
            self.events.append((level, event, kw))

        return record


async def test_a_failing_read_during_a_burst_logs_one_event_and_answers_503(
    store: LeaderboardStore, game: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(store, game)
    recorder = Recorder()
    monkeypatch.setattr(board_cache, "log", recorder)
    runtime = LeaderboardRuntime(None)
    failing = Counting(store, fail=True)
    runtime.reads = CachedBoards(failing, runtime.cache)  # type: ignore[arg-type]
    app = build_app(runtime, {game: demo_game(game)})
    errors.install(app)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        url = f"/api/v1/games/{game}/leaderboards/teams?by=average"
        answers = await asyncio.gather(*(client.get(url) for _ in range(BURST)))
    assert {r.status_code for r in answers} == {503}
    body = answers[0].json()
    assert body["error"] == "unavailable" and "leaderboard" in body["detail"]
    assert answers[0].headers["retry-after"] == "1"
    assert failing.calls == 1
    assert [(level, event) for level, event, _ in recorder.events] == [
        ("warning", "leaderboard.read_failed")
    ]
    assert "ConnectionError" in recorder.events[0][2]["error"]
    assert recorder.events[0][2]["waiting"] == BURST

    with pytest.raises(Unavailable):  # failures are not cached: the next read tries again
        await runtime.reads.teams(game, "average")
    assert failing.calls == 2


@pytest.fixture(params=["memory", "redis"])
async def live_server(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """The leaderboard app in a uvicorn server on this event loop; Redis with a deliberately
    small pool of 5 connections (one of them held by the change-notice subscription)."""
    if request.param == "memory":
        runtime = LeaderboardRuntime(None)
    else:
        url = request.getfixturevalue("redis_url")
        runtime = LeaderboardRuntime(
            url, key_prefix=f"{KEY_PREFIX}-burst", max_connections=5, pool_timeout_s=10.0
        )
    app = build_app(runtime, {DEMO: demo_game()}, seed={DEMO: demo_snapshot()})
    async with serving(app, backlog=2048) as address:
        yield address


async def test_concurrent_socket_joins_all_get_their_board(live_server: str) -> None:
    views = "teams-total,teams-average,players"
    url = f"ws://{live_server}/api/v1/games/{DEMO}/live?boards={views}&kind=school"
    started = asyncio.Event()

    async def join() -> list[dict[str, Any]]:
        await started.wait()
        async with connect(url, open_timeout=60, compression=None) as ws:
            return [json.loads(await asyncio.wait_for(ws.recv(), 60)) for _ in range(3)]

    joins = [asyncio.create_task(join()) for _ in range(BURST)]
    started.set()
    got = await asyncio.gather(*joins)
    expected = {"teams-total", "teams-average", "players"}
    assert all({m["board"] for m in messages} == expected for messages in got)
    school = [m for m in got[0] if m["board"] == "teams-total"][0]
    assert school["kind"] == "school" and school["entries"][0]["team"] == "ST-MARYS"
    assert all(m == got[0] for m in got)
