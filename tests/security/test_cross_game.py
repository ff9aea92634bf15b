"""Cross-game takeover: an organiser of one game cannot reach what belongs to another.

Reader ids are global (a box's serial number), so a game file or a reader endpoint used by
an organiser of game A could otherwise name game B's box: move it into A, replace its secret
and so lock B's real box out. Only the operator (the command line) or an organiser of every
game may move a reader between games.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import select, update

from accounts.tokens import create_token
from api.app_state import state_of
from checkpoints.models import Reader, ReaderAssignment
from game.definition import DefinitionError
from game.models import Game, Team
from harness.game_files import game_file
from kernel.audit import AuditRecord
from kernel.errors import Forbidden
from kernel.scope import GameScope
from organising import repository
from organising.service import load_definition
from tests.checkpoints.cp_helpers import (
    NOW,
    Clock,
    Town,
    body,
    game_id_of,
    holder_points,
    load_town,
    post_signed,
    tap,
    upload,
)
from tests.helpers import auth, server_clock

T0 = NOW - timedelta(minutes=50)
ATTACKER_SECRET = "attacker-" + "x" * 40


@dataclass
class Pair:
    a: Town  # the game whose organiser attacks
    b: Town  # the victim
    a_token: str  # organiser of A only


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    with server_clock(app, NOW) as clock:
        yield clock


@pytest.fixture
async def pair(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str, clock: Clock
) -> Pair:
    a = await load_town(client, organiser_token, slug)
    b = await load_town(client, organiser_token, slug + "-b")
    async with state_of(app).sessionmaker() as s:
        token = await create_token(s, role="organiser", game_id=await game_id_of(app, a.slug))
        await s.commit()
    return Pair(a, b, token)


async def _put(client: httpx.AsyncClient, token: str, data: dict[str, Any]) -> httpx.Response:
    return await client.put(
        f"/api/v1/admin/games/{data['game']['slug']}",
        content=yaml.safe_dump(data, sort_keys=False),
        headers={**auth(token), "content-type": "application/yaml"},
    )


async def _reader(app: FastAPI, reader_id: str) -> tuple[Reader, list[int]]:
    async with state_of(app).sessionmaker() as s:
        reader = await s.get(Reader, reader_id)
        assert reader is not None
        games = await s.scalars(
            select(ReaderAssignment.game_id)
            .where(ReaderAssignment.reader_id == reader_id)
            .order_by(ReaderAssignment.id)
        )
        return reader, list(games)


async def _b_box_still_works(app: FastAPI, client: httpx.AsyncClient, pair: Pair, seq: int) -> None:
    """B's box A uploads with its own secret and its taps score in B; the attacker's
    secret is refused."""
    b = pair.b
    before = sum((await holder_points(app, b.slug)).values())
    first = await upload(client, b, "A", [tap(seq, 1, T0)], sent_at=NOW, boot=seq)
    second = await upload(
        client, b, "B", [tap(seq, 1, T0 + timedelta(minutes=10))], sent_at=NOW, boot=seq
    )
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert first.json()["accepted"] == 1 and second.json()["accepted"] == 1
    assert sum((await holder_points(app, b.slug)).values()) == before + 10
    raw = body([tap(seq + 1, 2, T0)], sent_at=NOW, boot=seq)
    refused = await post_signed(
        client, f"/api/v1/readers/{b.reader('A')}/taps", raw, ATTACKER_SECRET
    )
    assert refused.status_code == 401
    reader, games = await _reader(app, b.reader("A"))
    assert reader.game_id == await game_id_of(app, b.slug)
    assert set(games) == {reader.game_id}
    assert not reader.disabled


async def test_a_file_cannot_take_another_games_reader(
    app: FastAPI, client: httpx.AsyncClient, pair: Pair
) -> None:
    a, b = pair.a, pair.b
    data = game_file(a.slug)
    data["game"]["name"] = "Renamed by the same file"
    data["teams"].append({"code": "NEW1", "name": "New team", "kind": "community"})
    data["readers"] += [
        {"id": b.reader("A"), "checkpoint": "A", "secret": ATTACKER_SECRET},
        {"id": f"R-{a.slug}-NEW", "checkpoint": "B"},
        {"id": b.reader("C"), "checkpoint": "C"},  # no secret: one would be generated
    ]
    response = await _put(client, pair.a_token, data)

    assert response.status_code == 422, response.text
    answer = response.json()
    assert "nothing was changed" in answer["detail"]
    assert answer["fields"] == [
        {
            "field": "readers[4].id",
            "message": f"readers[4].id: reader {b.reader('A')} belongs to another game",
        },
        {
            "field": "readers[6].id",
            "message": f"readers[6].id: reader {b.reader('C')} belongs to another game",
        },
    ]
    # The file loads whole or not at all: nothing of it was applied.
    async with state_of(app).sessionmaker() as s:
        game = await s.scalar(select(Game).where(Game.slug == a.slug))
        assert game is not None and game.name == f"Test game {a.slug}"
        assert (
            await s.scalar(select(Team).where(Team.game_id == game.id, Team.code == "NEW1")) is None
        )
        assert await s.get(Reader, f"R-{a.slug}-NEW") is None
    await _b_box_still_works(app, client, pair, 1)
    reader, _ = await _reader(app, b.reader("C"))
    assert reader.game_id == await game_id_of(app, b.slug)


async def test_a_file_cannot_replace_another_games_reader_secret_in_place(
    app: FastAPI, client: httpx.AsyncClient, pair: Pair
) -> None:
    """Naming B's reader at a checkpoint of A that B also has (same codes) still refuses."""
    data = game_file(pair.a.slug)
    data["readers"][0] = {
        "id": pair.b.reader("A"),
        "checkpoint": "A",
        "secret": ATTACKER_SECRET,
    }
    response = await _put(client, pair.a_token, data)
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["readers[0].id"]
    await _b_box_still_works(app, client, pair, 2)


