"""Fixtures of the simulator's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.simulator.fake_server import FakeServer, make_client


@pytest.fixture
async def server_and_client() -> AsyncIterator[tuple[FakeServer, httpx.AsyncClient]]:
    """The fake server with two readers, and a client of it."""
    server = FakeServer({"R-1": "secret-one", "R-2": "secret-two"})
    async with make_client(server) as client:
        yield server, client
