"""The requests of the access table (``access_table.py``): for each route, a valid request
for the principals its rule allows, made fresh in the test's world (a new reader, campaign,
staff user, family account...) where the request changes something."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from accounts.models import ApiToken
from accounts.staff import invitations, service
from accounts.tokens import create_token
from api.app_state import state_of
from game.models import Game
from harness.game_files import A
from kernel.db import utcnow
from kernel.tokens import hash_token
from people import family
from tests.helpers import auth
from tests.security.world import HOME, World, nickname, yesterday


@dataclass
class Call:
    method: str
    url: str
    json: Any = None
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


Factory = Callable[[World, str], Awaitable[Call]]


def fixed(method: str, url: str, **kwargs: Any) -> Factory:
    """The same request for everyone; ``{G}`` is the game's slug."""

    async def make(w: World, principal: str) -> Call:
        return Call(method, url.replace("{G}", w.slug), **kwargs)

    return make


def _admin(w: World) -> str:
    return f"/api/v1/admin/games/{w.slug}"


def _n(w: World) -> int:
    return next(w.serial)


async def new_reader(w: World, principal: str) -> Call:
    return Call("POST", f"{_admin(w)}/readers", {"id": f"R-{w.slug}-N{_n(w)}", "checkpoint": "A"})


async def move_reader(w: World, principal: str) -> Call:
    reader = f"R-{w.slug}-M{_n(w)}"
    await w.as_organiser("POST", f"{_admin(w)}/readers", json={"id": reader, "checkpoint": "A"})
    return Call("POST", f"{_admin(w)}/readers/{reader}/move", {"checkpoint": "B"})


def _campaign(w: World, hours: float = 24) -> dict[str, Any]:
    now = utcnow()
    return {
        "code": f"C{_n(w)}",
        "name": "Access week",
        "multiplier": 2,
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=hours)).isoformat(),
    }


async def new_campaign(w: World, principal: str) -> Call:
    return Call("POST", f"{_admin(w)}/campaigns", _campaign(w))


async def patch_campaign(w: World, principal: str) -> Call:
    body = _campaign(w)
    await w.as_organiser("POST", f"{_admin(w)}/campaigns", json=body)
    return Call("PATCH", f"{_admin(w)}/campaigns/{body['code']}", {"name": "Renamed week"})


async def end_campaign(w: World, principal: str) -> Call:
    body = _campaign(w)
    await w.as_organiser("POST", f"{_admin(w)}/campaigns", json=body)
    return Call("POST", f"{_admin(w)}/campaigns/{body['code']}/end")


async def run_draws(w: World, principal: str) -> Call:
    return Call("POST", f"{_admin(w)}/draws/run", params={"date": yesterday()})


async def draw(w: World, principal: str) -> Call:
    return Call("GET", f"{_admin(w)}/draws/{w.draw_id}")


async def checkin(w: World, principal: str) -> Call:
    body = {
        "client_id": str(uuid.uuid4()),
        "checkpoint": "A",
        "lat": A[0],
        "lon": A[1],
        "accuracy_m": 8,
    }
    return Call("POST", "/api/v1/app/checkins", body)


async def registration(w: World, principal: str) -> Call:
    body = {
        "nickname": nickname(),
        "age_band": "12-15",
        "age_13_or_over": True,
        "gender": "prefer_not_to_say",
    }
    return Call("POST", f"/api/v1/games/{w.slug}/registrations", body)


async def link_card(w: World, principal: str) -> Call:
    number = w.next_card(HOME.get(principal, "G"))
    body = {"card_number": number, "activation_code": f"K{int(number):03d}"}
    return Call("POST", "/api/v1/me/cards", body)


async def remove_member(w: World, principal: str) -> Call:
    player = (await w.register("G", team="SCH1"))["player_id"]
    return Call("DELETE", f"/api/v1/games/{w.slug}/teams/SCH1/members/{player}")


async def hide_player(w: World, principal: str) -> Call:
    player = w.player_ids["player"]
    return Call("PATCH", f"{_admin(w)}/players/{player}", {"nickname_hidden": True})


async def erase_player(w: World, principal: str) -> Call:
    player = (await w.register("G"))["player_id"]
    return Call("DELETE", f"{_admin(w)}/players/{player}")


async def replace_card(w: World, principal: str) -> Call:
    old, new = w.next_card("G"), w.next_card("G")
    return Call("POST", f"{_admin(w)}/cards/{old}/replace", {"new_card": new})


async def new_project(w: World, principal: str) -> Call:
    return Call("POST", f"{_admin(w)}/evaluation-projects", {"name": f"p{_n(w)}"})


async def put_game(w: World, principal: str) -> Call:
    return Call("PUT", _admin(w), w.definitions["G"])


async def revoke_token(w: World, principal: str) -> Call:
    """A fresh token of game G to revoke (the world's own tokens must keep working)."""
    async with state_of(w.app).sessionmaker() as s:
        game_id = await s.scalar(select(Game.id).where(Game.slug == w.slug))
        value = await create_token(s, role="evaluator", game_id=game_id)
        token_id = await s.scalar(
            select(ApiToken.id).where(ApiToken.token_hash == hash_token(value))
        )
        await s.commit()
    return Call("DELETE", f"/api/v1/admin/tokens/{token_id}")


