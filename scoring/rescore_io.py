"""A full re-score's database side, portable version (:class:`OutcomeIO`, used on
SQLite), and the records it shares with the PostgreSQL version
(``scoring.rescore_postgres``): stored taps, batches of holders, totals differences."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from game.models import (
    HolderTotal,
    Tap,
)
from people.models import Holder
from scoring.inputs import TAP_TUPLE, tap_count
from scoring.outcomes import OUTCOME_FIELDS, write_outcomes
from scoring.totals import rebuild_totals

MAX_HOLDER_ID = 2**31 - 1


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
