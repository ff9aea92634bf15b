"""SQL of the stored totals: applying deltas, rebuilding them from the ledger, and the
sums that the ledger check compares (ledger against stored totals)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Table, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from game.models import (
    HolderDay,
    HolderTeamTotal,
    HolderTotal,
    Tap,
    TeamTotal,
)
from kernel.db import is_postgres, one_of


def _upsert(session: AsyncSession, table: Table) -> Any:
    return (pg_insert if is_postgres(session) else sqlite_insert)(table)


async def add_to(
    session: AsyncSession,
    table: Any,
    keys: Sequence[str],
    rows: Mapping[tuple[Any, ...], Mapping[str, int | float]],
) -> None:
    """Adds deltas to total rows, creating them at zero first (INSERT … ON CONFLICT).

    Rows are written in key order: concurrent transactions adding to shared rows (team
    totals) then lock them in the same order and cannot deadlock.
    """
    if not rows:
        return
    ordered = sorted(rows.items(), key=lambda item: item[0])
    columns = list(ordered[0][1].keys())
    if is_postgres(session):
        await _pg_add_to(session, table, keys, columns, ordered)
        return
    values = [dict(zip(keys, key, strict=True)) | dict(delta) for key, delta in ordered]
    stmt = _upsert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: table.c[c] + stmt.excluded[c] for c in columns},
    )
    await session.execute(stmt, values)


_PG_ARRAY_TYPES = {"local_date": "date", "distance_m": "float8"}


async def _pg_add_to(
    session: AsyncSession,
    table: Any,
    keys: Sequence[str],
    columns: Sequence[str],
    ordered: Sequence[tuple[tuple[Any, ...], Mapping[str, int | float]]],
) -> None:
    """``add_to`` as one statement over arrays: rows still go in key order."""
    names = [*keys, *columns]
    arrays = ", ".join(f"CAST(:{n} AS {_PG_ARRAY_TYPES.get(n, 'bigint')}[])" for n in names)
    listed = ", ".join(names)
    updates = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in columns)
    sql = (
        f"INSERT INTO {table.name} ({listed}) SELECT {listed} FROM unnest({arrays})"
        f" AS v({listed}) ORDER BY {', '.join(keys)}"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )
    params: dict[str, list[Any]] = {n: [] for n in names}
    for key, delta in ordered:
        for name, value in zip(keys, key, strict=True):
            params[name].append(value)
        for name in columns:
            params[name].append(delta.get(name, 0))
    await session.execute(text(sql), params)


async def holder_team_counts(
    session: AsyncSession, game_id: int, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    pairs = list(pairs)
    if not pairs:
        return {}
    holder_ids = sorted({h for h, _ in pairs})
    rows = await session.execute(
        select(
            HolderTeamTotal.holder_id, HolderTeamTotal.team_id, HolderTeamTotal.counted_taps
        ).where(
            HolderTeamTotal.game_id == game_id,
            one_of(session, HolderTeamTotal.holder_id, holder_ids),
        )
    )
    return {(r.holder_id, r.team_id): r.counted_taps for r in rows}


TOTAL_TABLES: tuple[Any, ...] = (HolderTotal, HolderTeamTotal, TeamTotal, HolderDay)


def _flag(condition: Any) -> Any:
    return func.cast(condition, Integer())


def _ledger_columns() -> dict[str, Any]:
    """Aggregates of the ledger, by the names of the totals' columns."""
    return {
        "taps": func.count(Tap.outcome),
        "counted_taps": func.coalesce(func.sum(_flag(Tap.outcome != "out_of_game")), 0),
        "legs": func.coalesce(func.sum(_flag(Tap.outcome.in_(("leg", "capped")))), 0),
        "points": func.coalesce(func.sum(Tap.points), 0),
        "distance_m": func.coalesce(func.sum(Tap.distance_m), 0.0),
    }


async def rebuild_totals(session: AsyncSession, game_id: int) -> None:
    """Recomputes every stored total of a game from its ledger (the taps' outcomes).

    The taps are aggregated once, per (holder, local day, team), into a temporary table; the
    four total tables are sums of that much smaller aggregate.
    """
    for model in TOTAL_TABLES:
        await session.execute(delete(model).where(model.game_id == game_id))
    pg = is_postgres(session)
    await session.execute(text("DROP TABLE IF EXISTS _tt_ledger"))
    await session.execute(
        text(
            "CREATE TEMP TABLE _tt_ledger"
            + (" ON COMMIT DROP" if pg else "")
            + " AS SELECT holder_id, local_date, team_id, count(outcome) AS taps,"
            " coalesce(sum(CAST(outcome <> 'out_of_game' AS INTEGER)), 0) AS counted_taps,"
            " coalesce(sum(CAST(outcome IN ('leg', 'capped') AS INTEGER)), 0) AS legs,"
            " coalesce(sum(points), 0) AS points,"
            " coalesce(sum(distance_m), 0.0) AS distance_m"
            " FROM taps WHERE game_id = :game_id AND outcome IS NOT NULL"
            " GROUP BY holder_id, local_date, team_id"
        ),
        {"game_id": game_id},
    )
    sums = "sum(counted_taps), sum(legs), sum(points), sum(distance_m)"
    statements = (
        "INSERT INTO holder_totals (game_id, holder_id, taps, counted_taps, legs, points,"
        f" distance_m) SELECT :game_id, holder_id, sum(taps), {sums} FROM _tt_ledger"
        " GROUP BY holder_id",
        "INSERT INTO holder_days (game_id, holder_id, local_date, taps, counted_taps, legs,"
        f" points, distance_m) SELECT :game_id, holder_id, local_date, sum(taps), {sums}"
        " FROM _tt_ledger WHERE local_date IS NOT NULL GROUP BY holder_id, local_date",
        "INSERT INTO holder_team_totals (game_id, holder_id, team_id, counted_taps, legs,"
        f" points, distance_m) SELECT :game_id, holder_id, team_id, {sums} FROM _tt_ledger"
        " WHERE team_id IS NOT NULL GROUP BY holder_id, team_id",
        "INSERT INTO team_totals (game_id, team_id, legs, points, distance_m, active_members)"
        " SELECT :game_id, team_id, sum(legs), sum(points), sum(distance_m),"
        " sum(CAST(counted_taps > 0 AS INTEGER)) FROM holder_team_totals"
        " WHERE game_id = :game_id GROUP BY team_id",
        "DROP TABLE _tt_ledger",
    )
    for statement in statements:
        await session.execute(text(statement), {"game_id": game_id})


