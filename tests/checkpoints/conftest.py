"""Fixtures for the boxes-and-taps suite: a controllable server clock and a loaded game."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.checkpoints.cp_helpers import NOW, Clock, Town, load_town


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    """The server's receive time, fixed at NOW until a test moves it."""
    value = Clock(NOW)
    app.state.clock = value
    try:
        yield value
    finally:
        app.state.clock = None


@pytest.fixture
async def town(client: httpx.AsyncClient, organiser_token: str, slug: str, clock: Clock) -> Town:
    return await load_town(client, organiser_token, slug)
