"""Game definition files: validation messages, idempotent upsert, exact change reports."""

from __future__ import annotations

import json

import httpx
import pytest
import yaml
from sqlalchemy import func, select, text

from game.definition import DefinitionError, load_text
from game.models import Campaign, Checkpoint, Game, Team
from harness.game_files import game_file
from people.models import Card
from tests.helpers import auth


def test_three_errors_are_all_reported() -> None:
    data = game_file("err-game")
    data["checkpoints"][1]["lat"] = 123.0
    data["teams"][0]["kind"] = "club"
    data["readers"][0]["checkpoint"] = "NOPE"
    with pytest.raises(DefinitionError) as info:
        load_text(yaml.safe_dump(data))
    assert info.value.errors == [
        "checkpoints[1].lat: must be between -90 and 90",
        "teams[0].kind: must be one of school, community, workplace, family, other",
        "readers[0].checkpoint: no checkpoint 'NOPE'",
    ]


def test_messages_name_entry_and_field() -> None:
    data = game_file("msg-game")
    data["cards"][4]["uid"] = "4111-1111-1111-1111-1"
    del data["checkpoints"][0]["name"]
    data["game"]["starts_at"] = "2027-05-01T00:00:00"
    data["campaigns"] = [
        {
            "code": "X",
            "name": "x",
            "multiplier": 2,
            "starts_at": "2027-05-02T00:00:00Z",
            "ends_at": "2027-05-01T00:00:00Z",
            "age_bands": ["9-10"],
        }
    ]
    with pytest.raises(DefinitionError) as info:
        load_text(json.dumps(data), filename="g.json")
    errors = info.value.errors
    assert "checkpoints[0].name: is required" in errors
    assert any(e.startswith("cards[4].uid: must be 8, 14 or 20 hexadecimal") for e in errors)
    assert any(e.startswith("game.starts_at: needs a UTC offset") for e in errors)
    assert any(e.startswith("campaigns[0].age_bands: unknown age band") for e in errors)


def test_duplicate_codes_are_reported() -> None:
    data = game_file("dup-game")
    data["checkpoints"][1]["code"] = "a"
    with pytest.raises(DefinitionError) as info:
        load_text(yaml.safe_dump(data))
    assert info.value.errors == [
        "checkpoints[1].code: 'a' already used by checkpoints[0]",
        "readers[1].checkpoint: no checkpoint 'B'",
    ]


async def _put(client: httpx.AsyncClient, token: str, slug: str, data: dict) -> httpx.Response:
    return await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(data, sort_keys=False),
        headers={**auth(token), "content-type": "application/yaml"},
    )