async def points_total(session: AsyncSession, game_id: int) -> int:
    value = await session.scalar(
        select(func.coalesce(func.sum(HolderTotal.points), 0)).where(HolderTotal.game_id == game_id)
    )
    return int(value or 0)


HOLDER_FIELDS = ("taps", "counted_taps", "legs", "points", "distance_m")
TEAM_FIELDS = ("legs", "points", "distance_m", "active_members")


def _vector(row: Any, fields: Sequence[str]) -> tuple[float, ...]:
    return tuple(float(getattr(row, f) or 0) for f in fields)


async def ledger_sums(
    session: AsyncSession, game_id: int
) -> dict[str, dict[Any, tuple[float, ...]]]:
    """Every total computed from the ledger, keyed like the stored totals (see
    :func:`stored_sums`); all-zero rows are left out."""
    cols = _ledger_columns()
    holder_fields = [cols[f].label(f) for f in HOLDER_FIELDS]
    team_fields = [cols[f].label(f) for f in HOLDER_FIELDS[1:]]
    scored = (Tap.game_id == game_id, Tap.outcome.is_not(None))
    out: dict[str, dict[Any, tuple[float, ...]]] = {}
    rows = await session.execute(
        select(Tap.holder_id, *holder_fields).where(*scored).group_by(Tap.holder_id)
    )
    out["holders"] = {r.holder_id: _vector(r, HOLDER_FIELDS) for r in rows}
    rows = await session.execute(
        select(Tap.holder_id, Tap.local_date, *holder_fields)
        .where(*scored, Tap.local_date.is_not(None))
        .group_by(Tap.holder_id, Tap.local_date)
    )
    out["days"] = {(r.holder_id, r.local_date): _vector(r, HOLDER_FIELDS) for r in rows}
    rows = await session.execute(
        select(Tap.holder_id, Tap.team_id, *team_fields)
        .where(*scored, Tap.team_id.is_not(None))
        .group_by(Tap.holder_id, Tap.team_id)
    )
    holder_teams = {(r.holder_id, r.team_id): _vector(r, HOLDER_FIELDS[1:]) for r in rows}
    out["holder_teams"] = holder_teams
    teams: dict[Any, list[float]] = {}
    for (_, team_id), (counted, legs, points, distance) in holder_teams.items():
        acc = teams.setdefault(team_id, [0.0, 0.0, 0.0, 0.0])
        acc[0] += legs
        acc[1] += points
        acc[2] += distance
        acc[3] += 1 if counted > 0 else 0
    out["teams"] = {k: tuple(v) for k, v in teams.items()}
    return {name: _nonzero(values) for name, values in out.items()}


async def stored_sums(
    session: AsyncSession, game_id: int
) -> dict[str, dict[Any, tuple[float, ...]]]:
    """The stored totals: ``holders`` {holder: (taps, counted, legs, points, distance_m)},
    ``days`` {(holder, local_date): same}, ``holder_teams`` {(holder, team): (counted, legs,
    points, distance_m)}, ``teams`` {team: (legs, points, distance_m, active_members)}."""
    specs: tuple[tuple[str, Any, tuple[str, ...], Sequence[str]], ...] = (
        ("holders", HolderTotal, ("holder_id",), HOLDER_FIELDS),
        ("days", HolderDay, ("holder_id", "local_date"), HOLDER_FIELDS),
        ("holder_teams", HolderTeamTotal, ("holder_id", "team_id"), HOLDER_FIELDS[1:]),
        ("teams", TeamTotal, ("team_id",), TEAM_FIELDS),
    )
    out: dict[str, dict[Any, tuple[float, ...]]] = {}
    for name, model, keys, fields in specs:
        rows = await session.execute(
            select(*(getattr(model, c) for c in (*keys, *fields))).where(model.game_id == game_id)
        )
        out[name] = {
            (r[0] if len(keys) == 1 else tuple(r[: len(keys)])): tuple(
                float(v or 0) for v in r[len(keys) :]
            )
            for r in rows
        }
    return {name: _nonzero(values) for name, values in out.items()}


def _nonzero(values: dict[Any, tuple[float, ...]]) -> dict[Any, tuple[float, ...]]:
    return {k: v for k, v in values.items() if any(abs(x) > 1e-9 for x in v)}


def as_decimal(value: Decimal | None) -> Decimal:
    return Decimal(1) if value is None else Decimal(value)


def keep_date(value: date | None) -> date | None:
    return value
