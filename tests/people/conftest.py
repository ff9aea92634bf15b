"""Fixtures for the people suite: a game around today, and a stand-in postcode lookup."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from geo.deprivation import Deprivation
from tests.people.people_helpers import PGame, load_game


class FakeLookup:
    """Stands in for geo.deprivation.lookup_deprivation until the imported ONS tables exist."""

    def __init__(self) -> None:
        self.known: dict[str, Deprivation] = {}
        self.asked: list[str] = []

    async def __call__(self, session: Any, postcode: str) -> Deprivation | None:
        self.asked.append(postcode)
        return self.known.get(postcode)


@pytest.fixture
def lookup(monkeypatch: pytest.MonkeyPatch) -> FakeLookup:
    fake = FakeLookup()
    monkeypatch.setattr("geo.deprivation.lookup_deprivation", fake)
    return fake


@pytest.fixture
async def game(client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str) -> PGame:
    return await load_game(client, app, organiser_token, slug)
