"""A form-filling browser for the console tests, and staff accounts made directly."""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from accounts.staff import service
from api.app_state import state_of
from kernel.db import utcnow
from tests.people.people_helpers import load_game

PASSWORD = "sturdy walrus lantern 42"
ORIGIN = "http://testserver"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def new_email() -> str:
    return f"staff-{uuid.uuid4().hex[:10]}@example.org"


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


class Browser:
    """One person's browser: its own cookies and its own client address."""

    def __init__(self, app: FastAPI, *, base_url: str = ORIGIN, host: str | None = None) -> None:
        self.host = (
            host or f"10.{random.randint(1, 250)}.{random.randint(0, 250)}.{random.randint(1, 250)}"
        )
        transport = httpx.ASGITransport(app=app, client=(self.host, 50000))
        self.client = httpx.AsyncClient(transport=transport, base_url=base_url)
        self.origin = base_url

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.aclose()

    async def get(self, url: str) -> httpx.Response:
        return await self.client.get(url)

    async def token_from(self, page: str) -> str:
        response = await self.get(page)
        assert response.status_code == 200, (page, response.status_code, response.text[:500])
        return csrf_of(response.text)

    async def post(
        self,
        url: str,
        data: dict[str, str] | None = None,
        *,
        page: str | None = None,
        token: str | None = None,
        origin: str | None = "same",
    ) -> httpx.Response:
        """Posts the form at ``url`` with the CSRF token of ``page`` (default: ``url``)."""
        if token is None:
            token = await self.token_from(page or url)
        headers = {} if origin is None else {"Origin": self.origin if origin == "same" else origin}
        return await self.client.post(
            url, data={**(data or {}), "csrf_token": token}, headers=headers
        )

    async def sign_in(
        self, email: str, password: str = PASSWORD, *, next_path: str = "/console/"
    ) -> httpx.Response:
        return await self.post(
            "/login", {"email": email, "password": password, "next": next_path}, page="/login"
        )


async def make_user(
    app: FastAPI,
    role: str = "organiser",
    *,
    game_id: int | None = None,
    team_id: int | None = None,
    email: str | None = None,
) -> str:
    email = email or new_email()
    async with state_of(app).sessionmaker() as s:
        await service.create_user(
            s,
            email=email,
            password=PASSWORD,
            role=role,
            game_id=game_id,
            team_id=team_id,
            now=utcnow(),
        )
        await s.commit()
    return email


async def make_game(app: FastAPI, client: httpx.AsyncClient, token: str, slug: str) -> int:
    return (await load_game(client, app, token, slug)).id
