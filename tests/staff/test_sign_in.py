"""Signing in, sessions (cookies, rotation, timeouts), CSRF, throttling and signing out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from accounts.staff import throttle
from accounts.staff.models import StaffSession
from api.app_state import state_of
from api.deps import server_now
from kernel.db import utcnow
from tests.staff.staff_helpers import PASSWORD, Browser, csrf_of, make_user, new_email


@pytest.fixture
def clock(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list:
    """The app's clock, moved by the test: ``clock[0] += timedelta(...)``."""
    now = [utcnow()]
    monkeypatch.setitem(app.dependency_overrides, server_now, lambda: now[0])
    return now


async def test_a_page_sends_you_to_sign_in_and_back(app: FastAPI) -> None:
    email = await make_user(app)
    async with Browser(app) as browser:
        first = await browser.get("/console/account")
        assert first.status_code == 303
        assert first.headers["location"] == "/login?next=/console/account"
        signed_in = await browser.sign_in(email, next_path="/console/account")
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/console/account"
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith("taptrail_session=")  # plain http: no __Host- prefix
        assert "HttpOnly" in cookie and "Path=/" in cookie and "samesite=lax" in cookie.lower()
        assert "Secure" not in cookie
        page = await browser.get("/console/account")
        assert page.status_code == 200 and email in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


async def test_over_https_the_cookie_is_host_only_and_secure(app: FastAPI) -> None:
    email = await make_user(app)
    async with Browser(app, base_url="https://testserver") as browser:
        signed_in = await browser.sign_in(email)
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith("__Host-taptrail_session=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
        assert (await browser.get("/console/")).status_code == 200


async def test_signing_in_always_makes_a_new_session_id(app: FastAPI) -> None:
    email = await make_user(app)
    async with Browser(app) as browser:
        token = await browser.token_from("/login")
        browser.client.cookies.set(
            "taptrail_session", "planted-by-someone-else", domain="testserver.local"
        )
        form = {"email": email, "password": PASSWORD}
        assert (await browser.post("/login", form, token=token)).status_code == 303
        old = browser.client.cookies["taptrail_session"]
        assert old != "planted-by-someone-else"
        assert (await browser.post("/login", form, token=token)).status_code == 303
        new = browser.client.cookies["taptrail_session"]
        assert new != old
        async with Browser(app) as thief:  # the session it replaced has ended
            thief.client.cookies.set("taptrail_session", old)
            assert (await thief.get("/console/")).status_code == 303
        assert (await browser.get("/console/")).status_code == 200


async def test_a_wrong_password_is_401_and_does_not_say_whether_the_account_exists(
    app: FastAPI,
) -> None:
    email = await make_user(app)
    async with Browser(app) as browser:
        wrong = await browser.sign_in(email, "not the right password")
        unknown = await browser.sign_in(new_email(), "not the right password")
        assert wrong.status_code == unknown.status_code == 401
        assert "The e-mail address or the password is not right" in wrong.text
        assert "The e-mail address or the password is not right" in unknown.text
        assert "taptrail_session" not in browser.client.cookies
        assert (await browser.get("/console/")).status_code == 303
        empty = await browser.post("/login", {"email": "", "password": ""}, page="/login")
        assert empty.status_code == 400 and "Enter your e-mail address" in empty.text


async def test_guessing_is_slowed_for_that_address_only(app: FastAPI, clock: list) -> None:
    email = await make_user(app)
    async with Browser(app) as attacker:
        for _ in range(throttle.FREE_FAILURES):
            assert (await attacker.sign_in(email, "guess guess guess")).status_code == 401
        slowed = await attacker.sign_in(email)  # even the right password waits
        assert slowed.status_code == 429
        assert int(slowed.headers["retry-after"]) == 5
        assert "taptrail_session" not in attacker.client.cookies
        # The owner, from their own address, is not locked out.
        async with Browser(app) as owner:
            assert (await owner.sign_in(email)).status_code == 303
        clock[0] += timedelta(seconds=6)
        assert (await attacker.sign_in(email, "guess again guess")).status_code == 401
        again = await attacker.sign_in(email)
        assert again.status_code == 429 and int(again.headers["retry-after"]) == 10
        clock[0] += timedelta(seconds=11)
        assert (await attacker.sign_in(email)).status_code == 303


async def test_one_address_guessing_many_accounts_is_stopped(app: FastAPI, clock: list) -> None:
    emails = [new_email() for _ in range(throttle.CLIENT_FAILURES)]
    async with Browser(app) as attacker:
        for email in emails:
            assert (await attacker.sign_in(email, "guess guess guess")).status_code == 401
        stopped = await attacker.sign_in(new_email(), "guess guess guess")
        assert stopped.status_code == 429
        assert 0 < int(stopped.headers["retry-after"]) <= 15 * 60


async def test_idle_timeout(app: FastAPI, clock: list) -> None:
    email = await make_user(app)
    idle = timedelta(minutes=state_of(app).settings.staff_idle_minutes)
    async with Browser(app) as browser:
        await browser.sign_in(email)
        clock[0] += idle - timedelta(minutes=1)
        assert (await browser.get("/console/")).status_code == 200  # use keeps it alive
        clock[0] += idle - timedelta(minutes=1)
        assert (await browser.get("/console/")).status_code == 200
        clock[0] += idle
        assert (await browser.get("/console/")).status_code == 303


async def test_absolute_timeout(app: FastAPI, clock: list) -> None:
    email = await make_user(app)
    absolute = timedelta(hours=state_of(app).settings.staff_absolute_hours)
    async with Browser(app) as browser:
        await browser.sign_in(email)
        step = timedelta(minutes=20)
        elapsed = timedelta(0)
        while elapsed + step < absolute:  # busy all day: never idle
            clock[0] += step
            elapsed += step
            assert (await browser.get("/console/")).status_code == 200
        clock[0] += step
        assert (await browser.get("/console/")).status_code == 303


async def test_csrf_and_origin_are_checked_on_every_post(app: FastAPI) -> None:
    email = await make_user(app)
    async with Browser(app) as browser:
        await browser.sign_in(email)
        url = "/console/account/tokens"
        good = await browser.token_from("/console/account")
        missing = await browser.client.post(
            url, data={"label": "x"}, headers={"Origin": browser.origin}
        )
        assert missing.status_code == 403 and "security token" in missing.text
        assert (await browser.post(url, {"label": "x"}, token="wrong")).status_code == 403
        cross = await browser.post(url, {"label": "x"}, token=good, origin="https://evil.example")
        assert cross.status_code == 403 and "another site" in cross.text
        bare = await browser.post(url, {"label": "x"}, token=good, origin=None)
        assert bare.status_code == 403
        # Another signed-in person's token does not work in this session.
        other = await make_user(app)
        async with Browser(app) as second:
            await second.sign_in(other)
            theirs = await second.token_from("/console/account")
        assert (await browser.post(url, {"label": "x"}, token=theirs)).status_code == 403
        assert (await browser.post(url, {"label": "x"}, token=good)).status_code == 201


async def test_the_sign_in_form_needs_its_token_too(app: FastAPI) -> None:
    email = await make_user(app)
    async with Browser(app) as browser:
        token = await browser.token_from("/login")
        forged = await browser.client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": "x" * 64},
            headers={"Origin": browser.origin},
        )
        assert forged.status_code == 403
        cross = await browser.post(
            "/login",
            {"email": email, "password": PASSWORD},
            token=token,
            origin="https://evil.example",
        )
        assert cross.status_code == 403
        assert "taptrail_session" not in browser.client.cookies


