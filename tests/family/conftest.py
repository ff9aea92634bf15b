"""Fixtures of the family site's browser tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser import ARGS, CHROMIUM


@pytest.fixture
def browser() -> Iterator[Browser]:
    # One per test: Playwright's loop runs while it is open, and the backends' async
    # fixtures cannot be set up or torn down then.
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
