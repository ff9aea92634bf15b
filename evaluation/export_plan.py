"""Planning an anonymised export: bands from the data, then k-anonymity over every released
column of the players file and of the daily file (see :mod:`evaluation.exports`).

Memory: the players are streamed three times (histograms for the bands, class counts, the
suppressed players) and the daily rows twice (histograms, class counts); what is kept is one
count per distinct value and per combination of released values, never one entry per row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import repository as repo
from evaluation.anonymise import Hierarchy, KAnonymityPlan, hierarchy_of, plan_k_anonymity
from evaluation.bands import Bands, bands_from_histogram, histogram_value
from evaluation.imd_import import quintile_from_decile
from kernel.geodesy import km

__all__ = [
    "DAILY_MEASURES",
    "PLAYER_MEASURES",
    "QUASI_IDENTIFIERS",
    "band_hierarchy",
    "daily_values",
    "km",
    "plan_daily",
    "plan_players",
    "player_values",
    "quintile_key",
]

QUASI_IDENTIFIERS: Final = ("age_band", "gender", "imd_quintile", "imd_nation", "team_kind")
STREAM_ROWS: Final = 2000
#: released activity measures, each banded: (column, integer?)
PLAYER_MEASURES: Final = (
    ("taps", True),
    ("legs", True),
    ("points", True),
    ("distance_km", False),
    ("active_days", True),
    ("survey_waves_answered", True),
)
DAILY_MEASURES: Final = (("taps", True), ("legs", True), ("points", True), ("distance_km", False))


def quintile_key(
    age: str | None, gender: str | None, decile: int | None, nation: str | None, team: str
) -> tuple[Any, ...]:
    quintile = quintile_from_decile(decile) if decile is not None else None
    return (age, gender, quintile, nation if quintile is not None else None, team)


def band_hierarchy(bands: Bands) -> Hierarchy:
    """The levels of a banded measure: finest bands, pairs merged, played or not, any."""
    names: list[str] = []
    descriptions: list[str] = []
    for level in range(1, bands.levels + 1):
        positive = len(bands.labels(level)) - 1
        if level == bands.levels:
            names.append("any")
            descriptions.append(f'{bands.column} replaced by "any"')
        elif positive == 1:
            names.append("played")
            descriptions.append(f"{bands.column}: zero or not (one band above zero)")
        else:
            names.append(f"bands_{positive}")
            descriptions.append(f"{bands.column} in {positive} bands above zero")
    return Hierarchy(
        bands.column, tuple(names), tuple(descriptions), lambda i, level: bands.label(i, level)
    )


async def _stream(session: AsyncSession, stmt: Any) -> AsyncIterator[Sequence[Any]]:
    # Core-level streaming (a server-side cursor on PostgreSQL): no ORM row processing
    connection = await session.connection()
    result = await connection.stream(stmt.execution_options(yield_per=STREAM_ROWS))
    try:
        async for part in result.partitions(STREAM_ROWS):
            for row in part:
                yield row
    finally:
        await result.close()


def player_values(row: Sequence[Any]) -> tuple[Any, ...]:
    taps, legs, points, metres, days, waves = row[6:12]
    return (taps, legs, points, km(metres or 0.0), days, waves)


def daily_values(row: Sequence[Any]) -> tuple[Any, ...]:
    taps, legs, points, metres = row[7:11]
    return (taps, legs, points, km(metres or 0.0))


def _histograms(measures: Sequence[tuple[str, bool]]) -> list[dict[float, int]]:
    return [{} for _ in measures]


def _count(histograms: list[dict[float, int]], measures: Any, values: Sequence[Any]) -> None:
    for h, (_, integer), v in zip(histograms, measures, values, strict=True):
        x = histogram_value(v, integer=integer)
        h[x] = h.get(x, 0) + 1


async def plan_players(
    session: AsyncSession, game_id: int, k: int
) -> tuple[KAnonymityPlan, dict[str, Bands], frozenset[int]]:
    """Three passes over the players (memory: per distinct value and per combination)."""
    query = repo.export_players_query
    histograms = _histograms(PLAYER_MEASURES)
    async for row in _stream(session, query(game_id)):
        _count(histograms, PLAYER_MEASURES, player_values(row))
    bands = {
        col: bands_from_histogram(col, h, integer=integer)
        for (col, integer), h in zip(PLAYER_MEASURES, histograms, strict=True)
    }
    ordered = [bands[col] for col, _ in PLAYER_MEASURES]

    def raw_key(row: Sequence[Any]) -> tuple[Any, ...]:
        indices = (b.index(v) for b, v in zip(ordered, player_values(row), strict=True))
        return (*quintile_key(*row[1:6]), *indices)

    counts: dict[tuple[Any, ...], int] = {}
    async for row in _stream(session, query(game_id)):
        key = raw_key(row)
        counts[key] = counts.get(key, 0) + 1
    plan = plan_k_anonymity(
        counts,
        k=k,
        quasi_identifiers=(*QUASI_IDENTIFIERS, *(col for col, _ in PLAYER_MEASURES)),
        hierarchies=(
            *(hierarchy_of(q) for q in QUASI_IDENTIFIERS),
            *(band_hierarchy(b) for b in ordered),
        ),
    )
    suppressed: set[int] = set()
    if plan.manifest["records_suppressed"]:
        async for row in _stream(session, query(game_id)):
            if plan.kept(raw_key(row)) is None:
                suppressed.add(int(row[0]))
    return plan, bands, frozenset(suppressed)


async def plan_daily(
    session: AsyncSession, game_id: int, k: int, suppressed: frozenset[int]
) -> tuple[KAnonymityPlan, dict[str, Bands]]:
    """Two passes over the daily rows of the kept players (memory: per distinct value and
    per combination of date and bands, never per row)."""
    query = repo.export_daily_query
    histograms = _histograms(DAILY_MEASURES)
    async for row in _stream(session, query(game_id)):
        if row[0] not in suppressed:
            _count(histograms, DAILY_MEASURES, daily_values(row))
    bands = {
        col: bands_from_histogram(col, h, integer=integer)
        for (col, integer), h in zip(DAILY_MEASURES, histograms, strict=True)
    }
    ordered = [bands[col] for col, _ in DAILY_MEASURES]
    counts: dict[tuple[Any, ...], int] = {}
    async for row in _stream(session, query(game_id)):
        if row[0] in suppressed:
            continue
        indices = (b.index(v) for b, v in zip(ordered, daily_values(row), strict=True))
        key = (row[6], *indices)
        counts[key] = counts.get(key, 0) + 1
    plan = plan_k_anonymity(
        counts,
        k=k,
        quasi_identifiers=("date", *(col for col, _ in DAILY_MEASURES)),
        hierarchies=(hierarchy_of("date"), *(band_hierarchy(b) for b in ordered)),
    )
    return plan, bands
