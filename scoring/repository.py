"""SQL for scoring: the inputs of the engine, and writing outcomes and totals back.

Locking (PostgreSQL; see README "Scoring and concurrency"):

* Incremental scoring takes a *shared* advisory lock on the game, then row locks on the
  touched holders in id order (:func:`lock_holders`), before it inserts taps.
* A full re-score takes the *exclusive* advisory lock on the game (:func:`lock_game`), so
  it never interleaves with incremental scoring under different rules.

SQLite has a single writer: the app serialises write transactions (``app.state.writing()``)
and SQLite's own database lock serialises other processes; every lock here is a no-op there.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import asyncpg
from sqlalchemy import Integer, Table, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import PendingTap
from game.models import (
    Campaign,
    Checkpoint,
    Game,
    HolderDay,
    HolderTeamTotal,
    HolderTotal,
    Tap,
    TeamTotal,
)
from kernel.db import is_postgres, one_of
from kernel.logging import log
from people.models import Card, Holder, Player, TeamMembership

T = TypeVar("T")
MAX_HOLDER_ID = 2**31 - 1
# Namespace of the game-level advisory locks (pg_advisory_xact_lock(namespace, game_id)).
GAME_LOCK_NAMESPACE = 0x7A5C  # "scoring"


async def lock_game(session: AsyncSession, game_id: int, *, exclusive: bool = True) -> None:
    """Transaction-scoped advisory lock on a game's scoring (PostgreSQL; no-op on SQLite).

    Exclusive: a full re-score. Shared: incremental scoring (taken by :func:`lock_holders`).
    """
    if is_postgres(session):
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await session.execute(
            text(f"SELECT {fn}(:ns, :game_id)"), {"ns": GAME_LOCK_NAMESPACE, "game_id": game_id}
        )


async def lock_holders(
    session: AsyncSession, holder_ids: Iterable[int], *, game_id: int | None = None
) -> None:
    """Serialises scoring per holder on PostgreSQL: call once per transaction, BEFORE
    inserting the holders' taps, with every holder the transaction will score.

    1. A shared advisory lock on each holder's game (in game id order): waits while a full
       re-score of that game is running, and keeps one from starting until we commit.
    2. ``SELECT … FOR NO KEY UPDATE`` on the holder rows, in id order (a global order, so
       two uploads touching overlapping holders cannot deadlock): the second upload waits
       for the first to commit, then reads its committed taps and outcomes (READ COMMITTED:
       every statement sees the latest commits), so it scores exactly as if the two had run
       one after the other. ``NO KEY UPDATE`` (not ``UPDATE``) does not conflict with the
       ``KEY SHARE`` locks that foreign-key checks take on a holder when rows referencing it
       are inserted (taps, cards), so such inserts never wait for, or deadlock with, a scorer.

    Stored totals shared between holders (team totals) are only changed by commutative
    increments (``INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x``) in key order.
    SQLite has one writer at a time: nothing to do.
    """
    ids = sorted(set(holder_ids))
    if not ids or not is_postgres(session):
        return
    if game_id is not None:
        # The caller knows every holder is of that game: both steps in one statement (the
        # subquery's lock is taken before the join yields a row, so before any row lock).
        await session.execute(
            text(
                "SELECT h.id FROM (SELECT pg_advisory_xact_lock_shared(:ns, :game_id)) AS g,"
                " holders AS h WHERE h.id = ANY(CAST(:ids AS integer[]))"
                " ORDER BY h.id FOR NO KEY UPDATE OF h"
            ),
            {"ns": GAME_LOCK_NAMESPACE, "game_id": game_id, "ids": ids},
        )
        return
    game_ids = (
        await session.scalars(
            select(Holder.game_id)
            .where(one_of(session, Holder.id, ids))
            .distinct()
            .order_by(Holder.game_id)
        )
    ).all()
    for gid in game_ids:
        await lock_game(session, gid, exclusive=False)
    await session.execute(
        select(Holder.id)
        .where(one_of(session, Holder.id, ids))
        .order_by(Holder.id)
        .with_for_update(key_share=True)
    )


# ---------------------------------------------------------------- the scorer's queue

# Namespace of the per-game scorer locks (pg_advisory_xact_lock(namespace, game_id)).
SCORER_LOCK_NAMESPACE = 0x7A5D


async def lock_scorer(session: AsyncSession, game_id: int) -> None:
    """Makes scoring rounds of one game run one at a time across server processes
    (PostgreSQL; SQLite has one writer). Taken before :func:`lock_holders`, by the scorer
    only, so it cannot take part in a lock cycle."""
    if is_postgres(session):
        # A peer stuck inside a round must not stall this one for ever: give up after 30 s
        # (the round fails, its taps stay pending, and the sweep tries again).
        # (SET LOCAL in the same statement: the inner query runs first.)
        await session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:ns, :game_id) FROM"
                " (SELECT set_config('lock_timeout', '30s', true)) AS timeout"
            ),
            {"ns": SCORER_LOCK_NAMESPACE, "game_id": game_id},
        )


async def pending_games(session: AsyncSession) -> list[int]:
    """Games with taps waiting for their outcome: one index probe per game, however long
    the queue (a DISTINCT over a backlog of 200,000 taps took 19 ms, every second)."""
    queued = select(PendingTap.game_id).where(PendingTap.game_id == Game.id).exists()
    rows = await session.scalars(select(Game.id).where(queued).order_by(Game.id))
    return list(rows.all())


async def pending_holders(session: AsyncSession, game_id: int, limit: int) -> list[int]:
    """Up to ``limit`` holders with queued taps, those waiting longest first."""
    rows = await session.scalars(
        select(PendingTap.holder_id)
        .where(PendingTap.game_id == game_id)
        .group_by(PendingTap.holder_id)
        .order_by(func.min(PendingTap.tap_id))
        .limit(limit)
    )
    return list(rows.all())


async def pending_summary(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many taps wait for their outcome, and when the first of them (the lowest tap
    id: the earliest stored, near enough) was received."""
    row = (await session.execute(select(func.count(), func.min(PendingTap.tap_id)))).one()
    count, first = int(row[0] or 0), row[1]
    if first is None:
        return count, None
    return count, await session.scalar(select(Tap.received_at).where(Tap.id == first))


