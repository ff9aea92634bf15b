"""What an evaluation report is built from: the people, their answers per wave, and their
scores per measure as columns.

:class:`Participant` and :class:`WaveAnswers` are plain records; :func:`score_columns` turns
them into :class:`ScoreColumns` (one array per measure and wave), which the report sections
(:mod:`evaluation.report_sections`) read. The groups (``Q1``-``Q5``, ``other``, ``total``), the
waves and the measures' scales are defined here; :mod:`evaluation.reports` says how they are
used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from game.instruments import LONELINESS_ANSWERS, ONS4_ITEMS

BASELINE_WAVE: Final = 1
FOLLOW_UP_WAVES: Final = (2, 3)
QUINTILES: Final = (1, 2, 3, 4, 5)
GROUPS: Final = ("Q1", "Q2", "Q3", "Q4", "Q5", "other")
TOTAL: Final = "total"
INACTIVE_MAX_DAYS: Final = 1
GUIDELINE_MIN_DAYS: Final = 5
#: Community Life Survey answers, weakest to strongest (scored 1-4)
BELONGING_LEVELS: Final = ("not_at_all", "not_very", "fairly", "very")
BELONGS: Final = frozenset({"fairly", "very"})
NATURE_ITEMS: Final = 6
#: a person's nature connection score needs at least this many of the six items answered
NATURE_MIN_ITEMS: Final = 4
#: ONS loneliness answers scored 1 (never) to 5 (often or always): higher = lonelier
LONELINESS_SCORES: Final = {a: 5 - i for i, a in enumerate(LONELINESS_ANSWERS)}


@dataclass(frozen=True, slots=True)
class WaveAnswers:
    """One person's answers at one wave; ``None`` = not answered or "prefer not to say"."""

    activity_days: int | None = None
    belonging: str | None = None
    nature: tuple[int | None, ...] = ()
    life_satisfaction: int | None = None
    worthwhile: int | None = None
    happiness: int | None = None
    anxiety: int | None = None
    loneliness: str | None = None

    def __post_init__(self) -> None:
        for item in ONS4_ITEMS:
            value = getattr(self, item)
            if value is not None and not 0 <= value <= 10:
                raise ValueError(f"{item} is scored 0-10")
        if self.loneliness is not None and self.loneliness not in LONELINESS_SCORES:
            raise ValueError(f"loneliness must be one of {', '.join(LONELINESS_ANSWERS)}")
        if self.activity_days is not None and not 0 <= self.activity_days <= 7:
            raise ValueError("activity_days must be 0-7")
        if self.belonging is not None and self.belonging not in BELONGING_LEVELS:
            raise ValueError(f"belonging must be one of {', '.join(BELONGING_LEVELS)}")
        if len(self.nature) > NATURE_ITEMS:
            raise ValueError(f"at most {NATURE_ITEMS} nature items")
        if any(v is not None and not 1 <= v <= 7 for v in self.nature):
            raise ValueError("nature items are scored 1-7")

    @property
    def belonging_score(self) -> int | None:
        """1 (not at all strongly) to 4 (very strongly)."""
        return None if self.belonging is None else BELONGING_LEVELS.index(self.belonging) + 1

    @property
    def nature_score(self) -> float | None:
        """Mean item score (1-7) of the answered items, if at least 4 of 6 were answered."""
        answered = [v for v in self.nature if v is not None]
        if len(answered) < NATURE_MIN_ITEMS:
            return None
        return sum(answered) / len(answered)

    @property
    def loneliness_score(self) -> int | None:
        """1 (never lonely) to 5 (often or always)."""
        return None if self.loneliness is None else LONELINESS_SCORES[self.loneliness]


@dataclass(frozen=True, slots=True)
class Participant:
    player_id: int
    #: IMD quintile (1 = most deprived) within ``nation``; None when not known
    imd_quintile: int | None
    nation: str | None
    waves: Mapping[int, WaveAnswers] = field(default_factory=dict)
    #: lives in one of the game area's LSOAs (counts towards uptake rates)
    in_area: bool = True

    def __post_init__(self) -> None:
        if self.imd_quintile is not None and self.imd_quintile not in QUINTILES:
            raise ValueError("imd_quintile must be 1-5 or None")

    def answers(self, wave: int) -> WaveAnswers | None:
        return self.waves.get(wave)