async def test_sign_out_and_sign_out_everywhere(app: FastAPI) -> None:
    email = await make_user(app)
    async with Browser(app) as laptop, Browser(app) as phone, Browser(app) as tablet:
        for device in (laptop, phone, tablet):
            assert (await device.sign_in(email)).status_code == 303
        out = await tablet.post("/logout", page="/logout")
        assert out.status_code == 303 and out.headers["location"] == "/login?notice=signed_out"
        assert (await tablet.get("/console/")).status_code == 303
        assert (await laptop.get("/console/")).status_code == 200
        everywhere = await laptop.post(
            "/console/account/sign-out-everywhere", page="/console/account"
        )
        assert everywhere.status_code == 303
        assert (await laptop.get("/console/")).status_code == 303
        assert (await phone.get("/console/")).status_code == 303
        assert (await phone.sign_in(email)).status_code == 303  # and can sign in again


async def test_the_session_id_is_stored_only_as_a_hash(app: FastAPI) -> None:

    email = await make_user(app)
    async with Browser(app) as browser:
        await browser.sign_in(email)
        raw = browser.client.cookies["taptrail_session"]
        page = await browser.get("/console/account")
        async with state_of(app).sessionmaker() as s:
            hashes = (await s.scalars(select(StaffSession.id_hash))).all()
            csrf = (await s.scalars(select(StaffSession.csrf_token))).all()
        assert raw not in hashes and len(raw) >= 43
        assert csrf_of(page.text) in csrf