async def test_reader_endpoints_refuse_another_games_reader(
    app: FastAPI, client: httpx.AsyncClient, pair: Pair
) -> None:
    a, b = pair.a, pair.b
    victim = b.reader("A")
    headers = auth(pair.a_token)
    own = f"/api/v1/admin/games/{a.slug}/readers"
    for method, path, json in [
        ("get", f"{own}/{victim}", None),
        ("post", f"{own}/{victim}/secret", None),
        ("post", f"{own}/{victim}/disable", None),
        ("post", f"{own}/{victim}/enable", None),
        ("post", f"{own}/{victim}/move", {"checkpoint": "B"}),
    ]:
        r = await client.request(method, path, json=json, headers=headers)
        assert r.status_code == 404, (path, r.text)
        assert victim in r.json()["detail"]
    created = await client.post(own, json={"id": victim, "checkpoint": "A"}, headers=headers)
    assert created.status_code == 409, created.text
    assert created.json()["detail"] == f"reader '{victim}' belongs to another game"
    # Through B's address the token of A is refused outright.
    theirs = f"/api/v1/admin/games/{b.slug}/readers/{victim}"
    for path in (f"{theirs}/secret", f"{theirs}/disable"):
        assert (await client.post(path, headers=headers)).status_code == 403
    async with state_of(app).sessionmaker() as s:
        b_id = await game_id_of(app, b.slug)
        records = await s.scalars(select(AuditRecord.action).where(AuditRecord.game_id == b_id))
        assert not [r for r in records if r.startswith("reader.")]
    await _b_box_still_works(app, client, pair, 3)


async def test_an_organiser_of_every_game_can_move_a_reader_by_file(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, pair: Pair
) -> None:
    a, b = pair.a, pair.b
    data = game_file(a.slug)
    data["readers"].append({"id": b.reader("P"), "checkpoint": "C", "secret": "moved-" + "m" * 40})
    response = await _put(client, organiser_token, data)
    assert response.status_code == 200, response.text
    changes = response.json()["changes"]
    assert any(
        c.startswith(f"reader {b.reader('P')}: moved from game '{b.slug}' to C") for c in changes
    ), changes
    reader, games = await _reader(app, b.reader("P"))
    assert reader.game_id == await game_id_of(app, a.slug)
    assert games == [await game_id_of(app, b.slug), reader.game_id]
    async with state_of(app).sessionmaker() as s:
        left = await s.scalars(select(AuditRecord.action).where(AuditRecord.game_id == games[0]))
        assert "reader.moved_to_other_game" in list(left)


