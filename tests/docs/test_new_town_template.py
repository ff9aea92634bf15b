"""The game-file template of the docs loads as it stands, with generated reader secrets."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.helpers import auth

TEMPLATE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "new-town.yaml"


def test_the_template_has_no_fixed_secrets() -> None:
    assert "secret:" not in TEMPLATE.read_text(encoding="utf-8")


async def test_the_template_loads_and_prints_each_new_secret(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    text = TEMPLATE.read_text(encoding="utf-8").replace("newtown-2027", slug)
    text = text.replace("NT-R-", f"{slug}-R-")  # reader ids are global across games
    answer = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=text,
        headers={**auth(organiser_token), "content-type": "application/yaml"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["generated_secrets"]) == 4, body
    again = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=text,
        headers={**auth(organiser_token), "content-type": "application/yaml"},
    )
    assert again.status_code == 200 and not again.json()["generated_secrets"], again.text
