"""Fixtures for the check-in suite: a fixed server clock and a loaded game."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.checkpoints.checkins.ci_helpers import NOW, Clock, load_game
from tests.helpers import server_clock


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    """The server's clock for check-ins, fixed at NOW until a test moves it."""
    with server_clock(app, NOW) as clock:
        yield clock


@pytest.fixture
async def game(client: httpx.AsyncClient, organiser_token: str, slug: str, clock: Clock) -> str:
    await load_game(client, organiser_token, slug)
    return slug
