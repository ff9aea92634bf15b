"""The worked examples of docs/scoring-rules.md, each row run through the pure engine.

The table in the page is the source: a row edited in the docs is checked here as written,
so the documentation and the engine cannot drift apart.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.engine import Campaign, GameContext, Tap, score_holder
from tests.scoring.test_engine import NOBODY, at, campaign, make_game

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scoring-rules.md"


def _rows() -> list[list[str]]:
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Worked examples", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.fullmatch(r"\d+[a-z]?", cells[0]):
            rows.append(cells)
    return rows


def _game(settings: str) -> GameContext:
    if settings == "none":
        return make_game()
    if m := re.fullmatch(r"campaign ×(\d+) on tag (\w+)", settings):
        return make_game((campaign("DOCS", m[1], checkpoint_tags=frozenset({m[2]})),))
    if m := re.fullmatch(r"max_points_per_day (\d+)", settings):
        return make_game(max_points_per_day=int(m[1]))
    raise AssertionError(f"the test does not know the setting {settings!r}")


def _taps(cell: str) -> list[Tap]:
    taps = []
    for i, visit in enumerate(cell.split(",")):
        code, clock = visit.split()
        hh, mm = (int(part) for part in clock.split(":"))
        taps.append(Tap(f"docs/{i}", code, at(hh, mm)))
    return taps


ROWS = _rows()


def test_the_page_has_every_example() -> None:
    assert [row[0] for row in ROWS] == ["1", "2", "3", "4", "5", "6a", "6b", "7", "8"]


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_worked_example(row: list[str]) -> None:
    _, settings, taps, outcomes, points, km = row
    result = score_holder(_taps(taps), NOBODY, _game(settings))
    assert [o.outcome for o in result] == [o.strip() for o in outcomes.split(",")]
    assert sum(o.points for o in result) == int(points)
    assert round(sum(o.distance_m for o in result) / 1000, 1) == pytest.approx(float(km))


def test_campaign_example_uses_the_largest_multiplier_not_a_product() -> None:
    game = make_game(
        (
            campaign("X2", "2", checkpoint_tags=frozenset({"park"})),
            Campaign("X3", Decimal(3), at(0, 0), at(23, 0)),
        )
    )
    result = score_holder(_taps("A 08:00, P 08:12"), NOBODY, game)
    assert [o.points for o in result] == [0, 30]