async def logout(w: World, principal: str) -> Call:
    """Players log out a fresh token of their own (the world's must keep working)."""
    if principal not in ("player", "player_other"):
        return Call("POST", "/api/v1/me/logout")
    answer = await w.register(HOME[principal])
    return Call("POST", "/api/v1/me/logout", headers=auth(answer["token"]))


def unsigned(kind: str) -> Factory:
    async def make(w: World, principal: str) -> Call:
        body = (
            {
                "sent_at": utcnow().isoformat(),
                "taps": [
                    {"seq": 1, "card_uid": "04" + "0" * 12, "tapped_at": utcnow().isoformat()}
                ],
            }
            if kind == "taps"
            else {"sent_at": utcnow().isoformat(), "battery_pct": 50}
        )
        return Call("POST", f"/api/v1/readers/R-{w.slug}-A/{kind}", body)

    return make


async def _staff_user(w: World) -> Any:
    async with state_of(w.app).sessionmaker() as s:
        user = await service.create_user(
            s,
            email=f"access-{_n(w)}-{uuid.uuid4().hex[:8]}@example.org",
            password=STAFF_PASSWORD,
            role="organiser",
            game_id=None,
            team_id=None,
            now=utcnow(),
        )
        await s.commit()
    return user


async def _reset_token(w: World) -> str:
    user = await _staff_user(w)
    async with state_of(w.app).sessionmaker() as s:
        token = await invitations.start_reset(s, user, utcnow())
        await s.commit()
    return token


async def _invitation_token(w: World) -> str:
    user = await _staff_user(w)
    async with state_of(w.app).sessionmaker() as s:
        made = await invitations.invite(
            s,
            user,
            email=f"invited-{_n(w)}-{uuid.uuid4().hex[:8]}@example.org",
            role="organiser",
            game_slug=w.slug,
            team_code=None,
            now=utcnow(),
            box=state_of(w.app).secret_box,
        )
        await s.commit()
    return made.token


async def _anonymous_form(
    w: World, page: str, fields: dict[str, str], cookie_name: str = "taptrail_presession"
) -> Call:
    """A POST of the form on ``page`` (to the same address), with its cookie and token."""

    async with w.client() as c:
        shown = await c.get(page)
    assert shown.status_code == 200, shown.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    assert token
    cookie = shown.cookies[cookie_name]
    headers = {
        "Cookie": f"{cookie_name}={cookie}",
        "Origin": "http://testserver",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = urlencode({**fields, "csrf_token": token.group(1)}).encode()
    return Call("POST", page, content=body, headers=headers)


STAFF_PASSWORD = "access table lantern 12"


async def login(w: World, principal: str) -> Call:
    user = await _staff_user(w)
    return await _anonymous_form(w, "/login", {"email": user.email, "password": STAFF_PASSWORD})


async def accept(w: World, principal: str) -> Call:
    page = f"/invite/{await _invitation_token(w)}"
    return await _anonymous_form(w, page, {"password": STAFF_PASSWORD, "confirm": STAFF_PASSWORD})


async def reset(w: World, principal: str) -> Call:
    page = f"/reset/{await _reset_token(w)}"
    return await _anonymous_form(w, page, {"password": STAFF_PASSWORD, "confirm": STAFF_PASSWORD})


async def ask_reset(w: World, principal: str) -> Call:
    return await _anonymous_form(w, "/reset", {"email": "nobody@example.org"})


async def invitation_page(w: World, principal: str) -> Call:
    return Call("GET", f"/invite/{await _invitation_token(w)}")


async def reset_page(w: World, principal: str) -> Call:
    return Call("GET", f"/reset/{await _reset_token(w)}")


FAMILY_PASSWORD = "access table kettle 12"


async def _family_account(w: World) -> tuple[str, str]:
    """A new family account with an account code: (account code, recovery code)."""

    async with state_of(w.app).sessionmaker() as s:
        made = await family.create_account(
            s, email=None, password=FAMILY_PASSWORD, confirm=FAMILY_PASSWORD, now=utcnow()
        )
        await s.commit()
    assert made.account_code and made.recovery_code
    return made.account_code, made.recovery_code


async def family_create(w: World, principal: str) -> Call:
    fields = {
        "kind": "email",
        "email": f"access-{uuid.uuid4().hex[:10]}@example.org",
        "password": FAMILY_PASSWORD,
        "confirm": FAMILY_PASSWORD,
    }
    return await _anonymous_form(w, "/family/create", fields, "taptrail_family_form")


async def family_sign_in(w: World, principal: str) -> Call:
    code, _ = await _family_account(w)
    fields = {"name": code, "password": FAMILY_PASSWORD}
    return await _anonymous_form(w, "/family/sign-in", fields, "taptrail_family_form")


async def family_recover(w: World, principal: str) -> Call:
    code, recovery = await _family_account(w)
    fields = {
        "account_code": code,
        "recovery_code": recovery,
        "password": FAMILY_PASSWORD,
        "confirm": FAMILY_PASSWORD,
    }
    return await _anonymous_form(w, "/family/recover", fields, "taptrail_family_form")


def console(method: str, url: str) -> Factory:
    """A console page or form: without a session, sent to sign in whatever the body."""
    headers = {"Origin": "http://testserver"} if method == "POST" else {}
    return fixed(method, url, headers=headers)
