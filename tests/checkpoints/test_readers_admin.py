"""Reader management by organisers: API and command line."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from accounts.tokens import create_token
from api.app_state import state_of
from kernel.audit import AuditRecord
from tests.checkpoints.cp_helpers import (
    NOW,
    T0,
    Clock,
    Town,
    body,
    game_id_of,
    holder_points,
    iso,
    ledger,
    load_town,
    post_signed,
    tap,
    totals_consistent,
    upload,
)
from tests.helpers import auth


def _url(town: Town, suffix: str = "") -> str:
    return f"/api/v1/admin/games/{town.slug}/readers{suffix}"


async def _post_taps(
    client: httpx.AsyncClient, reader_id: str, secret: str, seq: int, card: int
) -> httpx.Response:
    raw = body([tap(seq, card, T0)], sent_at=NOW)
    return await post_signed(client, f"/api/v1/readers/{reader_id}/taps", raw, secret)


async def test_create_a_reader_whose_secret_is_shown_once(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    new_id = f"N-{town.slug}"
    r = await client.post(
        _url(town), json={"id": new_id, "checkpoint": "C"}, headers=auth(town.token)
    )
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert r.json()["id"] == new_id and r.json()["checkpoint"] == "C"
    assert len(secret) >= 43  # 32 random bytes
    assert (await _post_taps(client, new_id, secret, 1, 1)).json()["accepted"] == 1
    assert (await ledger(app, town.slug))[f"{new_id}/0/1"][1] == "C"

    listed = await client.get(_url(town), headers=auth(town.token))
    assert secret not in listed.text
    one = await client.get(_url(town, f"/{new_id}"), headers=auth(town.token))
    assert one.json()["assignments"] == [{"checkpoint": "C", "valid_from": None}]
    assert sorted(x["id"] for x in listed.json()) == sorted(
        [new_id, *(town.reader(c) for c in "ABCP")]
    )

    again = await client.post(
        _url(town), json={"id": new_id, "checkpoint": "A"}, headers=auth(town.token)
    )
    assert again.status_code == 409
    no_cp = await client.post(
        _url(town), json={"id": "Z-" + town.slug, "checkpoint": "NOPE"}, headers=auth(town.token)
    )
    assert no_cp.status_code == 422 and no_cp.json()["fields"][0]["field"] == "checkpoint"
    reserved = await client.post(
        _url(town), json={"id": "app", "checkpoint": "A"}, headers=auth(town.token)
    )
    assert reserved.status_code == 422


async def test_rotating_a_secret_retires_the_old_one(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    rid = town.reader("A")
    r = await client.post(_url(town, f"/{rid}/secret"), headers=auth(town.token))
    assert r.status_code == 200
    new = r.json()["secret"]
    assert new != town.secret("A")
    assert (await _post_taps(client, rid, town.secret("A"), 1, 1)).status_code == 401
    assert (await _post_taps(client, rid, new, 1, 1)).status_code == 200


async def test_disabled_readers_cannot_send_heartbeats_either(
    client: httpx.AsyncClient, town: Town
) -> None:
    rid = town.reader("B")
    assert (await client.post(_url(town, f"/{rid}/disable"), headers=auth(town.token))).json()[
        "disabled"
    ]
    raw = f'{{"sent_at": "{iso(NOW)}"}}'.encode()
    r = await post_signed(client, f"/api/v1/readers/{rid}/heartbeat", raw, town.secret("B"))
    assert r.status_code == 401


async def test_moving_a_reader_moves_its_later_stored_taps_and_rescores(
    app: FastAPI, client: httpx.AsyncClient, town: Town, clock: Clock
) -> None:
    # Card 1: A 08:10, B 08:25 -> a leg. Then the council says box B really stood at
    # checkpoint A from 08:20: the 08:25 tap becomes a repeat at A.
    await upload(client, town, "A", [tap(1, 1, T0)], sent_at=NOW)
    await upload(client, town, "B", [tap(1, 2, T0 - timedelta(minutes=30))], sent_at=NOW)
    await upload(client, town, "B", [tap(2, 1, T0 + timedelta(minutes=15))], sent_at=NOW)
    assert await holder_points(app, town.slug) == {"0000001": 10}
    rid = town.reader("B")
    r = await client.post(
        _url(town, f"/{rid}/move"),
        json={"checkpoint": "A", "from": iso(T0 + timedelta(minutes=10))},
        headers=auth(town.token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["taps_moved"] == 1
    assert r.json()["reader"]["checkpoint"] == "A"
    assert [a["checkpoint"] for a in r.json()["reader"]["assignments"]] == ["B", "A"]
    stored = await ledger(app, town.slug)
    assert stored[f"{rid}/0/1"][1] == "B"  # before the move: stays
    assert stored[f"{rid}/0/2"][1:6:3] == ("A", "repeat")
    assert await holder_points(app, town.slug) == {}
    assert await totals_consistent(app, town.slug)
    # New uploads follow the placement too.
    await upload(client, town, "B", [tap(3, 2, T0 + timedelta(minutes=20))], sent_at=NOW)
    assert (await ledger(app, town.slug))[f"{rid}/0/3"][1] == "A"

    future = await client.post(
        _url(town, f"/{rid}/move"),
        json={"checkpoint": "C", "from": iso(NOW + timedelta(hours=1))},
        headers=auth(town.token),
    )
    assert future.status_code == 422
    missing = await client.post(
        _url(town, "/NOPE/move"), json={"checkpoint": "C"}, headers=auth(town.token)
    )
    assert missing.status_code == 404

    gid = await game_id_of(app, town.slug)
    async with state_of(app).sessionmaker() as s:
        actions = (
            await s.scalars(select(AuditRecord.action).where(AuditRecord.game_id == gid))
        ).all()
    assert "reader.move" in actions


async def test_management_needs_an_organiser_of_this_game(
    app: FastAPI, client: httpx.AsyncClient, town: Town, organiser_token: str
) -> None:
    other = await load_town(client, organiser_token, town.slug + "-x")
    async with state_of(app).sessionmaker() as s:
        other_organiser = await create_token(
            s, role="organiser", game_id=await game_id_of(app, other.slug)
        )
        await s.commit()
    rid = town.reader("A")
    for method, path in [
        ("post", _url(town, f"/{rid}/disable")),
        ("post", _url(town, f"/{rid}/secret")),
        ("get", _url(town)),
    ]:
        r = await client.request(method, path, headers=auth(other_organiser))
        assert r.status_code == 403, path
        assert (await client.request(method, path)).status_code == 401


async def _cli(app: FastAPI, *args: str) -> tuple[int, str, str]:
    settings = state_of(app).settings
    env = {
        **os.environ,
        "TAPTRAIL_DATABASE_URL": settings.database_url,
        "TAPTRAIL_SECRET_KEY": settings.secret_key,
        "TAPTRAIL_REDIS_URL": "",
    }
    env.pop("TAPTRAIL_REDIS_URL")
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("taptrail")),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_command_line_manages_readers(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    rid = f"CLI-{town.slug}"
    code, out, err = await _cli(
        app, "reader", "create", "--game", town.slug, "--id", rid, "--checkpoint", "B"
    )
    assert code == 0, err
    secret = out.strip().splitlines()[-1]
    assert (await _post_taps(client, rid, secret, 1, 1)).json()["accepted"] == 1

    code, out, err = await _cli(app, "reader", "rotate-secret", "--game", town.slug, rid)
    assert code == 0, err
    new_secret = out.strip().splitlines()[-1]
    assert (await _post_taps(client, rid, secret, 2, 1)).status_code == 401
    assert (await _post_taps(client, rid, new_secret, 2, 1)).status_code == 200

    code, out, err = await _cli(app, "reader", "disable", "--game", town.slug, rid)
    assert code == 0, err
    assert (await _post_taps(client, rid, new_secret, 3, 1)).status_code == 401
    code, _, err = await _cli(app, "reader", "enable", "--game", town.slug, rid)
    assert code == 0, err

    code, out, err = await _cli(
        app, "reader", "move", "--game", town.slug, rid, "--checkpoint", "C",
        "--from", "2026-01-01T00:00:00+00:00",
    )  # fmt: skip
    assert code == 0, err
    assert "2 stored tap(s) moved" in out
    assert (await ledger(app, town.slug))[f"{rid}/0/1"][1] == "C"

    code, out, err = await _cli(app, "reader", "list", "--game", town.slug)
    assert code == 0 and rid in out and "C from 2026-01-01T00:00:00Z" in out

    code, out, err = await _cli(app, "reader", "boxes", "--game", town.slug, "--csv")
    assert code == 0, err
    assert out.splitlines()[0].startswith("reader_id,checkpoint,")
    assert len(out.splitlines()) == 6

    code, out, err = await _cli(app, "reader", "disable", "--game", town.slug, "NOPE")
    assert code != 0 and "no reader 'NOPE'" in err
