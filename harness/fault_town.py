"""A running game, its expected totals by the pure engine, and what the system says.

Shared by the fault tests and ``bench/soak.py``:

- ``town_definition``: a game running now (started days ago), checkpoints on a grid with
  one reader each (secrets included), teams, cards (some issued to teams) and a few
  registered public players, so every board has entries;
- ``RecordingReader``: a ``SimulatedReader`` that also remembers which taps the server
  rejected (by ``(boot, seq)``), so the expectation leaves them out;
- ``expected_points``: every card's points by ``scoring.engine`` on the taps the readers
  recorded (true times; readers here have correct clocks);
- ``stored_points`` / ``ledger_problems`` / ``board_differences``: the database's holder
  totals, its own ledger check, and the Redis boards against a fresh rebuild.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.db import make_sessionmaker
from kernel.vocabulary import TEAM_KINDS
from leaderboard.db_sync import load_snapshot
from leaderboard.redis_store import RedisStore
from scoring import engine
from scoring.ledger import ledger_mismatches
from simulator.reader_client import QueuedTap, SimulatedReader, format_time, parse_time
from simulator.town import SimTap

# Live boards keep distances as the database sums them and round only for display, so a
# live board equals a rebuilt one exactly.
DISTANCE_TOLERANCE_KM = 0.0


def town_definition(
    slug: str,
    *,
    checkpoints: int,
    cards: int,
    teams: int,
    players: int,
    now: datetime,
) -> dict[str, Any]:
    """A game that started three days before ``now`` and runs for another month."""
    side = math.ceil(math.sqrt(checkpoints))
    lat0, lon0, step_lat, step_lon = 53.78, -2.26, 0.0036, 0.0061  # about 400 m
    cps = [
        {
            "code": f"CP{i:04d}",
            "name": f"Box {i}",
            "lat": round(lat0 + (i // side) * step_lat, 6),
            "lon": round(lon0 + (i % side) * step_lon, 6),
            "tags": ["park"] if i % 7 == 0 else [],
        }
        for i in range(checkpoints)
    ]
    team_defs = [
        {"code": f"T{i:03d}", "name": f"Team {i:03d}", "kind": TEAM_KINDS[i % len(TEAM_KINDS)]}
        for i in range(teams)
    ]
    card_defs = [
        {
            "number": f"{i:07d}",
            "uid": card_uid(i),
            "activation_code": f"K{i:06d}",
            **({"team": team_defs[i % teams]["code"]} if teams and i % 3 else {}),
        }
        for i in range(1, cards + 1)
    ]
    player_defs = [
        {
            "card": f"{i:07d}",
            "nickname": f"Walker {i}",
            "age_band": "25-44",
            "public": True,
            **({"team": team_defs[i % teams]["code"]} if teams else {}),
        }
        for i in range(1, cards + 1, max(1, cards // max(1, players)))
    ][:players]
    return {
        "game": {
            "slug": slug,
            "name": f"Fault town {slug}",
            "timezone": "Europe/London",
            "starts_at": format_time(now - timedelta(days=3)),
            "ends_at": format_time(now + timedelta(days=30)),
            "rules": {
                "journey_window_minutes": 60,
                "points_per_leg": 10,
                "max_speed_kmh": 25,
                "min_members_for_average": 2,
            },
        },
        "checkpoints": cps,
        "readers": [
            {
                "id": f"R-{slug}-{i:04d}",
                "checkpoint": c["code"],
                "secret": f"{slug}-{i}-" + "s" * 32,
            }
            for i, c in enumerate(cps)
        ],
        "teams": team_defs,
        "campaigns": [],
        "cards": card_defs,
        "players": player_defs,
    }


def card_uid(i: int) -> str:
    return f"04{i:012X}"


class RecordingReader(SimulatedReader):
    """A simulated box that also notes the ``(boot, seq)`` of every tap the server
    rejected (a rejected tap never scores, so the expectation must leave it out)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rejected_taps: dict[tuple[int, int], str] = {}

    def _apply_answer(self, boot: int, answer: Mapping[str, Any]) -> int:
        for rejection in answer.get("rejected") or ():
            self.rejected_taps[(boot, int(rejection["seq"]))] = str(rejection.get("reason"))
        return super()._apply_answer(boot, answer)


