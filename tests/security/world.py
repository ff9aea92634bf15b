"""A small world for the security tests: two games, a token of every role, and the objects
the endpoints need (a survey answer, an evaluation project, a lucky draw).

Game G is the one under test; H is "another game": its organiser, evaluator, team manager
and player must not reach G's private endpoints.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from accounts.tokens import create_token
from api.app_state import state_of
from game.models import Game, Team
from harness.game_files import game_file
from kernel.db import utcnow
from tests.helpers import auth

PRINCIPALS = (
    "anonymous",
    "bad_token",
    "player",
    "player_other",
    "team_manager",
    "team_manager_other",
    "evaluator",
    "evaluator_other",
    "organiser",
    "organiser_game",
    "organiser_other",
)
# Which game each principal belongs to (None: no token, or every game).
HOME = {
    "player": "G",
    "player_other": "H",
    "team_manager": "G",
    "team_manager_other": "H",
    "evaluator": "G",
    "evaluator_other": "H",
    "organiser_game": "G",
    "organiser_other": "H",
}
SPARE_CARDS = range(11, 81)  # unregistered cards for linking and replacing


def definition(slug: str) -> dict[str, Any]:
    """The factory town, running from 20 days ago to 20 days ahead, with spare cards."""
    now = utcnow()
    data = game_file(slug)
    data["game"]["starts_at"] = (now - timedelta(days=20)).isoformat()
    data["game"]["ends_at"] = (now + timedelta(days=20)).isoformat()
    data["cards"] += [
        {"number": f"{i:07d}", "uid": f"04{i:012X}", "activation_code": f"K{i:03d}"}
        for i in SPARE_CARDS
    ]
    return data


def nickname() -> str:
    # Consonants but "v" (read as "u" by the blocklist): never a blocked word.
    return "Heron " + "".join(random.choice("bdfghjkmnpqrwxz") for _ in range(8))


@dataclass
class World:
    app: FastAPI
    slug: str  # G
    other: str  # H
    definitions: dict[str, dict[str, Any]]
    tokens: dict[str, str | None] = field(default_factory=dict)
    player_ids: dict[str, int] = field(default_factory=dict)
    project: str = "access"
    draw_id: int = 0
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    spare: dict[str, Any] = field(default_factory=dict)

    def slug_of(self, game: str) -> str:
        return self.slug if game == "G" else self.other

    def headers(self, principal: str) -> dict[str, str]:
        token = self.tokens.get(principal)
        return auth(token) if token else {}

    def client(self) -> httpx.AsyncClient:
        """A client from its own address, so per-address rate limits never interfere."""
        n = next(self.serial)
        host = f"10.{random.randint(1, 250)}.{n // 250}.{n % 250 + 1}"
        transport = httpx.ASGITransport(app=self.app, client=(host, 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def next_card(self, game: str) -> str:
        cards = self.spare.setdefault(game, iter(SPARE_CARDS))
        return f"{next(cards):07d}"

    async def as_organiser(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async with self.client() as c:
            response = await c.request(method, url, headers=self.headers("organiser"), **kwargs)
        assert response.status_code < 300, (method, url, response.text)
        return response

    async def register(self, game: str = "G", **fields: Any) -> dict[str, Any]:
        body = {"nickname": nickname(), "age_band": "25-44", "gender": "female", **fields}
        async with self.client() as c:
            response = await c.post(f"/api/v1/games/{self.slug_of(game)}/registrations", json=body)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer


async def build_world(app: FastAPI) -> World:
    tag = random.randbytes(5).hex()
    world = World(app, f"sec-{tag}-g", f"sec-{tag}-h", {})
    for game, slug in (("G", world.slug), ("H", world.other)):
        world.definitions[game] = definition(slug)
    world.tokens = {"anonymous": None, "bad_token": "tt_" + "x" * 43}
    async with state_of(app).sessionmaker() as s:
        world.tokens["organiser"] = await create_token(s, role="organiser", label="security")
        await s.commit()
    for game in ("G", "H"):
        await world.as_organiser(
            "PUT", f"/api/v1/admin/games/{world.slug_of(game)}", json=world.definitions[game]
        )
    async with state_of(app).sessionmaker() as s:
        ids = {
            g: await s.scalar(select(Game.id).where(Game.slug == world.slug_of(g)))
            for g in ("G", "H")
        }
        teams = {
            g: await s.scalar(select(Team.id).where(Team.game_id == ids[g], Team.code == "SCH1"))
            for g in ("G", "H")
        }
        suffix = {"G": "", "H": "_other"}
        for g in ("G", "H"):
            world.tokens["organiser_" + ("game" if g == "G" else "other")] = await create_token(
                s, role="organiser", game_id=ids[g]
            )
            world.tokens["evaluator" + suffix[g]] = await create_token(
                s, role="evaluator", game_id=ids[g]
            )
            world.tokens["team_manager" + suffix[g]] = await create_token(
                s, role="team_manager", game_id=ids[g], team_id=teams[g]
            )
        await s.commit()
    for g, name in (("G", "player"), ("H", "player_other")):
        answer = await world.register(g, team="SCH1")
        world.tokens[name] = answer["token"]
        world.player_ids[name] = answer["player_id"]

    g = f"/api/v1/admin/games/{world.slug}"
    await world.as_organiser("POST", f"{g}/surveys/1/open")
    async with world.client() as c:
        answered = await c.post(
            f"/api/v1/games/{world.slug}/surveys/1",
            json={"activity_days": 3},
            headers=world.headers("player"),
        )
    assert answered.status_code == 200, answered.text
    await world.as_organiser("POST", f"{g}/evaluation-projects", json={"name": world.project})
    await world.as_organiser("POST", f"{g}/draws", json={"winners_per_day": 1})
    run = await world.as_organiser("POST", f"{g}/draws/run", params={"date": yesterday()})
    world.draw_id = run.json()["draws"][0]["id"]
    return world


def yesterday() -> str:
    """Yesterday in the test games' time zone: a day that has ended, so it can be drawn."""
    day = utcnow().astimezone(ZoneInfo("Europe/London")).date() - timedelta(days=1)
    return day.isoformat()
