"""docs/deploying/monitoring.md names every metric a server exposes, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from kernel.metrics import Metrics

PAGE = Path(__file__).resolve().parents[2] / "docs" / "deploying" / "monitoring.md"


def _documented() -> set[str]:
    text = PAGE.read_text(encoding="utf-8").split("## Every metric", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(taptrail_[a-z_]+)`", text, re.M))


def _exposed() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        suffix = "_total" if family.type == "counter" else ""
        names.add(family.name + suffix)
    return names


def test_every_metric_is_documented() -> None:
    assert _documented() == _exposed()
