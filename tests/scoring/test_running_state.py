"""Scoring from each holder's stored running state (``holder_scoring_states``).

Taps that arrive after a holder's last scored tap are scored from the stored state alone;
a late tap re-derives the holder from its place. Property: taps arriving mostly in order,
some late, in random batches, with holders and the whole game re-scored in between, give
exactly the pure engine's outcomes over all taps at once, and the fast path was taken.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from api.app_state import state_of
from game.models import Tap
from scoring import incremental, inputs
from scoring.incremental import rescore_holders
from scoring.models import HolderScoringState
from scoring.rescore import rescore_game
from tests.scoring.taps import T, insert_taps, local, make_game, outcomes
from tests.scoring.test_property import (
    CARDS,
    CODES,
    PROPERTY,
    START,
    Scenario,
    _make_game,
    check_against_engine,
    scenarios,
)


@st.composite
def mostly_in_order(draw: st.DrawFn) -> tuple[Scenario, list[str]]:
    """A scenario whose taps arrive in time order except a few late ones, and what happens
    between batches ("" nothing, "holder" re-derive one holder, "game" re-score)."""
    base = draw(scenarios())
    n = draw(st.integers(2, 30))
    at = START + timedelta(minutes=draw(st.integers(-60, 600)))
    taps = []
    for i in range(n):
        at += timedelta(minutes=draw(st.sampled_from([0, 1, 2, 4, 6, 10, 30, 70, 600, 1500])))
        taps.append(
            T(draw(st.sampled_from(CARDS[:3])), draw(st.sampled_from(CODES)), at, f"k{i:03d}")
        )
    order = list(range(n))
    for _ in range(draw(st.integers(0, 3))):  # a few taps arrive late
        i = draw(st.integers(0, n - 1))
        j = draw(st.integers(i, n - 1))
        order.insert(j, order.pop(i))
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), min_size=1, max_size=8)))
    events = [draw(st.sampled_from(["", "", "", "holder", "game"])) for _ in cuts]
    sc = Scenario(base.rules, base.campaigns, base.players, taps, order, cuts)
    return sc, events


@PROPERTY
@given(case=mostly_in_order())
async def test_in_order_and_late_arrivals_equal_scoring_at_once(
    app: FastAPI, case: tuple[Scenario, list[str]]
) -> None:
    sc, events = case
    game = await _make_game(app, sc)
    arrival = [sc.taps[i] for i in sc.order]
    bounds = [0, *sc.cuts, len(arrival)]
    resumed: list[int] = []
    real = incremental._resumable

    async def counting(*args: Any) -> Any:
        found = await real(*args)
        resumed.append(len(found))
        return found

    with mock.patch.object(incremental, "_resumable", counting):
        for k, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
            async with state_of(app).writing(), state_of(app).sessionmaker() as s:
                await insert_taps(s, game, arrival[lo:hi])
                await s.commit()
            event = events[k] if k < len(events) else ""
            async with state_of(app).writing(), state_of(app).sessionmaker() as s:
                if event == "holder":
                    await rescore_holders(s, game.game_id, [game.holder(arrival[lo].card)])
                elif event == "game":
                    await rescore_game(s, game.game_id, actor="test", reason="property")
                await s.commit()
    await check_against_engine(app, game, sc)
    # Every batch with a holder whose state is current and whose new taps all follow its
    # earlier ones was scored (at least for that holder) from the state.
    fresh: set[str] = set()  # cards whose state is of the current scoring version
    for k, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        batch = arrival[lo:hi]
        resumable = any(
            t.card in fresh
            and min(b.at for b in batch if b.card == t.card)
            > max(p.at for p in arrival[:lo] if p.card == t.card)
            for t in batch
        )
        assert resumed[k] > 0 if resumable else True, (k, resumed)
        fresh |= {t.card for t in batch}
        event = events[k] if k < len(events) else ""
        if event == "game":
            fresh.clear()
        elif event == "holder":
            fresh.add(arrival[lo].card)


async def test_in_order_taps_read_no_history(app: FastAPI) -> None:
    """A tap after the holder's last scored one reads only that new tap, by id."""
    game = await make_game(app, "state-fast")
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(
            s, game, [T("0000001", "A", local(3, 9, 0)), T("0000001", "B", local(3, 9, 5))]
        )
        await s.commit()
    reads: list[Any] = []
    by_id: list[Any] = []
    real, real_by_id = inputs.tap_rows, inputs.taps_by_id

    async def spy(session: Any, game_id: int, holder_ids: Any, since: Any = None) -> Any:
        rows = await real(session, game_id, holder_ids, since)
        reads.append((since, len(rows)))
        return rows

    async def spy_by_id(session: Any, game_id: int, tap_ids: Any) -> Any:
        rows = await real_by_id(session, game_id, tap_ids)
        by_id.append([r[5] for r in rows])
        return rows

    with (
        mock.patch.object(inputs, "tap_rows", spy),
        mock.patch.object(inputs, "taps_by_id", spy_by_id),
    ):
        async with state_of(app).writing(), state_of(app).sessionmaker() as s:
            await insert_taps(s, game, [T("0000001", "C", local(3, 9, 12))])
            await s.commit()
    assert reads == []  # no history
    assert by_id == [[local(3, 9, 12)]]  # the new tap alone
    async with state_of(app).sessionmaker() as s:
        assert await outcomes(s, game, "0000001") == [
            ("journey_start", 0),
            ("leg", 10),
            ("leg", 10),
        ]
        state = await s.scalar(
            select(HolderScoringState).where(HolderScoringState.holder_id == game.holder("0000001"))
        )
        assert state is not None
        assert (state.anchor_code, state.last_tapped_at, state.day_points) == (
            "C",
            local(3, 9, 12),
            20,
        )


async def test_late_tap_rederives_and_rewrites_the_state(app: FastAPI) -> None:
    game = await make_game(app, "state-late")
    card = "0000001"
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(s, game, [T(card, "A", local(3, 9, 0)), T(card, "C", local(3, 9, 20))])
        await s.commit()
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(s, game, [T(card, "B", local(3, 9, 10))])  # late: between the two
        await s.commit()
    async with state_of(app).sessionmaker() as s:
        assert await outcomes(s, game, card) == [("journey_start", 0), ("leg", 10), ("leg", 10)]
        state = await s.scalar(
            select(HolderScoringState).where(HolderScoringState.holder_id == game.holder(card))
        )
        assert state is not None
        assert (state.anchor_code, state.last_tapped_at, state.day_points) == (
            "C",
            local(3, 9, 20),
            20,
        )


async def test_a_state_of_an_earlier_scoring_version_is_not_trusted(app: FastAPI) -> None:
    """After a re-score the stored states are stale: the next tap re-derives from history."""
    game = await make_game(app, "state-version")
    card = "0000001"
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(s, game, [T(card, "A", local(3, 9, 0)), T(card, "B", local(3, 9, 5))])
        await s.commit()
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        # A state that disagrees with the ledger (as one of an earlier version might).
        await s.execute(
            update(HolderScoringState)
            .where(HolderScoringState.holder_id == game.holder(card))
            .values(anchor_code=None, anchor_at=None)
        )
        await rescore_game(s, game.game_id, actor="test", reason="version")
        await s.commit()
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(s, game, [T(card, "C", local(3, 9, 12))])
        await s.commit()
    async with state_of(app).sessionmaker() as s:
        assert await outcomes(s, game, card) == [("journey_start", 0), ("leg", 10), ("leg", 10)]
        taps = (await s.execute(select(Tap.outcome).where(Tap.game_id == game.game_id))).all()
        assert len(taps) == 3
