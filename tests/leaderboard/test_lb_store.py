"""One suite for every store backend (memory and Redis), through the LeaderboardStore API."""

from __future__ import annotations

import asyncio
import random

import pytest

from leaderboard.models import BoardChanges, BoardSnapshot, PlayerDelta, TeamDelta
from leaderboard.store import LeaderboardStore
from tests.leaderboard.lb_helpers import fold, player, random_changes, read_everything, team


def rows(entries: list, *fields: str) -> list[tuple]:
    return [tuple(getattr(e, f) for f in fields) for e in entries]


async def test_competition_ranking_ties_listed_by_name(store: LeaderboardStore, game: str) -> None:
    await store.replace(
        game,
        BoardSnapshot.of(
            [
                team("D", 10, name="Dale"),
                team("B", 20, name="beech"),
                team("A", 30, name="Ash"),
                team("C", 20, name="Alder"),
                team("E", 10, name="cedar"),
            ],
            [],
        ),
    )
    page = await store.teams(game)
    assert rows(page.entries, "rank", "name", "points") == [
        (1, "Ash", 30),
        (2, "Alder", 20),
        (2, "beech", 20),
        (4, "cedar", 10),
        (4, "Dale", 10),
    ]
    assert page.total == 5
    assert page.entries[0].as_dict() == {
        "rank": 1,
        "team": "A",
        "name": "Ash",
        "kind": "school",
        "points": 30,
        "active_members": 5,
        "average": 6.0,
        "distance_km": 0.0,
        "eligible": True,
    }


