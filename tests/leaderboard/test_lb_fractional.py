"""Fractional distances: both stores add them unrounded and rank and show whole metres."""

from __future__ import annotations

import random
import uuid

from leaderboard.memory import MemoryStore
from leaderboard.models import BoardChanges, BoardSnapshot, PlayerDelta, TeamDelta
from leaderboard.ranking import whole_metres
from leaderboard.redis_store import RedisStore
from leaderboard.store import LeaderboardStore
from tests.leaderboard.conftest import KEY_PREFIX
from tests.leaderboard.lb_helpers import fold, read_everything

# Doubles next to a half metre, where a sloppy rounding (floor(x + 0.5), round half to
# even, a 14-digit decimal on the way through Redis) gives another whole metre.
TRICKY = [
    0.49999999999999994,
    0.5,
    2.5,
    1000.4999999999999,
    1000.5,
    123456.49999999999,
    -1e-12,
    1e-12,
]


def test_whole_metres_rounds_halves_up_exactly() -> None:
    assert [whole_metres(x) for x in TRICKY] == [0, 1, 3, 1000, 1001, 123456, 0, 0]
    assert whole_metres(800.4) == 800 and whole_metres(800.6) == 801


def _fractional_changes(rng: random.Random, batches: int) -> list[BoardChanges]:
    out = []
    for b in range(batches):
        teams = [
            TeamDelta(
                f"T{rng.randrange(8)}",
                points=10,
                distance_m=rng.choice([rng.uniform(300, 1500), -rng.uniform(0, 900), 0.1]),
                active_members=1 if b < 8 else 0,
                name=f"Team {rng.choice('ABC')}" if b == 0 else None,
                kind="school" if b == 0 else None,
            )
            for _ in range(rng.randint(1, 4))
        ]
        players = [
            PlayerDelta(
                f"H{rng.randrange(12)}",
                points=10,
                distance_m=rng.uniform(300, 1500),
                nickname=f"Walker {rng.randrange(3)}",
                public=True,
            )
            for _ in range(rng.randint(1, 4))
        ]
        out.append(BoardChanges(teams, players))
    return out


async def _read_applied(store: LeaderboardStore, game: str, batches: list[BoardChanges]) -> dict:
    for ch in batches:
        await store.apply(game, ch)
    return await read_everything(store, game)


async def test_both_stores_sum_fractional_deltas_like_a_rebuild(redis_url: str) -> None:
    batches = _fractional_changes(random.Random(20270601), 400)
    # Deltas that leave totals right next to half metres, then points only: the second
    # apply reads back what the first stored.
    for i, x in enumerate(TRICKY):
        batches.append(BoardChanges([TeamDelta(f"X{i}", distance_m=x, name="X", kind="other")]))
        batches.append(BoardChanges([TeamDelta(f"X{i}", points=1)]))
        batches.append(BoardChanges(players=[PlayerDelta(f"X{i}", distance_m=x, public=True)]))
        batches.append(BoardChanges(players=[PlayerDelta(f"X{i}", points=1)]))
    redis = RedisStore.from_url(redis_url, key_prefix=KEY_PREFIX)
    memory = MemoryStore()
    game = f"frac-{uuid.uuid4().hex[:8]}"
    try:
        boards = {}
        for name, store in (("memory", memory), ("redis", redis)):
            live = await _read_applied(store, game, batches)
            await store.replace(f"{game}-rebuilt", fold(batches))
            assert live == await read_everything(store, f"{game}-rebuilt"), name
            boards[name] = live
        assert boards["memory"] == boards["redis"]
        shown = {e["team"]: e["distance_km"] for e in boards["redis"]["distance/None"][1]}
        assert [shown[f"X{i}"] for i in range(len(TRICKY))] == [
            0.0,
            0.001,
            0.003,
            1.0,
            1.001,
            123.456,
            0.0,
            0.0,
        ]
    finally:
        for g in (game, f"{game}-rebuilt"):
            await redis.delete(g)
        await redis.close()


async def test_distance_ranks_by_whole_metres_ties_by_name(
    store: LeaderboardStore, game: str
) -> None:
    await store.replace(game, BoardSnapshot.of([], []))
    await store.apply(
        game,
        BoardChanges(
            [
                TeamDelta("Z", distance_m=1000.4999999999999, name="Zebra"),
                TeamDelta("A", distance_m=999.5, name="Aardvark"),
                TeamDelta("M", distance_m=1000.5, name="Magpie"),
            ]
        ),
    )
    await store.apply(game, BoardChanges([TeamDelta("Z", points=5)]))  # re-reads Z's record
    page = await store.teams(game, by="distance")
    assert [(e.rank, e.team, e.distance_km) for e in page.entries] == [
        (1, "M", 1.001),
        (2, "A", 1.0),
        (2, "Z", 1.0),
    ]
    around = await store.team_around(game, "distance", "Z", n=1)
    assert around is not None and [e.team for e in around.entries] == ["A", "Z"]
