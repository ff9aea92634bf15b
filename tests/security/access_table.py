"""Who may call what: one access rule for EVERY route of the app, with a valid request.

``test_access.py`` fails when a route has no rule here (or a rule has no route), so a new
endpoint cannot be added without deciding who may call it. Each rule's request is valid
for the principals it allows (they must get a 2xx); everyone else gets 401 without a
(valid) token and 403 with a token of the wrong role or game. Reader endpoints take no
token at all: their credential is the body's signature (401 for every token).

The staff console's pages take no bearer token either: their credential is a console
session cookie. Without one, every caller of a ``staff_session`` page is sent to sign in
(303 to /login; tests/staff checks the signed-in side). A ``public_form`` is a form before
sign-in (sign in, accept an invitation, reset a password): its valid request carries the
form's pre-session cookie and CSRF token, and its success is a redirect (303) for everyone.
The family site's pages work the same way: a ``family_session`` page sends every caller
without a family session to ``/family/sign-in`` (303; tests/family checks the signed-in
side), and its forms before sign-in are ``public_form``s.
"""

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
from kernel.db import utcnow
from kernel.tokens import hash_token
from people import family
from tests.factories import COM1_JOIN_CODE, A
from tests.helpers import auth
from tests.security.world import HOME, PRINCIPALS, World, nickname, yesterday

ALLOWED: dict[str, frozenset[str]] = {
    "public": frozenset(PRINCIPALS),
    "reader_signature": frozenset(),
    "player": frozenset({"player", "player_other"}),
    "player_of_game": frozenset({"player"}),
    "team_manager": frozenset({"team_manager", "team_manager_other"}),
    "team_manager_of_team_or_organiser_of_game": frozenset(
        {"team_manager", "organiser", "organiser_game"}
    ),
    "organiser_of_game": frozenset({"organiser", "organiser_game"}),
    "any_organiser": frozenset({"organiser", "organiser_game", "organiser_other"}),
    "organiser_or_evaluator_of_game": frozenset({"organiser", "organiser_game", "evaluator"}),
    "evaluator_of_game": frozenset({"evaluator"}),
    "staff_session": frozenset(),
    "public_form": frozenset(),
    "family_session": frozenset(),
}
REDIRECTED = ("staff_session", "public_form", "family_session")  # 303 for every caller


def expected(access: str, principal: str) -> int | None:
    """None: a 2xx; else the status code."""
    if access in REDIRECTED:
        return 303
    if principal in ALLOWED[access]:
        return None
    if access == "reader_signature" or principal in ("anonymous", "bad_token"):
        return 401
    return 403


@dataclass
class Call:
    method: str
    url: str
    json: Any = None
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


Factory = Callable[[World, str], Awaitable[Call]]


@dataclass(frozen=True)
class Rule:
    access: str
    call: Factory


def fixed(method: str, url: str, **kwargs: Any) -> Factory:
    """The same request for everyone; ``{G}`` is the game's slug."""

    async def make(w: World, principal: str) -> Call:
        return Call(method, url.replace("{G}", w.slug), **kwargs)

    return make


def _admin(w: World) -> str:
    return f"/api/v1/admin/games/{w.slug}"


def _n(w: World) -> int:
    return next(w.serial)


async def _new_reader(w: World, principal: str) -> Call:
    return Call("POST", f"{_admin(w)}/readers", {"id": f"R-{w.slug}-N{_n(w)}", "checkpoint": "A"})


async def _move_reader(w: World, principal: str) -> Call:
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


async def _new_campaign(w: World, principal: str) -> Call:
    return Call("POST", f"{_admin(w)}/campaigns", _campaign(w))


async def _patch_campaign(w: World, principal: str) -> Call:
    body = _campaign(w)
    await w.as_organiser("POST", f"{_admin(w)}/campaigns", json=body)
    return Call("PATCH", f"{_admin(w)}/campaigns/{body['code']}", {"name": "Renamed week"})


async def _end_campaign(w: World, principal: str) -> Call:
    body = _campaign(w)
    await w.as_organiser("POST", f"{_admin(w)}/campaigns", json=body)
    return Call("POST", f"{_admin(w)}/campaigns/{body['code']}/end")


async def _run_draws(w: World, principal: str) -> Call:
    return Call("POST", f"{_admin(w)}/draws/run", params={"date": yesterday()})


