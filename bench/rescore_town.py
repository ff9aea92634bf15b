"""The town of the re-score benchmark, shared by ``bench_rescore.py``,
``bench_board_burst.py`` and ``bench_leaderboard_reads.py``: its game definition (120 boxes on
a grid, 40 teams, two campaigns, a daily cap), taps generated as journeys between
neighbouring boxes, bulk-loaded with COPY, and the VACUUM a live server's autovacuum does.
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.game_files import offset

GAME_START = datetime(2027, 4, 30, 23, 0, tzinfo=UTC)  # 2027-05-01 00:00 London
GAME_DAYS = 42
ORIGIN = (53.7800, -2.2600)
GRID = (12, 10)  # boxes 600 m apart
SPACING_M = 600.0
AGE_BANDS = ("5-11", "12-15", "25-44", "45-64")


def definition(slug: str) -> dict[str, Any]:
    checkpoints = []
    for i in range(GRID[0]):
        for j in range(GRID[1]):
            lat, lon = offset(*ORIGIN, i * SPACING_M, j * SPACING_M)
            code = f"BX{i:02d}{j:02d}"
            tags = ["park"] if (i * 7 + j * 3) % 5 == 0 else []
            checkpoints.append({"code": code, "name": code, "lat": lat, "lon": lon, "tags": tags})
    return {
        "game": {
            "slug": slug,
            "name": "Benchmark town",
            "timezone": "Europe/London",
            "starts_at": "2027-05-01T00:00:00+01:00",
            "ends_at": "2027-06-12T00:00:00+01:00",
            "rules": {
                "journey_window_minutes": 60,
                "points_per_leg": 10,
                "max_speed_kmh": 25,
                "max_points_per_day": 150,
            },
        },
        "checkpoints": checkpoints,
        "teams": [
            {"code": f"T{k:02d}", "name": f"Team {k}", "kind": "school" if k % 2 else "community"}
            for k in range(40)
        ],
        "campaigns": [
            {
                "code": "PARKS-WEEK",
                "name": "Double points in the parks",
                "multiplier": 2,
                "starts_at": "2027-05-15T00:00:00+01:00",
                "ends_at": "2027-05-22T00:00:00+01:00",
                "checkpoint_tags": ["park"],
            },
            {
                "code": "KIDS-HALF-TERM",
                "name": "Half term for 5-11s",
                "multiplier": 1.5,
                "starts_at": "2027-05-29T00:00:00+01:00",
                "ends_at": "2027-06-06T00:00:00+01:00",
                "age_bands": ["5-11"],
            },
        ],
    }


def neighbours() -> dict[tuple[int, int], list[tuple[int, int]]]:
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i in range(GRID[0]):
        for j in range(GRID[1]):
            out[(i, j)] = [
                (i + di, j + dj)
                for di in (-1, 0, 1)
                for dj in (-1, 0, 1)
                if (di or dj) and 0 <= i + di < GRID[0] and 0 <= j + dj < GRID[1]
            ]
    return out


def generate_taps(rng: random.Random, holders: int, taps: int) -> list[tuple[int, int, datetime]]:
    """(holder index, checkpoint index, tapped_at): journeys of 2-6 taps between
    neighbouring boxes 5-25 minutes apart, with some repeats, too-fast taps and taps from
    before the game; exactly ``taps`` of them."""
    near = neighbours()
    per_holder = [0] * holders
    for k in range(taps):  # every holder gets >= 1; the rest skewed (some walk a lot)
        per_holder[k % holders if k < holders else int(holders * rng.random() ** 1.6)] += 1
    out: list[tuple[int, int, datetime]] = []
    for h, n in enumerate(per_holder):
        made = 0
        while made < n:
            day = rng.randrange(-1 if rng.random() < 0.005 else 0, GAME_DAYS)
            t = GAME_START + timedelta(days=day, hours=7 + rng.random() * 12)
            box = (rng.randrange(GRID[0]), rng.randrange(GRID[1]))
            for _ in range(min(n - made, rng.randint(2, 6))):
                out.append((h, box[0] * GRID[1] + box[1], t))
                made += 1
                roll = rng.random()
                if roll < 0.03:
                    t += timedelta(seconds=rng.randint(20, 120))  # repeat
                elif roll < 0.06:
                    box = rng.choice(near[box])
                    t += timedelta(seconds=rng.randint(30, 70))  # too fast
                else:
                    box = rng.choice(near[box])
                    t += timedelta(seconds=rng.randint(300, 1500))
    return out


async def bulk_load(conn: asyncpg.Connection, game_id: int, holders: int, taps: int) -> None:
    rng = random.Random(20270501)
    teams = [
        r["id"]
        for r in await conn.fetch("SELECT id FROM teams WHERE game_id=$1 ORDER BY id", game_id)
    ]
    boxes = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM checkpoints WHERE game_id=$1 ORDER BY code", game_id
        )
    ]
    base = await conn.fetchval("SELECT coalesce(max(id), 0) FROM holders")
    now = datetime.now(UTC)
    holder_ids = [base + 1 + h for h in range(holders)]
    await conn.copy_records_to_table(
        "holders",
        records=[(i, game_id, now) for i in holder_ids],
        columns=("id", "game_id", "created_at"),
    )
    team_of = [rng.choice(teams) if rng.random() < 0.7 else None for _ in range(holders)]
    await conn.copy_records_to_table(
        "cards",
        records=[
            (
                hid,
                game_id,
                f"{hid:07d}",
                f"04{hid:012X}",
                f"K{hid}",
                "rfid",
                team_of[k],
                hid,
                None,
                None,
            )
            for k, hid in enumerate(holder_ids)
        ],
        columns=(
            "id",
            "game_id",
            "number",
            "uid",
            "activation_code",
            "kind",
            "issued_team_id",
            "holder_id",
            "valid_from",
            "valid_until",
        ),
    )
    await conn.copy_records_to_table(
        "team_memberships",
        records=[(hid, game_id, hid, team_of[k], None) for k, hid in enumerate(holder_ids)],
        columns=("id", "game_id", "holder_id", "team_id", "valid_from"),
    )
    players = [
        (
            hid,
            game_id,
            hid,
            f"Player {hid}",
            f"player {hid}",
            rng.random() < 0.5,
            False,
            rng.choice(AGE_BANDS),
            None,
            team_of[k],
            None,
            None,
            None,
            None,
            "not_given",
            now,
            None,
        )
        for k, hid in enumerate(holder_ids)
        if rng.random() < 0.4
    ]
    await conn.copy_records_to_table(
        "players",
        records=players,
        columns=(
            "id",
            "game_id",
            "holder_id",
            "nickname",
            "nickname_key",
            "public",
            "nickname_hidden",
            "age_band",
            "gender",
            "team_id",
            "email",
            "lsoa_code",
            "imd_decile",
            "imd_nation",
            "deprivation_status",
            "registered_at",
            "erased_at",
        ),
    )
    for table in ("holders", "cards", "team_memberships", "players"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    generated = generate_taps(rng, holders, taps)
    generated.sort(key=lambda x: x[2])  # boxes upload roughly in time order
    records = []
    for k, (h, box, t) in enumerate(generated):
        hid = holder_ids[h]
        records.append(
            (
                game_id,
                "reader",
                f"R{box}/0/{k}",
                f"R{box}",
                0,
                k,
                hid,
                hid,
                boxes[box],
                f"04{hid:012X}",
                t,
                t,
                t,
                0,
                0.0,
            )
        )
    await conn.copy_records_to_table(
        "taps",
        records=records,
        columns=(
            "game_id",
            "source",
            "source_key",
            "reader_id",
            "boot",
            "seq",
            "card_id",
            "holder_id",
            "checkpoint_id",
            "card_uid",
            "tapped_at_raw",
            "tapped_at",
            "received_at",
            "points",
            "distance_m",
        ),
    )


async def vacuum(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM (ANALYZE) taps")
        await conn.execute("VACUUM (ANALYZE) holder_days, holder_totals, holder_team_totals")
        # Autovacuum's work on a live server: scoring emptied a queue of a million taps.
        await conn.execute("VACUUM pending_taps")
    finally:
        await conn.close()
