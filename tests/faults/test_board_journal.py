"""A rebuild of the Redis boards that races with uploads counts each upload exactly once.

A rebuild reads the database in one snapshot and swaps the result in a little later; an
upload committed meanwhile publishes its changes before or after that swap. Keyed by the
uploads' PostgreSQL transaction ids, changes the snapshot missed are re-applied at the
swap and changes it already holds are skipped (test_redis_outage.py shows the race end to
end; here each ordering is played out deterministically on a private Redis).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from harness.services import PrivateRedis
from leaderboard.models import BoardChanges, BoardSnapshot, PlayerDelta, TeamDelta, TeamRecord
from leaderboard.redis_store import RedisStore


@pytest.fixture
async def store(private_redis: PrivateRedis) -> AsyncIterator[RedisStore]:
    client = Redis.from_url(private_redis.url, decode_responses=True)
    try:
        yield RedisStore(client)
    finally:
        await client.aclose()


def points(xid: str, n: int) -> BoardChanges:
    return BoardChanges(
        teams=[TeamDelta("A", points=n, name="Alpha", kind="school")],
        players=[PlayerDelta("7", points=n, nickname="Seven", public=True)],
        xid=xid,
    )


def snapshot(a_points: int, xact_snapshot: str | None) -> BoardSnapshot:
    return BoardSnapshot(
        teams=(TeamRecord("A", "Alpha", "school", points=a_points),), xact_snapshot=xact_snapshot
    )


async def team_a(store: RedisStore, game: str) -> int:
    (entry,) = (await store.teams(game)).entries
    return entry.points


async def test_each_committed_change_counts_once_across_a_rebuild(store: RedisStore) -> None:
    game = f"g-{uuid.uuid4().hex[:8]}"
    await store.replace(game, snapshot(0, None))
    # A rebuild reads the database: 101 (+7) has committed, 102 is in progress and 105 has
    # not begun (xmin 102, xmax 105, in progress 102); 101's publisher is slow.
    rebuilt = snapshot(7, "102:105:102")
    # Before the swap, 102 (+10) and 105 (+5) commit and publish.
    assert await store.apply(game, points("102", 10)) > 0
    assert await store.apply(game, points("105", 5)) > 0
    await store.replace(game, rebuilt)
    assert await team_a(store, game) == 7 + 10 + 5  # 102 and 105 re-applied at the swap
    # 101's changes arrive after the swap: the snapshot already has them.
    assert await store.apply(game, points("101", 7)) == -2
    assert await store.apply(game, points("106", 3)) > 0
    assert await team_a(store, game) == 7 + 10 + 5 + 3
    # The players board was rebuilt without player 7, then got 102, 105 and 106.
    (player,) = (await store.players(game)).entries
    assert (player.nickname, player.points) == ("Seven", 18)


async def test_changes_do_not_create_boards_that_redis_lost(store: RedisStore) -> None:
    game = f"g-{uuid.uuid4().hex[:8]}"
    await store.replace(game, snapshot(40, "90:90:"))
    await store.delete(game)  # Redis restarted empty
    # A partial board built from one upload's changes would never be repaired.
    assert await store.apply(game, points("95", 10)) == -1
    assert not await store.exists(game)
    # The rebuild that follows (snapshot taken before 95 committed) still counts it.
    await store.replace(game, snapshot(40, "95:96:95"))
    assert await team_a(store, game) == 50
    # Changes without a transaction id keep their old meaning.
    assert await store.apply(game, BoardChanges(teams=[TeamDelta("A", points=1)])) > 0
    assert await team_a(store, game) == 51
