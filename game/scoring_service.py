"""Feeds the pure engine from the database and stores what it returns.

- ``score_holders``: after new taps are inserted (outcome still null), re-derives each
  touched holder's outcomes from the earliest new tap onwards and adds exactly the
  difference to the stored totals.
- ``rescore_game``: after a rule or campaign change, re-scores every holder, writes the
  outcomes that changed and recomputes the totals from the ledger; leaves an audit record.

Services never commit: the caller's transaction makes taps, outcomes and totals durable
together. Callers publish leaderboard changes only after that commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from game import engine
from game import scoring_repository as repo
from game.models import Game, HolderDay, HolderTeamTotal, HolderTotal, TeamTotal
from taptrail import audit

_ONE = Decimal(1)


@dataclass(frozen=True)
class ScoringContext:
    game: engine.GameContext
    checkpoint_codes: dict[int, str]
    campaign_ids: dict[str, int]


_context_cache: dict[tuple[int, int, datetime], ScoringContext] = {}


async def scoring_context(session: AsyncSession, game: Game) -> ScoringContext:
    """The engine's view of a game, cached per (game, scoring version, last update)."""
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
    )
    if len(_context_cache) > 256:
        _context_cache.clear()
    _context_cache[key] = ctx
    return ctx


def forget_context(game_id: int) -> None:
    for key in [k for k in _context_cache if k[0] == game_id]:
        del _context_cache[key]


@dataclass
class TotalsDelta:
    """Differences to add to the stored totals, keyed like their tables."""

    holders: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    holder_teams: dict[tuple[int, int, int], dict[str, Any]] = field(default_factory=dict)
    days: dict[tuple[int, int, date], dict[str, Any]] = field(default_factory=dict)
    # Filled when applied: per team, including the change in active members.
    teams: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    points_moved: int = 0

    def add(self, game_id: int, holder_id: int, old: Any, new: _Result | None) -> None:
        for sign, side in ((-1, old), (1, new)):
            if side is None or side.outcome is None:
                continue
            counted = int(side.outcome != engine.OUT_OF_GAME)
            leg = int(side.outcome in ("leg", "capped"))
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
        self.points_moved += abs((new.points if new else 0) - old_points)


def _add(target: dict[Any, dict[str, Any]], key: Any, values: dict[str, Any]) -> None:
    row = target.setdefault(key, dict.fromkeys(values, 0))
    for name, value in values.items():
        row[name] = row.get(name, 0) + value


@dataclass(frozen=True, slots=True)
class _Result:
    outcome: str | None
    points: int
    distance_m: float
    multiplier: Decimal | None
    campaign_id: int | None
    team_id: int | None
    local_date: date | None


def _stored(row: Any) -> _Result:
    return _Result(
        row.outcome,
        row.points,
        row.distance_m,
        row.multiplier,
        row.campaign_id,
        row.team_id,
        row.local_date,
    )


def _result(out: engine.Outcome, ctx: ScoringContext) -> _Result:
    return _Result(
        out.outcome,
        out.points,
        out.distance_m,
        out.multiplier,
        ctx.campaign_ids.get(out.campaign_code) if out.campaign_code else None,
        out.team_id,
        out.local_date,
    )


def _same(a: _Result, b: _Result) -> bool:
    return (
        a.outcome == b.outcome
        and a.points == b.points
        and abs(a.distance_m - b.distance_m) < 1e-6
        and (a.multiplier or _ONE) == (b.multiplier or _ONE)
        and a.campaign_id == b.campaign_id
        and a.team_id == b.team_id
        and a.local_date == b.local_date
    )


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


def _tap(row: Any, ctx: ScoringContext) -> engine.Tap:
    return engine.Tap(
        key=row.source_key,
        checkpoint_code=ctx.checkpoint_codes.get(row.checkpoint_id, ""),
        tapped_at=row.tapped_at,
        card_valid_from=row.card_valid_from,
        card_valid_until=row.card_valid_until,
    )


def _outcome_of(row: Any, tap: engine.Tap, codes: dict[int, str]) -> engine.Outcome:
    return engine.Outcome(
        key=tap.key,
        outcome=row.outcome,
        points=row.points,
        distance_m=row.distance_m,
        multiplier=Decimal(row.multiplier) if row.multiplier is not None else _ONE,
        campaign_code=codes.get(row.campaign_id) if row.campaign_id else None,
        team_id=row.team_id,
        local_date=row.local_date,
        counted=row.outcome != engine.OUT_OF_GAME,
    )


def _rescore_rows(
    rows: Sequence[Any],
    holder: engine.Holder,
    ctx: ScoringContext,
    *,
    from_first_unscored: bool,
    game_id: int,
    holder_id: int,
    changed: list[dict[str, Any]],
    delta: TotalsDelta,
) -> None:
    pairs = sorted(((_tap(r, ctx), r) for r in rows), key=lambda p: engine.sort_key(p[0]))
    start = 0
    if from_first_unscored:
        start = next((i for i, (_, r) in enumerate(pairs) if r.outcome is None), len(pairs))
        if start == len(pairs):
            return
    campaign_codes = {v: k for k, v in ctx.campaign_ids.items()}
    state = engine.state_before(
        [(tap, _outcome_of(row, tap, campaign_codes)) for tap, row in pairs[:start]]
    )
    outcomes = engine.resume(state, [tap for tap, _ in pairs[start:]], holder, ctx.game)
    for (_, row), out in zip(pairs[start:], outcomes, strict=True):
        old = _stored(row)
        new = _result(out, ctx)
        if old.outcome is not None and _same(old, new):
            continue
        changed.append(
            {
                "id": row.id,
                "outcome": new.outcome,
                "points": new.points,
                "distance_m": new.distance_m,
                "multiplier": new.multiplier,
                "campaign_id": new.campaign_id,
                "team_id": new.team_id,
                "local_date": new.local_date,
            }
        )
        delta.add(game_id, holder_id, old, new)


