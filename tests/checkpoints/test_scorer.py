"""The scorer (scoring/scorer.py): uploads are answered with their taps stored and pending;
rounds score them, coalescing many uploads, and a sweep scores what a dead process left."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from unittest import mock

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select, text

from api.app_state import state_of
from checkpoints.models import PendingTap
from game.models import Game, Tap
from kernel.db import make_engine, make_sessionmaker
from scoring import scorer as scorer_module
from scoring.incremental import score_pending
from scoring.locks import lock_game
from scoring.pending import ANALYZE_LOCK_NAMESPACE, analyze_outgrown, take_pending
from scoring.rescore import rescore_game
from scoring.scorer import Scorer
from taptrail.migrate import upgrade
from tests.checkpoints.cp_helpers import (
    NOW,
    T0,
    Town,
    game_id_of,
    holder_points,
    ledger,
    tap,
    totals_consistent,
    upload,
)
from tests.conftest import PG_HOST, PG_PORT, PG_USER, _create_pg_database, _drop_pg_database


def pending_gauge(app: FastAPI) -> float | None:
    value: float | None = state_of(app).metrics.registry.get_sample_value(
        "taptrail_scoring_pending_taps"
    )
    return value


@pytest.fixture
def scorer_stopped(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Any:
    """As if the process died right after each upload's commit: nothing is scored."""
    scorer = state_of(app).scorer

    async def not_settled(game_ids: list[int], timeout_s: float = 0) -> None:
        return None

    monkeypatch.setattr(scorer, "settle", not_settled)
    monkeypatch.setattr(scorer, "wake", lambda game_id: None)
    return monkeypatch


async def test_pending_taps_are_scored_by_the_sweep(
    app: FastAPI, client: httpx.AsyncClient, town: Town, scorer_stopped: Any
) -> None:
    for reader, seq, minutes in (("A", 1, 0), ("B", 1, 15), ("C", 1, 40)):
        r = await upload(
            client, town, reader, [tap(seq, 3, T0 + timedelta(minutes=minutes))], sent_at=NOW
        )
        assert r.status_code == 200 and r.json()["accepted"] == 1
    stored = await ledger(app, town.slug)
    assert len(stored) == 3 and all(row[4] is None for row in stored.values())
    assert await holder_points(app, town.slug) == {}
    assert await totals_consistent(app, town.slug)  # pending taps count nowhere yet

    await state_of(app).scorer.sweep()  # wake is off: only the gauges
    assert (pending_gauge(app) or 0) >= 3

    scorer_stopped.undo()
    scorer = state_of(app).scorer
    await scorer.sweep()
    await scorer.settle([await game_id_of(app, town.slug)])
    stored = await ledger(app, town.slug)
    assert sorted(row[4] for row in stored.values()) == ["journey_start", "leg", "leg"]
    assert await holder_points(app, town.slug) == {"0000003": 20}
    assert await totals_consistent(app, town.slug)
    await scorer.sweep()
    assert pending_gauge(app) == 0


async def test_one_round_scores_many_uploads(
    app: FastAPI, client: httpx.AsyncClient, town: Town, scorer_stopped: Any
) -> None:
    # Four boxes, five cards: each card walks A -> B -> C -> P, 15 minutes a leg.
    for card in range(4, 9):
        for step, reader in enumerate(("A", "B", "C", "P")):
            when = T0 + timedelta(minutes=15 * step + card)
            r = await upload(client, town, reader, [tap(card * 10 + step, card, when)], sent_at=NOW)
            assert r.json()["accepted"] == 1
    scorer_stopped.undo()
    scorer = state_of(app).scorer
    before = scorer.rounds
    await scorer.settle([await game_id_of(app, town.slug)])
    assert scorer.rounds == before + 1  # 20 uploads of 5 holders: one round
    points = await holder_points(app, town.slug)
    assert points == {f"{card:07d}": 30 for card in range(4, 9)}
    assert await totals_consistent(app, town.slug)


async def test_scorers_of_holder_partitions_score_one_game_side_by_side(
    app: FastAPI, client: httpx.AsyncClient, town: Town, scorer_stopped: Any, backend: str
) -> None:
    """Two scorers (as two processes) with the game's holders in two partitions: each
    starts at a different partition, together they score every tap exactly once."""
    for card in range(4, 9):
        for step, reader in enumerate(("A", "B", "C", "P")):
            when = T0 + timedelta(minutes=15 * step + card)
            r = await upload(client, town, reader, [tap(card * 10 + step, card, when)], sent_at=NOW)
            assert r.json()["accepted"] == 1
    main = state_of(app).scorer
    scorers = [Scorer(main.runtime, main.publish, partitions=2) for _ in range(2)]
    scorers[0]._first_partition, scorers[1]._first_partition = 0, 1
    game_id = await game_id_of(app, town.slug)
    # On PostgreSQL each scorer's first round waits until the other's has started, so that
    # on a busy machine one scorer cannot finish its own partition and take the other's
    # first. (SQLite has one writer: rounds take turns, each scorer still starting at its
    # own partition.)
    started = {0: asyncio.Event(), 1: asyncio.Event()}

    async def side_by_side(session: Any, game: int, limit: int, partition: int, n: int) -> Any:
        if backend == "postgres":
            started[partition].set()
            await asyncio.wait_for(started[1 - partition].wait(), 10)
        return await score_pending(session, game, limit, partition, n)

    with mock.patch.object(scorer_module, "score_pending", side_by_side):
        await asyncio.gather(*(s.settle([game_id]) for s in scorers))
    assert all(s.rounds >= 1 for s in scorers)  # holders of both parities: both partitions
    assert await holder_points(app, town.slug) == {f"{card:07d}": 30 for card in range(4, 9)}
    assert await totals_consistent(app, town.slug)
    assert await queued(app, game_id) == []
    with pytest.raises(ValueError, match="partitions"):
        Scorer(main.runtime, main.publish, partitions=0)


