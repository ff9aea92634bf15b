"""Campaigns through the API: create, change and end them; each change re-scores the game
and leaves an audit record of who changed what and how many points moved."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from accounts.tokens import create_token
from api.app_state import state_of
from kernel.audit import AuditRecord
from scoring.ledger import ledger_mismatches
from tests.helpers import auth
from tests.scoring.taps import T, TestGame, holder_total, insert_taps, local, make_game

PARKS = {
    "code": "PARKS-WEEK",
    "name": "Double points in the parks",
    "multiplier": 2,
    "starts_at": "2027-05-03T00:00:00+01:00",
    "ends_at": "2027-05-10T00:00:00+01:00",
    "checkpoint_tags": ["park"],
}


async def _walks(app: FastAPI, slug: str, **overrides: Any) -> TestGame:
    game = await make_game(app, slug, **overrides)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(
            s,
            game,
            [
                T("0000004", "A", local(3, 8, 0)),
                T("0000004", "P", local(3, 8, 12)),  # leg into the park
                T("0000004", "A", local(3, 8, 30)),  # leg out of it
                T("0000001", "P", local(4, 8, 0)),
                T("0000001", "A", local(4, 8, 15)),
                T("0000001", "P", local(4, 8, 30)),  # into the park, SCH1's card
            ],
        )
        await s.commit()
    return game


async def _points(app: FastAPI, game: TestGame, card: str) -> int:
    async with state_of(app).sessionmaker() as s:
        total = await holder_total(s, game, card)
        return total.points if total else 0


async def _audit(app: FastAPI, game: TestGame) -> list[AuditRecord]:
    async with state_of(app).sessionmaker() as s:
        rows = await s.scalars(
            select(AuditRecord).where(AuditRecord.game_id == game.game_id).order_by(AuditRecord.id)
        )
        return list(rows)


async def test_create_change_list(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    game = await _walks(app, slug)
    headers = auth(organiser_token)
    base = f"/api/v1/admin/games/{slug}/campaigns"
    assert await _points(app, game, "0000004") == 20

    created = await client.post(base, json=PARKS, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["campaign"]["code"] == "PARKS-WEEK"
    assert body["campaign"]["legs"] == 2 and body["campaign"]["points"] == 40
    assert body["rescore"]["taps"] == 6
    assert body["rescore"]["points_before"] == 40 and body["rescore"]["points_after"] == 60
    assert body["rescore"]["points_moved"] == 20
    assert await _points(app, game, "0000004") == 30
    assert await _points(app, game, "0000001") == 30

    changed = await client.patch(f"{base}/PARKS-WEEK", json={"multiplier": 3}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["changes"] == ["campaign PARKS-WEEK: multiplier 2 → 3"]
    assert changed.json()["rescore"]["points_moved"] == 20
    assert await _points(app, game, "0000004") == 40

    renamed = await client.patch(f"{base}/PARKS-WEEK", json={"name": "Parks!"}, headers=headers)
    assert renamed.json()["rescore"] is None
    assert renamed.json()["campaign"]["name"] == "Parks!"

    narrowed = await client.patch(
        f"{base}/PARKS-WEEK",
        json={"starts_at": "2027-05-04T00:00:00+01:00", "age_bands": ["5-11"]},
        headers=headers,
    )
    assert narrowed.status_code == 200
    assert await _points(app, game, "0000004") == 20  # 3 May is outside; nobody is 5-11
    assert await _points(app, game, "0000001") == 20

    listed = (await client.get(base, headers=headers)).json()
    assert [c["code"] for c in listed["campaigns"]] == ["PARKS-WEEK"]
    assert listed["campaigns"][0]["legs"] == 0 and listed["campaigns"][0]["age_bands"] == ["5-11"]

    records = await _audit(app, game)
    actions = [r.action for r in records]
    assert actions.count("campaign.create") == 1 and actions.count("campaign.update") == 3
    assert actions.count("game.rescore") == 3  # the rename did not re-score
    create = next(r for r in records if r.action == "campaign.create")
    assert create.actor.startswith("token:") and create.detail["points_moved"] == 20
    assert create.detail["campaign"] == "PARKS-WEEK"
    async with state_of(app).sessionmaker() as s:
        assert await ledger_mismatches(s, game.game_id) == []


async def test_end_a_running_campaign(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    running = PARKS | {"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2027-12-31T00:00:00Z"}
    game = await _walks(app, slug, campaigns=[running])
    assert await _points(app, game, "0000004") == 30
    headers = auth(organiser_token)
    base = f"/api/v1/admin/games/{slug}/campaigns"
    ended = await client.post(f"{base}/PARKS-WEEK/end", headers=headers)
    assert ended.status_code == 200, ended.text
    body = ended.json()
    assert body["campaign"]["active_now"] is False
    assert body["changes"][0].startswith("campaign PARKS-WEEK: ended early")
    assert body["rescore"]["points_moved"] == 20
    assert await _points(app, game, "0000004") == 20  # the game's taps came after the end
    again = await client.post(f"{base}/PARKS-WEEK/end", headers=headers)
    assert again.status_code == 409
    future = await client.post(base, json=PARKS | {"code": "LATER"}, headers=headers)
    assert future.status_code == 201
    not_started = await client.post(f"{base}/LATER/end", headers=headers)
    assert not_started.status_code == 409
    assert "not started" in not_started.json()["detail"]
    assert any(r.action == "campaign.end" for r in await _audit(app, game))


async def test_refusals(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    game = await make_game(app, slug, campaigns=[PARKS])
    headers = auth(organiser_token)
    base = f"/api/v1/admin/games/{slug}/campaigns"
    duplicate = await client.post(base, json=PARKS, headers=headers)
    assert duplicate.status_code == 409
    unknown_cp = await client.post(
        base, json=PARKS | {"code": "X", "checkpoints": ["ZZ"]}, headers=headers
    )
    assert unknown_cp.status_code == 422 and "ZZ" in unknown_cp.json()["detail"]
    backwards = await client.post(
        base, json=PARKS | {"code": "Y", "ends_at": "2027-05-01T00:00:00Z"}, headers=headers
    )
    assert backwards.status_code == 422
    naive = await client.post(
        base, json=PARKS | {"code": "Z", "starts_at": "2027-05-01T00:00:00"}, headers=headers
    )
    assert naive.status_code == 422
    bad_band = await client.patch(
        f"{base}/PARKS-WEEK", json={"age_bands": ["9-10"]}, headers=headers
    )
    assert bad_band.status_code == 422
    inverted = await client.patch(
        f"{base}/PARKS-WEEK", json={"ends_at": "2027-05-02T00:00:00Z"}, headers=headers
    )
    assert inverted.status_code == 422
    missing = await client.patch(f"{base}/NOPE", json={"multiplier": 2}, headers=headers)
    assert missing.status_code == 404
    async with state_of(app).sessionmaker() as s:
        manager = await create_token(
            s, role="team_manager", game_id=game.game_id, team_id=game.teams["SCH1"]
        )
        await s.commit()
    assert (await client.post(base, json=PARKS, headers=auth(manager))).status_code == 403
    assert (await client.get(base)).status_code == 401
