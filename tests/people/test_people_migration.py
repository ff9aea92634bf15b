"""Migration 0014 on existing players: skeleton keys (look-alikes kept apart) and made-up
public names (SQLite file database; the schema itself is compared on both backends by
tests/foundation/test_migrations.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from kernel.db import make_engine
from names.nicknames import nickname_key
from names.public_names import looks_generated
from taptrail.migrate import upgrade


async def test_existing_players_get_skeleton_keys_and_public_names(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0013")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO games (id, slug, name, timezone, starts_at, ends_at, "
                    "journey_window_minutes, points_per_leg, max_speed_kmh, "
                    "min_members_for_average, checkin_radius_m, daytime_start_hour, "
                    "daytime_end_hour, email_retention_days, scoring_version, created_at, "
                    "updated_at) VALUES (1, 'old-town', 'Old town', 'Europe/London', "
                    "'2027-05-01', '2027-06-01', 60, 10, 30, 5, 40, 7, 19, 90, 1, "
                    "'2027-04-01', '2027-04-01')"
                )
            )
            await conn.execute(
                text("INSERT INTO holders (id, game_id, created_at) VALUES (:i, 1, '2027-05-01')"),
                [{"i": i} for i in (1, 2, 3)],
            )
            players = [
                (1, "Swift Fox", "swift fox", None),
                (2, "Swift-Fox", "swift-fox", None),  # the same nickname for the new key
                (3, None, None, "2027-05-10"),  # erased
            ]
            for pid, nick, key, erased in players:
                await conn.execute(
                    text(
                        "INSERT INTO players (id, game_id, holder_id, nickname, nickname_key, "
                        "public, nickname_hidden, deprivation_status, registered_at, erased_at) "
                        "VALUES (:id, 1, :id, :nick, :key, 1, 0, 'not_given', '2027-05-02', "
                        ":erased)"
                    ),
                    {"id": pid, "nick": nick, "key": key, "erased": erased},
                )
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT id, nickname_key, public_name, show_nickname FROM players "
                        "ORDER BY id"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    key = nickname_key("Swift Fox")
    assert [(r[0], r[1]) for r in rows] == [(1, key), (2, f"{key}#2"), (3, None)]
    assert all(looks_generated(r[2]) for r in rows[:2]) and rows[0][2] != rows[1][2]
    assert rows[2][2] is None
    assert [bool(r[3]) for r in rows] == [False, False, False]
