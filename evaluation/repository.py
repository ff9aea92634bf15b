"""SQL of the evaluation domain: reference-data upserts, lookups, surveys, report and export
queries. Nothing here commits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Table,
    TextClause,
    and_,
    case,
    cast,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import Reader, ReaderDay, ReaderHeartbeat
from evaluation.models import (
    EvaluationArea,
    EvaluationProject,
    SurveyResponse,
    SurveyWave,
)
from game.instruments import NATURE_KEYS, ONS4_ITEMS
from game.models import Campaign, HolderDay, HolderTotal, Team
from geo.models import LsoaArea, PostcodeLookup
from people.models import Player


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def _upsert_one(
    session: AsyncSession, table: Table, values: Mapping[str, Any], key: Sequence[str]
) -> None:
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    stmt = insert(table).values(dict(values))
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={c: stmt.excluded[c] for c in values if c not in key},
    )
    await session.execute(stmt)


@lru_cache(maxsize=16)
def _unnest_upsert(table: Table, key: tuple[str, ...]) -> TextClause:
    """PostgreSQL: one ``INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE`` per
    batch: three array parameters however many rows, so no per-row bind parameters to
    compile or send."""
    pg = postgresql.dialect()
    names = [c.name for c in table.columns]
    arrays = ", ".join(f"CAST(:{c.name} AS {c.type.compile(dialect=pg)}[])" for c in table.columns)
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in key)
    return text(
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


async def _bulk_upsert(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], key: tuple[str, ...]
) -> None:
    """Upsert a batch of rows (every column given; keys unique within the batch).

    PostgreSQL: a single multi-row statement over arrays (:func:`_unnest_upsert`). SQLite:
    one prepared ``INSERT ... ON CONFLICT DO UPDATE`` run for every row of the batch
    (executemany) in the caller's transaction, SQLite's fastest way in."""
    if not rows:
        return
    if dialect_name(session) == "postgresql":
        columns = {c.name: [row[c.name] for row in rows] for c in table.columns}
        await session.execute(_unnest_upsert(table, key), columns)
        return
    stmt = sqlite.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key},
    )
    await session.execute(stmt, [dict(row) for row in rows])


# ------------------------------------------------------------------------------ reference data


async def upsert_lsoa_areas(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    await _bulk_upsert(session, _table(LsoaArea), rows, ("code",))


async def upsert_postcodes(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    await _bulk_upsert(session, _table(PostcodeLookup), rows, ("pcds",))


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


async def delete_other_editions(session: AsyncSession, nation: str, edition: str) -> int:
    result = await session.execute(
        delete(LsoaArea).where(LsoaArea.nation == nation, LsoaArea.edition != edition)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def imd_editions(session: AsyncSession) -> dict[str, str]:
    """nation -> the edition of its imported deprivation data."""
    rows = await session.execute(
        select(LsoaArea.nation, func.max(LsoaArea.edition)).group_by(LsoaArea.nation)
    )
    return {nation: edition for nation, edition in rows}


async def reference_counts(session: AsyncSession) -> dict[str, int]:
    areas = await session.scalar(select(func.count()).select_from(LsoaArea))
    postcodes = await session.scalar(select(func.count()).select_from(PostcodeLookup))
    return {"lsoa_areas": int(areas or 0), "postcodes": int(postcodes or 0)}


# ------------------------------------------------------------------------------ surveys


async def wave_states(session: AsyncSession, game_id: int) -> dict[int, SurveyWave]:
    rows = await session.scalars(select(SurveyWave).where(SurveyWave.game_id == game_id))
    return {w.wave: w for w in rows}


async def wave_state(session: AsyncSession, game_id: int, wave: int) -> SurveyWave | None:
    return await session.get(SurveyWave, (game_id, wave))


async def wave_state_for_update(
    session: AsyncSession, game_id: int, wave: int
) -> SurveyWave | None:
    return await session.scalar(
        select(SurveyWave)
        .where(SurveyWave.game_id == game_id, SurveyWave.wave == wave)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def response_counts(session: AsyncSession, game_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(SurveyResponse.wave, func.count())
        .where(SurveyResponse.game_id == game_id)
        .group_by(SurveyResponse.wave)
    )
    return {int(w): int(n) for w, n in rows}


async def response_of(
    session: AsyncSession, game_id: int, player_id: int, wave: int
) -> SurveyResponse | None:
    return await session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.game_id == game_id,
            SurveyResponse.player_id == player_id,
            SurveyResponse.wave == wave,
        )
    )


async def upsert_response(session: AsyncSession, values: Mapping[str, Any]) -> None:
    """One answer set per player per wave: a resubmission replaces every item."""
    await _upsert_one(session, _table(SurveyResponse), values, ("game_id", "player_id", "wave"))


async def add_responses(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert answer sets in bulk (new ones only: the demo's generated answers)."""
    if rows:
        await session.execute(_table(SurveyResponse).insert(), [dict(r) for r in rows])


