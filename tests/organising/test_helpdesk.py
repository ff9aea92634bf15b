"""The help-desk card view: "my card didn't count"."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, update

from api.app_state import state_of
from checkpoints.models import TapRejection
from people.models import Card
from tests.helpers import auth
from tests.scoring.taps import T, insert_taps, local, make_game

PLAYER = {
    "card": "0000004",
    "nickname": "Swift Fox",
    "age_band": "5-11",
    "team": "COM1",
    "public": True,
    "email": "fox@example.org",
    "postcode": "BB11 3DF",
}


async def test_card_view_explains_every_tap(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    game = await make_game(app, slug, players=[PLAYER])
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        # Card 5 is the holder's replacement card from 09:30 on 3 May; card 4 stops then.
        switch = local(3, 9, 30)
        await s.execute(
            update(Card)
            .where(Card.id == game.cards["0000005"][0])
            .values(holder_id=game.holder("0000004"), valid_from=switch)
        )
        await s.execute(
            update(Card).where(Card.id == game.cards["0000004"][0]).values(valid_until=switch)
        )
        await s.commit()
        game.cards["0000005"] = (game.cards["0000005"][0], game.holder("0000004"), "")
        await insert_taps(
            s,
            game,
            [
                T("0000004", "A", local(1, 0, 0) - timedelta(minutes=30)),  # before the game
                T("0000004", "A", local(3, 8, 0)),
                T("0000004", "A", local(3, 8, 2)),  # repeat
                T("0000004", "B", local(3, 8, 3)),  # too fast
                T("0000004", "C", local(3, 8, 25)),  # leg
                T("0000004", "A", local(3, 10, 0)),  # the old card, after it was replaced
                T("0000005", "B", local(3, 10, 15)),  # new card: a start (10:00 did not count)
                T("0000005", "C", local(3, 10, 30)),  # leg on the new card
            ],
        )
        s.add_all(
            [
                TapRejection(
                    game_id=game.game_id,
                    reader_id=f"R-{slug}-A",
                    card_uid_raw="04:00:00:00:00:00:04".lower(),
                    tapped_at_raw=local(9, 9, 0),
                    tapped_at=local(9, 9, 0),
                    reason="future_timestamp",
                ),
            ]
        )
        await s.execute(
            insert(TapRejection),
            [
                {
                    "game_id": game.game_id,
                    "reader_id": f"R-{slug}-B",
                    "card_uid_raw": "04000000000009",
                    "reason": "conflict",
                }
            ],
        )
        await s.commit()

    response = await client.get(
        f"/api/v1/admin/games/{slug}/cards/0000004", headers=auth(organiser_token)
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["registered"] is True
    assert view["player"]["nickname"] == "Swift Fox"
    assert view["player"]["age_band"] == "5-11"
    assert view["team"]["code"] == "COM1"
    assert view["other_cards"] == ["0000005"]
    assert view["points"] == 20 and view["card_points"] == 10
    assert abs(view["distance_km"] - 1.6) < 0.01
    kinds = [(t["card"], t["checkpoint"], t["outcome"], t["points"]) for t in view["taps"]]
    assert kinds == [
        ("0000004", "A", "out_of_game", 0),
        ("0000004", "A", "journey_start", 0),
        ("0000004", "A", "repeat", 0),
        ("0000004", "B", "too_fast", 0),
        ("0000004", "C", "leg", 10),
        ("0000004", "A", "out_of_game", 0),
        ("0000005", "B", "journey_start", 0),
        ("0000005", "C", "leg", 10),
    ]
    reasons = [t["explanation"] for t in view["taps"]]
    assert "before the game started" in reasons[0]
    assert "same box" in reasons[2]
    assert "km/h" in reasons[3] and "25 km/h limit" in reasons[3]
    assert reasons[4].startswith("leg of 800 m from B")
    assert "card 0000004 was replaced on" in reasons[5] and "counts for nobody" in reasons[5]
    assert [t["after_replacement"] for t in view["taps"]] == [False] * 5 + [True] + [False] * 2
    assert [t["this_card"] for t in view["taps"]] == [True] * 6 + [False] * 2
    assert view["taps"][4]["team"] == "COM1"
    assert view["taps"][4]["checkpoint_name"] == "Charlie"
    assert view["taps"][1]["tapped_at_raw"] == view["taps"][1]["tapped_at"]
    assert [r["reason"] for r in view["rejected"]] == ["future_timestamp"]
    text = response.text.lower()
    assert "fox@example.org" not in text and "bb11" not in text and "email" not in text


async def test_campaign_and_unregistered_card(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    campaign = {
        "code": "PARKS",
        "name": "Parks",
        "multiplier": 2,
        "starts_at": "2027-05-03T00:00:00+01:00",
        "ends_at": "2027-05-04T00:00:00+01:00",
        "checkpoint_tags": ["park"],
    }
    game = await make_game(app, slug, campaigns=[campaign])
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await insert_taps(
            s, game, [T("0000002", "A", local(3, 8, 0)), T("0000002", "P", local(3, 8, 12))]
        )
        await s.commit()
    view = (
        await client.get(f"/api/v1/admin/games/{slug}/cards/0000002", headers=auth(organiser_token))
    ).json()
    assert view["registered"] is False and view["player"] is None
    assert view["team"]["code"] == "SCH1"  # the card was issued to SCH1
    leg = view["taps"][1]
    assert (leg["outcome"], leg["points"], leg["campaign"], leg["multiplier"]) == (
        "leg",
        20,
        "PARKS",
        2.0,
    )
    assert "×2 campaign" in leg["explanation"]


async def test_unknown_card_and_tokens(
    app: FastAPI, client: httpx.AsyncClient, slug: str, organiser_token: str
) -> None:
    await make_game(app, slug)
    url = f"/api/v1/admin/games/{slug}/cards/9999999"
    missing = await client.get(url, headers=auth(organiser_token))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert (await client.get(url)).status_code == 401
    other = await client.get(
        f"/api/v1/admin/games/{slug}-nope/cards/0000001", headers=auth(organiser_token)
    )
    assert other.status_code == 404
