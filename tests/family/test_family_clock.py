"""The family site runs on the server's clock (``Now``): the time tests set with
``app.dependency_overrides[server_now]`` is the time its pages and its session look-up see."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from api.deps import server_now
from kernel.db import utcnow
from tests.people.people_helpers import load_game, number
from tests.staff.staff_helpers import Browser

PASSWORD = "green kettle umbrella 7"


@pytest.fixture
def clock_back(app: FastAPI) -> Iterator[None]:
    """Later tests get the real clock back."""
    yield
    app.dependency_overrides.pop(server_now, None)


async def test_pages_and_the_session_follow_the_servers_clock(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, clock_back: None
) -> None:
    slug = f"fam-{uuid.uuid4().hex[:10]}"
    await load_game(client, app, organiser_token, slug)  # ends in 20 days
    email = f"clock-{uuid.uuid4().hex[:8]}@example.org"
    async with Browser(app) as phone:
        data = {"kind": "email", "email": email, "password": PASSWORD, "confirm": PASSWORD}
        assert (await phone.post("/family/create", data)).status_code == 303
        assert f'value="{slug}"' in (await phone.get(f"/family/add?game={slug}")).text

        # 21 days on: still signed in (idle for under 30 days), the game has ended.
        later = utcnow() + timedelta(days=21)
        app.dependency_overrides[server_now] = lambda: later
        assert f'value="{slug}"' not in (await phone.get(f"/family/add?game={slug}")).text
        card = {"game": slug, "card_number": number(4), "activation_code": "K004"}
        added = await phone.post(
            "/family/add",
            {**card, "nickname": "Late Owl", "age_band": "5-11", "gender": "prefer_not_to_say"},
            page="/family/sign-out",  # the session's form token: no game is open to add to
        )
        assert added.status_code == 422 and "Choose a game" in added.text
        assert "This game has ended" in (await phone.get(f"/games/{slug}")).text

        # A month without a visit: the session is over.
        much_later = later + timedelta(days=31)
        app.dependency_overrides[server_now] = lambda: much_later
        home = await phone.get("/family/")
        assert home.status_code == 303
        assert home.headers["location"] == "/family/sign-in?next=/family/"
