"""No public answer ever carries a name, e-mail, postcode, LSOA or card number.

Players are registered with distinctive personal data; then every GET route the app serves
is called without a token (leaderboards, game description, teams, board and map pages, docs)
and each answer is searched for any of it.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from geo.deprivation import Deprivation
from kernel.db import utcnow
from tests.helpers import auth
from tests.people.conftest import FakeLookup
from tests.people.people_helpers import (
    add_taps,
    journey,
    load_game,
    random_postcode,
    random_word,
    register,
)


def _card(tag: str, letter: str) -> dict[str, Any]:
    return {
        "number": f"PRIV{tag}{letter}",
        "uid": "04" + "".join(random.choice("0123456789ABCDEF") for _ in range(12)),
        "activation_code": f"CODE{letter}",
        "team": "SCH1",
    }


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "x"), path)


async def test_public_answers_carry_no_personal_data(
    client: httpx.AsyncClient,
    app: FastAPI,
    organiser_token: str,
    slug: str,
    lookup: FakeLookup,
) -> None:
    tag = random_word(6).upper()
    cards = [_card(tag, letter) for letter in "ABCD"]
    game = await load_game(client, app, organiser_token, slug, extra_cards=cards)
    secrets: list[str] = []
    people: dict[str, dict[str, Any]] = {}
    for key, card, public in (("shown", 0, True), ("private", 1, False), ("hidden", 2, True)):
        postcode = random_postcode()
        lsoa = f"E01{random.randint(0, 999999):06d}"
        lookup.known[postcode] = Deprivation("found", lsoa, 4, "england")
        email = f"{random_word()}.{key}@example.org"
        people[key] = await register(
            client,
            slug,
            card_number=cards[card]["number"],
            activation_code=cards[card]["activation_code"],
            nickname=f"Nick {random_word(6)}",
            postcode=postcode,
            age_band="12-15",
            gender="girl",
            public=public,
            email=email,
        )
        secrets += [email, postcode, postcode.replace(" ", ""), lsoa]
        secrets += [cards[card]["number"], cards[card]["uid"]]
    virtual = await register(
        client,
        slug,
        nickname=f"App {random_word(6)}",
        age_band="25-44",
        gender="male",
        email=f"{random_word()}.app@example.org",
    )
    secrets += [virtual["card"]["number"], people["private"]["nickname"], virtual["nickname"]]
    # Under 16: public boards show a made-up name, never the chosen nickname.
    secrets += [people["hidden"]["nickname"], people["shown"]["nickname"]]
    hide = await client.patch(
        f"/api/v1/admin/games/{slug}/players/{people['hidden']['player_id']}",
        json={"nickname_hidden": True},
        headers=auth(organiser_token),
    )
    assert hide.status_code == 200
    start = utcnow() - timedelta(days=1)
    for i, issued in enumerate(cards[:3]):
        await add_taps(app, game, issued["number"], journey(start + timedelta(hours=2 * i)))

    values = {
        "slug": slug,
        "code": "SCH1",
        "number": cards[0]["number"],
        "player_id": str(people["shown"]["player_id"]),
        "reader_id": f"R-{slug}-A",
        "name": "board.js",
    }
    # Every documented GET route, and the pages (left out of the API documentation).
    urls = {_fill(path, values) for path, ops in app.openapi()["paths"].items() if "get" in ops}
    urls |= {f"/games/{slug}/board", f"/games/{slug}/boxes", "/docs"}
    urls |= {f"/static/leaderboard/{name}" for name in ("board.js", "board.css")}
    board = f"/api/v1/games/{slug}/leaderboards"
    urls |= {f"{board}/teams?by={by}" for by in ("total", "average", "distance")}
    urls |= {f"{board}/teams?kind=school", f"{board}/players?limit=100", "/openapi.json"}
    answers = {url: await client.get(url) for url in sorted(urls)}

    assert answers[f"/api/v1/games/{slug}"].status_code == 200
    assert answers[f"/games/{slug}/board"].status_code == 200
    players_board = answers[f"{board}/players?limit=100"]
    assert players_board.status_code == 200
    # The board works (so the scan is not vacuous): the public player is on it, by the name
    # the game made up for them.
    assert people["shown"]["shown_as"] in players_board.text
    leaks = [
        (url, secret)
        for url, response in answers.items()
        for secret in secrets
        if secret.upper() in response.text.upper()
    ]
    assert leaks == []
