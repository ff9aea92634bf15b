"""Full re-score (:func:`rescore_game`): after a rule or campaign change, re-scores every
holder of a game, writes the outcomes that changed and brings the totals to the ledger;
leaves an audit record. Takes the game's exclusive scoring lock (``scoring.locks``).

Never commits: the caller's transaction makes outcomes and totals durable together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from kernel import audit, vocabulary
from scoring import engine, inputs, locks, pending, rescore_io, rescore_postgres, totals
from scoring.context import ScoringContext, ensure_checkpoints, forget_context, scoring_context
from scoring.rows import Row, engine_holder, score_rows

_LEGS = frozenset((vocabulary.LEG, vocabulary.CAPPED))
# A full re-score reads holders in batches of about this many taps.
RESCORE_BATCH_TAPS = 100_000


@dataclass
class RescoreReport:
    taps: int = 0
    changed: int = 0
    points_before: int = 0
    points_after: int = 0
    points_moved: int = 0
    audit_id: int | None = None


async def rescore_game(
    session: AsyncSession,
    game_id: int,
    *,
    actor: str,
    reason: str,
    progress: Callable[[int], Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> RescoreReport:
    """Re-scores a whole game: writes the outcomes that changed, rebuilds every total from
    the ledger and records who did it, why, and how many points moved.

    Holds the game's exclusive scoring lock until the caller commits. Memory is bounded:
    holders are taken in batches (consecutive id ranges) of about ``RESCORE_BATCH_TAPS``
    taps. On PostgreSQL one sorted pass reads them (``scoring.rescore_postgres.PostgresOutcomeIO``)
    and the server fetches the next batch and writes the previous one's changed outcomes and
    totals while Python scores. ``progress(n)`` is called as taps are done (the total is
    ``scoring.inputs.tap_count``).
    """
    await session.flush()
    await locks.lock_game(session, game_id, exclusive=True)
    await pending.clear_pending(session, game_id)  # every tap read below is scored
    game = await inputs.game_row(session, game_id)
    game.scoring_version += 1
    await session.flush()
    forget_context(game_id)
    validity = await inputs.card_validity(session, game_id)
    io = await rescore_postgres.outcome_io(session, game_id, validity)
    try:
        with no_cyclic_gc():
            # Reading on a connection of its own, the server sorts the taps meanwhile.
            reading = await io.start_next(RESCORE_BATCH_TAPS) if io.reads_apart else None
            ctx = await scoring_context(session, game)
            ages, periods = await inputs.holder_inputs(session, game_id, None)
            report = RescoreReport(points_before=await totals.points_total(session, game_id))
            if reading is None:
                reading = await io.start_next(RESCORE_BATCH_TAPS)
            while (batch := await reading) is not None:
                rows = batch.rows
                if io.stored_taps:
                    codes = set(map(_code_of, rows))
                    codes.discard("")  # not a checkpoint of this game
                    if not codes <= ctx.game.checkpoints.keys():
                        await io.drain()  # the session is needed: nothing may run on it
                        forget_context(game.id)
                        ctx = await scoring_context(session, game)
                elif any(r[3] not in ctx.checkpoint_codes for r in rows):
                    await io.drain()  # the session is needed: nothing may run on it meanwhile
                    ctx = await ensure_checkpoints(session, game, ctx, {r[3] for r in rows})
                # The server reads the next batch while this one is scored.
                reading = await io.start_next(RESCORE_BATCH_TAPS)
                writes: list[tuple[Any, ...]] = []
                diff = _TotalsKeeper(batch.totals) if batch.totals is not None else None
                if io.stored_taps:
                    stored_taps = cast(Sequence[rescore_io.StoredTap], rows)
                    await _rescore_stored(stored_taps, ages, periods, ctx, writes, diff, report)
                else:
                    await _rescore_batch(rows, Row, validity, ages, periods, ctx, writes, report)
                done = len(rows)
                report.taps += done
                report.changed += len(writes)
                await io.write(
                    writes, batch.lo, batch.hi, diff.finish() if diff is not None else None
                )
                if progress is not None:
                    progress(done)
            await io.finish_totals()
    finally:
        await io.settle()
    report.points_after = await totals.points_total(session, game_id)
    entry = audit.record(
        session,
        actor=actor,
        action="game.rescore",
        game_id=game_id,
        reason=reason,
        scoring_version=game.scoring_version,
        taps=report.taps,
        outcomes_changed=report.changed,
        points_before=report.points_before,
        points_after=report.points_after,
        points_moved=report.points_moved,
        **(detail or {}),
    )
    await session.flush()
    report.audit_id = entry.id
    return report


async def _rescore_batch(
    rows: Sequence[Sequence[Any]],
    make_row: Any,
    validity: dict[int, tuple[datetime | None, datetime | None]],
    ages: dict[int, str | None],
    periods: dict[int, list[Any]],
    ctx: ScoringContext,
    writes: list[tuple[Any, ...]],
    report: RescoreReport,
) -> None:
    """Scores a batch of rows in TAP_TUPLE form (any order), holder by holder (the portable
    path: the totals are rebuilt from the ledger afterwards)."""
    codes = ctx.checkpoint_codes
    by_holder: dict[int, list[Any]] = {}
    for r in rows:
        holder_rows = by_holder.get(r[1])
        if holder_rows is None:
            by_holder[r[1]] = holder_rows = []
        holder_rows.append(make_row(r, codes, validity))
    for done, (holder_id, holder_rows) in enumerate(by_holder.items(), start=1):
        changed, _ = score_rows(
            holder_rows, engine_holder(holder_id, ages, periods), ctx, from_first_unscored=False
        )
        for row, new in changed:
            writes.append(new)
            report.points_moved += abs(new[2] - (row.points if row.outcome is not None else 0))
        if done % 16 == 0:
            await asyncio.sleep(0)


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pauses the cyclic garbage collector: a re-score allocates millions of short-lived,
    acyclic objects (rows, outcomes), and the collections they trigger would otherwise
    traverse every live row again and again. Reference counting still frees them."""
    global _gc_pauses
    if _gc_pauses == 0:
        _gc_was_enabled[0] = gc.isenabled()
        gc.disable()
    _gc_pauses += 1
    try:
        yield
    finally:
        _gc_pauses -= 1
        if _gc_pauses == 0 and _gc_was_enabled[0]:
            gc.enable()


