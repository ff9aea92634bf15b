"""Helpers for the check-in tests: a server clock, a game, players and check-ins."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from harness.game_files import COM1_JOIN_CODE, A, B, C, P, game_file, offset
from tests.helpers import Clock as Clock  # re-exported for the suite
from tests.helpers import auth

NOW = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)  # inside the factory game's period
PLACES = {"A": A, "B": B, "C": C, "P": P}


@dataclass
class Player:
    id: int
    token: str
    card: str

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.token)


async def load_game(
    client: httpx.AsyncClient, token: str, slug: str, **overrides: Any
) -> dict[str, Any]:
    data = game_file(slug)
    rules = overrides.pop("rules", {})
    data["game"]["rules"].update(rules)
    data.update(overrides)
    response = await client.put(f"/api/v1/admin/games/{slug}", json=data, headers=auth(token))
    assert response.status_code == 200, response.text
    return data


async def register(
    client: httpx.AsyncClient, slug: str, card: int | None = None, **fields: Any
) -> Player:
    body: dict[str, Any] = {
        "nickname": "Otter " + "".join(random.choice("bdfghjkmnpqrwxz") for _ in range(8)),
        "age_band": "25-44",
        "gender": "prefer_not_to_say",
        "team": "COM1",
        "join_code": COM1_JOIN_CODE,
        "public": True,
        **fields,
    }
    if card is not None:
        body |= {"card_number": f"{card:07d}", "activation_code": f"K{card:03d}"}
    response = await client.post(f"/api/v1/games/{slug}/registrations", json=body)
    assert response.status_code == 201, response.text
    answer = response.json()
    return Player(answer["player_id"], answer["token"], answer["card"]["number"])


def near(code: str, north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    return offset(*PLACES[code], north_m, east_m)


def checkin_body(
    code: str,
    *,
    north_m: float = 5.0,
    east_m: float = 0.0,
    accuracy_m: float = 10.0,
    at: datetime | str | None = None,
    client_id: str | None = None,
) -> dict[str, Any]:
    lat, lon = near(code, north_m, east_m)
    body: dict[str, Any] = {
        "client_id": client_id or str(uuid.uuid4()),
        "checkpoint": code,
        "lat": lat,
        "lon": lon,
        "accuracy_m": accuracy_m,
    }
    if at is not None:
        body["at"] = at.isoformat() if isinstance(at, datetime) else at
    return body


async def check_in(
    client: httpx.AsyncClient, player: Player, code: str, **kwargs: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/app/checkins", json=checkin_body(code, **kwargs), headers=player.headers
    )
