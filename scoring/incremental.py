"""Incremental scoring: after new taps are inserted (outcome still null),
:func:`score_holders` re-derives each touched holder's outcomes from the earliest new tap
onwards and adds exactly the difference to the stored totals; :func:`rescore_holders`
re-derives every tap of some holders (registration, team, card changes), again applying
exact differences; :func:`score_pending` is one round of the scorer's queue.

Services never commit: the caller's transaction makes taps, outcomes and totals durable
together. Callers publish leaderboard changes only after that commit.

Concurrency (docs/architecture.md "Scoring and concurrency"): callers hold
``scoring.locks.lock_holders`` (a shared game lock, then holder row locks in id order)
from before they insert taps until commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Game, HolderDay, HolderTeamTotal, HolderTotal, TeamTotal
from game.totals import TotalsDelta, add_values
from scoring import inputs, locks, outcomes, pending, states, totals
from scoring.context import ScoringContext, ensure_checkpoints, scoring_context
from scoring.engine import Anchor, ScoringState
from scoring.rows import Row, engine_holder, score_rows

# How far before a new tap incremental scoring reads (at least): more than the longest local
# day (25 h, a clock change); more than the journey window when that is longer.
HISTORY_NEEDED = timedelta(hours=26)


@dataclass(frozen=True, slots=True)
class _Resume(ScoringState):
    """A holder's stored state and the time of the last tap it covers."""

    last_tapped_at: datetime = datetime.min


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

    A holder whose stored running state (``scoring.models``) is current and whose new taps
    all sort after its last scored one is scored from that state and its new taps alone;
    any other holder (a late tap, no state, a state of an earlier scoring version) is
    re-derived from its earliest new tap with the history before it. Either way the
    holder's state is rewritten after its last tap.
    """
    ids = sorted(set(holder_ids))
    delta = TotalsDelta()
    if not ids:
        return delta
    await session.flush()  # taps added to the session but not yet sent
    # Queued taps come off the queue either way; a full re-derive reads every tap.
    taken = await pending.take_pending(session, game_id, ids)
    firsts = {} if full else taken.firsts
    if not full:
        ids = sorted(firsts)
        if not ids:
            return delta
    game = await inputs.game_row(session, game_id)
    ctx = await scoring_context(session, game)
    resumable = {} if full else await _resumable(session, game, ctx, firsts)
    ages, periods = await inputs.holder_inputs(session, game_id, ids)
    raw = await _tap_rows(session, game, ids, firsts, resumable, taken.tap_ids)
    ctx = await ensure_checkpoints(session, game, ctx, {r[3] for r in raw})
    validity = {r[4]: (r[13], r[14]) for r in raw if r[13] is not None or r[14] is not None}
    by_holder: dict[int, list[Row]] = {}
    for r in raw:
        by_holder.setdefault(r[1], []).append(Row(r, ctx.checkpoint_codes, validity))
    writes: list[tuple[Any, ...]] = []
    kept: list[tuple[Any, ...]] = []
    for holder_id in ids:
        rows = by_holder.get(holder_id, [])
        changed, after = score_rows(
            rows,
            engine_holder(holder_id, ages, periods),
            ctx,
            from_first_unscored=not full,
            state=resumable.get(holder_id),
        )
        if after is not None:
            kept.append(_state_row(holder_id, game.scoring_version, rows[-1].tapped_at, after))
        for row, new in changed:
            writes.append(new)
            delta.add(game_id, holder_id, row, _New(new[1], new[2], new[3], new[6], new[7]))
    await outcomes.write_changed_outcomes(session, game_id, writes)
    await apply_delta(session, delta)
    await states.write_states(session, game_id, kept)
    if full:  # holders left without any tap (a card moved away) have no state
        await states.drop_states(session, game_id, [h for h in ids if h not in by_holder])
    return delta


def _state_row(
    holder_id: int, version: int, last: datetime, state: ScoringState
) -> tuple[Any, ...]:
    anchor = state.anchor
    return (
        holder_id,
        version,
        last,
        anchor.checkpoint_code if anchor is not None else None,
        anchor.tapped_at if anchor is not None else None,
        state.day,
        state.day_points,
        state.previous_day,
        state.previous_day_points,
    )


async def _resumable(
    session: AsyncSession, game: Game, ctx: ScoringContext, firsts: dict[int, datetime]
) -> dict[int, _Resume]:
    """The holders that can be scored from their stored state: it was derived under the
    game's current scoring version, its anchor is one of the game's checkpoints, and every
    new tap is later than the last tap it covers."""
    stored = await states.read_states(session, game.id, sorted(firsts))
    version = game.scoring_version
    known = ctx.game.checkpoints
    out: dict[int, _Resume] = {}
    for holder_id, r in stored.items():
        _, row_version, last, anchor_code, anchor_at, day, points, prev_day, prev_points = r
        if row_version != version or not firsts[holder_id] > last:
            continue
        if anchor_code is not None and anchor_code not in known:
            continue
        anchor = Anchor(anchor_code, anchor_at) if anchor_code is not None else None
        out[holder_id] = _Resume(anchor, day, points, prev_day, prev_points, last)
    return out


# Holders whose first new taps lie within this span of each other are read with one query.
_READ_SPAN = timedelta(hours=6)


async def _tap_rows(
    session: AsyncSession,
    game: Game,
    ids: list[int],
    firsts: dict[int, datetime],
    resumable: dict[int, _Resume],
    taken: dict[int, list[int]],
) -> list[Any]:
    """The taps scoring needs: all of them (no ``firsts``: a full re-derive) or, per holder,
    the taps it took off the queue (``taken``) when it resumes from its stored state
    (``resumable``: they all sort after the state), or else those from shortly before its
    first new tap on. An earlier anchor is outside the journey window, and the daily cap
    only counts the new tap's local day. Holders re-derived from history are read in groups
    of similar first times, so one box uploading yesterday's taps late does not make every
    other holder's history be read too."""
    if not firsts:
        return await inputs.tap_rows(session, game.id, ids)
    # In order, the usual case: exactly the new taps, by id (a tap of the holder committed
    # after the round took the queue waits for the next round).
    owner = {t: h for h in ids if h in resumable for t in taken.get(h, ())}
    rows = [
        r for r in await inputs.taps_by_id(session, game.id, list(owner)) if owner[r[0]] == r[1]
    ]
    back = max(HISTORY_NEEDED, timedelta(minutes=game.journey_window_minutes + 1))
    by_time = sorted((h for h in ids if h not in resumable), key=lambda h: firsts[h])
    start = 0
    while start < len(by_time):
        first = firsts[by_time[start]]
        end = start
        while end < len(by_time) and firsts[by_time[end]] - first <= _READ_SPAN:
            end += 1
        group = sorted(by_time[start:end])
        rows.extend(await inputs.tap_rows(session, game.id, group, first - back))
        start = end
    return rows


async def score_pending(
    session: AsyncSession, game_id: int, max_holders: int, partition: int = 0, partitions: int = 1
) -> tuple[TotalsDelta | None, int]:
    """One scoring round of a game's pending taps (``scoring.scorer``): up to ``max_holders``
    holders (of one partition of them, ``holder_id % partitions == partition``), those
    waiting longest first. Returns the total differences (None: nothing was pending) and how
    many holders were scored."""
    await locks.lock_scorer(session, game_id, partition, partitions)
    holders = await pending.pending_holders(session, game_id, max_holders, partition, partitions)
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