async def test_pagination_keeps_tied_ranks_across_pages(store: LeaderboardStore, game: str) -> None:
    teams = [team(f"T{i:02d}", 100 - 10 * (i // 3)) for i in range(25)]  # triples tie
    await store.replace(game, BoardSnapshot.of(teams, []))
    full = (await store.teams(game, limit=100)).entries
    assert [e.rank for e in full[:7]] == [1, 1, 1, 4, 4, 4, 7]
    pages = []
    for offset in range(0, 25, 4):
        page = await store.teams(game, limit=4, offset=offset)
        assert page.total == 25
        pages += page.entries
    assert pages == full
    second = await store.teams(game, limit=3, offset=4)
    assert [e.rank for e in second.entries] == [4, 4, 7]
    assert (await store.teams(game, limit=10, offset=25)).entries == []
    with pytest.raises(ValueError):
        await store.teams(game, limit=0)
    with pytest.raises(ValueError):
        await store.teams(game, offset=-1)


async def test_kind_filter_ranks_within_kind(store: LeaderboardStore, game: str) -> None:
    await store.replace(
        game,
        BoardSnapshot.of(
            [
                team("S1", 50, kind="school"),
                team("C1", 40, kind="community"),
                team("S2", 30, kind="school"),
                team("W1", 30, kind="workplace"),
            ],
            [],
        ),
    )
    school = await store.teams(game, kind="school")
    assert rows(school.entries, "rank", "team") == [(1, "S1"), (2, "S2")]
    assert school.total == 2
    everyone = await store.teams(game)
    assert rows(everyone.entries, "rank", "team") == [(1, "S1"), (2, "C1"), (3, "S2"), (3, "W1")]
    assert (await store.teams(game, kind="family")).total == 0
    with pytest.raises(ValueError):
        await store.teams(game, kind="club")


async def test_average_board_lists_ineligible_teams_last(
    store: LeaderboardStore, game: str
) -> None:
    await store.replace(
        game,
        BoardSnapshot.of(
            [
                team("BIG", 100, members=10),  # 10.0
                team("MID", 60, members=4),  # 15.0 but ineligible (min 5)
                team("TOP", 60, members=5),  # 12.0
                team("TIE", 120, members=12),  # 10.0
                team("NONE", 0, members=0),  # ineligible, 0
                team("TINY", 90, members=1),  # 90.0 ineligible
            ],
            [],
        ),
    )
    page = await store.teams(game, by="average")
    assert rows(page.entries, "rank", "team", "average", "eligible") == [
        (1, "TOP", 12.0, True),
        (2, "BIG", 10.0, True),
        (2, "TIE", 10.0, True),
        (4, "TINY", 90.0, False),
        (5, "MID", 15.0, False),
        (6, "NONE", 0.0, False),
    ]
    tail = await store.teams(game, by="average", limit=2, offset=2)
    assert rows(tail.entries, "rank", "team") == [(2, "TIE"), (4, "TINY")]
    tail = await store.teams(game, by="average", limit=2, offset=3)
    assert rows(tail.entries, "rank", "team") == [(4, "TINY"), (5, "MID")]


async def test_min_members_comes_from_the_snapshot(store: LeaderboardStore, game: str) -> None:
    snap = BoardSnapshot.of([team("A", 40, members=4), team("B", 30, members=2)], [], 3)
    await store.replace(game, snap)
    page = await store.teams(game, by="average")
    assert rows(page.entries, "team", "eligible") == [("A", True), ("B", False)]
    # A delta moves a team across the threshold.
    await store.apply(game, BoardChanges(teams=[TeamDelta("B", active_members=1)]))
    page = await store.teams(game, by="average")
    assert rows(page.entries, "rank", "team", "average", "eligible") == [
        (1, "A", 10.0, True),
        (1, "B", 10.0, True),
    ]


async def test_distance_board_in_km(store: LeaderboardStore, game: str) -> None:
    await store.replace(
        game,
        BoardSnapshot.of(
            [team("A", 10, distance_m=1600), team("B", 50, distance_m=2401), team("C", 0)], []
        ),
    )
    page = await store.teams(game, by="distance")
    assert rows(page.entries, "rank", "team", "distance_km") == [
        (1, "B", 2.401),
        (2, "A", 1.6),
        (3, "C", 0.0),
    ]


async def test_players_points_then_distance_public_only(store: LeaderboardStore, game: str) -> None:
    await store.replace(
        game,
        BoardSnapshot.of(
            [],
            [
                player("h1", 20, nickname="Swift Fox", distance_m=1600),
                player("h2", 20, nickname="Brave Owl", distance_m=2400),
                player("h3", 20, nickname="Calm Cat", distance_m=1600),
                player("h4", 90, nickname="Secret", public=False),
                player("h5", 5, nickname="Ant"),
            ],
        ),
    )
    page = await store.players(game)
    assert [e.as_dict() for e in page.entries] == [
        {"rank": 1, "nickname": "Brave Owl", "points": 20, "distance_km": 2.4},
        {"rank": 2, "nickname": "Calm Cat", "points": 20, "distance_km": 1.6},
        {"rank": 2, "nickname": "Swift Fox", "points": 20, "distance_km": 1.6},
        {"rank": 4, "nickname": "Ant", "points": 5, "distance_km": 0.0},
    ]
    assert page.total == 4
    await store.apply(game, BoardChanges(players=[PlayerDelta("h4", public=True)]))
    await store.apply(game, BoardChanges(players=[PlayerDelta("h5", public=False)]))
    page = await store.players(game)
    assert [e.nickname for e in page.entries] == ["Secret", "Brave Owl", "Calm Cat", "Swift Fox"]


async def test_team_around(store: LeaderboardStore, game: str) -> None:
    teams = [team(f"T{i}", 100 - i, kind="school" if i % 2 else "community") for i in range(10)]
    await store.replace(game, BoardSnapshot.of(teams, []))
    around = await store.team_around(game, "total", "T5", n=2)
    assert around is not None
    assert rows(around.entries, "rank", "team") == [
        (4, "T3"),
        (5, "T4"),
        (6, "T5"),
        (7, "T6"),
        (8, "T7"),
    ]
    assert around.total == 10
    top = await store.team_around(game, "total", "T0", n=2)
    assert top is not None and [e.team for e in top.entries] == ["T0", "T1", "T2", "T3", "T4"]
    bottom = await store.team_around(game, "total", "T9", n=1)
    assert bottom is not None and [e.team for e in bottom.entries] == ["T8", "T9"]
    school = await store.team_around(game, "total", "T5", n=1, kind="school")
    assert school is not None
    assert rows(school.entries, "rank", "team") == [(2, "T3"), (3, "T5"), (4, "T7")]
    assert await store.team_around(game, "total", "T4", n=1, kind="school") is None
    assert await store.team_around(game, "total", "NOPE", n=1) is None
    assert await store.team_around("no-such-game", "total", "T1", n=1) is None


async def test_team_around_on_average_board_spans_the_eligibility_split(
    store: LeaderboardStore, game: str
) -> None:
    snap = BoardSnapshot.of(
        [team("E1", 50), team("E2", 40), team("X1", 90, members=2), team("X2", 10, members=1)],
        [],
    )
    await store.replace(game, snap)
    around = await store.team_around(game, "average", "X1", n=1)
    assert around is not None
    assert rows(around.entries, "rank", "team", "eligible") == [
        (2, "E2", True),
        (3, "X1", False),
        (4, "X2", False),
    ]


async def test_player_around(store: LeaderboardStore, game: str) -> None:
    players = [player(f"h{i}", 100 - i, nickname=f"P{i}") for i in range(6)]
    players.append(player("hidden", 50, public=False))
    await store.replace(game, BoardSnapshot.of([], players))
    around = await store.player_around(game, "h3", n=1)
    assert around is not None
    assert [(e.rank, e.nickname) for e in around.entries] == [(3, "P2"), (4, "P3"), (5, "P4")]
    assert await store.player_around(game, "hidden", n=1) is None
    assert await store.player_around(game, "nobody", n=1) is None


async def test_metadata_upserts_move_entries(store: LeaderboardStore, game: str) -> None:
    await store.replace(game, BoardSnapshot.of([team("A", 10, name="Zed"), team("B", 10)], []))
    assert [e.team for e in (await store.teams(game)).entries] == ["B", "A"]
    await store.apply(game, BoardChanges(teams=[TeamDelta("A", name="Alpha", kind="family")]))
    assert rows((await store.teams(game)).entries, "rank", "team", "name") == [
        (1, "A", "Alpha"),
        (1, "B", "B"),
    ]
    assert [e.team for e in (await store.teams(game, kind="family")).entries] == ["A"]
    assert [e.team for e in (await store.teams(game, kind="school")).entries] == ["B"]
    # A team first seen through a delta gets defaults.
    await store.apply(game, BoardChanges(teams=[TeamDelta("NEW", points=5)]))
    new = (await store.teams(game, kind="other")).entries
    assert rows(new, "team", "name", "kind", "points") == [("NEW", "NEW", "other", 5)]
    with pytest.raises(ValueError):
        await store.apply(game, BoardChanges(teams=[TeamDelta("A", kind="club")]))


async def test_deltas_and_replace_read_the_same(store: LeaderboardStore, game: str) -> None:
    rng = random.Random(20270503)
    batches = random_changes(rng, n_teams=30, n_players=60, batches=25)
    for ch in batches:
        await store.apply(game, ch)
    rebuilt = f"{game}-rebuilt"
    await store.replace(rebuilt, fold(batches))
    from_deltas = await read_everything(store, game)
    from_snapshot = await read_everything(store, rebuilt)
    assert from_deltas == from_snapshot
    assert from_deltas["total/None"][0] == 30
    assert any(not e["eligible"] for e in from_deltas["average/None"][1])
    await store.delete(rebuilt)


async def test_versions_and_exists(store: LeaderboardStore, game: str) -> None:
    assert not await store.exists(game)
    assert await store.version(game) == 0
    empty = await store.teams(game)
    assert (empty.entries, empty.total, empty.version) == ([], 0, 0)
    assert await store.apply(game, BoardChanges(teams=[TeamDelta("A", points=1)])) == 1
    assert await store.exists(game)
    assert await store.replace(game, BoardSnapshot.of([team("A", 3)], [])) == 2
    assert await store.apply(game, BoardChanges(players=[PlayerDelta("h", points=1)])) == 3
    page = await store.teams(game)
    assert page.version == 3 == await store.version(game)
    await store.delete(game)
    assert not await store.exists(game)


async def test_replace_swaps_in_atomically(store: LeaderboardStore, game: str) -> None:
    old = BoardSnapshot.of(
        [team(f"O{i:05d}", 1) for i in range(3000)],
        [player(f"o{i}", 1) for i in range(6000)],
    )
    new = BoardSnapshot.of(
        [team(f"N{i:05d}", 2, kind="community") for i in range(4000)],
        [player(f"n{i}", 2) for i in range(9000)],
    )
    await store.replace(game, old)
    seen: set[tuple[int, int, int]] = set()
    done = asyncio.Event()

    async def reader() -> None:
        while not done.is_set():
            t = await store.teams(game, limit=50, offset=2900)
            p = await store.players(game, limit=50, offset=5990)
            seen.add((t.total, len({e.points for e in t.entries}), t.entries[0].points))
            # Each read sees one whole board, old or new, never a mix or a partial one.
            assert (t.total, {e.points for e in t.entries}) in ((3000, {1}), (4000, {2}))
            assert (p.total, {e.points for e in p.entries}) in ((6000, {1}), (9000, {2}))
            await asyncio.sleep(0)

    task = asyncio.create_task(reader())
    await asyncio.sleep(0.01)
    await store.replace(game, new)
    await asyncio.sleep(0.01)
    done.set()
    await task
    assert (3000, 1, 1) in seen and (4000, 1, 2) in seen
    assert (await store.teams(game, kind="school")).total == 0
    assert (await store.teams(game, kind="community")).total == 4000
