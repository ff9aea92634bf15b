"""Live boards equal a rebuild from the database after many uploads of fractional legs.

Leg lengths are great-circle distances (fractions of a metre). The live boards add each
upload's score delta; a rebuild reads the stored totals. Rounding each delta before adding
it (whole metres) drifts by up to half a metre per upload, so here every upload carries one
leg whose length is a fraction of a metre away from a whole number.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import yaml
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from game.models import Tap, Team
from harness.game_files import A, game_file, offset
from leaderboard.ranking import whole_metres
from organising.repository import game_by_slug
from simulator.reader_client import SimulatedReader
from tests.helpers import auth

# Legs of about 800.4, 650.6 and 905.3 m: no whole metres.
CHECKPOINTS = {
    "A": A,
    "B": offset(*A, 0, 800.43),
    "C": offset(*A, 640.2, 371.9),
}
ROUTES = ["ABCABCABCA", "ACBACBACBA", "BACBACBACB", "CABCABCABC"]


def _game(slug: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    data = game_file(slug)
    data["game"]["starts_at"] = (now - timedelta(days=3)).isoformat()
    data["game"]["ends_at"] = (now + timedelta(days=30)).isoformat()
    data["checkpoints"] = [
        {"code": code, "name": f"Box {code}", "lat": lat, "lon": lon, "tags": []}
        for code, (lat, lon) in CHECKPOINTS.items()
    ]
    data["readers"] = [r for r in data["readers"] if r["checkpoint"] in CHECKPOINTS]
    data["players"] = [
        {"card": f"{i:07d}", "nickname": f"Strider {i}", "team": team, "public": True}
        for i, team in ((4, "COM1"), (5, "COM1"), (6, "COM1"), (7, "SCH1"), (8, "SCH1"))
    ]
    return data


async def _load(client: httpx.AsyncClient, token: str, data: dict[str, Any]) -> None:
    response = await client.put(
        f"/api/v1/admin/games/{data['game']['slug']}",
        content=yaml.safe_dump(data, sort_keys=False),
        headers={**auth(token), "content-type": "application/yaml"},
    )
    assert response.status_code == 200, response.text


async def _upload(box: SimulatedReader) -> None:
    result = await box.upload()
    assert result.complete, result


async def _boards(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base = f"/api/v1/games/{slug}/leaderboards"
    for by in ("total", "average", "distance"):
        for kind in ("", "school", "community"):
            r = await client.get(f"{base}/teams", params={"by": by, "kind": kind, "limit": 100})
            assert r.status_code == 200, r.text
            out[f"{by}/{kind}"] = r.json()["entries"]
    r = await client.get(f"{base}/players", params={"limit": 100})
    assert r.status_code == 200, r.text
    out["players"] = r.json()["entries"]
    return out


async def test_live_boards_equal_a_rebuild_after_many_fractional_uploads(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    data = _game(slug)
    await _load(client, organiser_token, data)
    boxes = {
        r["checkpoint"]: SimulatedReader(r["id"], r["secret"], client) for r in data["readers"]
    }
    cards = [1, 2, 4, 5, 6, 7]  # 1 and 2: unregistered school fobs
    start = datetime.now(UTC) - timedelta(hours=4)
    for step in range(len(ROUTES[0])):
        for n, card in enumerate(cards):
            code = ROUTES[n % len(ROUTES)][step]
            boxes[code].tap(f"04{card:012X}", start + timedelta(minutes=12 * step + n))
            await _upload(boxes[code])  # one leg per upload
    # Card 8's tap at B arrives last: its leg A -> C is replaced by A -> B -> C (a delta
    # with a negative part).
    late = start - timedelta(hours=1)
    for code, minutes in (("A", 0), ("C", 30), ("B", 15)):
        boxes[code].tap(f"04{8:012X}", late + timedelta(minutes=minutes))
        await _upload(boxes[code])

    live = await _boards(client, slug)
    assert len(live["distance/"]) == 2 and len(live["players"]) == 5

    async with state_of(app).sessionmaker() as session:
        game = await game_by_slug(session, slug)
        assert game is not None
    await state_of(app).after_game_change(game.id)
    assert await _boards(client, slug) == live

    async with state_of(app).sessionmaker() as session:
        legs = await session.execute(
            select(Team.code, Tap.distance_m)
            .join(Team, Team.id == Tap.team_id)
            .where(Tap.game_id == game.id, Tap.outcome == "leg")
        )
        by_team: dict[str, list[float]] = {}
        for code, distance in legs:
            by_team.setdefault(code, []).append(distance)
    # Each team's distance is its legs' sum in whole metres, not a sum of rounded legs.
    assert {e["team"]: e["distance_km"] for e in live["distance/"]} == {
        code: whole_metres(math.fsum(d)) / 1000 for code, d in by_team.items()
    }
    assert any(abs(sum(map(round, d)) - math.fsum(d)) >= 1 for d in by_team.values())
