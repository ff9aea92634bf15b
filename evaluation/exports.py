"""Anonymised player-level exports for evaluators (docs/evaluation.md, "Anonymised export").

Three files per evaluation project, plus a manifest:

* ``players``: one record per player: pseudonym, the generalised quasi-identifiers (age band,
  gender, IMD quintile and its nation, team kind) and activity totals;
* ``daily``: per player per day played: date, taps, legs, points, distance;
* ``surveys``: per player per wave answered: the answers, the date answered and who answered.

**Pseudonym** = HMAC-SHA256(project key, player id), truncated (:func:`anonymise.pseudonym`);
the key is random per project and stored sealed with the server key, so two projects' files
cannot be linked and nobody without the key can recompute a pseudonym.

**No exact activity**: the public players board shows points and distance by nickname, so
every activity measure is released as a band chosen from the data (:mod:`evaluation.bands`),
in the players file and, with bands of its own, in the daily file.

**k-anonymity** over every released column (quasi-identifiers *and* activity bands): each
combination of released values in the players file is shared by at least k players, and each
combination of date and bands in the daily file by at least k day records, so neither file
can be joined one-to-one to the board or to another project's files. Columns are generalised
whole, each step the one losing least information (:func:`anonymise.plan_k_anonymity`); the
IMD quintile and nation are never generalised; players still in classes smaller than k are
suppressed, left out of all three files. Planning streams the players three times and the
daily rows twice, keeping one count per distinct value and per combination, never per row,
so every file streams in bounded memory, whatever its length.

The whole export is also a Frictionless data package (:mod:`evaluation.package`).

**Never exported**: names, nicknames, contact details, postcodes, LSOA codes, card UIDs or
numbers, times (only dates), free text. Only the columns in :data:`COLUMNS` leave the server.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import export_plan
from evaluation import repository as repo
from evaluation.anonymise import (
    DEFAULT_K,
    KAnonymityPlan,
    new_export_key,
    pseudonym,
)
from evaluation.bands import Bands
from evaluation.models import EvaluationProject
from evaluation.report_scores import NATURE_MIN_ITEMS
from game.instruments import NATURE_KEYS
from game.models import Game
from kernel import audit, csv_writer
from kernel.errors import Conflict, Invalid, NotFound
from kernel.secrets_box import SecretBox
from kernel.version import __version__

__all__ = [
    "COLUMNS",
    "EXPORT_SCHEMA",
    "FILES",
    "NEVER_EXPORTED",
    "QUASI_IDENTIFIERS",
    "ExportContext",
    "create_project",
    "csv_chunks",
    "export_context",
    "manifest",
    "rows",
    "write_csv",
    "write_parquet",
]

EXPORT_SCHEMA: Final = "taptrail.evaluation.export/1"
FILES: Final = ("players", "daily", "surveys")
QUASI_IDENTIFIERS: Final = export_plan.QUASI_IDENTIFIERS
PLAYER_MEASURES: Final = export_plan.PLAYER_MEASURES
DAILY_MEASURES: Final = export_plan.DAILY_MEASURES
band_hierarchy = export_plan.band_hierarchy
PARTITION_ROWS: Final = 2000
ROW_GROUP_ROWS: Final = 32_000
NEVER_EXPORTED: Final = (
    "names and nicknames",
    "contact details (e-mail)",
    "postcodes",
    "LSOA codes",
    "card UIDs and card numbers",
    "exact timestamps (dates at most)",
    "free text",
    "player ids (only keyed pseudonyms)",
)

#: file -> [(column, Arrow type name, description)]
COLUMNS: Final[dict[str, list[tuple[str, str, str]]]] = {
    "players": [
        ("pseudonym", "string", "HMAC-SHA256(project key, player), 16 hex characters"),
        ("age_band", "string", "0-4 ... 65+, or widened (0-15, 16-44, 45+) or 'any'"),
        ("gender", "string", "as registered, or 'any' when generalised"),
        (
            "imd_quintile",
            "int8",
            "1 = most deprived 20% of the nation's small areas; empty = unknown",
        ),
        ("imd_nation", "string", "the nation the quintile ranks within"),
        ("team_kind", "string", "school, community, workplace, family, other or none"),
        ("taps", "string", "taps over the game (a band)"),
        ("legs", "string", "scoring journeys between boxes (a band)"),
        ("points", "string", "points over the game (a band)"),
        ("distance_km", "string", "distance of the scoring legs, km (a band)"),
        ("active_days", "string", "days with at least one tap (a band)"),
        ("survey_waves_answered", "string", "survey waves answered (0-3; a band)"),
    ],
    "daily": [
        ("pseudonym", "string", "as in players"),
        ("date", "date32", "the local date in the game's time zone"),
        ("taps", "string", "taps that day (a band)"),
        ("legs", "string", "scoring legs that day (a band)"),
        ("points", "string", "points that day (a band)"),
        ("distance_km", "string", "distance of that day's scoring legs, km (a band)"),
    ],
    "surveys": [
        ("pseudonym", "string", "as in players"),
        ("wave", "int8", "1 = registration, 2 = game end, 3 = follow-up (~6 months)"),
        ("answered_by", "string", "self or parent_or_carer"),
        ("answered_on", "date32", "date answered"),
        (
            "activity_days",
            "int8",
            "days in the past week with 30+ minutes raising breathing rate (0-7)",
        ),
        ("belonging", "string", "very, fairly, not_very or not_at_all (strongly)"),
        *((name, "int8", "Nature Connection Index item, 1-7") for name in NATURE_KEYS),
        (
            "nature_score",
            "float64",
            f"mean of the answered nature items (needs {NATURE_MIN_ITEMS} of 6)",
        ),
        (
            "prefer_not_to_say",
            "string",
            "items answered 'prefer not to say', ';'-separated (their value is empty)",
        ),
    ],
}


@dataclass(frozen=True)
class ExportContext:
    game: Game
    project: EvaluationProject
    key: bytes
    #: the players file: quasi-identifiers and activity bands (k-anonymity decides both)
    plan: KAnonymityPlan
    bands: dict[str, Bands]
    #: players left out of every file
    suppressed: frozenset[int]
    #: the daily file (date and activity bands), when planned (``export_context(daily=)``)
    daily_plan: KAnonymityPlan | None = None
    daily_bands: dict[str, Bands] | None = None


def _check_file(name: str) -> None:
    if name not in FILES:
        raise NotFound(f"no export file '{name}' (files: {', '.join(FILES)}, manifest)")


# ------------------------------------------------------------------------------ projects


async def create_project(
    session: AsyncSession,
    game: Game,
    name: str,
    *,
    box: SecretBox,
    actor: str,
    k: int = DEFAULT_K,
    description: str | None = None,
) -> EvaluationProject:
    if await repo.project_by_name(session, game.id, name) is not None:
        raise Conflict(f"there is already an evaluation project '{name}' in this game")
    if k < DEFAULT_K:
        raise Invalid(f"k must be at least {DEFAULT_K}", fields=[{"field": "k"}])
    key = new_export_key()
    project = EvaluationProject(
        game_id=game.id,
        name=name,
        description=description,
        k=k,
        sealed_key=box.seal(base64.urlsafe_b64encode(key).decode("ascii")),
        created_by=actor,
    )
    session.add(project)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="evaluation.project_create",
        game_id=game.id,
        project=name,
        k=k,
    )
    return project


async def export_context(
    session: AsyncSession, game: Game, project_name: str, *, box: SecretBox, daily: bool = True
) -> ExportContext:
    """Plan the project's export: bands, generalisation and suppression (see the module
    docstring). ``daily=False`` skips planning the daily file (not needed for the others)."""
    project = await repo.project_by_name(session, game.id, project_name)
    if project is None:
        raise NotFound(f"no evaluation project '{project_name}' in this game")
    key = base64.urlsafe_b64decode(box.open(project.sealed_key))
    plan, bands, suppressed = await export_plan.plan_players(session, game.id, project.k)
    daily_plan: KAnonymityPlan | None = None
    daily_bands: dict[str, Bands] | None = None
    if daily:
        daily_plan, daily_bands = await export_plan.plan_daily(
            session, game.id, project.k, suppressed
        )
    return ExportContext(game, project, key, plan, bands, suppressed, daily_plan, daily_bands)


def _local_day(moment: datetime, timezone: str) -> str:
    try:
        return moment.astimezone(ZoneInfo(timezone)).date().isoformat()
    except (KeyError, ValueError):
        return moment.date().isoformat()


def released_bands(plan: KAnonymityPlan, bands: dict[str, Bands]) -> dict[str, Any]:
    """Per banded column: the level k-anonymity chose and its labels with their meaning."""
    out: dict[str, Any] = {}
    for column, b in bands.items():
        level = plan.level_of(column)
        out[column] = {
            "unit": "count" if b.integer else "km",
            "level": level,
            "codes": {label: b.meaning(label) for label in b.labels(level)},
        }
    return out


def manifest(ctx: ExportContext, *, generated_on: date) -> dict[str, Any]:
    game = ctx.game
    return {
        "schema": EXPORT_SCHEMA,
        "software": "taptrail",
        "software_version": __version__,
        "generated_on": generated_on.isoformat(),
        "game": {
            "slug": game.slug,
            "name": game.name,
            "starts_on": _local_day(game.starts_at, game.timezone),
            "ends_on": _local_day(game.ends_at, game.timezone),
            "timezone": game.timezone,
        },
        "project": {
            "name": ctx.project.name,
            "created_on": ctx.project.created_at.date().isoformat(),
        },
        "pseudonym": "HMAC-SHA256 of the player id under this project's random key (kept on "
        "the server), first 16 hex characters: the same player has the same pseudonym in "
        "every file of this project and a different one in any other project",
        "k_anonymity": ctx.plan.manifest,
        "daily_k_anonymity": ctx.daily_plan.manifest if ctx.daily_plan else None,
        "bands": {
            "players": released_bands(ctx.plan, ctx.bands),
            "daily": released_bands(ctx.daily_plan, ctx.daily_bands)
            if ctx.daily_plan and ctx.daily_bands
            else None,
        },
        "suppressed_players_note": "players left in classes smaller than k after every "
        "generalisation are left out of all three files; days left in classes (date and "
        "bands) smaller than k are left out of the daily file",
        "never_exported": list(NEVER_EXPORTED),
        "files": {
            name: {
                "columns": [
                    {"name": col, "type": str(kind), "description": text}
                    for col, kind, text in COLUMNS[name]
                ]
            }
            for name in FILES
        },
    }


async def record_export(
    session: AsyncSession, ctx: ExportContext, file: str, *, actor: str, fmt: str
) -> None:
    audit.record(
        session,
        actor=actor,
        action="evaluation.export",
        game_id=ctx.game.id,
        project=ctx.project.name,
        file=file,
        format=fmt,
        k=ctx.project.k,
        players_out=ctx.plan.manifest["records_out"],
    )


# ------------------------------------------------------------------------------ rows


def _nature_score(items: Sequence[int | None]) -> float | None:
    answered = [v for v in items if v is not None]
    if len(answered) < NATURE_MIN_ITEMS:
        return None
    return round(sum(answered) / len(answered), 4)


class _Keys:
    """Per-stream caches: the released values of each raw combination, and the pseudonym of
    the current player (rows come grouped by player)."""

    def __init__(self, ctx: ExportContext) -> None:
        self.ctx = ctx
        # one stream is one file: players' and days' keys never share a cache
        self.general: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
        self.last_player: int | None = None
        self.last_pseudonym = ""
        self.player_bands = [ctx.bands[col] for col, _ in export_plan.PLAYER_MEASURES]
        daily = ctx.daily_bands or {}
        self.daily_bands = [daily[col] for col, _ in export_plan.DAILY_MEASURES if col in daily]

    def _kept(self, plan: KAnonymityPlan, raw: tuple[Any, ...]) -> tuple[Any, ...] | None:
        try:
            return self.general[raw]
        except KeyError:
            general = plan.kept(raw)
            self.general[raw] = general
            return general

    def player(self, row: Sequence[Any]) -> tuple[Any, ...] | None:
        values = export_plan.player_values(row)
        indices = (b.index(v) for b, v in zip(self.player_bands, values, strict=True))
        return self._kept(self.ctx.plan, (*export_plan.quintile_key(*row[1:6]), *indices))

    def day(self, row: Sequence[Any]) -> tuple[Any, ...] | None:
        plan = self.ctx.daily_plan
        if plan is None:
            raise RuntimeError("the daily file was not planned (export_context(daily=True))")
        values = export_plan.daily_values(row)
        indices = (b.index(v) for b, v in zip(self.daily_bands, values, strict=True))
        return self._kept(plan, (row[6], *indices))

    def pseudonym(self, player_id: int) -> str:
        if player_id != self.last_player:
            self.last_player = player_id
            self.last_pseudonym = pseudonym(self.ctx.key, player_id)
        return self.last_pseudonym


Shape = Callable[[Sequence[Any]], "tuple[Any, ...] | None"]


def _shaper(file: str, keys: _Keys) -> Shape:
    """Turns a query row (player id, five raw quasi-identifiers, the file's columns) into an
    output row, or None when k-anonymity suppresses it."""
    suppressed = keys.ctx.suppressed

    def players(row: Sequence[Any]) -> tuple[Any, ...] | None:
        general = keys.player(row)
        return None if general is None else (keys.pseudonym(row[0]), *general)

    def daily(row: Sequence[Any]) -> tuple[Any, ...] | None:
        if row[0] in suppressed:
            return None
        general = keys.day(row)
        return None if general is None else (keys.pseudonym(row[0]), *general)

    def surveys(row: Sequence[Any]) -> tuple[Any, ...] | None:
        if row[0] in suppressed:
            return None
        wave, answered_by, answered_on, activity, belonging, *tail = row[6:]
        nature, declined = tail[:6], tail[6]
        return (
            keys.pseudonym(row[0]),
            wave,
            answered_by,
            answered_on,
            activity,
            belonging,
            *nature,
            _nature_score(nature),
            ";".join(declined or ()),
        )

    shapers: dict[str, Shape] = {"players": players, "daily": daily, "surveys": surveys}
    return shapers[file]


_QUERIES: Final = {
    "players": repo.export_players_query,
    "daily": repo.export_daily_query,
    "surveys": repo.export_surveys_query,
}


async def rows(
    session: AsyncSession, ctx: ExportContext, file: str, *, partition: int = PARTITION_ROWS
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The file's rows, a partition at a time, read with a streaming cursor."""
    _check_file(file)
    stmt = _QUERIES[file](ctx.game.id).execution_options(yield_per=partition)
    shape = _shaper(file, _Keys(ctx))
    # Core-level streaming (a server-side cursor on PostgreSQL): no ORM row processing
    connection = await session.connection()
    result = await connection.stream(stmt)
    try:
        async for part in result.partitions(partition):
            shaped = [s for r in part if (s := shape(r)) is not None]
            if shaped:
                yield shaped
    finally:
        await result.close()


async def csv_chunks(
    session: AsyncSession,
    ctx: ExportContext,
    file: str,
    *,
    progress: Callable[[int], Any] | None = None,
) -> AsyncIterator[bytes]:
    """The file as UTF-8 CSV, one chunk per partition (constant memory)."""
    _check_file(file)
    buffer = io.StringIO()
    writer = csv_writer.writer(buffer)
    writer.writerow([name for name, _, _ in COLUMNS[file]])
    yield buffer.getvalue().encode("utf-8")
    async for part in rows(session, ctx, file):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(part)  # None -> empty, dates -> ISO 8601 (str)
        yield buffer.getvalue().encode("utf-8")
        if progress is not None:
            progress(len(part))


async def write_csv(
    session: AsyncSession,
    ctx: ExportContext,
    file: str,
    path: Path,
    *,
    progress: Callable[[int], Any] | None = None,
) -> None:
    with path.open("wb") as out:
        async for chunk in csv_chunks(session, ctx, file, progress=progress):
            out.write(chunk)


def _schema(file: str) -> Any:
    import pyarrow as pa  # on first use: about 40 MB that CSV exports do not need

    return pa.schema([pa.field(name, getattr(pa, kind)()) for name, kind, _ in COLUMNS[file]])


async def write_parquet(
    session: AsyncSession,
    ctx: ExportContext,
    file: str,
    path: Path,
    *,
    row_group_rows: int = ROW_GROUP_ROWS,
    progress: Callable[[int], Any] | None = None,
) -> int:
    """Write the file as Parquet in row groups of ``row_group_rows``; returns rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    _check_file(file)
    schema = _schema(file)
    columns: list[list[Any]] = [[] for _ in schema]
    pending = 0
    written = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:

        def flush() -> None:
            arrays = [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)]
            for col in columns:
                col.clear()
            table = pa.Table.from_arrays(arrays, schema=schema)
            writer.write_table(table, row_group_size=row_group_rows)

        async for part in rows(session, ctx, file):
            for row in part:  # straight into columns: no second copy of the rows
                for col, value in zip(columns, row, strict=True):
                    col.append(value)
            pending += len(part)
            written += len(part)
            if progress is not None:
                progress(len(part))
            if pending >= row_group_rows:
                flush()
                pending = 0
        if pending or written == 0:
            flush()
    return written
