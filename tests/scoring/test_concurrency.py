"""Two uploads touching the same holders at once give the same result as one after the other.

On PostgreSQL the uploads really run concurrently (two sessions, two transactions, gathered);
``lock_holders`` makes the second wait for the first's commit. On SQLite, as in the app,
writers are serialised by ``state_of(app).writing()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select, text, update

from api.app_state import state_of
from game.models import Game, Tap
from scoring.ledger import ledger_mismatches
from scoring.rescore import rescore_game
from scoring.totals import stored_sums
from tests.scoring.taps import T, TestGame, insert_taps, local, make_game

CARDS = ("0000001", "0000002", "0000004", "0000005")

# Box A uploads the morning's first taps; box B, offline for a while, then uploads taps
# that are partly earlier and partly interleaved. Both touch every card.
UPLOAD_1 = [
    T(card, code, local(3, h, m), key=f"u1-{card}-{code}-{h}{m:02d}")
    for card in CARDS
    for code, h, m in (("A", 8, 20), ("B", 8, 35), ("C", 8, 50), ("A", 10, 0))
]
UPLOAD_2 = [
    T(card, code, local(3, h, m), key=f"u2-{card}-{code}-{h}{m:02d}")
    for card in CARDS
    for code, h, m in (("P", 8, 5), ("C", 8, 27), ("B", 9, 40), ("P", 10, 15))
]


async def _upload(
    app: FastAPI, game: TestGame, taps: Sequence[T], started: asyncio.Event | None = None
) -> None:
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await s.execute(text("SELECT 1"))  # both transactions are open before either locks
        if started is not None:
            started.set()
        await insert_taps(s, game, taps)
        await asyncio.sleep(0.2)  # hold the locks while the other upload tries its own
        await s.commit()


async def _state(app: FastAPI, game: TestGame) -> dict[str, Any]:
    async with state_of(app).sessionmaker() as s:
        rows = (
            await s.execute(
                select(Tap.source_key, Tap.outcome, Tap.points, Tap.team_id).where(
                    Tap.game_id == game.game_id
                )
            )
        ).all()
        assert await ledger_mismatches(s, game.game_id) == []
        sums = await stored_sums(s, game.game_id)
    holders = {number: sums["holders"].get(game.holder(number)) for number in CARDS}
    teams = {code: sums["teams"].get(team_id) for code, team_id in game.teams.items()}
    return {"taps": sorted((r[0], r[1], r[2]) for r in rows), "holders": holders, "teams": teams}


async def test_concurrent_uploads_equal_sequential(app: FastAPI, slug: str, backend: str) -> None:
    sequential = await make_game(app, slug + "-seq")
    await _upload(app, sequential, UPLOAD_1)
    await _upload(app, sequential, UPLOAD_2)

    concurrent = await make_game(app, slug + "-con")
    first_started = asyncio.Event()

    async def second() -> None:
        await first_started.wait()
        await _upload(app, concurrent, UPLOAD_2)

    await asyncio.gather(_upload(app, concurrent, UPLOAD_1, first_started), second())

    want = await _state(app, sequential)
    got = await _state(app, concurrent)
    assert got == want
    # The late, interleaved upload really re-derived the earlier outcomes.
    points = {k: p for k, _, p in got["taps"]}
    assert sum(points.values()) > 0
    assert want["holders"]["0000004"] is not None


async def test_concurrent_uploads_in_both_orders(app: FastAPI, slug: str) -> None:
    """Whichever upload gets the locks first, the result is the same."""
    games = [await make_game(app, f"{slug}-{i}") for i in range(2)]
    for game, (a, b) in zip(games, ((UPLOAD_1, UPLOAD_2), (UPLOAD_2, UPLOAD_1)), strict=True):
        started = asyncio.Event()

        async def later(
            game: TestGame = game, b: Sequence[T] = b, started: asyncio.Event = started
        ) -> None:
            await started.wait()
            await _upload(app, game, b)

        await asyncio.gather(_upload(app, game, a, started), later())
    first, second = [await _state(app, g) for g in games]
    assert first == second


async def test_rescore_and_upload_at_once(app: FastAPI, slug: str) -> None:
    """A full re-score (new rules) and an upload running together end as if in sequence:
    the upload is scored under the new rules either way."""
    game = await make_game(app, slug)
    await _upload(app, game, UPLOAD_1)

    started = asyncio.Event()

    async def change_rules() -> None:
        async with state_of(app).writing(), state_of(app).sessionmaker() as s:
            await s.execute(update(Game).where(Game.id == game.game_id).values(points_per_leg=12))
            await rescore_game(s, game.game_id, actor="test", reason="points 12")
            started.set()
            await asyncio.sleep(0.2)
            await s.commit()

    async def upload() -> None:
        await started.wait()
        await _upload(app, game, UPLOAD_2)

    await asyncio.gather(change_rules(), upload())
    async with state_of(app).sessionmaker() as s:
        before = await s.execute(
            select(Tap.source_key, Tap.points).where(Tap.game_id == game.game_id)
        )
        stored = dict(before.all())
        report = await rescore_game(s, game.game_id, actor="test", reason="check")
        assert report.changed == 0, "the upload was scored under the old rules"
        assert await ledger_mismatches(s, game.game_id) == []
        await s.rollback()
    assert {p for p in stored.values() if p} <= {12}
