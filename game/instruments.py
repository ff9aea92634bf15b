"""The survey instruments a game can ask, chosen per game (``game.instruments`` in the game
file; the default is activity, belonging and nature).

An instrument is a named group of survey items, scored and reported together. This module
holds only names, items and who is asked (no I/O, no other imports of the project), so the
game file's validation can use it; the exact wording lives in :mod:`evaluation.surveys`.

Who is asked. The ONS personal well-being questions (ONS4) are validated for adults and
older teenagers, not young children: they are asked of players whose age band starts at 16
or over. The ONS direct loneliness question is recommended for children from 10: age bands
do not separate 10- and 11-year-olds from younger ones (5-11), so it is asked from the 12-15
band up. A player without an age band is not asked an age-limited instrument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from kernel.vocabulary import AGE_BANDS

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "INSTRUMENTS",
    "ITEMS",
    "LONELINESS_ANSWERS",
    "MIN_AGE_BAND",
    "ONS4_ITEMS",
    "asked_of",
    "chosen",
    "eligible",
    "normalise",
]

NATURE_KEYS: Final = (
    "nature_beauty",
    "nature_respect",
    "nature_happy",
    "nature_important",
    "nature_amazing",
    "nature_part",
)
ONS4_ITEMS: Final = ("life_satisfaction", "worthwhile", "happiness", "anxiety")
#: the ONS direct loneliness question's answers, most to least often
LONELINESS_ANSWERS: Final = (
    "often_always",
    "some_of_the_time",
    "occasionally",
    "hardly_ever",
    "never",
)

INSTRUMENTS: Final = ("activity", "belonging", "nature", "ons4", "loneliness")
DEFAULT_INSTRUMENTS: Final = ("activity", "belonging", "nature")
#: instrument -> its answer keys
ITEMS: Final[dict[str, tuple[str, ...]]] = {
    "activity": ("activity_days",),
    "belonging": ("belonging",),
    "nature": NATURE_KEYS,
    "ons4": ONS4_ITEMS,
    "loneliness": ("loneliness",),
}
# The age bands of game/models.py, youngest first (repeated: this module imports nothing).
#: instrument -> the youngest age band asked it (absent = everyone)
MIN_AGE_BAND: Final = {"ons4": "16-24", "loneliness": "12-15"}
_AGE_WORDS: Final = {"16-24": "16 and over", "12-15": "12 and over"}


def normalise(values: Iterable[str]) -> tuple[str, ...]:
    """The chosen instruments in the canonical order; ``ValueError`` names unknown ones."""
    wanted = [v.strip().lower() for v in values]
    unknown = sorted({v for v in wanted if v not in INSTRUMENTS})
    if unknown:
        raise ValueError(f"unknown instrument(s) {unknown}: use {', '.join(INSTRUMENTS)}")
    if not wanted:
        raise ValueError("choose at least one instrument")
    return tuple(i for i in INSTRUMENTS if i in wanted)


def chosen(stored: Sequence[str] | None) -> tuple[str, ...]:
    """A game's instruments from its stored setting (None = the default three)."""
    return DEFAULT_INSTRUMENTS if not stored else normalise(stored)


def eligible(instrument: str, age_band: str | None) -> bool:
    """Whether a player of ``age_band`` is asked ``instrument``."""
    youngest = MIN_AGE_BAND.get(instrument)
    if youngest is None:
        return True
    if age_band not in AGE_BANDS:
        return False
    return AGE_BANDS.index(age_band) >= AGE_BANDS.index(youngest)


def asked_of(instrument: str) -> str:
    """Who is asked, in words ("everyone", "16 and over")."""
    youngest = MIN_AGE_BAND.get(instrument)
    return "everyone" if youngest is None else _AGE_WORDS[youngest]