async def score_holders(
    session: AsyncSession, game_id: int, holder_ids: Iterable[int], *, full: bool = False
) -> TotalsDelta:
    """Scores new (unscored) taps of these holders and applies the total differences.

    The caller must hold the holders' locks (``scoring_repository.lock_holders``) when
    other writers may touch them. ``full`` re-derives every tap instead of resuming.
    """
    ids = sorted(set(holder_ids))
    delta = TotalsDelta()
    if not ids:
        return delta
    game = await repo.game_row(session, game_id)
    ctx = await scoring_context(session, game)
    ages, periods = await repo.holder_inputs(session, game_id, ids)
    by_holder: dict[int, list[Any]] = defaultdict(list)
    for row in await repo.tap_rows(session, game_id, ids):
        by_holder[row.holder_id].append(row)
    changed: list[dict[str, Any]] = []
    for holder_id in ids:
        _rescore_rows(
            by_holder.get(holder_id, []),
            _holder(holder_id, ages, periods),
            ctx,
            from_first_unscored=not full,
            game_id=game_id,
            holder_id=holder_id,
            changed=changed,
            delta=delta,
        )
    await repo.write_outcomes(session, changed)
    await apply_delta(session, delta)
    return delta


async def apply_delta(session: AsyncSession, delta: TotalsDelta) -> None:
    if not delta.holders:
        return
    before = await repo.holder_team_counts(
        session,
        next(iter(delta.holders))[0],
        [(h, t) for _, h, t in delta.holder_teams],
    )
    team_delta: dict[tuple[int, int], dict[str, Any]] = {}
    for (game_id, holder_id, team_id), values in delta.holder_teams.items():
        was = before.get((holder_id, team_id), 0)
        now = was + values["counted_taps"]
        _add(
            team_delta,
            (game_id, team_id),
            {
                "legs": values["legs"],
                "points": values["points"],
                "distance_m": values["distance_m"],
                "active_members": int(now > 0) - int(was > 0),
            },
        )
    await repo.add_to(session, HolderTotal.__table__, ("game_id", "holder_id"), delta.holders)
    await repo.add_to(
        session, HolderTeamTotal.__table__, ("game_id", "holder_id", "team_id"), delta.holder_teams
    )
    await repo.add_to(
        session, HolderDay.__table__, ("game_id", "holder_id", "local_date"), delta.days
    )
    await repo.add_to(session, TeamTotal.__table__, ("game_id", "team_id"), team_delta)
    delta.teams = team_delta


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


async def rescore_game(
    session: AsyncSession,
    game_id: int,
    *,
    actor: str,
    reason: str,
    progress: Any = None,
) -> RescoreReport:
    """Re-scores a whole game in bounded memory; writes changed outcomes, rebuilds totals."""
    game = await repo.game_row(session, game_id)
    game.scoring_version += 1
    await session.flush()
    forget_context(game_id)
    ctx = await scoring_context(session, game)
    ages, periods = await repo.holder_inputs(session, game_id, None)
    report = RescoreReport()
    stored = await repo.stored_sums(session, game_id)
    report.points_before = sum(p for p, _ in stored["holders"].values())
    changed: list[dict[str, Any]] = []
    delta = TotalsDelta()

    async def flush_changes() -> None:
        await repo.write_outcomes(session, changed)
        report.changed += len(changed)
        changed.clear()

    current: int | None = None
    rows: list[Any] = []

    def score_current() -> None:
        if current is not None:
            _rescore_rows(
                rows,
                _holder(current, ages, periods),
                ctx,
                from_first_unscored=False,
                game_id=game_id,
                holder_id=current,
                changed=changed,
                delta=delta,
            )

    result = await repo.stream_tap_rows(session, game_id)
    async for row in result:
        report.taps += 1
        if row.holder_id != current:
            score_current()
            current, rows = row.holder_id, []
            if len(changed) >= 20_000:
                await flush_changes()
        rows.append(row)
        if progress is not None:
            progress(1)
    score_current()
    await flush_changes()
    await repo.rebuild_totals(session, game_id)
    after = await repo.stored_sums(session, game_id)
    report.points_after = sum(p for p, _ in after["holders"].values())
    audit.record(
        session,
        actor=actor,
        action="game.rescore",
        game_id=game_id,
        reason=reason,
        taps=report.taps,
        outcomes_changed=report.changed,
        points_before=report.points_before,
        points_after=report.points_after,
        points_moved=delta.points_moved,
    )
    return report


async def totals_match_ledger(session: AsyncSession, game_id: int) -> bool:
    ledger = await repo.ledger_sums(session, game_id)
    stored = await repo.stored_sums(session, game_id)
    return bool(ledger == stored)
