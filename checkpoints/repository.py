"""SQL of the checkpoints domain: readers, placements, taps, rejections, box health."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import (
    Checkin,
    Reader,
    ReaderAssignment,
    ReaderDay,
    ReaderHeartbeat,
    TapRejection,
)
from game.models import Checkpoint, Game, HolderTotal, Tap
from kernel.db import is_postgres, one_of
from people.models import Card

_EARLIEST = datetime.min.replace(tzinfo=UTC)
TAPS = cast(Table, Tap.__table__)
REJECTIONS = cast(Table, TapRejection.__table__)
READER_DAYS = cast(Table, ReaderDay.__table__)


def _insert(session: AsyncSession, table: Any) -> Any:
    return (pg_insert if is_postgres(session) else sqlite_insert)(table)


# ---------------------------------------------------------------- readers


async def lock_reader(session: AsyncSession, reader_id: str) -> Reader | None:
    """The reader row, fresh and (on PostgreSQL) locked until the transaction ends.

    Every upload of a reader takes this lock first, so the identities ``(reader, boot,
    seq)`` of one reader are checked and stored by one transaction at a time; holder
    locks come after it, always in this order.
    """
    query = select(Reader).where(Reader.id == reader_id)
    query = query.execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    return await session.scalar(query)


async def lock_reader_placed(
    session: AsyncSession, reader_id: str
) -> tuple[Reader | None, list[Placement]]:
    """``lock_reader`` and where the reader stood, across games, earliest first (null = from
    the start), with each game's time zone (an upload counts its taps per local day), in
    one round trip (at a busy morning every round trip of an upload counts). The
    placements are not locked."""
    query = (
        select(
            Reader,
            ReaderAssignment.valid_from,
            ReaderAssignment.game_id,
            ReaderAssignment.checkpoint_id,
            ReaderAssignment.id,
            Game.timezone,
        )
        .outerjoin(ReaderAssignment, ReaderAssignment.reader_id == Reader.id)
        .outerjoin(Game, Game.id == ReaderAssignment.game_id)
        .where(Reader.id == reader_id)
        .execution_options(populate_existing=True)
    )
    if is_postgres(session):
        query = query.with_for_update(of=Reader)
    rows = list(await session.execute(query))
    if not rows:
        return None, []
    placed = sorted((r for r in rows if r.id is not None), key=_placement_order)
    return rows[0][0], [
        Placement(r.valid_from, r.game_id, r.checkpoint_id, r.timezone) for r in placed
    ]


@dataclass(frozen=True, slots=True)
class Placement:
    valid_from: datetime | None
    game_id: int
    checkpoint_id: int
    timezone: str | None = None  # the game's, where the query had it at hand


async def assignments_in_game(
    session: AsyncSession, game_id: int, reader_id: str | None
) -> list[ReaderAssignment]:
    """Placements in a game (of one reader, or of all with None), earliest first."""
    query = select(ReaderAssignment).where(ReaderAssignment.game_id == game_id)
    if reader_id is not None:
        query = query.where(ReaderAssignment.reader_id == reader_id)
    rows = await session.scalars(query)
    return sorted(rows, key=_placement_order)


def _placement_order(row: Any) -> tuple[bool, datetime, int]:
    return (row.valid_from is not None, row.valid_from or _EARLIEST, row.id)


async def readers_of_game(session: AsyncSession, game_id: int) -> list[Any]:
    """Readers now serving a game, with their checkpoint's code and name."""
    rows = await session.execute(
        select(Reader, Checkpoint.code, Checkpoint.name)
        .join(Checkpoint, Checkpoint.id == Reader.checkpoint_id)
        .where(Reader.game_id == game_id)
        .order_by(Reader.id)
    )
    return list(rows)


async def reader_in_game(session: AsyncSession, game_id: int, reader_id: str) -> Reader | None:
    return await session.scalar(
        select(Reader).where(Reader.id == reader_id, Reader.game_id == game_id)
    )


async def reader_game(session: AsyncSession, reader_id: str) -> int | None:
    """The game a reader serves now, or None if there is no such reader."""
    game_id: int | None = await session.scalar(select(Reader.game_id).where(Reader.id == reader_id))
    return game_id


async def checkpoint_codes(session: AsyncSession, game_id: int) -> dict[int, str]:
    """The game's checkpoint codes by id."""
    rows = await session.execute(
        select(Checkpoint.id, Checkpoint.code).where(Checkpoint.game_id == game_id)
    )
    return {cid: code for cid, code in rows}


async def checkpoint_by_code(session: AsyncSession, game_id: int, code: str) -> Checkpoint | None:
    return await session.scalar(
        select(Checkpoint).where(Checkpoint.game_id == game_id, Checkpoint.code == code)
    )


# ---------------------------------------------------------------- uploads