_gc_pauses = 0
_gc_was_enabled = [True]
_code_of = operator.attrgetter("checkpoint_code")
_key_of = operator.attrgetter("key")
_engine_order = operator.attrgetter("tapped_at", "checkpoint_code", "key")


async def _rescore_stored(
    rows: Sequence[rescore_io.StoredTap],
    ages: dict[int, str | None],
    periods: dict[int, list[Any]],
    ctx: ScoringContext,
    writes: list[tuple[Any, ...]],
    totals: _TotalsKeeper | None,
    report: RescoreReport,
) -> None:
    """Re-derives the holders of a batch of StoredTap rows (sorted by holder, then in the
    engine's order), appending changed outcomes to ``writes`` in the LEAN forms that
    ``PostgresOutcomeIO.write`` takes and, with ``totals``, comparing each holder's totals
    with the stored ones. The hot loop of a large re-score: per tap, only the engine and one
    pass comparing and summing its outcome."""
    game = ctx.game
    score = engine.score_from
    initial = engine.INITIAL_STATE
    counted_legs = _LEGS
    by_code = ctx.campaign_keys  # campaign code -> (campaign id, multiplier in thousandths)
    packed = {code: rescore_io.campaign_key(cid, mult) for code, (cid, mult) in by_code.items()}
    holders: dict[Any, engine.Holder] = {}
    moved = 0
    for done, (holder_id, group) in enumerate(itertools.groupby(rows, _holder_of), start=1):
        taps = list(group)
        holder = _cached_holder(holder_id, ages, periods, holders)
        outcomes = score(initial, cast(list[engine.Tap], taps), holder, game)[0]
        if list(map(_key_of, outcomes)) != list(map(_key_of, taps)):
            # Not in the engine's order after all (it sorted them): the same order here.
            taps.sort(key=_engine_order)
        days: dict[date, list[Any]] = {}
        teams: dict[int, list[Any]] = {}
        # Sums over a run of taps with the same local day and team (taps come in time order,
        # so days and teams come in runs), added to days/teams when the run ends.
        day: date | None = None
        team: Any = _NO_TEAM
        ordinal = 0
        n = counted = legs = points = 0
        distance = 0.0
        for row, out in zip(taps, outcomes, strict=True):
            local = out.local_date
            team_id = out.team_id
            if local != day or team_id != team:
                if n:
                    _add_run(days, teams, day, team, n, counted, legs, points, distance)
                    n = counted = legs = points = 0
                    distance = 0.0
                if local != day:
                    day = local
                    ordinal = local.toordinal()
                team = team_id
            kind = out.outcome
            pts = out.points
            dist = out.distance_m
            n += 1
            if out.counted:
                counted += 1
                if kind in counted_legs:
                    legs += 1
                    points += pts
                    distance += dist
            code = out.campaign_code
            if (
                pts == row.points
                and kind == row.outcome
                and team_id == row.team_id
                and ordinal == row.day
                and packed[code] == row.campaign
                and -1e-6 < row.distance_m - dist < 1e-6
            ):
                continue
            if (
                kind == row.outcome
                and team_id == row.team_id
                and ordinal == row.day
                and packed[code] == row.campaign
            ):
                writes.append((row.ref, row.id, pts, dist))  # only points and distance
            else:
                campaign_id, mult = by_code[code]
                writes.append(
                    (row.ref, row.id, kind, pts, dist, mult, campaign_id, team_id, ordinal)
                )
            moved += abs(pts - (row.points if row.outcome is not None else 0))
        if n:
            _add_run(days, teams, day, team, n, counted, legs, points, distance)
        if totals is not None:
            totals.holder(holder_id, days, teams)
        if done % 16 == 0:  # keeps the queued database work flowing (a few ms apart)
            await asyncio.sleep(0)
    report.points_moved += moved


