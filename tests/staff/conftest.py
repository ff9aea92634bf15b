"""Fixtures shared by the console's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from api.deps import server_now


@pytest.fixture
def clock_back(app: FastAPI) -> Iterator[None]:
    """For modules whose games set the server's clock: later tests get the real one back."""
    yield
    app.dependency_overrides.pop(server_now, None)
