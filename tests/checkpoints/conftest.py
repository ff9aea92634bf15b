"""Fixtures for the boxes-and-taps suite: a controllable server clock and a loaded game."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.checkpoints.cp_helpers import NOW, Clock, Town, load_town
from tests.helpers import server_clock


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    """The server's receive time, fixed at NOW until a test moves it."""
    with server_clock(app, NOW) as clock:
        yield clock


@pytest.fixture
async def town(client: httpx.AsyncClient, organiser_token: str, slug: str, clock: Clock) -> Town:
    return await load_town(client, organiser_token, slug)
