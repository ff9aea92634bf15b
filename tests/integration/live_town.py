"""A small town whose game is running now, and signed uploads through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import yaml

from harness.game_files import game_file
from simulator.reader_client import SimulatedReader
from tests.helpers import auth, letters


def live_game(slug: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    data = game_file(slug)
    data["game"]["starts_at"] = (now - timedelta(days=3)).isoformat()
    data["game"]["ends_at"] = (now + timedelta(days=30)).isoformat()
    data["players"] = [
        {
            "card": f"{i:07d}",
            "nickname": f"Walker {letters(slug[-4:])} {i}",
            "team": "SCH1",
            "public": True,
        }
        for i in (4, 5)
    ]
    return data


async def load(client: httpx.AsyncClient, token: str, data: dict[str, Any]) -> None:
    slug = data["game"]["slug"]
    response = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(data, sort_keys=False),
        headers={**auth(token), "content-type": "application/yaml"},
    )
    assert response.status_code == 200, response.text


def readers(client: httpx.AsyncClient, data: dict[str, Any]) -> dict[str, SimulatedReader]:
    return {r["checkpoint"]: SimulatedReader(r["id"], r["secret"], client) for r in data["readers"]}


async def walk(
    client: httpx.AsyncClient, data: dict[str, Any], cards: list[int], minutes_ago: int = 90
) -> None:
    """Each card walks A → B → C (15 minutes apart); every box then uploads."""
    boxes = readers(client, data)
    start = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    for n, card in enumerate(cards):
        for step, code in enumerate("ABC"):
            boxes[code].tap(f"04{card:012X}", start + timedelta(minutes=15 * step + n))
    for box in boxes.values():
        result = await box.upload()
        assert result.complete, result
