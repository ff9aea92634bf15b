"""What the browser tests share: Debian's Chromium (``TAPTRAIL_CHROMIUM`` names another),
its flags, and the check that it is there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TAPTRAIL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skips the calling test module when Chromium is missing; with
    ``TAPTRAIL_REQUIRE_SERVICES=1`` a missing Chromium fails instead."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("TAPTRAIL_REQUIRE_SERVICES") == "1":
        pytest.fail(f"Chromium is required and missing at {CHROMIUM}", pytrace=False)
    pytest.skip(f"Chromium not installed at {CHROMIUM}", allow_module_level=True)