async def test_the_command_line_can_move_a_reader_by_file(
    app: FastAPI, client: httpx.AsyncClient, pair: Pair, tmp_path: Path
) -> None:
    a, b = pair.a, pair.b
    data = game_file(a.slug)
    data["readers"].append({"id": b.reader("C"), "checkpoint": "B"})
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    code, out, err = await _cli(app, "game", "load", str(path))
    assert code == 0, err
    assert f"reader {b.reader('C')}: moved from game '{b.slug}' to B" in out
    reader, _ = await _reader(app, b.reader("C"))
    assert reader.game_id == await game_id_of(app, a.slug)


async def test_the_loader_refuses_games_outside_the_scope(app: FastAPI, pair: Pair) -> None:
    """The service itself checks the game, whoever calls it."""
    box = state_of(app).secret_box
    scope = GameScope.of(await game_id_of(app, pair.a.slug))
    for slug in (pair.b.slug, pair.a.slug + "-new"):
        async with state_of(app).sessionmaker() as s:
            with pytest.raises(Forbidden):
                await load_definition(
                    s, yaml.safe_dump(game_file(slug)), box=box, actor="test", scope=scope
                )
    async with state_of(app).sessionmaker() as s:
        data = game_file(pair.a.slug)
        data["readers"].append({"id": pair.b.reader("B"), "checkpoint": "B"})
        with pytest.raises(DefinitionError) as caught:
            await load_definition(s, yaml.safe_dump(data), box=box, actor="test", scope=scope)
    assert caught.value.errors == [
        f"readers[4].id: reader {pair.b.reader('B')} belongs to another game"
    ]


async def test_a_reader_moved_away_during_a_load_is_not_changed(
    app: FastAPI, pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ownership is checked again on the locked rows the load changes: a reader moved to
    another game after the first check (by a concurrent load) keeps its secret."""

    a, b = pair.a, pair.b
    b_id = await game_id_of(app, b.slug)
    original = repository.lock_readers

    async def moved_meanwhile(session: Any, ids: Any) -> Any:
        await session.execute(update(Reader).where(Reader.id == a.reader("A")).values(game_id=b_id))
        return await original(session, ids)

    monkeypatch.setattr(repository, "lock_readers", moved_meanwhile)
    data = game_file(a.slug)
    data["readers"][0]["secret"] = ATTACKER_SECRET
    scope = GameScope.of(await game_id_of(app, a.slug))
    async with state_of(app).sessionmaker() as s:
        with pytest.raises(DefinitionError) as caught:
            await load_definition(
                s, yaml.safe_dump(data), box=state_of(app).secret_box, actor="test", scope=scope
            )
        reader = await s.get(Reader, a.reader("A"))
        assert reader is not None
        assert state_of(app).secret_box.open(reader.secret_encrypted) == a.secret("A")
    assert caught.value.errors == [f"readers[0].id: reader {a.reader('A')} belongs to another game"]


async def test_a_card_uid_of_another_game_does_not_route_taps_across(
    app: FastAPI, client: httpx.AsyncClient, pair: Pair
) -> None:
    """Cards belong to a game: both factory towns' files claim the same card UIDs, and
    B's boxes credit only B's card, A's boxes only A's."""
    a, b = pair.a, pair.b
    await upload(client, b, "A", [tap(1, 1, T0)], sent_at=NOW)
    await upload(client, b, "B", [tap(2, 1, T0 + timedelta(minutes=10))], sent_at=NOW)
    await upload(client, a, "A", [tap(1, 2, T0)], sent_at=NOW)
    await upload(client, a, "C", [tap(2, 2, T0 + timedelta(minutes=10))], sent_at=NOW)
    assert await holder_points(app, b.slug) == {"0000001": 10}
    assert await holder_points(app, a.slug) == {"0000002": 10}


async def _cli(app: FastAPI, *args: str) -> tuple[int, str, str]:
    settings = state_of(app).settings
    env = {
        **os.environ,
        "TAPTRAIL_DATABASE_URL": settings.database_url,
        "TAPTRAIL_SECRET_KEY": settings.secret_key,
    }
    env.pop("TAPTRAIL_REDIS_URL", None)
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("taptrail")),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()
