"""Re-scoring a whole game: after a rule change, from the API and the command line; the
ledger check; registration moving earlier points to the player's team."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import pytest
import yaml
from click.testing import CliRunner
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.app_state import state_of
from game.models import Game, HolderTotal, Tap
from harness.game_files import C, game_file
from kernel.audit import AuditRecord
from kernel.db import make_engine, make_sessionmaker
from kernel.scope import OPERATOR
from kernel.settings import get_settings
from organising.service import load_definition
from scoring import ledger, rescore, rescore_postgres
from scoring.ledger import ledger_mismatches
from scoring.outcomes import OUTCOME_FIELDS
from scoring.rescore import rescore_game
from taptrail.cli import main
from tests.helpers import auth
from tests.scoring.taps import (
    T,
    TestGame,
    describe,
    holder_total,
    insert_taps,
    local,
    make_game,
    outcomes,
    team_total,
)

T_ = TypeVar("T_")

WALK = [
    T("0000001", "A", local(3, 8, 0)),
    T("0000001", "B", local(3, 8, 15)),
    T("0000001", "C", local(3, 8, 40)),
    T("0000004", "P", local(3, 9, 0)),
    T("0000004", "A", local(3, 9, 20)),
]


async def _game_with_walks(app: FastAPI, slug: str) -> TestGame:
    game = await make_game(app, slug)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(s, game, WALK)
        await s.commit()
    return game


async def test_rule_change_in_the_game_file_rescores(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    game = await _game_with_walks(app, slug)
    data = game_file(slug)
    data["game"]["rules"]["points_per_leg"] = 12
    response = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(data),
        headers={**auth(organiser_token), "content-type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    async with state_of(app).sessionmaker() as s:
        total = await holder_total(s, game, "0000001")
        assert total is not None and total.points == 24
        team = await team_total(s, game, "SCH1")
        assert team is not None and team.points == 24
        record = await s.scalar(
            select(AuditRecord).where(
                AuditRecord.game_id == game.game_id, AuditRecord.action == "game.rescore"
            )
        )
        assert record is not None
        assert record.detail["reason"] == "game file changed"
        assert record.detail["points_before"] == 30 and record.detail["points_after"] == 36
        assert record.detail["points_moved"] == 6
    check = await client.get(
        f"/api/v1/admin/games/{slug}/ledger-check", headers=auth(organiser_token)
    )
    assert check.json() == {"game": slug, "ok": True, "mismatches": []}


async def test_rescore_endpoint_repairs_drifted_totals(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    game = await _game_with_walks(app, slug)
    async with state_of(app).sessionmaker() as s:
        await s.execute(
            update(HolderTotal)
            .where(HolderTotal.holder_id == game.holder("0000001"))
            .values(points=999)
        )
        await s.commit()
    headers = auth(organiser_token)
    check = (await client.get(f"/api/v1/admin/games/{slug}/ledger-check", headers=headers)).json()
    assert check["ok"] is False
    assert check["mismatches"][0].startswith(f"holders {game.holder('0000001')}:")
    fixed = await client.post(
        f"/api/v1/admin/games/{slug}/rescore", json={"reason": "repair"}, headers=headers
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["outcomes_changed"] == 0 and fixed.json()["taps"] == 5
    assert fixed.json()["points_before"] == 999 + 10 and fixed.json()["points_after"] == 30
    check = (await client.get(f"/api/v1/admin/games/{slug}/ledger-check", headers=headers)).json()
    assert check["ok"] is True
    async with state_of(app).sessionmaker() as s:
        version = await s.scalar(select(Game.scoring_version).where(Game.id == game.game_id))
        assert version is not None and version >= 2


async def test_registration_moves_earlier_points_to_the_players_team(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    game = await _game_with_walks(app, slug)
    data = game_file(slug)
    data["players"] = [{"card": "0000004", "nickname": "Late Joiner", "team": "COM1"}]
    response = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(data),
        headers={**auth(organiser_token), "content-type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    async with state_of(app).sessionmaker() as s:
        team = await team_total(s, game, "COM1")
        assert team is not None
        assert (team.points, team.active_members) == (10, 1)


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TAPTRAIL_DATABASE_URL", database_url)
    monkeypatch.setenv("TAPTRAIL_SECRET_KEY_FILE", str(tmp_path / "key"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _in_own_loop(database_url: str, work: Callable[[AsyncSession], Awaitable[T_]]) -> T_:
    """Runs ``work`` in one committed transaction on a private engine (the command line
    runs its own event loop, so these tests are synchronous)."""

    async def _main() -> T_:
        engine = make_engine(database_url)
        try:
            async with make_sessionmaker(engine)() as s:
                value = await work(s)
                await s.commit()
                return value
        finally:
            await engine.dispose()

    return asyncio.run(_main())


def test_cli_rescore_check_and_card(
    database_url: str, slug: str, cli: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "game.yaml"
    path.write_text(yaml.safe_dump(game_file(slug)))
    assert cli.invoke(main, ["game", "load", str(path)]).exit_code == 0

    async def walk(s: AsyncSession) -> TestGame:
        game_id = await s.scalar(select(Game.id).where(Game.slug == slug))
        assert game_id is not None
        game = await describe(s, game_id, slug)
        await insert_taps(s, game, WALK)
        await s.execute(update(Game).where(Game.id == game_id).values(points_per_leg=15))
        return game

    game = _in_own_loop(database_url, walk)
    result = cli.invoke(main, ["game", "rescore", slug, "--reason", "points 15"])
    assert result.exit_code == 0, result.output
    assert f"{slug}: 5 taps re-scored, 3 outcomes changed, points 30 → 45" in result.output
    assert "5/5" not in result.output  # no progress bar off a terminal (stderr is mixed in)
    ok = cli.invoke(main, ["game", "check-totals", slug])
    assert ok.exit_code == 0 and "matches the ledger" in ok.output

    async def drift(s: AsyncSession) -> None:
        await s.execute(
            update(HolderTotal).where(HolderTotal.game_id == game.game_id).values(legs=7)
        )

    _in_own_loop(database_url, drift)
    bad = cli.invoke(main, ["game", "check-totals", slug])
    assert bad.exit_code == 1 and "differ from the ledger" in bad.output
    card = cli.invoke(main, ["game", "card", slug, "0000001"])
    assert card.exit_code == 0, card.output
    assert "30 points, 1.6 km" in card.output and "leg of 800 m from A" in card.output
    missing = cli.invoke(main, ["game", "rescore", slug + "-nope"])
    assert missing.exit_code != 0 and "no game" in missing.output


async def test_small_batches_cover_every_holder(
    app: FastAPI, slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches split between holders (a holder larger than a batch is read whole), and
    totals of holders without taps are removed."""

    monkeypatch.setattr(rescore, "RESCORE_BATCH_TAPS", 3)
    game = await _game_with_walks(app, slug)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(
            s,
            game,
            [T("0000002", code, local(5, 9, 10 * i)) for i, code in enumerate("ABCABC")]
            + [T("0000010", "A", local(6, 9, 0)), T("0000010", "B", local(6, 9, 15))],
        )
        # A stale total for a holder without taps must disappear.
        s.add(HolderTotal(game_id=game.game_id, holder_id=game.holder("0000009"), points=5))
        await s.execute(update(Game).where(Game.id == game.game_id).values(points_per_leg=11))
        await s.commit()
        report = await rescore.rescore_game(s, game.game_id, actor="test", reason="x")
        await s.commit()
        assert report.taps == 5 + 8
        assert report.points_after == 11 * (3 + 5 + 1)
        assert await holder_total(s, game, "0000009") is None
        assert await ledger.ledger_mismatches(s, game.game_id) == []
        again = await rescore.rescore_game(s, game.game_id, actor="test", reason="y")
        assert again.changed == 0
        await s.rollback()


