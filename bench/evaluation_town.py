"""The games of the evaluation benchmark (``bench_evaluation.py``): their definition, and
neighbourhoods, players, survey answers and daily activity bulk-loaded with COPY."""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.sample_data import sample_participants  # noqa: E402
from game.instruments import NATURE_KEYS  # noqa: E402

GAME_START = date(2027, 5, 1)
GAME_DAYS = 42
AREAS = 400
AGES = ("0-4", "5-11", "12-15", "16-24", "25-44", "45-64", "65+")
AGE_WEIGHTS = (0.03, 0.42, 0.10, 0.05, 0.22, 0.13, 0.05)
GENDERS = ("female", "male", "non_binary", "prefer_not_to_say")
GENDER_WEIGHTS = (0.5, 0.45, 0.01, 0.04)


def definition(slug: str) -> str:
    teams = [
        {"code": f"T{k:02d}", "name": f"Team {k}", "kind": ("school", "community", "family")[k % 3]}
        for k in range(30)
    ]
    return json.dumps(
        {
            "game": {
                "slug": slug,
                "name": f"Benchmark town {slug}",
                "timezone": "Europe/London",
                "starts_at": "2027-05-01T00:00:00+01:00",
                "ends_at": "2027-06-12T00:00:00+01:00",
            },
            "checkpoints": [
                {"code": "A", "name": "A", "lat": 53.79, "lon": -2.24, "tags": []},
            ],
            "teams": teams,
        }
    )


async def load_areas(conn: asyncpg.Connection, tag: str) -> list[tuple[str, int]]:
    rng = random.Random(1)
    rows = []
    for i in range(AREAS):
        decile = min(10, 1 + int(10 * rng.random() ** 1.6))  # skewed to the deprived end
        rows.append(
            (
                f"E01B{tag}{i:04d}",
                f"Bench {i:03d}",
                f"E07B{tag}{i % 2}",
                f"District {i % 2}",
                "england",
                "2025",
                10.0,
                1000 + i,
                decile,
                rng.randint(1200, 2000),
            )
        )
    await conn.copy_records_to_table(
        "lsoa_areas",
        records=rows,
        columns=(
            "code",
            "name",
            "lad_code",
            "lad_name",
            "nation",
            "edition",
            "imd_score",
            "imd_rank",
            "imd_decile",
            "population",
        ),
    )
    return [(r[0], r[8]) for r in rows]


async def load_game(
    conn: asyncpg.Connection,
    game_id: int,
    areas: list[tuple[str, int]],
    players: int,
    daily_rows: int,
    seed: int,
) -> None:
    rng = random.Random(seed)
    teams = [r["id"] for r in await conn.fetch("SELECT id FROM teams WHERE game_id=$1", game_id)]
    now = datetime.now(UTC)
    hbase = await conn.fetchval("SELECT coalesce(max(id), 0) FROM holders")
    pbase = await conn.fetchval("SELECT coalesce(max(id), 0) FROM players")
    holder_ids = [hbase + 1 + k for k in range(players)]
    player_ids = [pbase + 1 + k for k in range(players)]
    await conn.copy_records_to_table(
        "holders",
        records=[(h, game_id, now) for h in holder_ids],
        columns=("id", "game_id", "created_at"),
    )
    by_quintile: dict[int, list[tuple[str, int]]] = {}
    for code, decile in areas:
        by_quintile.setdefault((decile + 1) // 2, []).append((code, decile))
    people = sample_participants(players, seed=seed)
    player_rows = []
    for k, person in enumerate(people):
        if person.imd_quintile is not None and by_quintile.get(person.imd_quintile):
            code, decile = rng.choice(by_quintile[person.imd_quintile])
        else:
            code, decile = None, None
        player_rows.append(
            (
                player_ids[k],
                game_id,
                holder_ids[k],
                False,
                False,
                rng.choices(AGES, AGE_WEIGHTS)[0],
                rng.choices(GENDERS, GENDER_WEIGHTS)[0],
                rng.choice(teams) if rng.random() < 0.7 else None,
                code,
                decile,
                "england" if decile else None,
                "found" if decile else "not_given",
                now,
            )
        )
    await conn.copy_records_to_table(
        "players",
        records=player_rows,
        columns=(
            "id",
            "game_id",
            "holder_id",
            "public",
            "nickname_hidden",
            "age_band",
            "gender",
            "team_id",
            "lsoa_code",
            "imd_decile",
            "imd_nation",
            "deprivation_status",
            "registered_at",
        ),
    )
    rbase = await conn.fetchval("SELECT coalesce(max(id), 0) FROM survey_responses")
    responses = []
    for k, person in enumerate(people):
        for wave, a in person.waves.items():
            rbase += 1
            responses.append(
                (
                    rbase,
                    game_id,
                    player_ids[k],
                    wave,
                    "self",
                    a.activity_days,
                    a.belonging,
                    *a.nature,
                    "[]",
                    GAME_START,
                    now,
                )
            )
    await conn.copy_records_to_table(
        "survey_responses",
        records=responses,
        columns=(
            "id",
            "game_id",
            "player_id",
            "wave",
            "answered_by",
            "activity_days",
            "belonging",
            *NATURE_KEYS,
            "declined",
            "answered_on",
            "submitted_at",
        ),
    )

    # daily activity: exactly ``daily_rows`` (holder, day) rows, spread over the players
    per_player = [daily_rows // players] * players
    for k in range(daily_rows - sum(per_player)):
        per_player[k] += 1
    days_rows = []
    for k, n in enumerate(per_player):
        for day in sorted(rng.sample(range(GAME_DAYS), min(n, GAME_DAYS))):
            taps = rng.randint(1, 12)
            legs = max(0, taps - 1)
            days_rows.append(
                (
                    game_id,
                    holder_ids[k],
                    GAME_START + timedelta(days=day),
                    taps,
                    taps,
                    legs,
                    10 * legs,
                    650.0 * legs,
                )
            )
        if len(days_rows) >= 200_000:
            await _copy_days(conn, days_rows)
            days_rows = []
    await _copy_days(conn, days_rows)
    await conn.execute(
        "INSERT INTO holder_totals (game_id, holder_id, taps, counted_taps, legs, points, "
        "distance_m) SELECT game_id, holder_id, sum(taps), sum(counted_taps), sum(legs), "
        "sum(points), sum(distance_m) FROM holder_days WHERE game_id=$1 GROUP BY game_id, "
        "holder_id",
        game_id,
    )
    await conn.execute("ANALYZE")


async def _copy_days(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        await conn.copy_records_to_table(
            "holder_days",
            records=rows,
            columns=(
                "game_id",
                "holder_id",
                "local_date",
                "taps",
                "counted_taps",
                "legs",
                "points",
                "distance_m",
            ),
        )