# Tables a scoring round reads by key. A round plans its look-ups (a few hundred holders or
# taps) with their statistics; see :func:`analyze_outgrown`.
SCORING_TABLES = (
    "taps",
    "pending_taps",
    "holder_totals",
    "holder_days",
    "holder_team_totals",
    "team_totals",
)


# pg_advisory_xact_lock(namespace, 0): held by the process analyzing the scoring tables.
ANALYZE_LOCK_NAMESPACE = 0x7A5E


async def analyze_outgrown(session: AsyncSession, *, min_rows: int = 1_000) -> list[str]:
    """ANALYZEs the scoring tables that changed by more than half their size (and at least
    ``min_rows`` rows) since their statistics were taken, or never had any (PostgreSQL;
    returns their names).

    Autovacuum analyzes a table only after a minute's nap and 10 % of its rows changed. On
    a new installation's first game, tables grow from nothing faster than that, and the
    planner, knowing nothing of them, took ``game_id = …`` for a handful of rows: a round's
    outcome update then hashed every tap of the game to update 300 of them (18 ms instead
    of 4 ms with statistics) and its tap read filtered every tap of the game (20-40 ms).
    Once a table is large the threshold is rarely crossed again, and autovacuum carries on.
    """
    if not is_postgres(session):
        return []
    rows = await session.execute(
        text(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:names)"
            " AND schemaname = current_schema() AND n_mod_since_analyze >= :min_rows"
            " AND (n_mod_since_analyze > n_live_tup / 2"
            "      OR coalesce(last_analyze, last_autoanalyze) IS NULL)"
            " ORDER BY relname"
        ),
        {"names": list(SCORING_TABLES), "min_rows": min_rows},
    )
    stale = [r[0] for r in rows]
    if not stale:
        return []
    # Every process's sweep may find the same tables: one analyzes, the others skip.
    if not await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:ns, 0)"), {"ns": ANALYZE_LOCK_NAMESPACE}
    ):
        return []
    # Names come from the fixed list above, never from input.
    await session.execute(text(f"ANALYZE {', '.join(stale)}"))
    return stale


async def take_pending(
    session: AsyncSession, game_id: int, holder_ids: Sequence[int]
) -> dict[int, datetime]:
    """Takes these holders' taps off the queue; returns the earliest tap time of each
    holder that had any. The rows go only with the caller's commit, and only those
    committed before this statement: a tap committed later stays queued for the next
    round even if the caller's later reads see (and score) it, which costs that round an
    idempotent re-derive and loses nothing."""
    rows = await session.execute(
        delete(PendingTap)
        .where(PendingTap.game_id == game_id, one_of(session, PendingTap.holder_id, holder_ids))
        .returning(PendingTap.holder_id, PendingTap.tapped_at)
        .execution_options(synchronize_session=False)
    )
    firsts: dict[int, datetime] = {}
    for holder_id, tapped_at in rows:
        first = firsts.get(holder_id)
        if first is None or tapped_at < first:
            firsts[holder_id] = tapped_at
    return firsts


async def clear_pending(session: AsyncSession, game_id: int) -> None:
    """Empties a game's queue before a whole-game re-score (whose reads come after)."""
    await session.execute(
        delete(PendingTap)
        .where(PendingTap.game_id == game_id)
        .execution_options(synchronize_session=False)
    )


async def game_row(session: AsyncSession, game_id: int) -> Game:
    """The game as committed (refreshes an object the session may hold from before a lock)."""
    game = await session.scalar(
        select(Game).where(Game.id == game_id).execution_options(populate_existing=True)
    )
    if game is None:
        raise LookupError(f"no game {game_id}")
    return game


async def checkpoints(session: AsyncSession, game_id: int) -> Sequence[Checkpoint]:
    return (await session.scalars(select(Checkpoint).where(Checkpoint.game_id == game_id))).all()


async def campaigns(session: AsyncSession, game_id: int) -> Sequence[Campaign]:
    return (await session.scalars(select(Campaign).where(Campaign.game_id == game_id))).all()


async def holder_inputs(
    session: AsyncSession, game_id: int, holder_ids: Sequence[int] | None
) -> tuple[dict[int, str | None], dict[int, list[tuple[datetime | None, int | None]]]]:
    """Age bands and team periods, for the given holders (None: all of the game's)."""
    age_q = select(Player.holder_id, Player.age_band).where(Player.game_id == game_id)
    team_q = select(TeamMembership.holder_id, TeamMembership.valid_from, TeamMembership.team_id)
    team_q = team_q.where(TeamMembership.game_id == game_id).order_by(TeamMembership.id)
    if holder_ids is not None:
        age_q = age_q.where(one_of(session, Player.holder_id, holder_ids))
        team_q = team_q.where(one_of(session, TeamMembership.holder_id, holder_ids))
    ages = {row.holder_id: row.age_band for row in await session.execute(age_q)}
    periods: dict[int, list[tuple[datetime | None, int | None]]] = {}
    for row in await session.execute(team_q):
        periods.setdefault(row.holder_id, []).append((row.valid_from, row.team_id))
    return ages, periods