async def test_rescore_reads_checkpoints_of_interleaved_games(app: FastAPI, slug: str) -> None:
    """A game's checkpoint ids need not be consecutive (another game was set up before a
    checkpoint was added), and a tap recorded against another game's checkpoint scores
    nothing: a full re-score (on PostgreSQL it joins each tap's checkpoint by id and game)
    agrees with scoring as taps arrive."""

    game = await make_game(app, slug)
    other = await make_game(app, slug + "-next")
    data = game_file(slug)
    data["checkpoints"].append({"code": "D", "name": "Delta", "lat": C[0], "lon": C[1]})
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await load_definition(
            s, yaml.safe_dump(data), box=state_of(app).secret_box, actor="test", scope=OPERATOR
        )
        await s.commit()
        game = await describe(s, game.game_id, slug)
        assert game.checkpoints["D"] > max(other.checkpoints.values())
        game.checkpoints["X"] = other.checkpoints["B"]
        walk = [("A", 0), ("X", 10), ("D", 30), ("B", 50)]
        await insert_taps(s, game, [T("0000001", code, local(3, 8, m)) for code, m in walk])
        await s.commit()
        kinds = ["journey_start", "out_of_game", "leg", "leg"]
        assert [kind for kind, _ in await outcomes(s, game, "0000001")] == kinds
        report = await rescore_game(s, game.game_id, actor="test", reason="same rules")
        assert (report.taps, report.changed, report.points_after) == (4, 0, 20)
        await s.rollback()


