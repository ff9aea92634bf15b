"""A game's evaluation report from the database (the statistics are in :mod:`evaluation.reports`).

**The game area** (the uptake denominator) is a set of local authority districts (LADs), and
its residents are the population denominators of every imported small area in them:

* the districts an organiser set (``PUT /admin/games/{slug}/evaluation/area``), or else
* automatically, the districts where at least 10% of the game's players with a known
  neighbourhood live (always at least the most common one). A game runs in a town, so its
  players cluster in one or two districts; the 10% threshold keeps a few players from
  neighbouring districts from adding those districts' whole populations to the denominator.

Players living elsewhere count in the ``other`` group for uptake (not in any quintile's rate).
Checkpoint locations are not used: without area boundaries they cannot be placed in an LSOA.
Erased players are left out (their answers are deleted; their neighbourhood is cleared).

**RE-AIM inputs** (:mod:`evaluation.reaim`): active days per player (days with a tap), teams
and their members with a counted tap, the game's local days so far (to today, or to its last
day once it has ended), the days each reader was heard from (a tap that local day or a
heartbeat that UTC day) and the days of every campaign that has started.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import repository as repo
from evaluation.imd_import import quintile_from_decile
from evaluation.reaim import TeamActivity, add_reaim
from evaluation.report_scores import (
    BASELINE_WAVE,
    BELONGING_LEVELS,
    FOLLOW_UP_WAVES,
    LONELINESS_SCORES,
    NATURE_MIN_ITEMS,
    ScoreColumns,
)
from evaluation.reports import CSV_COLUMNS, build_report_from_columns
from evaluation.reports import report_to_csv_rows as _csv_rows
from evaluation.surveys import WAVES
from game import instruments as inst
from game.models import Game
from kernel import csv_writer
from kernel.db import utcnow
from kernel.errors import Invalid
from kernel.version import __version__

__all__ = [
    "AREA_MIN_SHARE",
    "GameArea",
    "build_game_report",
    "game_area",
    "report_csv",
    "set_game_area",
]

AREA_MIN_SHARE: Final = 0.10


@dataclass
class GameArea:
    lad_codes: list[str]
    lad_names: dict[str, str | None]
    method: str  # "organiser" | "automatic" | "none"
    players_by_lad: dict[str, int] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        if self.method == "organiser":
            how = "the local authority districts the organiser set"
        elif self.method == "automatic":
            how = (
                "the local authority districts where at least "
                f"{AREA_MIN_SHARE:.0%} of players with a known neighbourhood live"
            )
        else:
            how = "no area: no player has a neighbourhood in the imported deprivation data"
        return {
            "method": self.method,
            "definition": how,
            "districts": [
                {"code": code, "name": self.lad_names.get(code)} for code in self.lad_codes
            ],
        }


async def game_area(session: AsyncSession, game_id: int) -> GameArea:
    chosen = await repo.area_lads_set(session, game_id)
    per_lad = await repo.players_per_lad(session, game_id)
    counts = {code: n for code, _name, n in per_lad}
    if chosen:
        names = await repo.known_lads(session, chosen)
        return GameArea(chosen, names, "organiser", counts)
    if not per_lad:
        return GameArea([], {}, "none", counts)
    known = sum(counts.values())
    codes = [code for code, _n, n in per_lad if n >= AREA_MIN_SHARE * known] or [per_lad[0][0]]
    names = {code: name for code, name, _n in per_lad}
    return GameArea(sorted(codes), {c: names.get(c) for c in codes}, "automatic", counts)


async def set_game_area(session: AsyncSession, game: Game, lad_codes: list[str]) -> GameArea:
    """Set (or with an empty list, clear) the districts of a game's area."""
    codes = sorted({c.strip().upper() for c in lad_codes if c.strip()})
    known = await repo.known_lads(session, codes)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise Invalid(
            "no imported deprivation data for district(s) " + ", ".join(unknown),
            fields=[{"field": "lad_codes", "message": "unknown district code"}],
        )
    await repo.replace_area_lads(session, game.id, codes)
    return await game_area(session, game.id)