async def card_validity(
    session: AsyncSession, game_id: int
) -> dict[int, tuple[datetime | None, datetime | None]]:
    """``{card_id: (valid_from, valid_until)}`` for the game's cards with a validity limit."""
    rows = await session.execute(
        select(Card.id, Card.valid_from, Card.valid_until).where(
            Card.game_id == game_id, (Card.valid_from.is_not(None)) | Card.valid_until.is_not(None)
        )
    )
    return {r.id: (r.valid_from, r.valid_until) for r in rows}


# A tap as scoring reads it; every reader below returns rows indexable in this order.
TAP_TUPLE = (
    Tap.id,
    Tap.holder_id,
    Tap.source_key,
    Tap.checkpoint_id,
    Tap.card_id,
    Tap.tapped_at,
    Tap.outcome,
    Tap.points,
    Tap.distance_m,
    Tap.multiplier,
    Tap.campaign_id,
    Tap.team_id,
    Tap.local_date,
)
# TAP_TUPLE and the card's validity limits: what the incremental read (tap_rows) returns.
TAP_COLUMNS = (
    *TAP_TUPLE,
    Card.valid_from.label("card_valid_from"),
    Card.valid_until.label("card_valid_until"),
)


async def tap_rows(
    session: AsyncSession,
    game_id: int,
    holder_ids: Sequence[int],
    since: datetime | None = None,
) -> list[Any]:
    """The taps of these holders (rows in :data:`TAP_TUPLE` order, then card validity);
    with ``since``, only those tapped at or after it."""
    query = (
        select(*TAP_COLUMNS)
        .join(Card, Card.id == Tap.card_id)
        .where(Tap.game_id == game_id, one_of(session, Tap.holder_id, holder_ids))
    )
    if since is not None:
        query = query.where(Tap.tapped_at >= since)
    return list((await session.execute(query)).all())


async def tap_count(session: AsyncSession, game_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Tap.game_id == game_id)) or 0)


OUTCOME_FIELDS = (
    "id",
    "outcome",
    "points",
    "distance_m",
    "multiplier",
    "campaign_id",
    "team_id",
    "local_date",
)