async def test_rescore_keeps_microseconds(app: FastAPI, slug: str) -> None:
    """A leg exactly one window after its anchor, to the microsecond, stays a leg through a
    full re-score (which reads times in a compact form on PostgreSQL)."""

    game = await make_game(app, slug)
    start = local(3, 8, 0) + timedelta(microseconds=123_457)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(
            s,
            game,
            [
                T("0000006", "A", start),
                T("0000006", "B", start + timedelta(minutes=60)),
                T("0000006", "C", start + timedelta(minutes=120, microseconds=1)),
            ],
        )
        await s.commit()
        report = await rescore_game(s, game.game_id, actor="test", reason="µs")
        assert report.changed == 0 and report.points_after == 10
        await s.rollback()


async def test_rescore_sees_the_transactions_own_taps(app: FastAPI, slug: str) -> None:
    """Taps inserted earlier in the same transaction (not yet committed) are re-scored
    with the rest. On PostgreSQL the re-score then reads on its own connection, not beside
    it under the exported snapshot (which cannot see them)."""

    game = await _game_with_walks(app, slug)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        later = [T("0000002", "A", local(4, 8, 0)), T("0000002", "B", local(4, 8, 15))]
        await insert_taps(s, game, later, score=False)
        await s.execute(update(Game).where(Game.id == game.game_id).values(points_per_leg=7))
        report = await rescore_game(s, game.game_id, actor="test", reason="uncommitted taps")
        assert report.taps == len(WALK) + len(later)
        assert await outcomes(s, game, "0000002") == [("journey_start", 0), ("leg", 7)]
        assert report.points_after == 7 * 4

        assert await ledger_mismatches(s, game.game_id) == []
        await s.rollback()


