"""The generated reference pages are current, and the configuration page names every setting."""

from __future__ import annotations

import re

import pytest

from kernel.settings import Settings
from taptrail.reference_docs import DOCS, PAGES


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_page_is_current(name: str) -> None:
    written = (DOCS / name).read_text(encoding="utf-8")
    assert written == PAGES[name](), (
        f"docs/{name} is out of date: run `python -m taptrail.reference_docs`"
    )


def test_configuration_page_names_every_setting() -> None:
    page = (DOCS / "deploying" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `TAPTRAIL_([A-Z_]+)`", page, re.M))
    assert documented == {name.upper() for name in Settings.model_fields}