async def write_outcomes(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk update of changed taps by primary key (one executemany)."""
    if rows:
        await session.execute(update(Tap).execution_options(synchronize_session=False), rows)


_PG_WRITE_OUTCOMES = text(
    """
    UPDATE taps AS t
    SET outcome = v.outcome, points = v.points, distance_m = v.distance_m,
        multiplier = v.multiplier, campaign_id = v.campaign_id, team_id = v.team_id,
        local_date = v.local_date
    FROM unnest(CAST(:ids AS bigint[]), CAST(:outcomes AS varchar[]),
                CAST(:points AS integer[]), CAST(:distances AS float8[]),
                CAST(:multipliers AS numeric[]), CAST(:campaign_ids AS integer[]),
                CAST(:team_ids AS integer[]), CAST(:local_dates AS date[]))
         AS v(id, outcome, points, distance_m, multiplier, campaign_id, team_id, local_date)
    WHERE t.game_id = :game_id AND t.id = v.id
    """
)


async def write_changed_outcomes(
    session: AsyncSession, game_id: int, changes: Sequence[Sequence[Any]]
) -> None:
    """Writes outcome tuples (:data:`OUTCOME_FIELDS` order) of one game's taps: one
    set-based UPDATE on PostgreSQL, an executemany elsewhere."""
    if not changes:
        return
    if not is_postgres(session):
        await write_outcomes(session, [dict(zip(OUTCOME_FIELDS, c, strict=True)) for c in changes])
        return
    columns = list(zip(*changes, strict=True))
    await session.execute(
        _PG_WRITE_OUTCOMES,
        {
            "game_id": game_id,
            "ids": list(columns[0]),
            "outcomes": list(columns[1]),
            "points": list(columns[2]),
            "distances": list(columns[3]),
            "multipliers": list(columns[4]),
            "campaign_ids": list(columns[5]),
            "team_ids": list(columns[6]),
            "local_dates": list(columns[7]),
        },
    )


class StoredTap(NamedTuple):
    """A tap as a full re-score reads it on PostgreSQL: the attributes of ``engine.Tap`` (which
    the engine only reads), then the outcome stored for it in compact form.

    Rows are built by asyncpg and retyped without any per-row Python code (``tuple.__new__``),
    so everything is computed by the server: the checkpoint's code ('' when it is not one of
    the game's), the card's validity, and ``campaign`` = campaign id (0: none) * 1,000,000 +
    multiplier in thousandths (see :func:`campaign_key`).
    """

    key: str
    checkpoint_code: str
    tapped_at: datetime
    card_valid_from: datetime | None
    card_valid_until: datetime | None
    holder_id: int
    id: int
    outcome: str | None
    points: int
    distance_m: float
    campaign: int
    team_id: int | None
    day: int | None  # local_date as a proleptic Gregorian ordinal (date.toordinal)
    ref: tuple[int, int]  # where the row was read (ctid: page, item)


def campaign_key(campaign_id: int | None, multiplier_thousandths: int) -> int:
    """:attr:`StoredTap.campaign` of an outcome with this campaign and multiplier."""
    return (campaign_id or 0) * 1_000_000 + multiplier_thousandths


class Batch(NamedTuple):
    """The taps of the holders ``lo..hi`` (every holder of the game in that id range), and
    their stored holder-level totals when the IO ``keeps_totals``."""

    lo: int
    hi: int
    rows: Sequence[Any]
    totals: StoredTotals | None


class OutcomeIO:
    """A full re-score's database side: reads a game's taps by holder range, writes changed
    outcomes and rebuilds the totals (portable version, used on SQLite)."""

    # False: rows in TAP_TUPLE form. True: StoredTap rows, sorted by holder then in the
    # engine's order (see PostgresOutcomeIO), and changes written in the LEAN form.
    stored_taps = False
    # True: the caller keeps the holder-level totals (Batch.totals, write(totals=)).
    keeps_totals = False
    # True: reads use a connection of their own, so the session may be used while they run.
    reads_apart = False

    def __init__(
        self,
        session: AsyncSession,
        game_id: int,
        validity: Mapping[int, tuple[datetime | None, datetime | None]] | None = None,
    ) -> None:
        self.session = session
        self.game_id = game_id
        self.validity = dict(validity or {})
        self._ranges: list[tuple[int, int]] | None = None

    async def start_next(self, size: int) -> Awaitable[Batch | None]:
        """Starts reading the next batch of about ``size`` taps; await it when needed (None:
        no holders left). Batches cover every holder id from 0 up, in order. (Here: reads
        at once.)"""
        if self._ranges is None:
            self._ranges = await self.ranges(size)
        batch = None
        if self._ranges:
            lo, hi = self._ranges.pop(0)
            batch = Batch(lo, hi, await self.read(lo, hi), None)
        future: asyncio.Future[Batch | None] = asyncio.get_running_loop().create_future()
        future.set_result(batch)
        return future

    async def ranges(self, size: int) -> list[tuple[int, int]]:
        """Consecutive holder id ranges ``(lo, hi)`` covering every id from 0 up, each with
        about ``size`` taps. Sizes come from the stored totals (only the sizes depend on
        them); holders without totals count as the game's average."""
        rows = (
            await self.session.execute(
                select(Holder.id, HolderTotal.taps)
                .outerjoin(
                    HolderTotal,
                    (HolderTotal.holder_id == Holder.id) & (HolderTotal.game_id == self.game_id),
                )
                .where(Holder.game_id == self.game_id)
                .order_by(Holder.id)
            )
        ).all()
        known = [int(n) for _, n in rows if n is not None]
        unknown = len(rows) - len(known)
        average = 1.0
        if unknown:
            total = await tap_count(self.session, self.game_id)
            average = max(1.0, (total - sum(known)) / unknown)
        out: list[tuple[int, int]] = []
        lo, taps = 0, 0.0
        for holder_id, n in rows:
            taps += average if n is None else int(n)
            if taps >= size:
                out.append((lo, int(holder_id)))
                lo, taps = int(holder_id) + 1, 0.0
        out.append((lo, MAX_HOLDER_ID))
        return out

    async def read(self, lo: int, hi: int) -> Sequence[Sequence[Any]]:
        """The taps of holders ``lo..hi`` (in no particular order)."""
        query = select(*TAP_TUPLE).where(
            Tap.game_id == self.game_id, Tap.holder_id >= lo, Tap.holder_id <= hi
        )
        return list((await self.session.execute(query)).all())

    async def write(
        self,
        changes: list[tuple[Any, ...]],
        lo: int,
        hi: int,
        totals: dict[str, TotalsDiff] | None = None,
    ) -> None:
        """Writes the changed outcomes of holders ``lo..hi`` (tuples in
        :data:`OUTCOME_FIELDS` order) and, when ``keeps_totals``, the totals' differences."""
        if changes:
            await write_outcomes(
                self.session, [dict(zip(OUTCOME_FIELDS, c, strict=True)) for c in changes]
            )

    async def drain(self) -> None:
        """Waits for the work still running in the background."""

    async def settle(self) -> None:
        """Like :meth:`drain`, ignoring failures (the caller is already failing)."""

    async def finish_totals(self) -> None:
        """Makes every total of the game equal to the ledger."""
        await rebuild_totals(self.session, self.game_id)


# The holder-level totals tables a re-score keeps: name -> (key columns, value columns).
HOLDER_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "holder_totals": (("holder_id",), ("taps", "counted_taps", "legs", "points", "distance_m")),
    "holder_days": (
        ("holder_id", "local_date"),
        ("taps", "counted_taps", "legs", "points", "distance_m"),
    ),
    "holder_team_totals": (
        ("holder_id", "team_id"),
        ("counted_taps", "legs", "points", "distance_m"),
    ),
}

assert all(values[-1] == "distance_m" for _keys, values in HOLDER_TABLES.values())

# Stored holder-level totals of a holder range: {table: {holder id: {second key: values}}}
# (second key: None for holder_totals, the local day or the team id for the others).
StoredTotals = dict[str, dict[int, dict[Any, tuple[Any, ...]]]]


@dataclass
class TotalsDiff:
    """Changes to one holder-level totals table: rows to update and insert (keys then
    values, in HOLDER_TABLES order) and keys to delete."""

    update: list[tuple[Any, ...]] = field(default_factory=list)
    insert: list[tuple[Any, ...]] = field(default_factory=list)
    delete: list[tuple[Any, ...]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.update or self.insert or self.delete)