def record(readers: Mapping[str, SimulatedReader], taps: Iterable[SimTap]) -> None:
    """Each tap happens at its reader (true time; the readers' clocks are right)."""
    for tap in taps:
        readers[tap.reader_id].tap(tap.card_uid, tap.tapped_at)


async def upload_all(readers: Mapping[str, SimulatedReader], taps: Iterable[SimTap] = ()) -> float:
    """Records ``taps``, then every reader uploads its queue, all at once; every upload must
    empty its queue. Returns the slowest upload's duration in seconds."""
    record(readers, taps)

    async def one(reader: SimulatedReader) -> float:
        started = time.perf_counter()
        result = await reader.upload()
        assert result.complete, (reader.reader_id, result)
        return time.perf_counter() - started

    durations = await asyncio.gather(*(one(r) for r in readers.values() if r.queue_depth))
    return max(durations, default=0.0)


def recorded_taps(readers: Mapping[str, SimulatedReader]) -> list[tuple[str, QueuedTap]]:
    return [(rid, t) for rid, r in readers.items() for t in r.history]


def game_context(definition: Mapping[str, Any]) -> engine.GameContext:
    game = definition["game"]
    rules = game.get("rules") or {}
    return engine.GameContext(
        rules=engine.Rules(
            starts_at=parse_time(game["starts_at"]),
            ends_at=parse_time(game["ends_at"]),
            timezone=game.get("timezone", "Europe/London"),
            journey_window_minutes=rules.get("journey_window_minutes", 60),
            points_per_leg=rules.get("points_per_leg", 10),
            max_speed_kmh=rules.get("max_speed_kmh", 25.0),
            max_points_per_day=rules.get("max_points_per_day"),
        ),
        checkpoints={
            c["code"]: engine.Checkpoint(
                code=c["code"], lat=c["lat"], lon=c["lon"], tags=frozenset(c.get("tags") or ())
            )
            for c in definition["checkpoints"]
        },
        campaigns=[],
    )


def expected_points(
    definition: Mapping[str, Any],
    taps: Iterable[tuple[str, QueuedTap]],
    rejected: Iterable[tuple[str, int, int]] = (),
) -> dict[str, int]:
    """Points per card UID by the pure engine, from ``(reader_id, tap)`` pairs as the
    readers recorded them, leaving out ``(reader_id, boot, seq)`` the server rejected.
    Every card of the definition appears (0 when it never scored). One card per holder:
    the definition registers each player with one card."""
    ctx = game_context(definition)
    checkpoint_of = {r["id"]: r["checkpoint"] for r in definition["readers"]}
    skip = set(rejected)
    by_card: dict[str, list[engine.Tap]] = defaultdict(list)
    for reader_id, tap in taps:
        if (reader_id, tap.boot, tap.seq) in skip:
            continue
        by_card[tap.card_uid].append(
            engine.Tap(
                key=f"{reader_id}/{tap.boot}/{tap.seq}",
                checkpoint_code=checkpoint_of[reader_id],
                tapped_at=tap.tapped_at,
            )
        )
    points = {c["uid"]: 0 for c in definition["cards"]}
    for uid, card_taps in by_card.items():
        if uid in points:
            points[uid] = sum(
                o.points for o in engine.score_holder(card_taps, engine.Holder(), ctx)
            )
    return points


async def stored_points(db: AsyncEngine, slug: str) -> dict[str, int]:
    """Every card's holder total in the database (0 when it has none)."""
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.uid, COALESCE(ht.points, 0) FROM cards c "
                "JOIN games g ON g.id = c.game_id "
                "LEFT JOIN holder_totals ht ON ht.game_id = c.game_id "
                "AND ht.holder_id = c.holder_id WHERE g.slug = :slug"
            ),
            {"slug": slug},
        )
        return {uid: int(points) for uid, points in rows}


