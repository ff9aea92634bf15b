"""Feeds the pure engine from the database and stores what it returns.

- ``score_holders``: after new taps are inserted (outcome still null), re-derives each
  touched holder's outcomes from the earliest new tap onwards and adds exactly the
  difference to the stored totals.
- ``rescore_holders``: re-derives every tap of some holders (registration, team, card
  changes), again applying exact differences.
- ``rescore_game``: after a rule or campaign change, re-scores every holder, writes the
  outcomes that changed and recomputes the totals from the ledger; leaves an audit record.

Services never commit: the caller's transaction makes taps, outcomes and totals durable
together. Callers publish leaderboard changes only after that commit.

Concurrency (README "Scoring and concurrency"): incremental callers hold
``scoring.locks.lock_holders`` (a shared game lock, then holder row locks in id order)
from before they insert taps until commit; ``rescore_game`` takes the game's exclusive lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Game, HolderDay, HolderTeamTotal, HolderTotal, TeamTotal
from game.totals import TotalsDelta, add_values
from kernel import audit, vocabulary
from scoring import engine, inputs, locks, outcomes, pending, rescore_io, rescore_postgres, totals

_ONE = Decimal(1)
_LEGS = frozenset((vocabulary.LEG, vocabulary.CAPPED))
# A full re-score reads holders in batches of about this many taps.
RESCORE_BATCH_TAPS = 100_000
# How far before a new tap incremental scoring reads (at least): more than the longest local
# day (25 h, a clock change); more than the journey window when that is longer.
HISTORY_NEEDED = timedelta(hours=26)


@dataclass(frozen=True)
class ScoringContext:
    game: engine.GameContext
    checkpoint_codes: dict[int, str]
    campaign_ids: dict[str, int]
    campaign_codes: dict[int, str] = field(default_factory=dict)
    # campaign code (None: no campaign) -> (campaign id, multiplier in thousandths)
    campaign_keys: dict[str | None, tuple[int | None, int]] = field(default_factory=dict)


_context_cache: dict[tuple[int, int, datetime], ScoringContext] = {}


async def scoring_context(session: AsyncSession, game: Game) -> ScoringContext:
    """The engine's view of a game, cached per (game, scoring version, last update).

    Every change that alters scoring re-scores the game, which bumps ``scoring_version``;
    a checkpoint added since caching is detected by the callers (see ``_ensure_checkpoints``).
    """
    key = (game.id, game.scoring_version, game.updated_at)
    cached = _context_cache.get(key)
    if cached is not None:
        return cached
    cps = await inputs.checkpoints(session, game.id)
    camps = await inputs.campaigns(session, game.id)
    ctx = ScoringContext(
        game=engine.GameContext(
            rules=engine.Rules(
                starts_at=game.starts_at,
                ends_at=game.ends_at,
                timezone=game.timezone,
                journey_window_minutes=game.journey_window_minutes,
                points_per_leg=game.points_per_leg,
                max_speed_kmh=game.max_speed_kmh,
                max_points_per_day=game.max_points_per_day,
            ),
            checkpoints={
                c.code: engine.Checkpoint(
                    code=c.code,
                    lat=c.lat,
                    lon=c.lon,
                    tags=frozenset(c.tags or ()),
                    active_from=c.active_from,
                    active_to=c.active_to,
                )
                for c in cps
            },
            campaigns=[
                engine.Campaign(
                    code=c.code,
                    multiplier=Decimal(c.multiplier),
                    starts_at=c.starts_at,
                    ends_at=c.ends_at,
                    checkpoint_codes=frozenset(c.checkpoint_codes or ()),
                    checkpoint_tags=frozenset(c.checkpoint_tags or ()),
                    age_bands=frozenset(c.age_bands or ()),
                )
                for c in camps
            ],
        ),
        checkpoint_codes={c.id: c.code for c in cps},
        campaign_ids={c.code: c.id for c in camps},
        campaign_codes={c.id: c.code for c in camps},
        campaign_keys={
            None: (None, 1000),
            **{c.code: (c.id, int(Decimal(c.multiplier) * 1000)) for c in camps},
        },
    )
    if len(_context_cache) > 256:
        _context_cache.clear()
    _context_cache[key] = ctx
    return ctx


def forget_context(game_id: int) -> None:
    for key in [k for k in _context_cache if k[0] == game_id]:
        del _context_cache[key]


async def _ensure_checkpoints(
    session: AsyncSession, game: Game, ctx: ScoringContext, checkpoint_ids: Iterable[int]
) -> ScoringContext:
    """A checkpoint added after the context was cached (adding one needs no re-score)."""
    if all(cid in ctx.checkpoint_codes for cid in checkpoint_ids):
        return ctx
    forget_context(game.id)
    return await scoring_context(session, game)


class _Row:
    """One stored tap: what the engine reads of a tap (the attributes of ``engine.Tap``,
    which the engine only reads) plus the outcome stored for it.

    Scoring a large game builds one per tap, so this is a plain slotted class rather than an
    ``engine.Tap`` plus the database row.
    """

    __slots__ = (
        "id",
        "key",
        "checkpoint_code",
        "tapped_at",
        "card_valid_from",
        "card_valid_until",
        "outcome",
        "points",
        "distance_m",
        "multiplier",
        "campaign_id",
        "team_id",
        "local_date",
    )

    def __init__(
        self,
        r: Sequence[Any],
        codes: dict[int, str],
        validity: dict[int, tuple[datetime | None, datetime | None]],
    ) -> None:
        # r in inputs.TAP_TUPLE order
        self.id = r[0]
        self.key = r[2]
        self.checkpoint_code = codes.get(r[3], "")
        self.tapped_at = r[5]
        limits = validity.get(r[4])
        if limits is None:
            self.card_valid_from = self.card_valid_until = None
        else:
            self.card_valid_from, self.card_valid_until = limits
        self.outcome = r[6]
        self.points = r[7]
        self.distance_m = r[8]
        self.multiplier = r[9]
        self.campaign_id = r[10]
        self.team_id = r[11]
        self.local_date = r[12]


_row_order = engine.sort_key


def _stored_outcome(row: _Row, campaign_codes: dict[int, str]) -> engine.Outcome:
    return engine.Outcome(
        key=row.key,
        outcome=cast(str, row.outcome),
        points=row.points,
        distance_m=row.distance_m,
        multiplier=Decimal(row.multiplier) if row.multiplier is not None else _ONE,
        campaign_code=campaign_codes.get(row.campaign_id) if row.campaign_id else None,
        team_id=row.team_id,
        local_date=cast(date, row.local_date),
        counted=row.outcome != vocabulary.OUT_OF_GAME,
    )


def _score_rows(
    rows: list[_Row],
    holder: engine.Holder,
    ctx: ScoringContext,
    *,
    from_first_unscored: bool,
) -> list[tuple[_Row, tuple[Any, ...]]]:
    """Re-derives a holder's taps (all, or from the earliest unscored one in scoring order)
    and returns the rows whose outcome changed with their new outcome tuple
    (``scoring.outcomes.OUTCOME_FIELDS`` order)."""
    rows.sort(key=_row_order)  # type: ignore[arg-type]
    start = 0
    if from_first_unscored:
        start = next((i for i, r in enumerate(rows) if r.outcome is None), len(rows))
        if start == len(rows):
            return []
        prior = [(r, _stored_outcome(r, ctx.campaign_codes)) for r in rows[:start]]
        state = engine.state_before(cast(list[tuple[engine.Tap, engine.Outcome]], prior))
        todo = rows[start:]
    else:
        state = engine.INITIAL_STATE
        todo = rows
    outcomes, _ = engine.score_from(state, cast(list[engine.Tap], todo), holder, ctx.game)
    campaign_ids = ctx.campaign_ids
    changed: list[tuple[_Row, tuple[Any, ...]]] = []
    for row, out in zip(todo, outcomes, strict=True):
        code = out.campaign_code
        campaign_id = campaign_ids.get(code) if code is not None else None
        if (
            row.outcome == out.outcome
            and row.points == out.points
            and row.campaign_id == campaign_id
            and row.team_id == out.team_id
            and row.local_date == out.local_date
            and abs(row.distance_m - out.distance_m) < 1e-6
            and (row.multiplier if row.multiplier is not None else _ONE) == out.multiplier
        ):
            continue
        changed.append(
            (
                row,
                (
                    row.id,
                    out.outcome,
                    out.points,
                    out.distance_m,
                    out.multiplier,
                    campaign_id,
                    out.team_id,
                    out.local_date,
                ),
            )
        )
    return changed


def _holder(
    holder_id: int, ages: dict[int, str | None], periods: dict[int, list[Any]]
) -> engine.Holder:
    return engine.Holder(
        age_band=ages.get(holder_id),
        team_periods=tuple(
            engine.TeamPeriod(valid_from=vf, team_id=team)
            for vf, team in periods.get(holder_id, [])
        ),
    )


@dataclass(frozen=True, slots=True)
class _New:
    outcome: str
    points: int
    distance_m: float
    team_id: int | None
    local_date: date


async def score_holders(
    session: AsyncSession, game_id: int, holder_ids: Iterable[int], *, full: bool = False
) -> TotalsDelta:
    """Scores new (unscored) taps of these holders and applies the total differences.

    The caller must hold the holders' locks (``scoring.locks.lock_holders``, taken
    before inserting the taps) when other writers may touch them. ``full`` re-derives every
    tap instead of resuming from the earliest new one.
    """
    ids = sorted(set(holder_ids))
    delta = TotalsDelta()
    if not ids:
        return delta
    await session.flush()  # taps added to the session but not yet sent
    # Queued taps come off the queue either way; a full re-derive reads every tap.
    firsts = await pending.take_pending(session, game_id, ids)
    if full:
        firsts = {}
    else:
        ids = sorted(firsts)
        if not ids:
            return delta
    game = await inputs.game_row(session, game_id)
    ctx = await scoring_context(session, game)
    ages, periods = await inputs.holder_inputs(session, game_id, ids)
    raw = await _tap_rows(session, game, ids, firsts)
    ctx = await _ensure_checkpoints(session, game, ctx, {r[3] for r in raw})
    validity = {r[4]: (r[13], r[14]) for r in raw if r[13] is not None or r[14] is not None}
    by_holder: dict[int, list[_Row]] = {}
    for r in raw:
        by_holder.setdefault(r[1], []).append(_Row(r, ctx.checkpoint_codes, validity))
    writes: list[tuple[Any, ...]] = []
    for holder_id in ids:
        changed = _score_rows(
            by_holder.get(holder_id, []),
            _holder(holder_id, ages, periods),
            ctx,
            from_first_unscored=not full,
        )
        for row, new in changed:
            writes.append(new)
            delta.add(game_id, holder_id, row, _New(new[1], new[2], new[3], new[6], new[7]))
    await outcomes.write_changed_outcomes(session, game_id, writes)
    await apply_delta(session, delta)
    return delta


# Holders whose first new taps lie within this span of each other are read with one query.
_READ_SPAN = timedelta(hours=6)


async def _tap_rows(
    session: AsyncSession, game: Game, ids: list[int], firsts: dict[int, datetime]
) -> list[Any]:
    """The taps scoring needs: all of them (no ``firsts``: a full re-derive) or, per holder,
    those from shortly before its first new tap on. An earlier anchor is outside the
    journey window, and the daily cap only counts the new tap's local day. Holders are read
    in groups of similar first times, so one box uploading yesterday's taps late does not
    make every other holder's history be read too."""
    if not firsts:
        return await inputs.tap_rows(session, game.id, ids)
    back = max(HISTORY_NEEDED, timedelta(minutes=game.journey_window_minutes + 1))
    by_time = sorted(ids, key=lambda h: firsts[h])
    rows: list[Any] = []
    start = 0
    while start < len(by_time):
        earliest = firsts[by_time[start]]
        end = start
        while end < len(by_time) and firsts[by_time[end]] - earliest <= _READ_SPAN:
            end += 1
        group = by_time[start:end]
        rows.extend(await inputs.tap_rows(session, game.id, sorted(group), earliest - back))
        start = end
    return rows