MEASURES: Final = ("activity", "belonging", "nature", *ONS4_ITEMS, "loneliness")
#: instrument -> the measures (report sections) it gives
INSTRUMENT_MEASURES: Final[dict[str, tuple[str, ...]]] = {
    "activity": ("activity",),
    "belonging": ("belonging",),
    "nature": ("nature",),
    "ons4": ONS4_ITEMS,
    "loneliness": ("loneliness",),
}


def measures_of(instruments: Sequence[str]) -> tuple[str, ...]:
    return tuple(m for i in instruments for m in INSTRUMENT_MEASURES[i])


def measure_scores(a: WaveAnswers) -> tuple[float, ...]:
    def f(value: float | None) -> float:
        return math.nan if value is None else float(value)

    return (
        f(a.activity_days),
        f(a.belonging_score),
        f(a.nature_score),
        *(f(getattr(a, item)) for item in ONS4_ITEMS),
        f(a.loneliness_score),
    )


@dataclass(frozen=True)
class ScoreColumns:
    """The report's input in columns, one entry per participant (the fast path for big games;
    :func:`score_columns` makes it from :class:`Participant` records).

    ``quintile``: 1-5, 0 = unknown; ``nation``: the nation the quintile is within (object
    array, None = unknown); ``in_area``: lives in the game area; ``values``: for each
    (measure, wave), measure in ``activity`` (days), ``belonging`` (score 1-4), ``nature``
    (mean item score, needs 4 of 6 items), the ONS4 items (0-10) and ``loneliness`` (1-5),
    the participant's score or NaN (no usable answer). ``active_days``: days with at least
    one tap, per participant (None when not known: the implementation block is left out).
    """

    quintile: np.ndarray
    nation: np.ndarray
    in_area: np.ndarray
    values: Mapping[tuple[str, int], np.ndarray]
    active_days: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.quintile)
        if len(self.nation) != n or len(self.in_area) != n:
            raise ValueError("one quintile, nation and in_area per participant")
        if any(len(v) != n for v in self.values.values()):
            raise ValueError("one score per participant in every column")
        if self.active_days is not None and len(self.active_days) != n:
            raise ValueError("one active_days value per participant")
        if n and (self.quintile.min() < 0 or self.quintile.max() > 5):
            raise ValueError("quintiles are 1-5 (0 = unknown)")

    def __len__(self) -> int:
        return len(self.quintile)

    def groups(self, nation: str) -> np.ndarray:
        """Group index (0-4 = Q1-Q5 of ``nation``, 5 = other) of every participant."""
        mine = (self.nation == nation) & (self.quintile > 0)
        return np.where(mine, self.quintile - 1, len(GROUPS) - 1)

    def nations(self) -> set[str]:
        return {str(n) for n in self.nation[self.quintile > 0] if n is not None}


def score_columns(
    people: Sequence[Participant],
    waves: Sequence[int],
    active_days: Mapping[int, int] | None = None,
) -> ScoreColumns:
    """:class:`ScoreColumns` of participant records for the given waves (``active_days``:
    player id -> days with a tap; players not in it had none)."""
    n = len(people)
    columns: dict[tuple[str, int], list[float]] = {
        (m, w): [math.nan] * n for m in MEASURES for w in waves
    }
    wanted = set(waves)
    quintiles = [0] * n
    nations: list[str | None] = [None] * n
    in_area = [True] * n
    for i, p in enumerate(people):
        quintiles[i] = p.imd_quintile or 0
        nations[i] = p.nation
        in_area[i] = p.in_area
        for wave, answers in p.waves.items():
            if wave not in wanted:
                continue
            for measure, score in zip(MEASURES, measure_scores(answers), strict=True):
                columns[(measure, wave)][i] = score
    return ScoreColumns(
        quintile=np.array(quintiles, dtype=np.int64),
        nation=np.array(nations, dtype=object),
        in_area=np.array(in_area, dtype=bool),
        values={key: np.array(col, dtype=float) for key, col in columns.items()},
        active_days=None
        if active_days is None
        else np.array([active_days.get(p.player_id, 0) for p in people], dtype=np.int64),
    )