async def tap_counts(db: AsyncEngine, slug: str) -> tuple[int, int]:
    """(stored taps, taps still without an outcome) of a game."""
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT COUNT(*), COUNT(*) FILTER (WHERE t.outcome IS NULL) FROM taps t "
                    "JOIN games g ON g.id = t.game_id WHERE g.slug = :slug"
                ),
                {"slug": slug},
            )
        ).one()
        return int(row[0]), int(row[1])


async def settled_tap_counts(db: AsyncEngine, slug: str, timeout_s: float = 60) -> tuple[int, int]:
    """``tap_counts`` once no tap waits for the scorer (uploads are answered before their
    taps are scored), or as they are after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        counts = await tap_counts(db, slug)
        if counts[1] == 0 or asyncio.get_running_loop().time() > deadline:
            return counts
        await asyncio.sleep(0.1)


async def stored_keys(db: AsyncEngine, slug: str, keys: list[str]) -> set[str]:
    """Which of these source keys (``reader/boot/seq``) are stored taps of the game."""
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT t.source_key FROM taps t JOIN games g ON g.id = t.game_id "
                "WHERE g.slug = :slug AND t.source_key = ANY(:keys)"
            ),
            {"slug": slug, "keys": keys},
        )
        return {r[0] for r in rows}


async def ledger_problems(db: AsyncEngine, slug: str) -> list[str]:
    """The game's own check: stored totals against sums over the points ledger."""

    async with make_sessionmaker(db)() as session:
        game_id = (
            await session.execute(text("SELECT id FROM games WHERE slug = :s"), {"s": slug})
        ).scalar_one()
        return await ledger_mismatches(session, game_id)


def differences(expected: Mapping[str, int], got: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    return {
        k: (expected.get(k, 0), got.get(k, 0))
        for k in sorted(set(expected) | set(got))
        if expected.get(k, 0) != got.get(k, 0)
    }


async def board_differences(db: AsyncEngine, redis_url: str, slug: str) -> list[str]:
    """The live boards in Redis against boards rebuilt from the database now (into other
    keys of the same Redis): every team board of every kind, and the players board."""

    client = Redis.from_url(redis_url, decode_responses=True)
    live = RedisStore(client, key_prefix="tt")
    check = RedisStore(client, key_prefix="faultcheck")
    try:
        async with make_sessionmaker(db)() as session:
            game_id = (
                await session.execute(text("SELECT id FROM games WHERE slug = :s"), {"s": slug})
            ).scalar_one()
            snapshot = await load_snapshot(session, game_id)
        await check.replace(slug, snapshot)
        problems = []
        if not await live.exists(slug):
            return ["the live boards are missing"]
        for by in ("total", "average", "distance"):
            for kind in (None, *TEAM_KINDS):
                a = (await live.teams(slug, by=by, kind=kind, limit=1000)).entries
                b = (await check.teams(slug, by=by, kind=kind, limit=1000)).entries
                if a != b and _entry_diff(a, b):
                    problems.append(f"teams {by}/{kind}: {_entry_diff(a, b)}")
        a_players = (await live.players(slug, limit=1000)).entries
        b_players = (await check.players(slug, limit=1000)).entries
        if a_players != b_players and _entry_diff(a_players, b_players):
            problems.append(f"players: {_entry_diff(a_players, b_players)}")
        await check.delete(slug)
        return problems
    finally:
        await client.aclose()


def _entry_diff(live: list[Any], rebuilt: list[Any]) -> str:
    """Rows that differ, by team code or nickname, field by field (live, rebuilt)."""
    a = {e.as_dict().get("team") or e.as_dict()["nickname"]: e.as_dict() for e in live}
    b = {e.as_dict().get("team") or e.as_dict()["nickname"]: e.as_dict() for e in rebuilt}
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key, {}), b.get(key, {})
        fields = {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)}
        live_km, rebuilt_km = fields.get("distance_km", (0.0, 0.0))
        if abs((live_km or 0.0) - (rebuilt_km or 0.0)) <= DISTANCE_TOLERANCE_KM:
            fields.pop("distance_km", None)
        if fields:
            out.append(f"{key}: {fields}")
    return "; ".join(out[:6])