async def _draw(w: World, principal: str) -> Call:
    return Call("GET", f"{_admin(w)}/draws/{w.draw_id}")


async def _checkin(w: World, principal: str) -> Call:
    body = {
        "client_id": str(uuid.uuid4()),
        "checkpoint": "A",
        "lat": A[0],
        "lon": A[1],
        "accuracy_m": 8,
    }
    return Call("POST", "/api/v1/app/checkins", body)


async def _registration(w: World, principal: str) -> Call:
    body = {
        "nickname": nickname(),
        "age_band": "12-15",
        "age_13_or_over": True,
        "gender": "prefer_not_to_say",
    }
    return Call("POST", f"/api/v1/games/{w.slug}/registrations", body)


async def _link_card(w: World, principal: str) -> Call:
    number = w.next_card(HOME.get(principal, "G"))
    body = {"card_number": number, "activation_code": f"K{int(number):03d}"}
    return Call("POST", "/api/v1/me/cards", body)


async def _remove_member(w: World, principal: str) -> Call:
    player = (await w.register("G", team="SCH1"))["player_id"]
    return Call("DELETE", f"/api/v1/games/{w.slug}/teams/SCH1/members/{player}")


async def _hide_player(w: World, principal: str) -> Call:
    player = w.player_ids["player"]
    return Call("PATCH", f"{_admin(w)}/players/{player}", {"nickname_hidden": True})


async def _erase_player(w: World, principal: str) -> Call:
    player = (await w.register("G"))["player_id"]
    return Call("DELETE", f"{_admin(w)}/players/{player}")


async def _replace_card(w: World, principal: str) -> Call:
    old, new = w.next_card("G"), w.next_card("G")
    return Call("POST", f"{_admin(w)}/cards/{old}/replace", {"new_card": new})


async def _new_project(w: World, principal: str) -> Call:
    return Call("POST", f"{_admin(w)}/evaluation-projects", {"name": f"p{_n(w)}"})


async def _put_game(w: World, principal: str) -> Call:
    return Call("PUT", _admin(w), w.definitions["G"])


async def _revoke_token(w: World, principal: str) -> Call:
    """A fresh token of game G to revoke (the world's own tokens must keep working)."""
    async with state_of(w.app).sessionmaker() as s:
        game_id = await s.scalar(select(Game.id).where(Game.slug == w.slug))
        value = await create_token(s, role="evaluator", game_id=game_id)
        token_id = await s.scalar(
            select(ApiToken.id).where(ApiToken.token_hash == hash_token(value))
        )
        await s.commit()
    return Call("DELETE", f"/api/v1/admin/tokens/{token_id}")


async def _logout(w: World, principal: str) -> Call:
    """Players log out a fresh token of their own (the world's must keep working)."""
    if principal not in ("player", "player_other"):
        return Call("POST", "/api/v1/me/logout")
    answer = await w.register(HOME[principal])
    return Call("POST", "/api/v1/me/logout", headers=auth(answer["token"]))


def _unsigned(kind: str) -> Factory:
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


async def _login(w: World, principal: str) -> Call:
    user = await _staff_user(w)
    return await _anonymous_form(w, "/login", {"email": user.email, "password": STAFF_PASSWORD})


async def _accept(w: World, principal: str) -> Call:
    page = f"/invite/{await _invitation_token(w)}"
    return await _anonymous_form(w, page, {"password": STAFF_PASSWORD, "confirm": STAFF_PASSWORD})


async def _reset(w: World, principal: str) -> Call:
    page = f"/reset/{await _reset_token(w)}"
    return await _anonymous_form(w, page, {"password": STAFF_PASSWORD, "confirm": STAFF_PASSWORD})


async def _ask_reset(w: World, principal: str) -> Call:
    return await _anonymous_form(w, "/reset", {"email": "nobody@example.org"})


async def _invitation_page(w: World, principal: str) -> Call:
    return Call("GET", f"/invite/{await _invitation_token(w)}")


async def _reset_page(w: World, principal: str) -> Call:
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


async def _family_create(w: World, principal: str) -> Call:
    fields = {
        "kind": "email",
        "email": f"access-{uuid.uuid4().hex[:10]}@example.org",
        "password": FAMILY_PASSWORD,
        "confirm": FAMILY_PASSWORD,
    }
    return await _anonymous_form(w, "/family/create", fields, "taptrail_family_form")


