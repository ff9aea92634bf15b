"""Invitations, what each role sees, password resets, TOTP and console API tokens."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from accounts.staff import totp
from accounts.staff.models import StaffUser
from api.app_state import state_of
from api.deps import server_now
from game.models import Team
from kernel.db import utcnow
from tests.helpers import auth
from tests.staff.staff_helpers import PASSWORD, Browser, make_game, make_user, new_email

NEW_PASSWORD = "quiet heron bicycle 77"


def links(html: str, kind: str) -> list[str]:
    return re.findall(rf'value="(http://testserver/{kind}/[A-Za-z0-9_-]+)"', html)


async def _team_id(app: FastAPI, game_id: int, code: str) -> int:
    async with state_of(app).sessionmaker() as s:
        team = await s.scalar(select(Team.id).where(Team.game_id == game_id, Team.code == code))
        assert team is not None
        return team


async def _two_games(app: FastAPI, client: httpx.AsyncClient, token: str) -> tuple[str, int, str]:
    g, h = f"st-{uuid.uuid4().hex[:10]}", f"st-{uuid.uuid4().hex[:10]}"
    gid = await make_game(app, client, token, g)
    await make_game(app, client, token, h)
    return g, gid, h


async def _invite(browser: Browser, email: str, role: str, game: str, team: str = "") -> str:
    made = await browser.post(
        "/console/staff/invitations",
        {"email": email, "role": role, "game": game, "team": team},
        page="/console/staff",
    )
    assert made.status_code == 303, made.text
    page = await browser.get("/console/staff")
    found = [u for u in links(page.text, "invite") if email in page.text]
    assert found, page.text
    return found[0]


async def test_an_invited_evaluator_signs_in_and_sees_only_their_game(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    g, gid, h = await _two_games(app, client, organiser_token)
    organiser = await make_user(app, game_id=gid)  # an organiser of G only
    invitee = new_email()
    async with Browser(app) as browser:
        await browser.sign_in(organiser)
        home = await browser.get("/console/")
        assert g in home.text and h not in home.text
        # Not to another game, nor as an organiser of every game.
        for game in (h, ""):
            refused = await browser.post(
                "/console/staff/invitations",
                {"email": invitee, "role": "organiser", "game": game},
                page="/console/staff",
            )
            assert refused.status_code == 422 and "your own game only" in refused.text
        link = await _invite(browser, invitee, "evaluator", g)
    path = link.removeprefix("http://testserver")
    async with Browser(app) as guest:
        page = await guest.get(path)
        assert page.status_code == 200 and invitee in page.text
        short = await guest.post(path, {"password": "short", "confirm": "short"})
        assert short.status_code == 422 and "at least 12 characters" in short.text
        common = await guest.post(path, {"password": "password1234", "confirm": "password1234"})
        assert common.status_code == 422 and "too common" in common.text
        accepted = await guest.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert accepted.status_code == 303 and accepted.headers["location"] == "/console/"
        home = await guest.get("/console/")
        assert home.status_code == 200
        assert g in home.text and h not in home.text and "Evaluator" in home.text
        assert (await guest.get("/console/staff")).status_code == 403
    assert (await Browser(app).get(path)).status_code == 404  # used
    async with Browser(app) as later:
        assert (await later.sign_in(invitee, NEW_PASSWORD)).status_code == 303


async def test_an_organiser_of_every_game_sees_every_game_and_invites_a_team_manager(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    g, gid, h = await _two_games(app, client, organiser_token)
    organiser = await make_user(app)
    manager = new_email()
    async with Browser(app) as browser:
        await browser.sign_in(organiser)
        home = await browser.get("/console/")
        assert g in home.text and h in home.text
        missing = await browser.post(
            "/console/staff/invitations",
            {"email": manager, "role": "team_manager", "game": g, "team": ""},
            page="/console/staff",
        )
        assert missing.status_code == 422 and "needs a team" in missing.text
        link = await _invite(browser, manager, "team_manager", g, "SCH1")
    async with Browser(app) as guest:
        path = link.removeprefix("http://testserver")
        await guest.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        home = await guest.get("/console/")
        assert g in home.text and h not in home.text and "SCH1" in home.text
    async with state_of(app).sessionmaker() as s:
        made = await s.scalar(select(StaffUser).where(StaffUser.email == manager))
        assert made is not None
        assert (made.role, made.game_id, made.team_id) == (
            "team_manager",
            gid,
            await _team_id(app, gid, "SCH1"),
        )


async def test_an_organiser_removes_staff_and_their_sessions_end(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    g, gid, h = await _two_games(app, client, organiser_token)
    organiser = await make_user(app, game_id=gid)
    evaluator = await make_user(app, "evaluator", game_id=gid)
    async with state_of(app).sessionmaker() as s:
        target = await s.scalar(select(StaffUser.id).where(StaffUser.email == evaluator))
        me = await s.scalar(select(StaffUser.id).where(StaffUser.email == organiser))
    async with Browser(app) as boss, Browser(app) as them:
        await boss.sign_in(organiser)
        await them.sign_in(evaluator)
        assert (await them.get("/console/")).status_code == 200
        self_removal = await boss.post(f"/console/staff/{me}/remove", page="/console/staff")
        assert self_removal.status_code == 409
        removed = await boss.post(f"/console/staff/{target}/remove", page="/console/staff")
        assert removed.status_code == 303
        assert (await them.get("/console/")).status_code == 303
        assert (await them.sign_in(evaluator)).status_code == 401


async def test_password_reset_from_a_link_an_organiser_makes(app: FastAPI) -> None:
    organiser = await make_user(app)
    member = await make_user(app, "organiser")
    async with state_of(app).sessionmaker() as s:
        target = await s.scalar(select(StaffUser.id).where(StaffUser.email == member))
    async with Browser(app) as boss, Browser(app) as old_device:
        await old_device.sign_in(member)
        await boss.sign_in(organiser)
        made = await boss.post(f"/console/staff/{target}/reset-link", page="/console/staff")
        assert made.status_code == 201
        [link] = links(made.text, "reset")
        path = link.removeprefix("http://testserver")
        async with Browser(app) as person:
            mismatch = await person.post(path, {"password": NEW_PASSWORD, "confirm": "other"})
            assert mismatch.status_code == 422
            done = await person.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
            assert done.status_code == 303 and done.headers["location"] == "/login?notice=reset"
            assert (await person.sign_in(member, PASSWORD)).status_code == 401
            assert (await person.sign_in(member, NEW_PASSWORD)).status_code == 303
            assert (await person.get(path)).status_code == 404  # works once
        assert (await old_device.get("/console/")).status_code == 303  # sessions ended


async def test_asking_for_a_reset_says_the_same_whether_or_not_there_is_an_account(
    app: FastAPI,
) -> None:
    known = await make_user(app)
    async with Browser(app) as browser:
        a = await browser.post("/reset", {"email": known})
        b = await browser.post("/reset", {"email": new_email()})
        assert a.status_code == b.status_code == 200
        assert a.text == b.text
        bad = await browser.post("/reset", {"email": "not an address"})
        assert bad.status_code == 422 and "e-mail address like" in bad.text


async def test_two_step_sign_in_for_an_organiser(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [utcnow()]
    monkeypatch.setitem(app.dependency_overrides, server_now, lambda: now[0])
    email = await make_user(app)
    async with Browser(app) as browser:
        await browser.sign_in(email)
        started = await browser.post("/console/account/totp/start", page="/console/account")
        assert started.status_code == 303
        account = await browser.get("/console/account")
        secret = re.search(r'id="totp-secret" type="text" value="([A-Z2-7]+)"', account.text)
        assert secret and "otpauth://totp/Taptrail" in account.text
        key = secret.group(1)
        wrong = await browser.post(
            "/console/account/totp/enable", {"code": "000000"}, page="/console/account"
        )
        assert wrong.status_code == 422
        code = totp.code_at(key, totp.step_of(now[0]))
        on = await browser.post(
            "/console/account/totp/enable", {"code": code}, page="/console/account"
        )
        assert on.status_code == 303
    now[0] += timedelta(seconds=60)
    async with Browser(app) as browser:
        first = await browser.sign_in(email)
        assert first.status_code == 303 and first.headers["location"].startswith("/login/code")
        assert (await browser.get("/console/")).status_code == 303  # not yet
        half = browser.client.cookies["taptrail_session"]
        bad = await browser.post("/login/code", {"code": "123456"}, page="/login/code")
        assert bad.status_code == 401
        code = totp.code_at(key, totp.step_of(now[0]))
        done = await browser.post(
            "/login/code", {"code": code, "next": "/console/"}, page="/login/code"
        )
        assert done.status_code == 303 and done.headers["location"] == "/console/"
        assert browser.client.cookies["taptrail_session"] != half  # rotated after the code
        assert (await browser.get("/console/")).status_code == 200
    async with Browser(app) as replay:  # the same code twice is refused
        await replay.sign_in(email)
        again = await replay.post("/login/code", {"code": code}, page="/login/code")
        assert again.status_code == 401


async def test_api_tokens_from_the_console(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str
) -> None:
    g, gid, h = await _two_games(app, client, organiser_token)
    email = await make_user(app, game_id=gid)
    async with Browser(app) as browser:
        await browser.sign_in(email)
        blank = await browser.post(
            "/console/account/tokens", {"label": " "}, page="/console/account"
        )
        assert blank.status_code == 422
        made = await browser.post(
            "/console/account/tokens", {"label": "hall screen"}, page="/console/account"
        )
        assert made.status_code == 201
        value = re.search(r'id="new-token" type="text" value="(tt_[A-Za-z0-9_-]+)"', made.text)
        assert value
        token = value.group(1)
        listed = await browser.get("/console/account")
        assert "hall screen" in listed.text and token not in listed.text  # shown once
        ours = await client.get(f"/api/v1/admin/games/{g}/teams", headers=auth(token))
        assert ours.status_code == 200
        theirs = await client.get(f"/api/v1/admin/games/{h}/teams", headers=auth(token))
        assert theirs.status_code == 403  # the account's scope: its game only
        token_id = re.search(r"/console/account/tokens/(\d+)/revoke", listed.text)
        assert token_id
        revoked = await browser.post(
            f"/console/account/tokens/{token_id.group(1)}/revoke", page="/console/account"
        )
        assert revoked.status_code == 303
        assert "Revoked" in (await browser.get("/console/account")).text
        gone = await client.get(f"/api/v1/admin/games/{g}/teams", headers=auth(token))
        assert gone.status_code == 401
    # Someone else cannot revoke it (it is not theirs): 404, and the CLI tokens still work.
    other = await make_user(app)
    async with Browser(app) as browser:
        await browser.sign_in(other)
        stranger = await browser.post(
            f"/console/account/tokens/{token_id.group(1)}/revoke", page="/console/account"
        )
        assert stranger.status_code == 404
    assert (
        await client.get(f"/api/v1/admin/games/{g}/teams", headers=auth(organiser_token))
    ).status_code == 200


async def test_changing_the_password(app: FastAPI) -> None:
    email = await make_user(app)
    async with Browser(app) as browser, Browser(app) as other_device:
        await browser.sign_in(email)
        await other_device.sign_in(email)
        wrong = await browser.post(
            "/console/account/password",
            {
                "current_password": "nope nope nope",
                "new_password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
            },
            page="/console/account",
        )
        assert wrong.status_code == 422
        done = await browser.post(
            "/console/account/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            page="/console/account",
        )
        assert done.status_code == 303
        assert (await browser.get("/console/account")).status_code == 200
        assert (await other_device.get("/console/")).status_code == 303
        assert (await other_device.sign_in(email, NEW_PASSWORD)).status_code == 303
