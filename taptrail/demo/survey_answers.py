"""Survey answers for the demo town: every demo player answers the registration wave, and
many answer at game end and at the six-month follow-up, so the evaluation report has
something to show in every section. ILLUSTRATIVE, not data about anyone.

The model's numbers are a data table beside this module, ``survey-model.csv``: one row per
IMD quintile (0 = deprivation not known) with the share answering at game end and at
follow-up, the baseline means of every measure and the gains (activity days; well-being
points, applied to every well-being scale in its better direction). More deprived quintiles
start less active, less satisfied, more anxious and lonelier, and gain a little more
(the pattern a game like this hopes for). Answers are deterministic for a seed: players are
taken in id order from one ``random.Random``.

Who answers what follows the game's rules (:mod:`game.instruments`): ONS4 only for
players 16 and over, loneliness from 12; a parent or carer answers for under-12s.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation import repository as repo
from evaluation.report_scores import BELONGING_LEVELS
from game import instruments as inst
from game.models import Game

__all__ = ["MODEL_FILE", "DemoPlayer", "QuintileModel", "add_demo_answers", "demo_answers"]

MODEL_FILE: Final = Path(__file__).resolve().parent / "survey-model.csv"
DEFAULT_SEED: Final = 2026
FOLLOW_UP_DAYS: Final = 182
_PARENT_ANSWERS: Final = frozenset({"0-4", "5-11"})
_ALL_ITEMS: Final = tuple(item for items in inst.ITEMS.values() for item in items)


@dataclass(frozen=True, slots=True)
class QuintileModel:
    answer_game_end: float
    answer_follow_up: float
    activity_days: float
    activity_gain_end: float
    activity_gain_follow_up: float
    belonging: float
    nature: float
    life_satisfaction: float
    worthwhile: float
    happiness: float
    anxiety: float
    loneliness: float
    wellbeing_gain_end: float
    wellbeing_gain_follow_up: float


@dataclass(frozen=True, slots=True)
class DemoPlayer:
    player_id: int
    imd_decile: int | None
    age_band: str | None
    registered_on: date


def load_model(path: Path = MODEL_FILE) -> dict[int, QuintileModel]:
    """Quintile (0-5) -> its model row."""
    with path.open(encoding="utf-8", newline="") as fh:
        return {
            int(row.pop("quintile")): QuintileModel(**{k: float(v) for k, v in row.items()})
            for row in csv.DictReader(fh)
        }


def _clip(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _wave(
    rng: random.Random,
    m: QuintileModel,
    base: dict[str, float],
    gain_days: float,
    gain_wellbeing: float,
    asked: set[str],
) -> dict[str, Any]:
    """One wave's answers: the person's baseline levels moved by the gains, plus noise."""
    answers: dict[str, Any] = {}
    if "activity" in asked:
        answers["activity_days"] = _clip(base["activity_days"] + gain_days, 0, 7)
    if "belonging" in asked:
        score = _clip(base["belonging"] + gain_wellbeing / 3 + rng.gauss(0, 0.3), 1, 4)
        answers["belonging"] = BELONGING_LEVELS[score - 1]
    if "nature" in asked:
        level = base["nature"] + gain_wellbeing / 2
        for key in inst.NATURE_KEYS:
            answers[key] = _clip(level + rng.gauss(0, 0.7), 1, 7)
    if "ons4" in asked:
        for item in inst.ONS4_ITEMS:
            sign = -1.0 if item == "anxiety" else 1.0
            answers[item] = _clip(base[item] + sign * gain_wellbeing + rng.gauss(0, 0.8), 0, 10)
    if "loneliness" in asked:
        score = _clip(base["loneliness"] - gain_wellbeing / 2 + rng.gauss(0, 0.4), 1, 5)
        answers["loneliness"] = inst.LONELINESS_ANSWERS[5 - score]
    return answers


def demo_answers(
    game_id: int,
    players: Sequence[DemoPlayer],
    instruments: Sequence[str],
    *,
    last_day: date,
    seed: int = DEFAULT_SEED,
    model: dict[int, QuintileModel] | None = None,
) -> list[dict[str, Any]]:
    """Answer-set rows (``survey_responses`` columns) for the players, waves 1-3."""
    model = model or load_model()
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for p in sorted(players, key=lambda p: p.player_id):
        q = 0 if p.imd_decile is None else (p.imd_decile + 1) // 2
        m = model[q]
        asked = {i for i in instruments if inst.eligible(i, p.age_band)}
        base = {
            "activity_days": rng.gauss(m.activity_days, 1.8),
            "belonging": rng.gauss(m.belonging, 0.8),
            "nature": rng.gauss(m.nature, 0.9),
            "life_satisfaction": rng.gauss(m.life_satisfaction, 1.6),
            "worthwhile": rng.gauss(m.worthwhile, 1.5),
            "happiness": rng.gauss(m.happiness, 1.7),
            "anxiety": rng.gauss(m.anxiety, 2.0),
            "loneliness": rng.gauss(m.loneliness, 0.9),
        }
        waves: list[tuple[int, date, float, float]] = [(1, p.registered_on, 0.0, 0.0)]
        if rng.random() < m.answer_game_end:
            gain = rng.gauss(m.activity_gain_end, 1.2)
            waves.append((2, last_day, gain, rng.gauss(m.wellbeing_gain_end, 0.5)))
            if rng.random() < m.answer_follow_up / m.answer_game_end:
                later = last_day + timedelta(days=FOLLOW_UP_DAYS)
                gain3 = rng.gauss(m.activity_gain_follow_up, 1.2)
                waves.append((3, later, gain3, rng.gauss(m.wellbeing_gain_follow_up, 0.5)))
        for wave, on, gain_days, gain_wellbeing in waves:
            rows.append(
                {
                    "game_id": game_id,
                    "player_id": p.player_id,
                    "wave": wave,
                    "answered_by": "parent_or_carer" if p.age_band in _PARENT_ANSWERS else "self",
                    **dict.fromkeys(_ALL_ITEMS),  # every row the same keys (one bulk insert)
                    **_wave(rng, m, base, gain_days, gain_wellbeing, asked),
                    "declined": [],
                    "answered_on": on,
                    "submitted_at": datetime.combine(on, time(12), tzinfo=UTC),
                }
            )
    return rows


async def add_demo_answers(session: AsyncSession, game: Game, *, seed: int = DEFAULT_SEED) -> int:
    """Generate and store the demo players' answers; returns the answer sets added."""
    players = [
        DemoPlayer(pid, decile, band, registered.date())
        for pid, decile, band, registered in await repo.players_of_game(session, game.id)
    ]
    rows = demo_answers(
        game.id,
        players,
        inst.chosen(game.survey_instruments),
        last_day=(game.ends_at - timedelta(days=1)).date(),
        seed=seed,
    )
    await repo.add_responses(session, rows)
    return len(rows)