async def test_rescore_reads_beside_the_transaction_under_its_snapshot(
    app: FastAPI, slug: str, backend: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a re-score of committed taps reads them on other connections that
    import the transaction's snapshot (closed afterwards): one, or for a large game two,
    the second sorting the later holders meanwhile. Each way writes exactly what reading on
    the transaction's own connection writes, which is what happens when the server refuses
    more connections."""
    if backend != "postgres":
        pytest.skip("the second connection is PostgreSQL's (SQLite re-scores in one)")

    game = await _game_with_walks(app, slug)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(
            s, game, [T("0000002", code, local(5, 9, 15 * i)) for i, code in enumerate("ABCA")]
        )
        # Within the window to the microsecond, then one microsecond past it.
        start = local(6, 9, 0) + timedelta(microseconds=123_457)
        edge = [
            start,
            start + timedelta(minutes=60),
            start + timedelta(minutes=120, microseconds=1),
        ]
        await insert_taps(
            s, game, [T("0000003", code, at) for code, at in zip("ABC", edge, strict=True)]
        )
        await s.commit()
    real_open = rescore_postgres.open_snapshot_readers

    async def rescored(*, split: bool = False, refuse: bool = False) -> tuple[object, ...]:
        opened: list[object] = []

        async def spy(sa_conn: object, conn: object, count: int) -> list[object]:
            readers = await real_open(sa_conn, conn, count)
            opened.extend(readers)
            return readers

        async def refused(*args: object, **kwargs: object) -> None:
            raise OSError("connection refused")

        monkeypatch.setattr(rescore_postgres, "open_snapshot_readers", spy)
        if split:  # a "large" game: batches of 2 taps, holders split in two cursors, and
            # changed outcomes written every few batches (else all at the end)
            monkeypatch.setattr(rescore_postgres, "SPLIT_READ_MIN_TAPS", 1)
            monkeypatch.setattr(rescore, "RESCORE_BATCH_TAPS", 2)
            monkeypatch.setattr(rescore_postgres, "APPLY_CHANGES", 3)
        # A connection of its own: the counts of changes PostgreSQL keeps per connection
        # include recent transactions until reported, which would rule the snapshot out.
        engine = make_engine(database_url)
        async with make_sessionmaker(engine)() as s:
            await s.execute(update(Game).where(Game.id == game.game_id).values(points_per_leg=9))
            if refuse:  # the session's connection is open: only new ones fail
                monkeypatch.setattr(asyncpg, "connect", refused)
            report = await rescore_game(s, game.game_id, actor="test", reason="rule")
            state = (
                report.taps,
                report.changed,
                report.points_after,
                await outcomes(s, game, "0000001"),
                await outcomes(s, game, "0000002"),
                (await holder_total(s, game, "0000002") or HolderTotal()).points,
                await outcomes(s, game, "0000003"),
                await ledger_mismatches(s, game.game_id),
            )
            await s.rollback()
        await engine.dispose()
        monkeypatch.undo()
        assert all(r.is_closed() for r in opened)  # type: ignore[attr-defined]
        return len(opened), state

    beside, split, alone = (
        await rescored(),
        await rescored(split=True),
        await rescored(refuse=True),
    )
    assert (beside[0], split[0], alone[0]) == (1, 2, 0)  # a second only to split
    assert beside[1] == split[1] == alone[1]
    state = beside[1]
    assert state[3][1:] == [("leg", 9), ("leg", 9)]
    assert state[4] == [("journey_start", 0), ("leg", 9), ("leg", 9), ("leg", 9)]
    assert state[5] == 27 and state[-1] == []
    assert state[6] == [("journey_start", 0), ("leg", 9), ("journey_start", 0)]
    assert state[0] == len(WALK) + 7 and state[1] >= 6 and state[2] % 9 == 0


async def test_rescore_repairs_every_field_of_a_stored_outcome(
    app: FastAPI, slug: str, database_url: str
) -> None:
    """A re-score compares every stored field of an outcome, not only its points: a kind,
    team, distance, local day or multiplier gone wrong while the points are right is
    written back (on PostgreSQL through the full write; the points-only write would leave
    it). Read on a connection of its own, as a re-score from the command line is."""

    game = await _game_with_walks(app, slug)
    columns = [getattr(Tap, name) for name in OUTCOME_FIELDS]  # id and every stored field
    mine = select(*columns).where(Tap.game_id == game.game_id).order_by(Tap.id)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        scored = (await s.execute(mine)).all()
        starts = [r for r in scored if r.outcome == "journey_start"]
        legs = [r for r in scored if r.outcome == "leg"]
        assert len(legs) == 3 and legs[0].team_id == game.teams["SCH1"]
        drift = [
            (starts[0], {"outcome": "repeat"}),
            (legs[0], {"team_id": game.teams["COM1"]}),
            (legs[1], {"distance_m": legs[1].distance_m + 250.0}),
            (legs[2], {"local_date": legs[2].local_date - timedelta(days=1)}),
            (starts[1], {"multiplier": Decimal("2.000")}),
        ]
        for row, values in drift:
            await s.execute(update(Tap).where(Tap.id == row.id).values(**values))
        await s.commit()
        assert (await s.execute(mine)).all() != scored
    engine = make_engine(database_url)
    try:
        async with state_of(app).writing(), make_sessionmaker(engine)() as s:
            report = await rescore_game(s, game.game_id, actor="test", reason="drift")
            await s.commit()
            assert report.changed == len(drift) and report.points_moved == 0
            assert (await s.execute(mine)).all() == scored
            assert await ledger_mismatches(s, game.game_id) == []
    finally:
        await engine.dispose()
