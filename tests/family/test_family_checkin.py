"""Checking in by phone on the family site: registering without a card (13 and over only),
then "check in here" with a position, each outcome worded in plain language: counted with
points, too far, accuracy too low, too soon; a younger child's card player has no button,
and a reload of the same form never makes a second tap."""

from __future__ import annotations

import re
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from api.app_state import state_of
from game.models import Tap
from harness.game_files import A, B, offset
from kernel.db import utcnow
from people.models import Player
from tests.family.test_family_site import PASSWORD, _add
from tests.helpers import server_clock
from tests.people.people_helpers import load_game
from tests.staff.staff_helpers import Browser, csrf_of


async def _phone_player(phone: Browser, slug: str, nickname: str, age: str, **extra: str):  # type: ignore[no-untyped-def]
    data = {
        "kind": "phone",
        "game": slug,
        "nickname": nickname,
        "age_band": age,
        "gender": "prefer_not_to_say",
        **extra,
    }
    return await phone.post("/family/add", data, page=f"/family/add?game={slug}&kind=phone")


async def _check_in(
    phone: Browser, player_id: int, lat: float, lon: float, accuracy: float = 10.0
) -> httpx.Response:
    page = await phone.get(f"/family/players/{player_id}/check-in")
    client_id = re.search(r'name="client_id" value="([^"]+)"', page.text)
    assert client_id, page.text
    form = {"client_id": client_id[1], "lat": str(lat), "lon": str(lon)}
    return await phone.post(
        f"/family/players/{player_id}/check-in",
        form | {"accuracy": str(accuracy)},
        token=csrf_of(page.text),
    )


async def _player(app: FastAPI, game_id: int, nickname: str) -> Player:
    async with state_of(app).sessionmaker() as s:
        found = await s.scalar(
            select(Player).where(Player.game_id == game_id, Player.nickname == nickname)
        )
    assert found is not None
    return found


async def test_a_teenager_registers_without_a_card_and_checks_in_by_phone(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    slug = f"famc-{uuid.uuid4().hex[:10]}"
    game = await load_game(client, app, organiser_token, slug)
    async with Browser(app) as phone:
        made = await phone.post(
            "/family/create",
            {"kind": "code", "age_13": "yes", "password": PASSWORD, "confirm": PASSWORD},
        )
        assert made.status_code == 200 and 'id="account-code"' in made.text
        form = await phone.get(f"/family/add?game={slug}&kind=phone")
        assert 'name="card_number"' not in form.text and 'value="0-4"' not in form.text
        # 12 to 15 takes the confirmation of 13 or over; younger bands are refused.
        unconfirmed = await _phone_player(phone, slug, "Quick Otter", "12-15")
        assert unconfirmed.status_code == 422 and 'href="#age_13_or_over"' in unconfirmed.text
        young = await _phone_player(phone, slug, "Quick Otter", "5-11")
        assert young.status_code == 422 and "13 and over" in young.text
        done = await _phone_player(phone, slug, "Quick Otter", "12-15", age_13_or_over="yes")
        assert done.status_code == 303, done.text
        teen = await _player(app, game.id, "Quick Otter")
        home = await phone.get("/family/")
        assert f"/family/players/{teen.id}/check-in" in home.text

        start = utcnow()
        with server_clock(app, start) as clock:
            # Without a position (no JavaScript, or location not allowed): nothing counted.
            page = await phone.get(f"/family/players/{teen.id}/check-in")
            assert "Check in here" in page.text and 'role="status"' in page.text
            blind = await phone.post(
                f"/family/players/{teen.id}/check-in",
                {"client_id": str(uuid.uuid4())},
                token=csrf_of(page.text),
            )
            assert blind.status_code == 422 and "must allow this page to use" in blind.text
            far = await _check_in(phone, teen.id, *offset(*A, 150, 0))
            assert far.status_code == 422
            assert "You are 150 m from the nearest box, Alpha. Check in within 40 m" in far.text
            vague = await _check_in(phone, teen.id, *A, accuracy=80)
            assert vague.status_code == 422 and "only to within 80 m" in vague.text
            first = await _check_in(phone, teen.id, *offset(*A, 10, 0))
            assert first.status_code == 200, first.text
            assert "You checked in at Alpha and your journey has started" in first.text
            soon = await _check_in(phone, teen.id, *B)
            assert soon.status_code == 429 and soon.headers["Retry-After"] == "30"
            assert "Try again in 30 seconds" in soon.text
            clock.advance(minutes=10)
            page = await phone.get(f"/family/players/{teen.id}/check-in")
            sent = {"client_id": re.findall(r'name="client_id" value="([^"]+)"', page.text)[0]}
            sent |= {"lat": str(B[0]), "lon": str(B[1]), "accuracy": "12"}
            leg = await phone.post(
                f"/family/players/{teen.id}/check-in", sent, token=csrf_of(page.text)
            )
            assert leg.status_code == 200
            assert "You checked in at Bravo: 10 points" in leg.text and "10 points now" in leg.text
            # The same form again (a reload): the same answer, no second tap.
            clock.advance(minutes=1)
            again = await phone.post(
                f"/family/players/{teen.id}/check-in", sent, token=csrf_of(page.text)
            )
            assert again.status_code == 200 and "You checked in at Bravo: 10 points" in again.text
        async with state_of(app).sessionmaker() as s:
            taps = await s.scalar(
                select(func.count()).select_from(Tap).where(Tap.holder_id == teen.holder_id)
            )
        assert taps == 2


async def test_a_child_with_a_card_is_not_offered_a_phone_check_in(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    slug = f"famc-{uuid.uuid4().hex[:10]}"
    game = await load_game(client, app, organiser_token, slug)
    async with Browser(app) as phone:
        await phone.post(
            "/family/create",
            {"kind": "email", "email": f"p-{uuid.uuid4().hex[:8]}@example.org"}
            | {"password": PASSWORD, "confirm": PASSWORD},
        )
        assert (await _add(phone, slug, 4, "Swift Kestrel", "5-11")).status_code == 303
        kid = await _player(app, game.id, "Swift Kestrel")
        assert "/check-in" not in (await phone.get("/family/")).text
        assert "/check-in" not in (await phone.get(f"/family/players/{kid.id}")).text
        form = {"client_id": str(uuid.uuid4()), "lat": str(A[0]), "lon": str(A[1])}
        refused = await phone.post(
            f"/family/players/{kid.id}/check-in",
            form | {"accuracy": "5"},
            page=f"/family/players/{kid.id}",
        )
        assert refused.status_code == 403 and "13 and over" in refused.text
        async with state_of(app).sessionmaker() as s:
            taps = await s.scalar(
                select(func.count()).select_from(Tap).where(Tap.holder_id == kid.holder_id)
            )
        assert taps == 0