async def test_load_twice_reports_no_changes(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    data = game_file(slug)
    first = await _put(client, organiser_token, slug, data)
    assert first.status_code == 200, first.text
    assert first.json()["created"] is True
    second = await _put(client, organiser_token, slug, data)
    assert second.status_code == 200
    assert second.json()["changes"] == []
    assert second.json()["created"] is False


async def test_edited_file_reports_exactly_what_changed(
    client: httpx.AsyncClient, organiser_token: str, slug: str, session
) -> None:
    data = game_file(slug)
    assert (await _put(client, organiser_token, slug, data)).status_code == 200
    data["checkpoints"][0]["name"] = "Alpha Gates"
    data["teams"].append({"code": "FAM1", "name": "The Smiths", "kind": "family"})
    data["game"]["rules"]["points_per_leg"] = 20
    answer = (await _put(client, organiser_token, slug, data)).json()
    assert sorted(answer["changes"]) == sorted(
        [
            "checkpoint A: name 'Alpha' → 'Alpha Gates'",
            "team FAM1: added",
            f"game {slug}: points_per_leg 10 → 20",
        ]
    )
    game = await session.scalar(select(Game).where(Game.slug == slug))
    assert game.points_per_leg == 20
    teams = await session.scalar(select(func.count()).where(Team.game_id == game.id))
    assert teams == 3


async def test_json_body_is_accepted(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    response = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=json.dumps(game_file(slug)),
        headers={**auth(organiser_token), "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] is True


async def test_bad_file_changes_nothing(
    client: httpx.AsyncClient, organiser_token: str, slug: str, session
) -> None:
    data = game_file(slug)
    assert (await _put(client, organiser_token, slug, data)).status_code == 200
    game_id = (await session.scalar(select(Game).where(Game.slug == slug))).id
    before_cards = await session.scalar(select(func.count()).where(Card.game_id == game_id))

    bad = game_file(slug)
    bad["checkpoints"][0]["name"] = "Renamed"  # a good edit alongside bad ones
    bad["cards"].append({"number": "9999999", "uid": "04FFFFFFFFFFFF", "activation_code": "ZZZZ"})
    bad["checkpoints"][2]["lon"] = 500
    bad["teams"][1]["kind"] = "pub"
    bad["cards"][0]["uid"] = "xyz"
    response = await _put(client, organiser_token, slug, bad)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    messages = [f["message"] for f in body["fields"]]
    assert len(messages) == 3
    assert "checkpoints[2].lon: must be between -180 and 180" in messages

    session.expire_all()
    names = (
        await session.scalars(select(Checkpoint.name).where(Checkpoint.game_id == game_id))
    ).all()
    assert "Renamed" not in names
    after_cards = await session.scalar(select(func.count()).where(Card.game_id == game_id))
    assert after_cards == before_cards


async def test_slug_must_match_address(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    response = await _put(client, organiser_token, slug + "-x", game_file(slug))
    assert response.status_code == 422
    assert "does not match" in response.json()["fields"][0]["message"]


async def test_generated_reader_secrets_are_shown_once(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    data = game_file(slug)
    for reader in data["readers"]:
        del reader["secret"]
    first = (await _put(client, organiser_token, slug, data)).json()
    assert sorted(first["generated_secrets"]) == sorted(r["id"] for r in data["readers"])
    assert all(len(s) >= 43 for s in first["generated_secrets"].values())
    second = (await _put(client, organiser_token, slug, data)).json()
    assert second["generated_secrets"] == {}
    assert second["changes"] == []


async def test_campaign_edit_is_reported(
    client: httpx.AsyncClient, organiser_token: str, slug: str, session
) -> None:
    data = game_file(slug)
    data["campaigns"] = [
        {
            "code": "PARKS",
            "name": "Parks",
            "multiplier": 2,
            "starts_at": "2027-05-15T00:00:00+01:00",
            "ends_at": "2027-05-22T00:00:00+01:00",
            "checkpoint_tags": ["park"],
        }
    ]
    assert (await _put(client, organiser_token, slug, data)).status_code == 200
    data["campaigns"][0]["multiplier"] = 3
    answer = (await _put(client, organiser_token, slug, data)).json()
    assert answer["changes"] == ["campaign PARKS: multiplier 2 → 3"]
    camp = await session.scalar(
        select(Campaign).where(Campaign.code == "PARKS").join(Game).where(Game.slug == slug)
    )
    assert camp.multiplier == 3


async def test_public_game_description(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    assert (await _put(client, organiser_token, slug, game_file(slug))).status_code == 200
    body = (await client.get(f"/api/v1/games/{slug}")).json()
    assert [c["code"] for c in body["checkpoints"]] == ["A", "B", "C", "P"]
    assert body["checkpoints"][3]["tags"] == ["park"]
    assert "readers" not in body and "cards" not in body
    assert (await client.get("/api/v1/games/no-such-game")).status_code == 404


async def test_a_bulk_card_load_refreshes_planner_statistics(
    client: httpx.AsyncClient, organiser_token: str, slug: str, session, backend: str
) -> None:
    """Uploads look cards up by UID; planned with statistics from before a 1,000-card load,
    that lookup scanned every card of the game for each tap (tens of ms per upload)."""
    if backend != "postgres":
        pytest.skip("planner statistics are PostgreSQL's (SQLite has no ANALYZE-driven plans)")

    started = await session.scalar(text("SELECT clock_timestamp()"))
    await session.commit()
    data = game_file(slug)
    data["cards"] = [
        {"number": f"{i:07d}", "uid": f"04{i:012X}", "activation_code": f"K{i:04d}"}
        for i in range(1, 1001)
    ]
    r = await _put(client, organiser_token, slug, data)
    assert r.status_code == 200, r.text
    analysed = await session.scalar(
        text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'cards'")
    )
    assert analysed is not None and analysed >= started

    # A small edit of the same game adds no cards: no ANALYZE.
    data["cards"].append({"number": "0009999", "uid": "04FFFFFFFFFFFF", "activation_code": "Z999"})
    await session.commit()
    r = await _put(client, organiser_token, slug, data)
    assert r.status_code == 200, r.text
    again = await session.scalar(
        text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'cards'")
    )
    assert again == analysed