async def players_of_game(
    session: AsyncSession, game_id: int
) -> list[tuple[int, int | None, str | None, datetime]]:
    """(id, IMD decile, age band, registered at) of the game's current players, by id."""
    rows = await session.execute(
        select(Player.id, Player.imd_decile, Player.age_band, Player.registered_at)
        .where(Player.game_id == game_id, Player.erased_at.is_(None))
        .order_by(Player.id)
    )
    return [(int(i), d, a, r) for i, d, a, r in rows]


async def delete_responses_of_player(session: AsyncSession, player_id: int) -> int:
    result = await session.execute(
        delete(SurveyResponse).where(SurveyResponse.player_id == player_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def player(session: AsyncSession, player_id: int) -> Player | None:
    return await session.get(Player, player_id)


# ------------------------------------------------------------------------------ report inputs


async def area_lads_set(session: AsyncSession, game_id: int) -> list[str]:
    rows = await session.scalars(
        select(EvaluationArea.lad_code)
        .where(EvaluationArea.game_id == game_id)
        .order_by(EvaluationArea.lad_code)
    )
    return list(rows)


async def replace_area_lads(session: AsyncSession, game_id: int, lad_codes: Iterable[str]) -> None:
    await session.execute(delete(EvaluationArea).where(EvaluationArea.game_id == game_id))
    session.add_all(EvaluationArea(game_id=game_id, lad_code=code) for code in lad_codes)
    await session.flush()


async def known_lads(session: AsyncSession, lad_codes: Sequence[str]) -> dict[str, str | None]:
    """The given district codes that have imported areas, with their names."""
    if not lad_codes:
        return {}
    rows = await session.execute(
        select(LsoaArea.lad_code, func.max(LsoaArea.lad_name))
        .where(LsoaArea.lad_code.in_(list(lad_codes)))
        .group_by(LsoaArea.lad_code)
    )
    return {str(code): name for code, name in rows}


async def players_per_lad(session: AsyncSession, game_id: int) -> list[tuple[str, str | None, int]]:
    """(district code, name, current players living there), most players first."""
    rows = await session.execute(
        select(LsoaArea.lad_code, func.max(LsoaArea.lad_name), func.count(Player.id))
        .join(LsoaArea, LsoaArea.code == Player.lsoa_code)
        .where(
            Player.game_id == game_id,
            Player.erased_at.is_(None),
            LsoaArea.lad_code.is_not(None),
        )
        .group_by(LsoaArea.lad_code)
        .order_by(func.count(Player.id).desc(), LsoaArea.lad_code)
    )
    return [(str(code), name, int(n)) for code, name, n in rows]


async def residents_by_decile(
    session: AsyncSession, lad_codes: Sequence[str]
) -> list[tuple[str, int, int, int, int]]:
    """(nation, decile, residents, areas, areas without a population) for the districts."""
    if not lad_codes:
        return []
    rows = await session.execute(
        select(
            LsoaArea.nation,
            LsoaArea.imd_decile,
            func.coalesce(func.sum(LsoaArea.population), 0),
            func.count(),
            func.count() - func.count(LsoaArea.population),
        )
        .where(LsoaArea.lad_code.in_(list(lad_codes)))
        .group_by(LsoaArea.nation, LsoaArea.imd_decile)
    )
    return [(str(n), int(d), int(r or 0), int(a), int(m)) for n, d, r, a, m in rows]


async def report_rows(
    session: AsyncSession,
    game_id: int,
    waves: Sequence[int],
    belonging_levels: Sequence[str],
    loneliness_scores: Mapping[str, int],
) -> list[tuple[Any, ...]]:
    """One row per current player: (id, decile, nation, district of their LSOA, active days),
    then for each wave (activity days, belonging score, sum and count of the nature items
    answered, the four ONS4 items, loneliness score), NULL where the wave was not answered.
    ``belonging_levels`` are scored 1, 2, ... in order; loneliness answers as given.
    Active days = the player's days with at least one tap.

    The answers are pivoted in SQL so that a game of 100,000 players is one query."""
    r = SurveyResponse
    nature = [getattr(r, name) for name in NATURE_COLUMNS]
    belonging = case({level: i + 1 for i, level in enumerate(belonging_levels)}, value=r.belonging)
    loneliness = case(dict(loneliness_scores), value=r.loneliness)
    nature_sum = sum((func.coalesce(c, 0) for c in nature[1:]), func.coalesce(nature[0], 0))
    nature_n = sum(
        (case((c.is_(None), 0), else_=1) for c in nature[1:]),
        case((nature[0].is_(None), 0), else_=1),
    )
    pivoted = []
    for wave in waves:
        answered = r.wave == wave
        pivoted += [
            func.max(r.activity_days).filter(answered).label(f"activity_{wave}"),
            func.max(belonging).filter(answered).label(f"belonging_{wave}"),
            func.max(nature_sum).filter(answered).label(f"nature_sum_{wave}"),
            func.max(nature_n).filter(answered).label(f"nature_n_{wave}"),
            *(
                func.max(getattr(r, item)).filter(answered).label(f"{item}_{wave}")
                for item in ONS4_ITEMS
            ),
            func.max(loneliness).filter(answered).label(f"loneliness_{wave}"),
        ]
    answers = (
        select(r.player_id, *pivoted)
        .where(r.game_id == game_id, r.wave.in_(list(waves)))
        .group_by(r.player_id)
        .subquery()
    )
    days = (
        select(HolderDay.holder_id, func.count().label("days"))
        .where(HolderDay.game_id == game_id, HolderDay.taps > 0)
        .group_by(HolderDay.holder_id)
        .subquery()
    )
    stmt = (
        select(
            Player.id,
            Player.imd_decile,
            Player.imd_nation,
            LsoaArea.lad_code,
            func.coalesce(days.c.days, 0),
            *[c for c in answers.c if c.key != "player_id"],
        )
        .outerjoin(LsoaArea, LsoaArea.code == Player.lsoa_code)
        .outerjoin(answers, answers.c.player_id == Player.id)
        .outerjoin(days, days.c.holder_id == Player.holder_id)
        .where(Player.game_id == game_id, Player.erased_at.is_(None))
    )
    connection = await session.connection()  # Core rows: no ORM processing for 100k rows
    return [tuple(row) for row in await connection.execute(stmt)]


NATURE_COLUMNS = NATURE_KEYS
RESPONSE_ITEMS = (
    SurveyResponse.activity_days,
    SurveyResponse.belonging,
    SurveyResponse.nature_beauty,
    SurveyResponse.nature_respect,
    SurveyResponse.nature_happy,
    SurveyResponse.nature_important,
    SurveyResponse.nature_amazing,
    SurveyResponse.nature_part,
)


async def team_activity(session: AsyncSession, game_id: int) -> list[tuple[str, int]]:
    """(kind, current members with a counted tap) for every team of the game."""
    active = (
        select(Player.team_id, func.count().label("n"))
        .join(HolderTotal, HolderTotal.holder_id == Player.holder_id)
        .where(
            Player.game_id == game_id,
            Player.erased_at.is_(None),
            Player.team_id.is_not(None),
            HolderTotal.game_id == game_id,
            HolderTotal.counted_taps > 0,
        )
        .group_by(Player.team_id)
        .subquery()
    )
    rows = await session.execute(
        select(Team.kind, func.coalesce(active.c.n, 0))
        .outerjoin(active, active.c.team_id == Team.id)
        .where(Team.game_id == game_id)
        .order_by(Team.id)
    )
    return [(str(kind), int(n)) for kind, n in rows]


async def box_days_heard(
    session: AsyncSession, game_id: int, first: date, last: date
) -> dict[str, set[date]]:
    """Every reader of the game (not disabled) -> the days from ``first`` to ``last`` it was
    heard from: days with a tap (local dates) and days with a heartbeat (UTC dates)."""
    readers = await session.scalars(
        select(Reader.id).where(Reader.game_id == game_id, Reader.disabled.is_(False))
    )
    heard: dict[str, set[date]] = {str(r): set() for r in readers}
    taps = await session.execute(
        select(ReaderDay.reader_id, ReaderDay.local_date).where(
            ReaderDay.game_id == game_id,
            ReaderDay.taps > 0,
            ReaderDay.local_date >= first,
            ReaderDay.local_date <= last,
        )
    )
    for reader_id, day in taps:
        if str(reader_id) in heard:
            heard[str(reader_id)].add(day)
    received = ReaderHeartbeat.received_at
    if dialect_name(session) == "postgresql":
        day_of: ColumnElement[Any] = cast(func.timezone("UTC", received), Date)
    else:  # naive UTC text
        day_of = func.date(received)
    beats = await session.execute(
        select(ReaderHeartbeat.reader_id, day_of)
        .where(ReaderHeartbeat.game_id == game_id)
        .group_by(ReaderHeartbeat.reader_id, day_of)
    )
    for reader_id, day in beats:
        when = date.fromisoformat(day[:10]) if isinstance(day, str) else day
        if str(reader_id) in heard and first <= when <= last:
            heard[str(reader_id)].add(when)
    return heard


async def campaign_periods(session: AsyncSession, game_id: int) -> list[tuple[datetime, datetime]]:
    rows = await session.execute(
        select(Campaign.starts_at, Campaign.ends_at)
        .where(Campaign.game_id == game_id)
        .order_by(Campaign.starts_at)
    )
    return [(start, end) for start, end in rows]


# ------------------------------------------------------------------------------ projects


async def projects_of(session: AsyncSession, game_id: int) -> Sequence[EvaluationProject]:
    return (
        await session.scalars(
            select(EvaluationProject)
            .where(EvaluationProject.game_id == game_id)
            .order_by(EvaluationProject.created_at, EvaluationProject.id)
        )
    ).all()


async def project_by_name(
    session: AsyncSession, game_id: int, name: str
) -> EvaluationProject | None:
    return await session.scalar(
        select(EvaluationProject).where(
            EvaluationProject.game_id == game_id, EvaluationProject.name == name
        )
    )


async def set_project_k(session: AsyncSession, project_id: int, k: int) -> None:
    await session.execute(
        update(EvaluationProject).where(EvaluationProject.id == project_id).values(k=k)
    )


# ------------------------------------------------------------------------------ exports

_TEAM_KIND = func.coalesce(Team.kind, "none").label("team_kind")


def _current_players(game_id: int) -> ColumnElement[bool]:
    return and_(Player.game_id == game_id, Player.erased_at.is_(None))


async def quasi_identifier_counts(
    session: AsyncSession, game_id: int
) -> list[tuple[str | None, str | None, int | None, str | None, str, int]]:
    """(age band, gender, decile, nation, team kind, players) over current players."""
    rows = await session.execute(
        select(
            Player.age_band,
            Player.gender,
            Player.imd_decile,
            Player.imd_nation,
            _TEAM_KIND,
            func.count(),
        )
        .outerjoin(Team, Team.id == Player.team_id)
        .where(_current_players(game_id))
        .group_by(Player.age_band, Player.gender, Player.imd_decile, Player.imd_nation, _TEAM_KIND)
    )
    return [(a, g, d, n, str(t), int(c)) for a, g, d, n, t, c in rows]


def _qi_columns() -> tuple[Any, ...]:
    return (Player.age_band, Player.gender, Player.imd_decile, Player.imd_nation, _TEAM_KIND)


def export_players_query(game_id: int) -> Select[Any]:
    active_days = (
        select(func.count())
        .where(
            HolderDay.game_id == game_id,
            HolderDay.holder_id == Player.holder_id,
            HolderDay.taps > 0,
        )
        .correlate(Player)
        .scalar_subquery()
    )
    waves = (
        select(func.count())
        .where(SurveyResponse.game_id == game_id, SurveyResponse.player_id == Player.id)
        .correlate(Player)
        .scalar_subquery()
    )
    return (
        select(
            Player.id,
            *_qi_columns(),
            func.coalesce(HolderTotal.taps, 0),
            func.coalesce(HolderTotal.legs, 0),
            func.coalesce(HolderTotal.points, 0),
            func.coalesce(HolderTotal.distance_m, 0.0),
            active_days,
            waves,
        )
        .outerjoin(Team, Team.id == Player.team_id)
        .outerjoin(
            HolderTotal,
            and_(HolderTotal.game_id == game_id, HolderTotal.holder_id == Player.holder_id),
        )
        .where(_current_players(game_id))
        .order_by(Player.id)
    )


def export_daily_query(game_id: int) -> Select[Any]:
    return (
        select(
            Player.id,
            *_qi_columns(),
            HolderDay.local_date,
            HolderDay.taps,
            HolderDay.legs,
            HolderDay.points,
            HolderDay.distance_m,
        )
        .join(Player, and_(Player.holder_id == HolderDay.holder_id, _current_players(game_id)))
        .outerjoin(Team, Team.id == Player.team_id)
        .where(HolderDay.game_id == game_id)
        .order_by(HolderDay.holder_id, HolderDay.local_date)
    )


def export_surveys_query(game_id: int) -> Select[Any]:
    return (
        select(
            Player.id,
            *_qi_columns(),
            SurveyResponse.wave,
            SurveyResponse.answered_by,
            SurveyResponse.answered_on,
            *RESPONSE_ITEMS,
            SurveyResponse.declined,
        )
        .join(Player, and_(Player.id == SurveyResponse.player_id, _current_players(game_id)))
        .outerjoin(Team, Team.id == Player.team_id)
        .where(SurveyResponse.game_id == game_id)
        .order_by(SurveyResponse.player_id, SurveyResponse.wave)
    )


async def mark_wave(
    session: AsyncSession, game_id: int, wave: int, *, is_open: bool, at: datetime
) -> SurveyWave:
    """Opens or closes a wave. Its row is made, when missing, by an insert that does nothing
    on conflict, and then locked: parallel first opens of one wave all succeed, one at a
    time, on one row (a plain insert let all but one fail on the primary key)."""
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    await session.execute(
        insert(_table(SurveyWave))
        .values(game_id=game_id, wave=wave, is_open=False)
        .on_conflict_do_nothing(index_elements=["game_id", "wave"])
    )
    state = await wave_state_for_update(session, game_id, wave)
    if state is None:  # pragma: no cover - the row exists now
        raise RuntimeError(f"survey wave {wave} of game {game_id} vanished")
    state.is_open = is_open
    if is_open:
        state.opened_at = at
        state.closed_at = None
    else:
        state.closed_at = at
    await session.flush()
    return state
