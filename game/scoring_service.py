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
``scoring_repository.lock_holders`` (a shared game lock, then holder row locks in id order)
from before they insert taps until commit; ``rescore_game`` takes the game's exclusive lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from game import engine
from game import scoring_repository as repo
from game.models import Game, HolderDay, HolderTeamTotal, HolderTotal, TeamTotal
from taptrail import audit

_ONE = Decimal(1)
_LEGS = frozenset((engine.LEG, engine.CAPPED))
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
    cps = await repo.checkpoints(session, game.id)
    camps = await repo.campaigns(session, game.id)
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


@dataclass
class TotalsDelta:
    """Differences to add to the stored totals, keyed like their tables."""

    holders: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    holder_teams: dict[tuple[int, int, int], dict[str, Any]] = field(default_factory=dict)
    days: dict[tuple[int, int, date], dict[str, Any]] = field(default_factory=dict)
    # Filled by apply_delta: the team totals' differences, active members included.
    teams: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    points_moved: int = 0

    def add(self, game_id: int, holder_id: int, old: Any, new: Any) -> None:
        """Adds ``new``'s contribution and removes ``old``'s (objects with the outcome
        columns; None or an unscored one contributes nothing)."""
        for sign, side in ((-1, old), (1, new)):
            if side is None or side.outcome is None:
                continue
            counted = int(side.outcome != engine.OUT_OF_GAME)
            leg = int(side.outcome in _LEGS)
            values = {
                "taps": sign,
                "counted_taps": sign * counted,
                "legs": sign * leg,
                "points": sign * side.points,
                "distance_m": sign * side.distance_m,
            }
            _add(self.holders, (game_id, holder_id), values)
            if side.local_date is not None:
                _add(self.days, (game_id, holder_id, side.local_date), values)
            if side.team_id is not None:
                team_values = {k: v for k, v in values.items() if k != "taps"}
                _add(self.holder_teams, (game_id, holder_id, side.team_id), team_values)
        old_points = old.points if old is not None and old.outcome is not None else 0
        new_points = new.points if new is not None and new.outcome is not None else 0
        self.points_moved += abs(new_points - old_points)

    def is_empty(self) -> bool:
        return not self.holders


def _add(target: dict[Any, dict[str, Any]], key: Any, values: dict[str, Any]) -> None:
    row = target.setdefault(key, dict.fromkeys(values, 0))
    for name, value in values.items():
        row[name] = row.get(name, 0) + value


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
        # r in scoring_repository.TAP_TUPLE order
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


class _LeanRow:
    """Like :class:`_Row`, from a row in ``scoring_repository``'s LEAN form: the stored
    multiplier is in thousandths (``mult``) and the stored local date an ordinal (``day``)."""

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
        "mult",
        "campaign_id",
        "team_id",
        "day",
    )

    def __init__(
        self,
        r: Sequence[Any],
        codes: dict[int, str],
        validity: dict[int, tuple[datetime | None, datetime | None]],
    ) -> None:
        (
            self.id,
            _,
            self.key,
            checkpoint_id,
            card_id,
            seconds,
            self.outcome,
            self.points,
            self.distance_m,
            mult,
            self.campaign_id,
            self.team_id,
            self.day,
        ) = r
        self.checkpoint_code = codes.get(checkpoint_id, "")
        # Exact: PostgreSQL computes the float from the integer microseconds with at most two
        # roundings, each under 0.12 µs before 2106, and fromtimestamp rounds to the µs.
        self.tapped_at = _fromtimestamp(seconds, UTC)
        limits = validity.get(card_id) if validity else None
        if limits is None:
            self.card_valid_from = self.card_valid_until = None
        else:
            self.card_valid_from, self.card_valid_until = limits
        self.mult = 1000 if mult is None else mult


_fromtimestamp = datetime.fromtimestamp
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
        counted=row.outcome != engine.OUT_OF_GAME,
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
    (``scoring_repository.OUTCOME_FIELDS`` order)."""
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

    The caller must hold the holders' locks (``scoring_repository.lock_holders``, taken
    before inserting the taps) when other writers may touch them. ``full`` re-derives every
    tap instead of resuming from the earliest new one.
    """
    ids = sorted(set(holder_ids))
    delta = TotalsDelta()
    if not ids:
        return delta
    await session.flush()  # taps added to the session but not yet sent
    since: datetime | None = None
    first: datetime | None = None
    if not full:
        first = await repo.first_unscored(session, game_id, ids)
        if first is None:
            return delta
    game = await repo.game_row(session, game_id)
    if first is not None:
        # Only taps from here on can matter: an earlier anchor is outside the journey
        # window, and the daily cap only counts the new tap's local day.
        window = timedelta(minutes=game.journey_window_minutes + 1)
        since = first - max(HISTORY_NEEDED, window)
    ctx = await scoring_context(session, game)
    ages, periods = await repo.holder_inputs(session, game_id, ids)
    raw = await repo.tap_rows(session, game_id, ids, since)
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
    await repo.write_outcomes(
        session, [dict(zip(repo.OUTCOME_FIELDS, w, strict=True)) for w in writes]
    )
    await apply_delta(session, delta)
    return delta