async def score_pending(
    session: AsyncSession, game_id: int, max_holders: int
) -> tuple[TotalsDelta | None, int]:
    """One scoring round of a game's pending taps (``scoring.scorer``): up to ``max_holders``
    holders, those waiting longest first. Returns the total differences (None: nothing was
    pending) and how many holders were scored."""
    await locks.lock_scorer(session, game_id)
    holders = await pending.pending_holders(session, game_id, max_holders)
    if not holders:
        return None, 0
    await locks.lock_holders(session, holders, game_id=game_id)
    return await score_holders(session, game_id, holders), len(holders)


async def apply_delta(session: AsyncSession, delta: TotalsDelta) -> None:
    """Adds ``delta`` to the stored totals (the holders' locks must be held) and records
    the team differences it implies in ``delta.teams``."""
    if not delta.holders:
        return
    game_id = next(iter(delta.holders))[0]
    before = await totals.holder_team_counts(
        session, game_id, [(h, t) for _, h, t in delta.holder_teams]
    )
    team_delta: dict[tuple[int, int], dict[str, Any]] = {}
    for (g, holder_id, team_id), values in delta.holder_teams.items():
        was = before.get((holder_id, team_id), 0)
        now = was + values["counted_taps"]
        add_values(
            team_delta,
            (g, team_id),
            {
                "legs": values["legs"],
                "points": values["points"],
                "distance_m": values["distance_m"],
                "active_members": int(now > 0) - int(was > 0),
            },
        )
    delta.teams = team_delta
    await totals.add_to(session, HolderTotal.__table__, ("game_id", "holder_id"), delta.holders)
    await totals.add_to(
        session, HolderTeamTotal.__table__, ("game_id", "holder_id", "team_id"), delta.holder_teams
    )
    await totals.add_to(
        session, HolderDay.__table__, ("game_id", "holder_id", "local_date"), delta.days
    )
    await totals.add_to(session, TeamTotal.__table__, ("game_id", "team_id"), team_delta)