class PostgresOutcomeIO(OutcomeIO):
    """The same on PostgreSQL through asyncpg, keeping the server busy while Python scores.

    Writes are queued on one chain of tasks (the caller's connection and transaction, in
    order); reads go on connections of their own when they can
    (:func:`open_snapshot_readers`), so that the server reads the next batch while it
    writes the previous one, otherwise on the same chain: the caller starts reading the
    next holder range (its taps and its stored holder totals) before scoring the current
    one, then queues the current one's writes. Changed outcomes are COPYed (binary) into
    temporary tables and applied every :data:`APPLY_CHANGES` with ``UPDATE … FROM``. The
    caller compares the totals its outcomes add up to with the stored
    ones and hands over only the differences, applied the same way (so totals that did not
    change are not touched, and in-place updates skip the foreign-key checks of inserts).
    Team totals are merged at the end. The caller must not use the session while work is
    queued (:meth:`drain` first).

    Writes join their temporary table to the target by primary key in a nested loop: a range
    of holders has taps on nearly every page of ``taps`` (taps are stored in arrival order),
    so a hash join would read the whole table once per range.
    """

    # Rows are StoredTap, built by asyncpg alone (every conversion is done by the server).
    stored_taps = True
    keeps_totals = True

    def __init__(
        self,
        session: AsyncSession,
        game_id: int,
        conn: Any,
        validity: Mapping[int, tuple[datetime | None, datetime | None]] | None = None,
        readers: Sequence[Any] = (),
        split: int | None = None,
    ) -> None:
        super().__init__(session, game_id, validity)
        self.conn = conn
        # Connections reading under this transaction's snapshot (none: reads are queued
        # with the writes on ``conn``). The second, if any, sorts the later holders while
        # the first reads the earlier ones.
        self.readers = list(readers)
        self.reads_apart = bool(self.readers)
        # With two readers: the last holder the first one reads (see _open_sources).
        self._split = split if len(self.readers) == 2 else None
        self.tail: asyncio.Task[Any] | None = None
        self._read_tail: asyncio.Task[Any] | None = None
        self._make = functools.partial(tuple.__new__, StoredTap)
        self._sources: list[Any] | None = None  # cursors still to read, in holder order
        self._carry: list[StoredTap] = []
        self._next_lo = 0
        # Changed outcomes in _tt_changes and _tt_points (the number in each), of the
        # holders _unapplied_lo.._unapplied_hi.
        self._unapplied = [0, 0]
        self._unapplied_lo = self._unapplied_hi = 0

    @property
    def reader(self) -> Any:
        """The connection reads go on (the first snapshot reader), or None: ``conn``."""
        return self.readers[0] if self.readers else None

    @classmethod
    async def open(
        cls,
        session: AsyncSession,
        game_id: int,
        validity: Mapping[int, tuple[datetime | None, datetime | None]] | None = None,
    ) -> PostgresOutcomeIO:
        await session.execute(text("SELECT 1"))  # the transaction is open on the connection
        sa_conn = await session.connection()
        raw = await sa_conn.get_raw_connection()
        conn = raw.driver_connection
        if conn is None or not conn.is_in_transaction():
            raise RuntimeError("expected an asyncpg connection inside a transaction")
        types = {"holder_id": "integer", "local_date": "date", "team_id": "integer"}
        temps = [
            f"_tt_set_{table} ("
            + ", ".join(
                f"{c} {types.get(c, 'double precision' if c == 'distance_m' else 'integer')}"
                for c in (*keys, *values)
            )
            + ")"
            for table, (keys, values) in HOLDER_TABLES.items()
        ]
        await conn.execute(
            "DROP TABLE IF EXISTS _tt_changes, _tt_points, "
            + ", ".join(f"_tt_set_{t}" for t in HOLDER_TABLES)
            + "; CREATE TEMP TABLE _tt_changes (ref tid, id bigint, outcome varchar(16),"
            " points integer, distance_m double precision, multiplier integer,"
            " campaign_id integer, team_id integer, local_date integer) ON COMMIT DROP; "
            "CREATE TEMP TABLE _tt_points (ref tid, id bigint, points integer,"
            " distance_m double precision) ON COMMIT DROP; "
            + "; ".join(f"CREATE TEMP TABLE {t} ON COMMIT DROP" for t in temps)
            # JIT compiling the large reads costs more than it saves.
            + "; SET LOCAL jit = off"
        )
        split = await conn.fetchval(_SPLIT_HOLDER, game_id, SPLIT_READ_MIN_TAPS)
        readers = await open_snapshot_readers(sa_conn, conn, 1 if split is None else 2)
        return cls(session, game_id, conn, validity, readers, split)

    def _chain(self, make: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """Runs ``make()`` after everything queued before it."""
        previous = self.tail

        async def run() -> T:
            if previous is not None:
                await previous
            return await make()

        task = asyncio.ensure_future(run())
        self.tail = task
        return task

    async def start_next(self, size: int) -> Awaitable[Batch | None]:
        if self.reader is None:
            task = self._chain(lambda: self._next_batch(size))
        else:  # reads queue after reads only
            previous = self._read_tail

            async def read() -> Batch | None:
                if previous is not None:
                    await previous
                return await self._next_batch(size)

            task = self._read_tail = asyncio.ensure_future(read())
        await asyncio.sleep(0)  # let it send its request before the caller computes
        return task

    async def _next_batch(self, size: int) -> Batch | None:
        if self._next_lo > MAX_HOLDER_ID:
            return None
        if self._sources is None:
            self._sources = await self._open_sources(size)
        rows, self._carry = self._carry, []
        while self._sources:
            records = await self._sources[0].fetch(size)
            if len(records) < size:
                del self._sources[0]
            rows.extend(map(self._make, records))
            if not rows:
                continue
            if not self._sources:
                break
            # The last holder may go on in the next fetch: keep it for the next batch.
            last = rows[-1].holder_id
            cut = len(rows) - 1
            while cut > 0 and rows[cut - 1].holder_id == last:
                cut -= 1
            if cut:
                self._carry = rows[cut:]
                del rows[cut:]
                break
        lo = self._next_lo
        hi = MAX_HOLDER_ID if not self._sources else rows[-1].holder_id
        self._next_lo = hi + 1
        return Batch(lo, hi, rows, await self._read_totals(lo, hi))

    async def _open_sources(self, size: int) -> list[Any]:
        """The cursors that read the game's taps, in holder order: one, or with a second
        reader and a large game, two: the holders up to about a quarter of the taps, and the
        rest, whose sort the second server process starts at once (the first rows arrive
        when the smaller sort is done, not the whole game's)."""
        if self._split is None:
            return [await self._open_cursor(self.reader or self.conn)]
        rest = _Prefetched(await self._open_cursor(self.readers[1], after=self._split), size)
        return [await self._open_cursor(self.readers[0], upto=self._split), rest]

    async def _open_cursor(
        self, conn: Any, upto: int | None = None, after: int | None = None
    ) -> Any:
        """One pass over the game's taps (of the holders ``after < id <= upto``) in StoredTap
        form, sorted by holder then in the engine's order (``engine.sort_key``; the "C"
        collation compares UTF-8 text as Python compares str). A holder's taps are spread
        over the whole table (taps are stored as they arrive), so the server reads the table
        once and sorts it (on disk beyond ``work_mem``) rather than visiting every page
        again for each range of holders."""
        args: list[Any] = [self.game_id]
        limits = "NULL::timestamptz, NULL::timestamptz"
        join = ""
        if self.validity:
            limits = "k.valid_from, k.valid_until"
            join = (
                " LEFT JOIN unnest($2::int8[], $3::timestamptz[], $4::timestamptz[])"
                " AS k(card_id, valid_from, valid_until) ON k.card_id = t.card_id"
            )
            args += [list(self.validity), *map(list, zip(*self.validity.values(), strict=True))]
        holders = ""
        if upto is not None:
            args.append(upto)
            holders += f" AND t.holder_id <= ${len(args)}"
        if after is not None:
            args.append(after)
            holders += f" AND t.holder_id > ${len(args)}"
        plan = ("enable_nestloop", "enable_indexscan", "enable_bitmapscan")
        await conn.execute("; ".join(f"SET LOCAL {name} = off" for name in plan))
        cursor = await conn.cursor(
            f"SELECT t.source_key, coalesce(c.code, ''), t.tapped_at, {limits}, t.holder_id,"
            " t.id, t.outcome, t.points, t.distance_m,"
            " coalesce(t.campaign_id, 0)::int8 * 1000000"
            " + coalesce((t.multiplier * 1000)::int8, 1000), t.team_id,"
            " t.local_date - DATE '0001-01-01' + 1, t.ctid"
            " FROM taps AS t LEFT JOIN checkpoints AS c"
            f" ON c.id = t.checkpoint_id AND c.game_id = t.game_id{join}"
            f" WHERE t.game_id = $1{holders}"
            " ORDER BY t.holder_id, t.tapped_at, coalesce(c.code, '') COLLATE \"C\","
            ' t.source_key COLLATE "C"',
            *args,
        )
        await conn.execute("; ".join(f"SET LOCAL {name} TO DEFAULT" for name in plan))
        return cursor

    async def _read_totals(self, lo: int, hi: int) -> StoredTotals:
        out: StoredTotals = {}
        for table, (keys, values) in HOLDER_TABLES.items():
            rows = await (self.reader or self.conn).fetch(
                f"SELECT {', '.join((*keys, *values))} FROM {table}"
                " WHERE game_id = $1 AND holder_id >= $2 AND holder_id <= $3",
                self.game_id,
                lo,
                hi,
            )
            by_holder: dict[int, dict[Any, tuple[Any, ...]]] = {}
            if len(keys) == 1:
                for r in rows:
                    by_holder[r[0]] = {None: tuple(r[1:])}
            else:
                for r in rows:
                    inner = by_holder.get(r[0])
                    if inner is None:
                        by_holder[r[0]] = inner = {}
                    inner[r[1]] = tuple(r[2:])
            out[table] = by_holder
        return out

    async def write(
        self,
        changes: list[tuple[Any, ...]],
        lo: int,
        hi: int,
        totals: dict[str, TotalsDiff] | None = None,
    ) -> None:
        """Like OutcomeIO.write, with ``changes`` in the LEAN forms: the row's
        :attr:`StoredTap.ref`, then :data:`OUTCOME_FIELDS` with the multiplier in thousandths
        and local_date as an ordinal (cheaper to COPY); or, where only the points and the
        distance changed (a points rule), ``(ref, id, points, distance_m)``."""
        self._chain(lambda: self._write(changes, int(lo), int(hi), totals or {}))
        await asyncio.sleep(0)

    async def _write(
        self, changes: list[tuple[Any, ...]], lo: int, hi: int, totals: dict[str, TotalsDiff]
    ) -> None:
        g = int(self.game_id)
        conn = self.conn
        if changes:
            full = [c for c in changes if len(c) > 4]
            points = [c for c in changes if len(c) == 4] if len(full) < len(changes) else []
            if full:
                await conn.copy_records_to_table(
                    "_tt_changes", records=full, columns=("ref", *OUTCOME_FIELDS)
                )
            if points:
                await conn.copy_records_to_table(
                    "_tt_points", records=points, columns=("ref", "id", "points", "distance_m")
                )
            if not any(self._unapplied):
                self._unapplied_lo = lo
            self._unapplied[0] += len(full)
            self._unapplied[1] += len(points)
            self._unapplied_hi = hi
            if sum(self._unapplied) >= APPLY_CHANGES:
                await self._apply_changes()
        for table, diff in totals.items():
            if not diff:
                continue
            keys, values = HOLDER_TABLES[table]
            on = " AND ".join(f"t.{k} = n.{k}" for k in keys)
            temp = f"_tt_set_{table}"
            if diff.delete:
                await conn.copy_records_to_table(temp, records=diff.delete, columns=keys)
                await conn.execute(
                    f"{_NESTED_LOOP_ONLY}DELETE FROM {table} AS t USING {temp} AS n"
                    f" WHERE t.game_id = {g} AND {on}; {_ANY_JOIN}TRUNCATE {temp}"
                )
            if diff.update:
                await conn.copy_records_to_table(
                    temp, records=diff.update, columns=(*keys, *values)
                )
                await conn.execute(
                    f"{_NESTED_LOOP_ONLY}UPDATE {table} AS t SET "
                    + ", ".join(f"{v} = n.{v}" for v in values)
                    + f" FROM {temp} AS n WHERE t.game_id = {g} AND {on}; {_ANY_JOIN}"
                    f"TRUNCATE {temp}"
                )
            if diff.insert:
                await conn.copy_records_to_table(
                    table,
                    records=[(g, *r) for r in diff.insert],
                    columns=("game_id", *keys, *values),
                )

    async def _apply_changes(self) -> None:
        """Writes the changed outcomes gathered in ``_tt_changes`` and ``_tt_points``: each
        row where it was read, in page order (no index lookups, each page once). A row moved
        since (only another transaction can have updated it) is not found there: then those
        changes are written again, by id. Changes are gathered over several batches (up to
        :data:`APPLY_CHANGES`): each pass visits pages all over the table (a holder's taps
        are spread over it), and a table larger than shared buffers is read again in each."""
        g = int(self.game_id)
        conn = self.conn
        tables = ("_tt_changes", "_tt_points")
        statements = (_UPDATE_TAPS, _UPDATE_POINTS)
        for count, table, statement in zip(self._unapplied, tables, statements, strict=True):
            if not count:
                continue
            await conn.execute(_BY_TID)
            status = await conn.execute(
                f"{statement} FROM (SELECT * FROM {table} ORDER BY ref) AS c"
                f" WHERE t.ctid = c.ref AND t.id = c.id AND t.game_id = {g}"
            )
            await conn.execute(_ANY_PLAN)
            if status != f"UPDATE {count}":
                await conn.execute(
                    f"{statement} FROM {table} AS c WHERE t.id = c.id AND t.game_id = {g}"
                    f" AND t.holder_id BETWEEN {self._unapplied_lo} AND {self._unapplied_hi}"
                )
            await conn.execute(f"TRUNCATE {table}")
        self._unapplied = [0, 0]

    async def drain(self) -> None:
        if self.tail is not None:
            tail, self.tail = self.tail, None
            await tail

    async def settle(self) -> None:
        with contextlib.suppress(Exception):
            await self.drain()
        readers, self.readers = self.readers, []
        if readers:
            for task in (
                self._read_tail,
                *(getattr(s, "first", None) for s in self._sources or ()),
            ):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
            for reader in readers:
                with contextlib.suppress(Exception):
                    await reader.close(timeout=5)

    async def finish_totals(self) -> None:
        await self.drain()
        await self._apply_changes()
        g = int(self.game_id)
        await self.conn.execute(
            "SET LOCAL enable_nestloop = off; "
            + _merge_sql(
                "team_totals",
                ("team_id",),
                TEAM_FIELDS,
                "SELECT team_id, sum(legs) AS legs, sum(points) AS points,"
                " sum(distance_m) AS distance_m,"
                " sum(CAST(counted_taps > 0 AS INTEGER)) AS active_members"
                f" FROM holder_team_totals WHERE game_id = {g} GROUP BY team_id",
                g,
                "",
            )
            + "; SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL jit TO DEFAULT"
        )


# Around an UPDATE/DELETE joining a temporary table of keys: look each row up by key.
_NESTED_LOOP_ONLY = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
_ANY_JOIN = "SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT; "
# ... or by ctid, in a TID scan (not through the primary key).
_BY_TID = _NESTED_LOOP_ONLY + "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off"
_ANY_PLAN = (
    _ANY_JOIN + "SET LOCAL enable_indexscan TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT"
)
_UPDATE_TAPS = (
    "UPDATE taps AS t SET outcome = c.outcome, points = c.points, distance_m = c.distance_m,"
    " multiplier = c.multiplier / 1000.0, campaign_id = c.campaign_id, team_id = c.team_id,"
    " local_date = DATE '0001-01-01' + (c.local_date - 1)"
)
_UPDATE_POINTS = "UPDATE taps AS t SET points = c.points, distance_m = c.distance_m"


def _merge_sql(
    table: str, keys: tuple[str, ...], fields: Sequence[str], source: str, g: int, scope: str
) -> str:
    """SQL making ``table``'s rows of game ``g`` (restricted by ``scope``, on alias ``t``)
    equal to ``source`` (rows of keys and fields, by name): updates of the rows whose values
    differ, inserts of missing rows, deletes of rows ``source`` does not have. Unchanged
    rows are not touched (not even locked)."""
    on = " AND ".join(f"t.{k} = n.{k}" for k in keys)
    differs = " OR ".join(
        f"abs(t.{f} - n.{f}) > 1e-6" if f == "distance_m" else f"t.{f} <> n.{f}" for f in fields
    )
    cols = ", ".join((*keys, *fields))
    return "; ".join(
        (
            f"UPDATE {table} AS t SET "
            + ", ".join(f"{f} = n.{f}" for f in fields)
            + f" FROM ({source}) AS n WHERE t.game_id = {g}{scope} AND {on} AND ({differs})",
            f"INSERT INTO {table} (game_id, {cols}) SELECT {g}, {cols} FROM ({source}) AS n"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.game_id = {g}{scope}"
            f" AND {on})",
            f"DELETE FROM {table} AS t WHERE t.game_id = {g}{scope} AND NOT EXISTS"
            f" (SELECT 1 FROM ({source}) AS n WHERE {on})",
        )
    )


# What the snapshot connections read. They see the transaction's snapshot but not the
# transaction's own changes, so they are used only while the transaction has changed none
# of these tables. PostgreSQL's per-transaction counts are on the safe side: they include
# rolled-back subtransactions and, until the backend reports them (within about a second
# of going idle), earlier transactions of the same connection; then one connection reads.
SNAPSHOT_READ_TABLES = ("taps", "checkpoints", *HOLDER_TABLES)
_UNCHANGED_IN_TRANSACTION = (
    "SELECT coalesce(sum(pg_stat_get_xact_tuples_inserted(r) + pg_stat_get_xact_tuples_updated(r)"
    " + pg_stat_get_xact_tuples_deleted(r)), 0) = 0 FROM unnest($1::regclass[]) AS r"
)
# Connection options of SQLAlchemy's asyncpg dialect that asyncpg.connect does not take.
_DIALECT_ONLY_OPTIONS = ("prepared_statement_cache_size", "prepared_statement_name_func")


# Changed outcomes gathered before they are written to taps (PostgresOutcomeIO._apply_changes).
APPLY_CHANGES = 200_000
# A game smaller than this is read by one sorted cursor (its sort is short anyway).
SPLIT_READ_MIN_TAPS = 400_000
# The holder up to which the game's stored holder totals count a quarter of its taps, or
# NULL below SPLIT_READ_MIN_TAPS ($2). Stale totals only make the split less even.
_SPLIT_HOLDER = (
    "SELECT holder_id FROM (SELECT holder_id, sum(taps) OVER (ORDER BY holder_id) AS upto,"
    " sum(taps) OVER () AS total FROM holder_totals WHERE game_id = $1) AS h"
    " WHERE total >= $2 AND upto * 4 >= total ORDER BY holder_id LIMIT 1"
)


class _Prefetched:
    """A cursor whose first fetch is sent at once (the server sorts meanwhile)."""

    def __init__(self, cursor: Any, size: int) -> None:
        self.cursor = cursor
        self.size = size
        self.first: asyncio.Task[Any] | None = asyncio.ensure_future(cursor.fetch(size))

    async def fetch(self, size: int) -> Any:
        if self.first is None:
            return await self.cursor.fetch(size)
        if size != self.size:
            raise ValueError("fetch sizes must not change")
        first, self.first = self.first, None
        return await first


async def open_snapshot_readers(sa_conn: Any, conn: Any, count: int) -> list[Any]:
    """Up to ``count`` more asyncpg connections, each in a read-only transaction that
    imports the snapshot of ``conn``'s transaction (``pg_export_snapshot``); none when that
    would not read what the transaction sees (it has changed :data:`SNAPSHOT_READ_TABLES`)
    or the server refuses them.

    A full re-score reads on them while the transaction writes: one PostgreSQL backend
    produces the next rows while another applies the last batch's changes, instead of
    one backend doing both in turn. Holding the game's exclusive scoring lock, the
    transaction is the only writer of the game's outcomes and totals meanwhile. Each
    connection decodes ``timestamptz`` from text with ``datetime.fromisoformat`` (about
    twice as fast as asyncpg's binary decoder; TimeZone is UTC, so values come back as
    UTC-aware datetimes equal to the binary ones).
    """
    if not await conn.fetchval(_UNCHANGED_IN_TRANSACTION, list(SNAPSHOT_READ_TABLES)):
        return []
    url = sa_conn.engine.url
    _args, options = sa_conn.dialect.create_connect_args(url)
    for name in _DIALECT_ONLY_OPTIONS:
        options.pop(name, None)
    snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
    readers: list[Any] = []
    try:
        for _ in range(count):
            try:
                reader = await asyncpg.connect(**options, timeout=30)
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                log.warning("rescore.reader_unavailable", error=str(exc))
                break
            readers.append(reader)
            await _import_snapshot(reader, snapshot)
    except BaseException:
        for reader in readers:
            await reader.close()
        raise
    return readers


async def _import_snapshot(reader: Any, snapshot: str) -> None:
    await reader.execute(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
        f" SET TRANSACTION SNAPSHOT '{snapshot}'; SET LOCAL jit = off;"
        " SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'"
    )
    await reader.set_type_codec(
        "timestamptz",
        schema="pg_catalog",
        encoder=datetime.isoformat,
        decoder=datetime.fromisoformat,
        format="text",
    )


async def outcome_io(
    session: AsyncSession,
    game_id: int,
    validity: Mapping[int, tuple[datetime | None, datetime | None]] | None = None,
) -> OutcomeIO:
    """The re-score IO for this session's database; ``validity``: :func:`card_validity`."""
    if is_postgres(session):
        return await PostgresOutcomeIO.open(session, game_id, validity)
    return OutcomeIO(session, game_id, validity)


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
