"""A full re-score's database side on PostgreSQL, through asyncpg
(:class:`PostgresOutcomeIO`), its snapshot readers, and :func:`outcome_io`, which picks the
IO for a session's database."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import is_postgres
from kernel.logging import log
from scoring.outcomes import OUTCOME_FIELDS
from scoring.rescore_io import (
    HOLDER_TABLES,
    MAX_HOLDER_ID,
    Batch,
    OutcomeIO,
    StoredTap,
    StoredTotals,
    TotalsDiff,
)
from scoring.totals import TEAM_FIELDS

T = TypeVar("T")


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