async def rescore_holders(
    session: AsyncSession, game_id: int, holder_ids: Iterable[int]
) -> TotalsDelta:
    """Re-derives every tap of these holders (after a registration, team or card change)."""
    ids = sorted(set(holder_ids))
    await locks.lock_holders(session, ids)
    return await score_holders(session, game_id, ids, full=True)


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
        with _no_cyclic_gc():
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
                    ctx = await _ensure_checkpoints(session, game, ctx, {r[3] for r in rows})
                # The server reads the next batch while this one is scored.
                reading = await io.start_next(RESCORE_BATCH_TAPS)
                writes: list[tuple[Any, ...]] = []
                diff = _TotalsKeeper(batch.totals) if batch.totals is not None else None
                if io.stored_taps:
                    stored_taps = cast(Sequence[rescore_io.StoredTap], rows)
                    await _rescore_stored(stored_taps, ages, periods, ctx, writes, diff, report)
                else:
                    await _rescore_batch(rows, _Row, validity, ages, periods, ctx, writes, report)
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
        changed = _score_rows(
            holder_rows, _holder(holder_id, ages, periods), ctx, from_first_unscored=False
        )
        for row, new in changed:
            writes.append(new)
            report.points_moved += abs(new[2] - (row.points if row.outcome is not None else 0))
        if done % 16 == 0:
            await asyncio.sleep(0)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
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
    """``_holder``, sharing one Holder between holders with the same inputs."""
    spans = periods.get(holder_id)
    key = (ages.get(holder_id), tuple(spans) if spans else ())
    holder = cache.get(key)
    if holder is None:
        holder = cache[key] = _holder(holder_id, ages, periods)
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


async def ledger_mismatches(session: AsyncSession, game_id: int) -> list[str]:
    """Differences between the stored totals and the totals recomputed from the ledger
    (empty when they agree); each names the table and key."""
    ledger = await totals.ledger_sums(session, game_id)
    stored = await totals.stored_sums(session, game_id)
    problems: list[str] = []
    for table, want in ledger.items():
        have = stored.get(table, {})
        for key in sorted(set(want) | set(have), key=repr):
            a, b = want.get(key), have.get(key)
            if a is None or b is None or any(abs(x - y) > 1e-3 for x, y in zip(a, b, strict=True)):
                problems.append(f"{table} {key}: ledger {a} stored {b}")
    return problems


async def totals_match_ledger(session: AsyncSession, game_id: int) -> bool:
    """Whether every stored total (holder, day, holder-team, team incl. active members)
    equals its sum over the ledger."""
    return not await ledger_mismatches(session, game_id)