async def stored_under(
    session: AsyncSession, game_ids: Sequence[int], keys: Sequence[str]
) -> list[Any]:
    """What is already stored under these identities, accepted or finally rejected.

    Rows ``(key, uid, raw, content)``: an accepted tap has its card UID and raw time, a
    rejection its content key. One query.
    """
    if not keys or not game_ids:
        return []
    accepted = select(
        Tap.source_key.label("key"),
        Tap.card_uid.label("uid"),
        Tap.tapped_at_raw.label("raw"),
        literal(None, TapRejection.content_key.type).label("content"),
    ).where(Tap.game_id.in_(game_ids), one_of(session, Tap.source_key, keys))
    rejected = select(
        TapRejection.source_key,
        literal(None, Tap.card_uid.type),
        literal(None, Tap.tapped_at_raw.type),
        TapRejection.content_key,
    ).where(
        TapRejection.game_id.in_(game_ids),
        one_of(session, TapRejection.source_key, keys),
        TapRejection.reason != "conflict",
    )
    return list(await session.execute(accepted.union_all(rejected)))


async def game_timezone(session: AsyncSession, game_id: int) -> str | None:
    tz: str | None = await session.scalar(select(Game.timezone).where(Game.id == game_id))
    return tz


async def cards_by_uid(
    session: AsyncSession, game_id: int, uids: Iterable[str]
) -> dict[str, tuple[int, int]]:
    """Card id and holder id of the game's cards with these (normalised) UIDs."""
    wanted = sorted(set(uids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(Card.uid, Card.id, Card.holder_id).where(
            Card.game_id == game_id, one_of(session, Card.uid, wanted)
        )
    )
    return {uid: (card_id, holder_id) for uid, card_id, holder_id in rows}


# PostgreSQL: the batch travels as one array per column and is inserted by one
# INSERT … SELECT FROM unnest(…): a single prepared statement whatever the batch size,
# instead of 15 parameters per row.
_PG_INSERT_TAPS = text(
    """
    INSERT INTO taps (game_id, source, source_key, reader_id, boot, seq, card_id, holder_id,
                      checkpoint_id, card_uid, tapped_at_raw, tapped_at, received_at, points,
                      distance_m)
    SELECT t.game_id, 'reader', t.source_key, :reader_id, :boot, t.seq, t.card_id, t.holder_id,
           t.checkpoint_id, t.card_uid, t.tapped_at_raw, t.tapped_at, :received_at, 0, 0.0
    FROM unnest(CAST(:game_ids AS integer[]), CAST(:source_keys AS varchar[]),
                CAST(:seqs AS bigint[]), CAST(:card_ids AS integer[]),
                CAST(:holder_ids AS integer[]), CAST(:checkpoint_ids AS integer[]),
                CAST(:card_uids AS varchar[]), CAST(:raws AS timestamptz[]),
                CAST(:ats AS timestamptz[]))
         AS t(game_id, source_key, seq, card_id, holder_id, checkpoint_id, card_uid,
              tapped_at_raw, tapped_at)
    ON CONFLICT (game_id, source_key) DO NOTHING
    RETURNING game_id, source_key
    """
)


async def insert_taps(session: AsyncSession, rows: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """One set-based INSERT … ON CONFLICT DO NOTHING of a reader's batch (one reader, boot
    and receive time); returns the (game, source key) of the rows stored now."""
    if not rows:
        return set()
    if is_postgres(session):
        first = rows[0]
        result = await session.execute(
            _PG_INSERT_TAPS,
            {
                "reader_id": first["reader_id"],
                "boot": first["boot"],
                "received_at": first["received_at"],
                "game_ids": [r["game_id"] for r in rows],
                "source_keys": [r["source_key"] for r in rows],
                "seqs": [r["seq"] for r in rows],
                "card_ids": [r["card_id"] for r in rows],
                "holder_ids": [r["holder_id"] for r in rows],
                "checkpoint_ids": [r["checkpoint_id"] for r in rows],
                "card_uids": [r["card_uid"] for r in rows],
                "raws": [r["tapped_at_raw"] for r in rows],
                "ats": [r["tapped_at"] for r in rows],
            },
        )
    else:
        stmt = sqlite_insert(TAPS).on_conflict_do_nothing(index_elements=["game_id", "source_key"])
        result = await session.execute(stmt.returning(TAPS.c.game_id, TAPS.c.source_key), rows)
    return {(r[0], r[1]) for r in result}


async def insert_rejections(session: AsyncSession, rows: list[dict[str, Any]]) -> list[str]:
    """Stores the rejections not stored before; returns the reasons of the new rows."""
    if not rows:
        return []
    stmt = _insert(session, REJECTIONS).on_conflict_do_nothing(
        index_elements=["game_id", "source_key", "content_key"]
    )
    result = await session.execute(stmt.returning(REJECTIONS.c.reason), rows)
    return list(result.scalars())


def _add_reader_days_statement(insert: Any) -> Any:
    stmt = insert(READER_DAYS)
    return stmt.on_conflict_do_update(
        index_elements=["game_id", "reader_id", "local_date"],
        set_={"taps": READER_DAYS.c.taps + stmt.excluded.taps},
    )


# Built once: building an upsert costs more than running it (every upload runs one).
_ADD_READER_DAYS = {
    "postgresql": _add_reader_days_statement(pg_insert),
    "sqlite": _add_reader_days_statement(sqlite_insert),
}


async def add_reader_days(
    session: AsyncSession, counts: Mapping[tuple[int, str, date], int]
) -> None:
    if not counts:
        return
    await session.execute(
        _ADD_READER_DAYS["postgresql" if is_postgres(session) else "sqlite"],
        [
            {"game_id": g, "reader_id": r, "local_date": d, "taps": n}
            for (g, r, d), n in sorted(counts.items())
        ],
    )


async def taps_on(session: AsyncSession, game_id: int, local_date: date) -> dict[str, int]:
    rows = await session.execute(
        select(ReaderDay.reader_id, ReaderDay.taps).where(
            ReaderDay.game_id == game_id, ReaderDay.local_date == local_date
        )
    )
    return {r.reader_id: r.taps for r in rows}


# ---------------------------------------------------------------- moves


async def reader_taps_since(
    session: AsyncSession,
    game_id: int,
    reader_id: str,
    checkpoint_ids: Sequence[int],
    since: datetime,
) -> list[Any]:
    """The reader's stored taps from ``since`` (found through the checkpoint/time index)."""
    if not checkpoint_ids:
        return []
    rows = await session.execute(
        select(Tap.id, Tap.tapped_at, Tap.checkpoint_id, Tap.holder_id).where(
            Tap.game_id == game_id,
            Tap.checkpoint_id.in_(list(checkpoint_ids)),
            Tap.tapped_at >= since,
            Tap.reader_id == reader_id,
        )
    )
    return list(rows)


async def set_tap_checkpoints(session: AsyncSession, changes: list[dict[str, Any]]) -> None:
    """Bulk update by primary key: ``[{"id": …, "checkpoint_id": …}]``."""
    if changes:
        await session.execute(update(Tap).execution_options(synchronize_session=False), changes)


async def heartbeat_mark(session: AsyncSession, game_id: int, reader_id: str) -> datetime | None:
    """The latest ``sent_at`` of the reader's recorded heartbeats (in this game) that were
    not ahead of the server's clock: a heartbeat not later than this is a replay."""
    value: datetime | None = await session.scalar(
        select(func.max(ReaderHeartbeat.sent_at)).where(
            ReaderHeartbeat.game_id == game_id,
            ReaderHeartbeat.reader_id == reader_id,
            ReaderHeartbeat.clock_ahead.is_(False),
        )
    )
    return value


async def heartbeat_sent_at_recorded(
    session: AsyncSession, game_id: int, reader_id: str, sent_at: datetime
) -> bool:
    """Whether a heartbeat of the reader with exactly this ``sent_at`` is recorded."""
    found = await session.scalar(
        select(ReaderHeartbeat.id)
        .where(
            ReaderHeartbeat.game_id == game_id,
            ReaderHeartbeat.reader_id == reader_id,
            ReaderHeartbeat.sent_at == sent_at,
        )
        .limit(1)
    )
    return found is not None


# ---------------------------------------------------------------- app check-ins


async def checkin_answer(
    session: AsyncSession, game_id: int, player_id: int, client_id: str
) -> Any | None:
    """A stored check-in with its tap's outcome and checkpoint, or None."""
    row = await session.execute(
        select(
            Checkin.checkpoint_id,
            Checkin.at_from_client,
            Tap.tapped_at,
            Tap.outcome,
            Tap.points,
            Tap.distance_m,
            Tap.multiplier,
            Tap.holder_id,
            Checkpoint.code,
            Checkpoint.name,
        )
        .join(Tap, Tap.id == Checkin.tap_id)
        .join(Checkpoint, Checkpoint.id == Checkin.checkpoint_id)
        .where(
            Checkin.game_id == game_id,
            Checkin.player_id == player_id,
            Checkin.client_id == client_id,
        )
    )
    return row.first()


async def last_checkin_at(session: AsyncSession, game_id: int, player_id: int) -> datetime | None:
    value: datetime | None = await session.scalar(
        select(func.max(Checkin.received_at)).where(
            Checkin.game_id == game_id, Checkin.player_id == player_id
        )
    )
    return value


async def holder_points(session: AsyncSession, game_id: int, holder_id: int) -> int:
    points = await session.scalar(
        select(HolderTotal.points).where(
            HolderTotal.game_id == game_id, HolderTotal.holder_id == holder_id
        )
    )
    return int(points or 0)