_holder_of = operator.attrgetter("holder_id")


def _add_run(
    days: dict[date, list[Any]],
    teams: dict[int, list[Any]],
    day: Any,
    team: Any,
    n: int,
    counted: int,
    legs: int,
    points: int,
    distance: float,
) -> None:
    acc = days.get(day)
    if acc is None:
        days[day] = [n, counted, legs, points, distance]
    else:
        acc[0] += n
        acc[1] += counted
        acc[2] += legs
        acc[3] += points
        acc[4] += distance
    if team is not None:
        acc = teams.get(team)
        if acc is None:
            teams[team] = [counted, legs, points, distance]
        else:
            acc[0] += counted
            acc[1] += legs
            acc[2] += points
            acc[3] += distance


def _cached_holder(
    holder_id: int,
    ages: dict[int, str | None],
    periods: dict[int, list[Any]],
    cache: dict[Any, engine.Holder],
) -> engine.Holder:
    """``engine_holder``, sharing one Holder between holders with the same inputs."""
    spans = periods.get(holder_id)
    key = (ages.get(holder_id), tuple(spans) if spans else ())
    holder = cache.get(key)
    if holder is None:
        holder = cache[key] = engine_holder(holder_id, ages, periods)
    return holder


_NO_TEAM = object()


class _TotalsKeeper:
    """Compares the holder-level totals a batch's outcomes add up to with the stored ones
    and collects the differences (``scoring.rescore_io.TotalsDiff`` per table)."""

    def __init__(self, stored: rescore_io.StoredTotals) -> None:
        # Consumed holder by holder: what is left at the end has no taps any more.
        self.stored = stored
        self.diffs = {table: rescore_io.TotalsDiff() for table in rescore_io.HOLDER_TABLES}
        self._holder_totals = (stored["holder_totals"], self.diffs["holder_totals"])
        self._days = (stored["holder_days"], self.diffs["holder_days"])
        self._teams = (stored["holder_team_totals"], self.diffs["holder_team_totals"])

    def holder(
        self, holder_id: int, days: dict[date, list[Any]], teams: dict[int, list[Any]]
    ) -> None:
        values = iter(days.values())
        total = list(next(values, (0, 0, 0, 0, 0.0)))
        for n, counted, legs, points, distance in values:
            total[0] += n
            total[1] += counted
            total[2] += legs
            total[3] += points
            total[4] += distance
        _compare(*self._holder_totals, holder_id, {None: total})
        _compare(*self._days, holder_id, days)
        _compare(*self._teams, holder_id, teams)

    def finish(self) -> dict[str, rescore_io.TotalsDiff]:
        """The differences, including totals of holders with no taps left."""
        for table, by_holder in self.stored.items():
            delete = self.diffs[table].delete
            for holder_id, old in by_holder.items():
                for key in old:
                    delete.append((holder_id,) if key is None else (holder_id, key))
        return self.diffs


def _compare(
    stored: dict[int, dict[Any, tuple[Any, ...]]],
    diff: rescore_io.TotalsDiff,
    holder_id: int,
    new: dict[Any, list[Any]],
) -> None:
    """Adds to ``diff`` what makes a holder's stored rows of one table (taken out of
    ``stored``) equal to ``new`` ({second key or None: values})."""
    old = stored.pop(holder_id, None) or {}
    for key, values in new.items():
        row = (holder_id,) if key is None else (holder_id, key)
        have = old.pop(key, None)
        if have is None:
            diff.insert.append((*row, *values))
            continue
        now = tuple(values)
        # distance_m, the one float, is the last value of every table: within a tolerance.
        if now != have and (now[:-1] != have[:-1] or abs(now[-1] - have[-1]) > 1e-6):
            diff.update.append((*row, *now))
    for key in old:
        diff.delete.append((holder_id,) if key is None else (holder_id, key))