async def build_game_report(
    session: AsyncSession, game: Game, *, now: datetime | None = None
) -> dict[str, Any]:
    """The disclosure-controlled evaluation report of a game (JSON-ready)."""
    area = await game_area(session, game.id)
    in_area_lads = set(area.lad_codes)

    residents: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    areas = 0
    without_population = 0
    for nation, decile, people, count, missing in await repo.residents_by_decile(
        session, area.lad_codes
    ):
        residents[nation][quintile_from_decile(decile)] += people
        areas += count
        without_population += missing

    waves = (BASELINE_WAVE, *FOLLOW_UP_WAVES)
    rows = await repo.report_rows(session, game.id, waves, BELONGING_LEVELS, LONELINESS_SCORES)
    now = now or utcnow()
    days = _game_days(game, now)
    first, last = (days[0], days[-1]) if days else (date.max, date.min)
    heard = await repo.box_days_heard(session, game.id, first, last)
    campaigns = [
        [d for d in days if _local(start, game) <= d <= _local(end - _INSTANT, game)]
        for start, end in await repo.campaign_periods(session, game.id)
        if start < now
    ]
    implementation = {
        "box_days_heard": {box: len(d) for box, d in heard.items()},
        "game_days": len(days),
        "campaign_dates": [c for c in campaigns if c],
    }
    teams = [TeamActivity(kind, n) for kind, n in await repo.team_activity(session, game.id)]
    # The statistics take a moment for a big game: off the event loop.
    report = await asyncio.to_thread(
        _compute,
        rows,
        waves,
        {n: dict(q) for n, q in residents.items()},
        in_area_lads,
        inst.chosen(game.survey_instruments),
        teams,
        implementation,
    )
    responses = await repo.response_counts(session, game.id)
    area_info = area.describe()
    area_info["small_areas"] = areas
    area_info["small_areas_without_population"] = without_population
    report_head: dict[str, Any] = {
        "game": {
            "slug": game.slug,
            "name": game.name,
            "starts_at": game.starts_at.isoformat(),
            "ends_at": game.ends_at.isoformat(),
        },
        "generated_at": now.isoformat(timespec="seconds"),
        "software_version": __version__,
        "area": area_info,
        "survey_responses": {
            f"wave_{n}": {"title": WAVES[n].title, "responses": responses.get(n, 0)} for n in WAVES
        },
    }
    return {**report_head, **report}


_INSTANT: Final = timedelta(microseconds=1)


def _zone(game: Game) -> ZoneInfo:
    try:
        return ZoneInfo(game.timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _local(moment: datetime, game: Game) -> date:
    return moment.astimezone(_zone(game)).date()


def _game_days(game: Game, now: datetime) -> list[date]:
    """The game's local days so far (up to today, or its last day once it has ended)."""
    first = _local(game.starts_at, game)
    last = min(_local(now, game), _local(game.ends_at - _INSTANT, game))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)


#: fixed columns of a report row before the per-wave ones, and the per-wave ones
_FIXED: Final = 5
_PER_WAVE: Final = 4 + len(inst.ONS4_ITEMS) + 1


def score_columns_of_rows(
    rows: Sequence[tuple[Any, ...]], waves: Sequence[int], in_area_lads: set[str]
) -> ScoreColumns:
    """:class:`ScoreColumns` from :func:`repository.report_rows` (scores as
    :class:`WaveAnswers` computes them: nature = mean of the answered items, 4 of 6 needed)."""
    width = _FIXED + _PER_WAVE * len(waves)
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * width
    decile = np.array([0 if d is None else d for d in columns[1]], dtype=np.int64)
    known = decile > 0
    values: dict[tuple[str, int], np.ndarray] = {}
    for k, wave in enumerate(waves):
        first = _FIXED + _PER_WAVE * k
        values[("activity", wave)] = _floats(columns[first])
        values[("belonging", wave)] = _floats(columns[first + 1])
        total, count = _floats(columns[first + 2]), _floats(columns[first + 3])
        with np.errstate(invalid="ignore", divide="ignore"):
            values[("nature", wave)] = np.where(count >= NATURE_MIN_ITEMS, total / count, np.nan)
        for j, item in enumerate(inst.ONS4_ITEMS):
            values[(item, wave)] = _floats(columns[first + 4 + j])
        values[("loneliness", wave)] = _floats(columns[first + 4 + len(inst.ONS4_ITEMS)])
    return ScoreColumns(
        quintile=np.where(known, (decile + 1) // 2, 0),
        nation=np.array(
            [n if k else None for n, k in zip(columns[2], known, strict=True)], dtype=object
        ),
        in_area=np.array([lad in in_area_lads for lad in columns[3]], dtype=bool),
        values=values,
        active_days=np.array([int(d or 0) for d in columns[4]], dtype=np.int64),
    )


def _compute(
    rows: list[tuple[Any, ...]],
    waves: Sequence[int],
    residents: dict[str, dict[int, int]],
    in_area_lads: set[str],
    instruments: Sequence[str],
    teams: Sequence[TeamActivity],
    implementation: dict[str, Any],
) -> dict[str, Any]:
    scores = score_columns_of_rows(rows, waves, in_area_lads)
    report = build_report_from_columns(
        scores, residents, follow_up_waves=waves[1:], instruments=instruments
    )
    return add_reaim(report, scores, residents, teams=teams, **implementation)


def report_csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    head = [
        {
            "nation": "",
            "section": "game",
            "comparison": "",
            "group": "total",
            "metric": key,
            "value": value,
        }
        for key, value in (
            ("slug", report["game"]["slug"]),
            ("name", report["game"]["name"]),
            ("generated_at", report["generated_at"]),
            ("area", ";".join(d["code"] for d in report["area"]["districts"])),
            *(
                (f"responses_{wave}", block["responses"])
                for wave, block in report["survey_responses"].items()
            ),
        )
    ]
    return head + _csv_rows(report)


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV text (``"*"`` = suppressed, empty = not applicable)."""
    buffer = io.StringIO()
    writer = csv_writer.dict_writer(buffer, list(CSV_COLUMNS))
    writer.writeheader()
    for row in report_csv_rows(report):
        writer.writerow(row)
    return buffer.getvalue()