async def test_an_upload_is_scored_before_the_in_process_client_returns(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    before = state_of(app).metrics.registry.get_sample_value("taptrail_scoring_delay_seconds_count")
    await upload(client, town, "A", [tap(1, 9, T0)], sent_at=NOW)
    await upload(client, town, "B", [tap(2, 9, T0 + timedelta(minutes=20))], sent_at=NOW)
    assert await holder_points(app, town.slug) == {"0000009": 10}
    after = state_of(app).metrics.registry.get_sample_value("taptrail_scoring_delay_seconds_count")
    assert (after or 0) - (before or 0) == 2


async def queued(app: FastAPI, game_id: int) -> list[tuple[int, int]]:
    """(holder, tap) rows of the game's scoring queue."""

    async with state_of(app).sessionmaker() as s:
        rows = await s.execute(
            select(PendingTap.holder_id, PendingTap.tap_id).where(PendingTap.game_id == game_id)
        )
        return sorted((r[0], r[1]) for r in rows)


async def tap_ids_and_holders(app: FastAPI, game_id: int) -> list[tuple[int, int]]:

    async with state_of(app).sessionmaker() as s:
        rows = await s.execute(select(Tap.holder_id, Tap.id).where(Tap.game_id == game_id))
        return sorted((r[0], r[1]) for r in rows)


async def test_the_database_queues_every_stored_tap_and_scoring_takes_them_off(
    app: FastAPI, client: httpx.AsyncClient, town: Town, scorer_stopped: Any
) -> None:
    game_id = await game_id_of(app, town.slug)
    r = await upload(
        client,
        town,
        "A",
        [tap(1, 3, T0), tap(2, 4, T0 + timedelta(minutes=1)), tap(3, "FFFFFFFF", T0)],
        sent_at=NOW,
    )
    assert r.json()["accepted"] == 2  # the third card is not in the game
    stored = await tap_ids_and_holders(app, game_id)
    assert len(stored) == 2
    assert await queued(app, game_id) == stored  # the trigger queued exactly the stored taps

    scorer_stopped.undo()
    await state_of(app).scorer.settle([game_id])
    assert await queued(app, game_id) == []
    assert all(row[4] is not None for row in (await ledger(app, town.slug)).values())


async def test_a_tap_queued_after_a_round_took_its_holder_waits_for_the_next_round(
    app: FastAPI, client: httpx.AsyncClient, town: Town, scorer_stopped: Any, backend: str
) -> None:
    """take_pending removes only rows committed before it: a tap of the same holder stored
    meanwhile stays queued (on SQLite the single writer makes the upload wait instead)."""

    game_id = await game_id_of(app, town.slug)
    await upload(client, town, "A", [tap(1, 3, T0)], sent_at=NOW)
    ((holder, first_tap),) = await queued(app, game_id)

    async with state_of(app).sessionmaker() as round_session:
        taken = await take_pending(round_session, game_id, [holder])
        assert list(taken.firsts) == [holder] and taken.tap_ids == {holder: [first_tap]}
        late = asyncio.ensure_future(
            upload(client, town, "B", [tap(1, 3, T0 + timedelta(minutes=20))], sent_at=NOW)
        )
        if backend == "postgres":
            assert (await late).json()["accepted"] == 1  # not blocked by the round
        else:
            await asyncio.sleep(0.2)
        await round_session.commit()
    await late
    rows = await queued(app, game_id)
    assert len(rows) == 1 and rows[0][0] == holder and rows[0][1] != first_tap

    scorer_stopped.undo()
    await state_of(app).scorer.settle([game_id])
    assert await queued(app, game_id) == []
    kinds = sorted(row[4] for row in (await ledger(app, town.slug)).values())
    assert kinds == ["journey_start", "leg"]
    assert await totals_consistent(app, town.slug)


async def test_a_whole_game_rescore_empties_the_queue(
    app: FastAPI, client: httpx.AsyncClient, town: Town, scorer_stopped: Any
) -> None:
    game_id = await game_id_of(app, town.slug)
    await upload(
        client, town, "A", [tap(1, 3, T0), tap(2, 4, T0 + timedelta(minutes=2))], sent_at=NOW
    )
    assert len(await queued(app, game_id)) == 2
    async with state_of(app).sessionmaker() as s:
        report = await rescore_game(s, game_id, actor="test", reason="queue test")
        await s.commit()
    assert report.taps == 2
    assert await queued(app, game_id) == []
    assert all(row[4] == "journey_start" for row in (await ledger(app, town.slug)).values())
    assert await totals_consistent(app, town.slug)


async def test_deleting_a_game_deletes_its_taps_and_queue(
    app: FastAPI, client: httpx.AsyncClient, town: Town, scorer_stopped: Any
) -> None:
    # taps and pending_taps have no foreign key to games (migration 0011): a trigger on
    # games does what ON DELETE CASCADE did.

    game_id = await game_id_of(app, town.slug)
    await upload(client, town, "A", [tap(1, 3, T0), tap(2, 4, T0)], sent_at=NOW)
    assert len(await queued(app, game_id)) == 2
    async with state_of(app).sessionmaker() as s:
        await s.execute(delete(Game).where(Game.id == game_id))
        await s.commit()
    async with state_of(app).sessionmaker() as s:
        for table in (Tap, PendingTap):
            left = await s.scalar(select(func.count()).where(table.game_id == game_id))
            assert left == 0, table.__tablename__


async def test_settle_waits_for_the_boards_though_publishing_overlaps_the_next_round(
    app: FastAPI, client: httpx.AsyncClient, town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round's changes are published while the next round runs; the upload's in-process
    answer (which waits for settle) still comes after they reached the boards."""
    published: list[int] = []
    real_publish = state_of(app).publish_scores

    async def slow_publish(game_id: int, delta: Any) -> None:
        await asyncio.sleep(0.2)  # the round itself is long done by now
        await real_publish(game_id, delta)
        published.append(game_id)

    game_id = await game_id_of(app, town.slug)
    monkeypatch.setattr(state_of(app), "publish_scores", slow_publish)
    await upload(client, town, "A", [tap(1, 5, T0)], sent_at=NOW)
    assert published == [game_id]
    await upload(client, town, "B", [tap(2, 5, T0 + timedelta(minutes=20))], sent_at=NOW)
    assert published == [game_id, game_id]
    assert await holder_points(app, town.slug) == {"0000005": 10}


async def test_a_round_waits_for_a_whole_game_rescore(
    app: FastAPI, client: httpx.AsyncClient, town: Town, scorer_stopped: Any, backend: str
) -> None:
    """A round takes the game's shared scoring lock before its holders' rows: while a
    whole-game re-score holds the exclusive lock, the round waits (PostgreSQL)."""

    await upload(client, town, "A", [tap(1, 6, T0)], sent_at=NOW)
    game_id = await game_id_of(app, town.slug)
    if backend != "postgres":  # one writer: nothing runs beside the round
        async with state_of(app).sessionmaker() as s:
            assert (await score_pending(s, game_id, 10))[1] == 1
        return
    async with state_of(app).sessionmaker() as rescore:
        await lock_game(rescore, game_id, exclusive=True)

        async def round_() -> int:
            async with state_of(app).sessionmaker() as s:
                _, holders = await score_pending(s, game_id, 10)
                await s.commit()
                return holders

        task = asyncio.create_task(round_())
        await asyncio.sleep(0.3)
        assert not task.done()  # waiting for the re-score's lock
        await rescore.commit()
    assert await asyncio.wait_for(task, 10) == 1
    assert await queued(app, game_id) == []


async def test_scoring_tables_that_outgrew_their_statistics_are_analyzed(
    session: Any, backend: str
) -> None:
    """A new installation's first game fills the scoring tables faster than autovacuum
    analyzes them; the scorer's sweep does it (PostgreSQL), once per growth spurt."""

    if backend != "postgres":  # SQLite plans without ANALYZE-driven statistics
        assert await analyze_outgrown(session) == []
        return
    name = await _create_pg_database()  # a fresh installation: nothing analyzed yet
    engine = make_engine(f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}")
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as s:
            await s.execute(
                text(
                    "INSERT INTO taps (game_id, source, source_key, card_id, holder_id,"
                    " checkpoint_id, card_uid, tapped_at_raw, tapped_at, received_at, points,"
                    " distance_m) SELECT 1, 'reader', 'R/1/' || i, 1, i % 50, 1, '04AABBCC',"
                    " now(), now(), now(), 0, 0 FROM generate_series(1, 1500) AS i"
                )
            )
            await s.commit()
            await s.execute(text("SELECT pg_stat_force_next_flush()"))
            await s.commit()  # the counts of this backend are now visible to all
            async with make_sessionmaker(engine)() as other:  # another process analyzing
                await other.execute(
                    text("SELECT pg_advisory_xact_lock(:ns, 0)"), {"ns": ANALYZE_LOCK_NAMESPACE}
                )
                assert await analyze_outgrown(s) == []  # skipped, not waited for
                await s.commit()
            assert await analyze_outgrown(s) == ["pending_taps", "taps"]  # the queue too
            await s.commit()
            assert await analyze_outgrown(s) == []  # up to date now
            analysed = await s.scalar(
                text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'taps'")
            )
            assert analysed is not None
    finally:
        await engine.dispose()
        await _drop_pg_database(name)