async def _family_sign_in(w: World, principal: str) -> Call:
    code, _ = await _family_account(w)
    fields = {"name": code, "password": FAMILY_PASSWORD}
    return await _anonymous_form(w, "/family/sign-in", fields, "taptrail_family_form")


async def _family_recover(w: World, principal: str) -> Call:
    code, recovery = await _family_account(w)
    fields = {
        "account_code": code,
        "recovery_code": recovery,
        "password": FAMILY_PASSWORD,
        "confirm": FAMILY_PASSWORD,
    }
    return await _anonymous_form(w, "/family/recover", fields, "taptrail_family_form")


def _console(method: str, url: str) -> Factory:
    """A console page or form: without a session, sent to sign in whatever the body."""
    headers = {"Origin": "http://testserver"} if method == "POST" else {}
    return fixed(method, url, headers=headers)


ADMIN = "/api/v1/admin/games/{slug}"
GAME = "/api/v1/games/{slug}"

RULES: dict[tuple[str, str], Rule] = {
    # ---------------------------------------------------------------- documentation, probes
    ("GET", "/openapi.json"): Rule("public", fixed("GET", "/openapi.json")),
    ("GET", "/docs"): Rule("public", fixed("GET", "/docs")),
    ("GET", "/docs-assets/{name}"): Rule("public", fixed("GET", "/docs-assets/start.js")),
    ("GET", "/healthz"): Rule("public", fixed("GET", "/healthz")),
    ("GET", "/metrics"): Rule("public", fixed("GET", "/metrics")),
    ("GET", "/api/v1/metrics"): Rule("public", fixed("GET", "/api/v1/metrics")),
    # ---------------------------------------------------------------- pages
    ("GET", "/games/{slug}/board"): Rule("public", fixed("GET", "/games/{G}/board")),
    ("GET", "/games/{slug}/map"): Rule("public", fixed("GET", "/games/{G}/map")),
    ("GET", "/games/{slug}/boxes"): Rule("public", fixed("GET", "/games/{G}/boxes")),
    ("GET", "/games/{slug}/report"): Rule("public", fixed("GET", "/games/{G}/report")),
    ("GET", "/static/leaderboard/{name}"): Rule(
        "public", fixed("GET", "/static/leaderboard/board.js")
    ),
    ("GET", "/static/evaluation/{name}"): Rule(
        "public", fixed("GET", "/static/evaluation/report.js")
    ),
    # ---------------------------------------------------------------- family site
    ("GET", "/"): Rule("public", fixed("GET", "/")),
    ("GET", "/games/{slug}"): Rule("public", fixed("GET", "/games/{G}")),
    ("GET", "/privacy"): Rule("public", fixed("GET", "/privacy")),
    ("GET", "/cookies"): Rule("public", fixed("GET", "/cookies")),
    ("GET", "/manifest.webmanifest"): Rule("public", fixed("GET", "/manifest.webmanifest")),
    # The language switch answers everyone with a redirect (303) back to the page.
    ("GET", "/language/{code}"): Rule("public_form", fixed("GET", "/language/cy")),
    ("GET", "/static/family/{name}"): Rule("public", fixed("GET", "/static/family/family.css")),
    ("GET", "/family/create"): Rule("public", fixed("GET", "/family/create")),
    ("GET", "/family/accessibility"): Rule("public", fixed("GET", "/family/accessibility")),
    ("POST", "/family/create"): Rule("public_form", _family_create),
    ("GET", "/family/sign-in"): Rule("public", fixed("GET", "/family/sign-in")),
    ("POST", "/family/sign-in"): Rule("public_form", _family_sign_in),
    ("GET", "/family/recover"): Rule("public", fixed("GET", "/family/recover")),
    # Recovering shows the new recovery code once: a page (200), not a redirect.
    ("POST", "/family/recover"): Rule("public", _family_recover),
    **{
        (method, path): Rule("family_session", _console(method, example))
        for method, path, example in (
            ("GET", "/family/", "/family/"),
            ("GET", "/family/sign-out", "/family/sign-out"),
            ("POST", "/family/sign-out", "/family/sign-out"),
            ("GET", "/family/add", "/family/add"),
            ("POST", "/family/add", "/family/add"),
            ("GET", "/family/players/{player_id}", "/family/players/1"),
            ("POST", "/family/players/{player_id}/team", "/family/players/1/team"),
            ("POST", "/family/players/{player_id}/card", "/family/players/1/card"),
            ("GET", "/family/players/{player_id}/check-in", "/family/players/1/check-in"),
            ("POST", "/family/players/{player_id}/check-in", "/family/players/1/check-in"),
            ("GET", "/family/players/{player_id}/remove", "/family/players/1/remove"),
            ("POST", "/family/players/{player_id}/remove", "/family/players/1/remove"),
            ("GET", "/family/players/{player_id}/surveys/{wave}", "/family/players/1/surveys/1"),
            ("POST", "/family/players/{player_id}/surveys/{wave}", "/family/players/1/surveys/1"),
            ("GET", "/family/data", "/family/data"),
            ("GET", "/family/data.json", "/family/data.json"),
            ("GET", "/family/data.csv", "/family/data.csv"),
            ("GET", "/family/delete", "/family/delete"),
            ("POST", "/family/delete", "/family/delete"),
        )
    },
    # ---------------------------------------------------------------- staff console
    ("GET", "/static/console/{name:path}"): Rule(
        "public",
        fixed("GET", "/static/console/vendor/govuk-frontend-5.14.0/govuk-frontend.min.css"),
    ),
    ("GET", "/accessibility"): Rule("public", fixed("GET", "/accessibility")),
    ("GET", "/login"): Rule("public", fixed("GET", "/login")),
    ("POST", "/login"): Rule("public_form", _login),
    ("GET", "/login/code"): Rule("staff_session", _console("GET", "/login/code")),
    ("POST", "/login/code"): Rule("staff_session", _console("POST", "/login/code")),
    ("GET", "/logout"): Rule("staff_session", _console("GET", "/logout")),
    ("POST", "/logout"): Rule("staff_session", _console("POST", "/logout")),
    ("GET", "/invite/{token}"): Rule("public", _invitation_page),
    ("POST", "/invite/{token}"): Rule("public_form", _accept),
    ("GET", "/reset"): Rule("public", fixed("GET", "/reset")),
    ("POST", "/reset"): Rule("public", _ask_reset),
    ("GET", "/reset/{token}"): Rule("public", _reset_page),
    ("POST", "/reset/{token}"): Rule("public_form", _reset),
    ("GET", "/console/"): Rule("staff_session", _console("GET", "/console/")),
    ("GET", "/console/account"): Rule("staff_session", _console("GET", "/console/account")),
    ("POST", "/console/account/password"): Rule(
        "staff_session", _console("POST", "/console/account/password")
    ),
    ("POST", "/console/account/totp/start"): Rule(
        "staff_session", _console("POST", "/console/account/totp/start")
    ),
    ("POST", "/console/account/totp/enable"): Rule(
        "staff_session", _console("POST", "/console/account/totp/enable")
    ),
    ("POST", "/console/account/totp/disable"): Rule(
        "staff_session", _console("POST", "/console/account/totp/disable")
    ),
    ("POST", "/console/account/sign-out-everywhere"): Rule(
        "staff_session", _console("POST", "/console/account/sign-out-everywhere")
    ),
    ("POST", "/console/account/tokens"): Rule(
        "staff_session", _console("POST", "/console/account/tokens")
    ),
    ("POST", "/console/account/tokens/{token_id}/revoke"): Rule(
        "staff_session", _console("POST", "/console/account/tokens/1/revoke")
    ),
    ("GET", "/console/staff"): Rule("staff_session", _console("GET", "/console/staff")),
    ("POST", "/console/staff/invitations"): Rule(
        "staff_session", _console("POST", "/console/staff/invitations")
    ),
    ("POST", "/console/staff/invitations/{invitation_id}/cancel"): Rule(
        "staff_session", _console("POST", "/console/staff/invitations/1/cancel")
    ),
    ("POST", "/console/staff/{user_id}/remove"): Rule(
        "staff_session", _console("POST", "/console/staff/1/remove")
    ),
    ("POST", "/console/staff/{user_id}/reset-link"): Rule(
        "staff_session", _console("POST", "/console/staff/1/reset-link")
    ),
    ("GET", "/console/games/{slug}/campaigns"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/campaigns")
    ),
    ("POST", "/console/games/{slug}/campaigns"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/campaigns")
    ),
    ("GET", "/console/games/{slug}/campaigns/{code}"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/campaigns/PARKS")
    ),
    ("POST", "/console/games/{slug}/campaigns/{code}"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/campaigns/PARKS")
    ),
    ("POST", "/console/games/{slug}/campaigns/{code}/end"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/campaigns/PARKS/end")
    ),
    ("GET", "/console/games/{slug}"): Rule("staff_session", _console("GET", "/console/games/{G}")),
    ("GET", "/console/games/{slug}/overview.json"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/overview.json")
    ),
    ("GET", "/console/games/{slug}/setup"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/setup")
    ),
    ("POST", "/console/games/{slug}/setup"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/setup")
    ),
    ("GET", "/console/games/{slug}/setup/game.yaml"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/setup/game.yaml")
    ),
    ("GET", "/console/games/{slug}/boxes"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/boxes")
    ),
    ("GET", "/console/games/{slug}/boxes/{reader_id}"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/boxes/R-{G}-A")
    ),
    **{
        ("POST", f"/console/games/{{slug}}/boxes/{{reader_id}}/{action}"): Rule(
            "staff_session", _console("POST", f"/console/games/{{G}}/boxes/R-{{G}}-A/{action}")
        )
        for action in ("rotate", "disable", "enable", "move")
    },
    # console: help desk, people, draws, my team, evaluation
    ("GET", "/console/games/{slug}/help-desk"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/help-desk")
    ),
    ("POST", "/console/games/{slug}/help-desk/replace"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/help-desk/replace")
    ),
    ("GET", "/console/games/{slug}/people"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/people")
    ),
    ("POST", "/console/games/{slug}/people/nicknames/{player_id}/approve"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/people/nicknames/1/approve")
    ),
    ("POST", "/console/games/{slug}/people/nicknames/{player_id}/reject"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/people/nicknames/1/reject")
    ),
    ("POST", "/console/games/{slug}/people/teams/{code}/join-code"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/people/teams/COM1/join-code")
    ),
    ("GET", "/console/games/{slug}/people/teams/{code}"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/people/teams/SCH1")
    ),
    ("POST", "/console/games/{slug}/people/teams/{code}/members/{player_id}/remove"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/people/teams/SCH1/members/1/remove")
    ),
    ("GET", "/console/games/{slug}/people/players/{player_id}"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/people/players/1")
    ),
    ("GET", "/console/games/{slug}/people/players/{player_id}/data.json"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/people/players/1/data.json")
    ),
    ("POST", "/console/games/{slug}/people/players/{player_id}/erase"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/people/players/1/erase")
    ),
    ("GET", "/console/games/{slug}/draws"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/draws")
    ),
    ("POST", "/console/games/{slug}/draws/schedules"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/draws/schedules")
    ),
    ("POST", "/console/games/{slug}/draws/run"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/draws/run")
    ),
    ("POST", "/console/games/{slug}/draws/{draw_id}/contacts"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/draws/1/contacts")
    ),
    ("POST", "/console/games/{slug}/draws/{draw_id}/winners/{position}/prize"): Rule(
        "staff_session", _console("POST", "/console/games/{G}/draws/1/winners/1/prize")
    ),
    ("GET", "/console/my-team"): Rule("staff_session", _console("GET", "/console/my-team")),
    ("GET", "/console/games/{slug}/evaluation"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/evaluation")
    ),
    ("GET", "/console/games/{slug}/evaluation/report"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/evaluation/report")
    ),
    ("GET", "/console/games/{slug}/evaluation/report-data"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/evaluation/report-data")
    ),
    ("GET", "/console/games/{slug}/evaluation/{project}/package.zip"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/evaluation/study/package.zip")
    ),
    ("GET", "/console/games/{slug}/evaluation/{project}/{file}"): Rule(
        "staff_session", _console("GET", "/console/games/{G}/evaluation/study/players")
    ),
    # ---------------------------------------------------------------- games
    ("PUT", ADMIN): Rule("organiser_of_game", _put_game),
    ("GET", "/api/v1/games"): Rule("public", fixed("GET", "/api/v1/games")),
    ("GET", GAME): Rule("public", fixed("GET", "/api/v1/games/{G}")),
    # ---------------------------------------------------------------- readers (signed)
    ("POST", "/api/v1/readers/{reader_id}/taps"): Rule("reader_signature", _unsigned("taps")),
    ("POST", "/api/v1/readers/{reader_id}/heartbeat"): Rule(
        "reader_signature", _unsigned("heartbeat")
    ),
    # ---------------------------------------------------------------- boxes
    ("GET", f"{ADMIN}/boxes"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/boxes")
    ),
    ("GET", f"{ADMIN}/readers"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/readers")
    ),
    ("GET", f"{ADMIN}/readers/{{reader_id}}"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/readers/R-{G}-A")
    ),
    ("POST", f"{ADMIN}/readers"): Rule("organiser_of_game", _new_reader),
    ("POST", f"{ADMIN}/readers/{{reader_id}}/secret"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/readers/R-{G}-C/secret")
    ),
    ("POST", f"{ADMIN}/readers/{{reader_id}}/disable"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/readers/R-{G}-P/disable")
    ),
    ("POST", f"{ADMIN}/readers/{{reader_id}}/enable"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/readers/R-{G}-P/enable")
    ),
    ("POST", f"{ADMIN}/readers/{{reader_id}}/move"): Rule("organiser_of_game", _move_reader),
    # ---------------------------------------------------------------- app check-ins
    ("POST", "/api/v1/app/checkins"): Rule("player", _checkin),
    # ---------------------------------------------------------------- scoring administration
    ("GET", f"{ADMIN}/campaigns"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/campaigns")
    ),
    ("POST", f"{ADMIN}/campaigns"): Rule("organiser_of_game", _new_campaign),
    ("PATCH", f"{ADMIN}/campaigns/{{code}}"): Rule("organiser_of_game", _patch_campaign),
    ("POST", f"{ADMIN}/campaigns/{{code}}/end"): Rule("organiser_of_game", _end_campaign),
    ("POST", f"{ADMIN}/rescore"): Rule(
        "organiser_of_game",
        fixed("POST", "/api/v1/admin/games/{G}/rescore", json={"reason": "access test"}),
    ),
    ("GET", f"{ADMIN}/ledger-check"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/ledger-check")
    ),
    ("POST", f"{ADMIN}/draws"): Rule(
        "organiser_of_game",
        fixed("POST", "/api/v1/admin/games/{G}/draws", json={"winners_per_day": 2}),
    ),
    ("POST", f"{ADMIN}/draws/run"): Rule("organiser_of_game", _run_draws),
    ("GET", f"{ADMIN}/draws"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/draws")
    ),
    ("GET", f"{ADMIN}/draws/{{draw_id}}"): Rule("organiser_of_game", _draw),
    ("GET", f"{ADMIN}/cards/{{number}}"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/cards/0000001")
    ),
    # ---------------------------------------------------------------- leaderboards
    ("GET", f"{GAME}/leaderboards/teams"): Rule(
        "public", fixed("GET", "/api/v1/games/{G}/leaderboards/teams")
    ),
    ("GET", f"{GAME}/leaderboards/players"): Rule(
        "public", fixed("GET", "/api/v1/games/{G}/leaderboards/players")
    ),
    ("GET", f"{GAME}/leaderboards/teams/{{code}}/around"): Rule(
        "public", fixed("GET", "/api/v1/games/{G}/leaderboards/teams/SCH1/around")
    ),
    ("WS", f"{GAME}/live"): Rule("public", fixed("WS", "/api/v1/games/{G}/live")),
    # ---------------------------------------------------------------- people
    ("GET", f"{GAME}/teams"): Rule("public", fixed("GET", "/api/v1/games/{G}/teams")),
    ("POST", f"{GAME}/registrations"): Rule("public", _registration),
    ("GET", "/api/v1/me"): Rule("player", fixed("GET", "/api/v1/me")),
    ("PATCH", "/api/v1/me"): Rule("player", fixed("PATCH", "/api/v1/me", json={"public": True})),
    ("PUT", "/api/v1/me/team"): Rule(
        "player",
        fixed("PUT", "/api/v1/me/team", json={"team": "COM1", "join_code": COM1_JOIN_CODE}),
    ),
    ("POST", "/api/v1/me/cards"): Rule("player", _link_card),
    ("GET", "/api/v1/teams/me"): Rule("team_manager", fixed("GET", "/api/v1/teams/me")),
    ("GET", f"{GAME}/teams/{{code}}/players"): Rule(
        "team_manager_of_team_or_organiser_of_game",
        fixed("GET", "/api/v1/games/{G}/teams/SCH1/players"),
    ),
    ("DELETE", f"{GAME}/teams/{{code}}/members/{{player_id}}"): Rule(
        "team_manager_of_team_or_organiser_of_game", _remove_member
    ),
    ("GET", f"{ADMIN}/teams"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/teams")
    ),
    ("GET", f"{ADMIN}/players"): Rule(
        "organiser_of_game", fixed("GET", "/api/v1/admin/games/{G}/players")
    ),
    ("PATCH", f"{ADMIN}/players/{{player_id}}"): Rule("organiser_of_game", _hide_player),
    ("DELETE", f"{ADMIN}/players/{{player_id}}"): Rule("organiser_of_game", _erase_player),
    ("POST", f"{ADMIN}/cards/{{number}}/replace"): Rule("organiser_of_game", _replace_card),
    # ---------------------------------------------------------------- tokens
    ("GET", "/api/v1/admin/tokens"): Rule("any_organiser", fixed("GET", "/api/v1/admin/tokens")),
    ("DELETE", "/api/v1/admin/tokens/{token_id}"): Rule("organiser_of_game", _revoke_token),
    ("POST", "/api/v1/me/logout"): Rule("player", _logout),
    # ---------------------------------------------------------------- evaluation
    ("GET", f"{GAME}/surveys"): Rule("public", fixed("GET", "/api/v1/games/{G}/surveys")),
    ("GET", f"{GAME}/surveys/{{wave}}/questions"): Rule(
        "public", fixed("GET", "/api/v1/games/{G}/surveys/1/questions")
    ),
    ("POST", f"{GAME}/surveys/{{wave}}"): Rule(
        "player_of_game",
        fixed("POST", "/api/v1/games/{G}/surveys/1", json={"activity_days": 4}),
    ),
    ("GET", f"{GAME}/surveys/{{wave}}/answers"): Rule(
        "player_of_game", fixed("GET", "/api/v1/games/{G}/surveys/1/answers")
    ),
    ("POST", f"{ADMIN}/surveys/{{wave}}/open"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/surveys/2/open")
    ),
    ("POST", f"{ADMIN}/surveys/{{wave}}/close"): Rule(
        "organiser_of_game", fixed("POST", "/api/v1/admin/games/{G}/surveys/3/close")
    ),
    ("GET", f"{ADMIN}/evaluation/area"): Rule(
        "organiser_or_evaluator_of_game", fixed("GET", "/api/v1/admin/games/{G}/evaluation/area")
    ),
    ("PUT", f"{ADMIN}/evaluation/area"): Rule(
        "organiser_of_game",
        fixed("PUT", "/api/v1/admin/games/{G}/evaluation/area", json={"lad_codes": []}),
    ),
    ("GET", f"{ADMIN}/reports/evaluation"): Rule(
        "organiser_or_evaluator_of_game",
        fixed("GET", "/api/v1/admin/games/{G}/reports/evaluation"),
    ),
    ("POST", f"{ADMIN}/evaluation-projects"): Rule("organiser_of_game", _new_project),
    ("GET", f"{ADMIN}/evaluation-projects"): Rule(
        "organiser_or_evaluator_of_game",
        fixed("GET", "/api/v1/admin/games/{G}/evaluation-projects"),
    ),
    ("GET", f"{GAME}/exports/{{project}}/manifest"): Rule(
        "evaluator_of_game", fixed("GET", "/api/v1/games/{G}/exports/access/manifest")
    ),
    ("GET", f"{GAME}/exports/{{project}}/package.zip"): Rule(
        "evaluator_of_game", fixed("GET", "/api/v1/games/{G}/exports/access/package.zip")
    ),
    ("GET", f"{GAME}/exports/{{project}}/{{file}}"): Rule(
        "evaluator_of_game", fixed("GET", "/api/v1/games/{G}/exports/access/players")
    ),
}
