"""Deterministic synthetic data for benchmarks and demos (no real people).

Distributions are plausible, not calibrated: games like this recruit more in deprived areas,
inactivity is more common there, about half the players answer at game end and a quarter six
months later, and activity rises by about half a day a week after the game, fading later.
The same ``seed`` always gives the same data (``random.Random``, no global state).
"""

from __future__ import annotations

import random
from typing import Any, Final

from evaluation.report_scores import BELONGING_LEVELS, NATURE_ITEMS, Participant, WaveAnswers
from kernel.vocabulary import AGE_BANDS, TEAM_KINDS

__all__ = ["sample_export_records", "sample_participants", "sample_residents"]

_QUINTILE_WEIGHTS: Final = (0.30, 0.25, 0.20, 0.15, 0.10)
_RESIDENT_WEIGHTS: Final = (0.26, 0.22, 0.20, 0.17, 0.15)
_BASE_DAYS: Final = {  # P(days = 0..7) at baseline, by quintile (Q1 most deprived)
    1: (0.17, 0.12, 0.13, 0.13, 0.11, 0.12, 0.07, 0.15),
    2: (0.15, 0.11, 0.13, 0.13, 0.12, 0.13, 0.07, 0.16),
    3: (0.13, 0.10, 0.13, 0.13, 0.12, 0.14, 0.08, 0.17),
    4: (0.11, 0.10, 0.12, 0.13, 0.13, 0.15, 0.08, 0.18),
    5: (0.10, 0.09, 0.12, 0.13, 0.13, 0.15, 0.09, 0.19),
}
_BELONGING_WEIGHTS: Final = (0.12, 0.25, 0.43, 0.20)
_AGE_WEIGHTS: Final = (0.03, 0.42, 0.10, 0.05, 0.22, 0.13, 0.05)
# the registration form's values (people.schemas.Gender)
_GENDERS: Final = ("female", "male", "non_binary", "other", "prefer_not_to_say")
_GENDER_WEIGHTS: Final = (0.50, 0.44, 0.01, 0.01, 0.04)


def sample_residents(
    *, seed: int = 0, nation: str = "england", total: int = 100_000
) -> dict[str, dict[int, int]]:
    """Residents per quintile of a game area (nation -> quintile -> people)."""
    rng = random.Random(seed)
    jittered = [w * rng.uniform(0.9, 1.1) for w in _RESIDENT_WEIGHTS]
    scale = total / sum(jittered)
    return {nation: {q + 1: round(w * scale) for q, w in enumerate(jittered)}}


def _clip_days(value: float) -> int:
    return max(0, min(7, round(value)))


def _nature(rng: random.Random, level: float) -> tuple[int | None, ...]:
    items: list[int | None] = []
    for _ in range(NATURE_ITEMS):
        if rng.random() < 0.03:
            items.append(None)
        else:
            items.append(max(1, min(7, round(level + rng.gauss(0, 0.8)))))
    return tuple(items)


def sample_participants(
    n: int,
    *,
    seed: int = 0,
    nation: str = "england",
    unknown_quintile_rate: float = 0.05,
    outside_area_rate: float = 0.03,
    follow_up_rates: tuple[float, float] = (0.55, 0.25),
    prefer_not_to_say_rate: float = 0.03,
) -> list[Participant]:
    """``n`` synthetic participants with three survey waves."""
    rng = random.Random(seed)
    people: list[Participant] = []
    for player_id in range(1, n + 1):
        quintile: int | None = rng.choices((1, 2, 3, 4, 5), _QUINTILE_WEIGHTS)[0]
        if rng.random() < unknown_quintile_rate:
            quintile = None
        days0 = rng.choices(range(8), _BASE_DAYS[quintile or 3])[0]
        belong0 = rng.choices(range(4), _BELONGING_WEIGHTS)[0]
        nature0 = rng.gauss(5.0, 1.0)

        def answers(
            days: int, belong: int, nature_level: float, *, _rng: random.Random = rng
        ) -> WaveAnswers:
            skip = _rng.random() < prefer_not_to_say_rate
            return WaveAnswers(
                activity_days=None if skip else days,
                belonging=None
                if _rng.random() < prefer_not_to_say_rate
                else BELONGING_LEVELS[belong],
                nature=_nature(_rng, nature_level),
            )

        waves = {1: answers(days0, belong0, nature0)}
        for wave, rate, gain in ((2, follow_up_rates[0], 0.6), (3, follow_up_rates[1], 0.3)):
            if rng.random() >= rate:
                continue
            days = _clip_days(days0 + rng.gauss(gain, 1.6))
            step = rng.choices((-1, 0, 1), (0.08, 0.77, 0.15))[0]
            belong = max(0, min(3, belong0 + step))
            waves[wave] = answers(days, belong, nature0 + gain / 3 + rng.gauss(0, 0.4))
        people.append(
            Participant(
                player_id=player_id,
                imd_quintile=quintile,
                nation=nation if quintile is not None else None,
                waves=waves,
                in_area=rng.random() >= outside_area_rate,
            )
        )
    return people


def sample_export_records(n: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` player records with the export's quasi-identifiers (for k-anonymity)."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for player_id in range(1, n + 1):
        age = rng.choices(AGE_BANDS, _AGE_WEIGHTS)[0]
        gender = rng.choices(_GENDERS, _GENDER_WEIGHTS)[0]
        records.append(
            {
                "player_id": player_id,
                "age_band": age,
                "gender": gender,
                "imd_quintile": rng.choices((1, 2, 3, 4, 5), _QUINTILE_WEIGHTS)[0],
                "team_kind": rng.choices(TEAM_KINDS, (0.55, 0.15, 0.1, 0.15, 0.05))[0],
            }
        )
    return records