async def apply_delta(session: AsyncSession, delta: TotalsDelta) -> None:
    """Adds ``delta`` to the stored totals (the holders' locks must be held) and records
    the team differences it implies in ``delta.teams``."""
    if not delta.holders:
        return
    game_id = next(iter(delta.holders))[0]
    before = await repo.holder_team_counts(
        session, game_id, [(h, t) for _, h, t in delta.holder_teams]
    )
    team_delta: dict[tuple[int, int], dict[str, Any]] = {}
    for (g, holder_id, team_id), values in delta.holder_teams.items():
        was = before.get((holder_id, team_id), 0)
        now = was + values["counted_taps"]
        _add(
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
    await repo.add_to(session, HolderTotal.__table__, ("game_id", "holder_id"), delta.holders)
    await repo.add_to(
        session, HolderTeamTotal.__table__, ("game_id", "holder_id", "team_id"), delta.holder_teams
    )
    await repo.add_to(
        session, HolderDay.__table__, ("game_id", "holder_id", "local_date"), delta.days
    )
    await repo.add_to(session, TeamTotal.__table__, ("game_id", "team_id"), team_delta)


async def rescore_holders(
    session: AsyncSession, game_id: int, holder_ids: Iterable[int]
) -> TotalsDelta:
    """Re-derives every tap of these holders (after a registration, team or card change)."""
    ids = sorted(set(holder_ids))
    await repo.lock_holders(session, ids)
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
    holders are read in consecutive id ranges of about ``RESCORE_BATCH_TAPS`` taps. On
    PostgreSQL the server reads the next range and writes the previous one's changed
    outcomes and totals while Python scores. ``progress(n)`` is called as taps are done
    (the total is ``scoring_repository.tap_count``).
    """
    await session.flush()
    await repo.lock_game(session, game_id, exclusive=True)
    game = await repo.game_row(session, game_id)
    game.scoring_version += 1
    await session.flush()
    forget_context(game_id)
    ctx = await scoring_context(session, game)
    ages, periods = await repo.holder_inputs(session, game_id, None)
    validity = await repo.card_validity(session, game_id)
    report = RescoreReport(points_before=await repo.points_total(session, game_id))
    io = await repo.outcome_io(session, game_id)
    make_row: Any = _LeanRow if io.lean else _Row
    keeps = io.keeps_totals
    try:
        ranges = await io.ranges(RESCORE_BATCH_TAPS)
        reading = await io.start_read(*ranges[0])
        stored = await io.start_read_totals(*ranges[0]) if keeps else None
        for i, (lo, hi) in enumerate(ranges):
            rows = await reading
            old_totals = await stored if stored is not None else None
            if any(r[3] not in ctx.checkpoint_codes for r in rows):
                await io.drain()  # the session is needed: nothing may run on it meanwhile
                ctx = await _ensure_checkpoints(session, game, ctx, {r[3] for r in rows})
            if i + 1 < len(ranges):  # the server reads the next range while this one is scored
                reading = await io.start_read(*ranges[i + 1])
                stored = await io.start_read_totals(*ranges[i + 1]) if keeps else None
            writes: list[tuple[Any, ...]] = []
            diff = _TotalsKeeper(old_totals) if old_totals is not None else None
            await _rescore_batch(rows, make_row, validity, ages, periods, ctx, writes, diff, report)
            report.taps += len(rows)
            report.changed += len(writes)
            await io.write(writes, lo, hi, diff.finish() if diff is not None else None)
            if progress is not None:
                progress(len(rows))
        await io.finish_totals()
    finally:
        await io.settle()
    report.points_after = await repo.points_total(session, game_id)
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
    totals: _TotalsKeeper | None,
    report: RescoreReport,
) -> None:
    """Scores a batch of rows (any order), holder by holder, yielding to the event loop now
    and then so that queued database work keeps flowing."""
    codes = ctx.checkpoint_codes
    by_holder: dict[int, list[Any]] = {}
    for r in rows:
        holder_rows = by_holder.get(r[1])
        if holder_rows is None:
            by_holder[r[1]] = holder_rows = []
        holder_rows.append(make_row(r, codes, validity))
    for done, (holder_id, holder_rows) in enumerate(by_holder.items(), start=1):
        _rescore_holder(holder_rows, holder_id, ages, periods, ctx, writes, totals, report)
        if done % 16 == 0:  # keeps the queued database work flowing (a few ms apart)
            await asyncio.sleep(0)


def _rescore_holder(
    rows: list[Any],
    holder_id: int,
    ages: dict[int, str | None],
    periods: dict[int, list[Any]],
    ctx: ScoringContext,
    writes: list[tuple[Any, ...]],
    totals: _TotalsKeeper | None,
    report: RescoreReport,
) -> None:
    """Re-derives one holder from scratch, appending changed outcomes to ``writes`` and,
    with ``totals``, comparing the holder's totals with the stored ones."""
    holder = _holder(holder_id, ages, periods)
    if rows and type(rows[0]) is not _LeanRow:
        changed = _score_rows(rows, holder, ctx, from_first_unscored=False)
        for row, new in changed:
            writes.append(new)
            report.points_moved += abs(new[2] - (row.points if row.outcome is not None else 0))
        return
    # The hot loop of a large re-score: compare in the lean row's units, and sum the
    # totals per local day and team (outcomes come in time order: days come in runs).
    rows.sort(key=_row_order)
    outcomes, _ = engine.score_from(engine.INITIAL_STATE, rows, holder, ctx.game)
    keys = ctx.campaign_keys
    moved = 0
    days: dict[date, list[Any]] = {}
    teams: dict[int, list[Any]] = {}
    day: date | None = None
    team: Any = _NO_TEAM
    d_acc: list[Any] = []
    t_acc: list[Any] | None = None
    for row, out in zip(rows, outcomes, strict=True):
        if out.local_date != day:
            day = out.local_date
            d_acc = days.get(day) or days.setdefault(day, [0, 0, 0, 0, 0.0])
        if out.team_id != team:
            team = out.team_id
            t_acc = None if team is None else teams.setdefault(team, [0, 0, 0, 0.0])
        d_acc[0] += 1
        if out.counted:
            d_acc[1] += 1
            if t_acc is not None:
                t_acc[0] += 1
            if out.outcome in _LEGS:
                d_acc[2] += 1
                d_acc[3] += out.points
                d_acc[4] += out.distance_m
                if t_acc is not None:
                    t_acc[1] += 1
                    t_acc[2] += out.points
                    t_acc[3] += out.distance_m
        campaign_id, mult = keys[out.campaign_code]
        if (
            row.outcome == out.outcome
            and row.points == out.points
            and row.campaign_id == campaign_id
            and row.team_id == out.team_id
            and row.mult == mult
            and row.day == day.toordinal()
            and -1e-6 < row.distance_m - out.distance_m < 1e-6
        ):
            continue
        writes.append(  # in the LEAN form PostgresOutcomeIO.write takes
            (
                row.id,
                out.outcome,
                out.points,
                out.distance_m,
                mult,
                campaign_id,
                out.team_id,
                day.toordinal(),
            )
        )
        moved += abs(out.points - (row.points if row.outcome is not None else 0))
    report.points_moved += moved
    if totals is not None:
        totals.holder(holder_id, days, teams)


_NO_TEAM = object()


class _TotalsKeeper:
    """Compares the holder-level totals a batch's outcomes add up to with the stored ones
    and collects the differences (``scoring_repository.TotalsDiff`` per table)."""

    def __init__(self, stored: repo.StoredTotals) -> None:
        self.stored = stored
        self.seen: set[int] = set()
        self.diffs = {table: repo.TotalsDiff() for table in repo.HOLDER_TABLES}

    def holder(
        self, holder_id: int, days: dict[date, list[Any]], teams: dict[int, list[Any]]
    ) -> None:
        self.seen.add(holder_id)
        total = [sum(v[i] for v in days.values()) for i in range(5)]
        self._compare("holder_totals", holder_id, {None: total})
        self._compare("holder_days", holder_id, days)
        self._compare("holder_team_totals", holder_id, teams)

    def _compare(self, table: str, holder_id: int, new: dict[Any, list[Any]]) -> None:
        old = self.stored[table].get(holder_id, {})
        diff = self.diffs[table]
        for key, values in new.items():
            row = (holder_id,) if key is None else (holder_id, key)
            have = old.get(key)
            if have is None:
                diff.insert.append((*row, *values))
            elif any(
                abs(a - b) > 1e-6 if isinstance(b, float) else a != b
                for a, b in zip(have, values, strict=True)
            ):
                diff.update.append((*row, *values))
        for key in old.keys() - new.keys():
            diff.delete.append((holder_id,) if key is None else (holder_id, key))

    def finish(self) -> dict[str, repo.TotalsDiff]:
        """The differences, including totals of holders with no taps left."""
        for table, by_holder in self.stored.items():
            for holder_id in by_holder.keys() - self.seen:
                for key in by_holder[holder_id]:
                    row = (holder_id,) if key is None else (holder_id, key)
                    self.diffs[table].delete.append(row)
        return self.diffs


async def ledger_mismatches(session: AsyncSession, game_id: int) -> list[str]:
    """Differences between the stored totals and the totals recomputed from the ledger
    (empty when they agree); each names the table and key."""
    ledger = await repo.ledger_sums(session, game_id)
    stored = await repo.stored_sums(session, game_id)
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
