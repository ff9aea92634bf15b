"""Public names: how players under 16 appear on public boards.

A player under 16 (age band ``0-4``, ``5-11`` or ``12-15``, or no age band given: the safer
reading) is shown on public boards by a name the game makes up, adjective + animal +
number ("Brave Otter 42"), stored with the player so it stays the same all game. Only a
parent's deliberate choice (``show_nickname_publicly``) shows the chosen nickname instead;
the family's own view and the team manager's view always show the chosen nickname.

Made-up names come from the small word lists in ``name_words.yaml``. Their shape (a listed
adjective, a listed animal, a number) is reserved: nobody can choose one as a nickname, so a
made-up name is never mistaken for, or taken by, someone's nickname.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from names.skeleton import skeleton_key

WORDS_FILE = Path(__file__).with_name("name_words.yaml")
CHILD_AGE_BANDS = frozenset({"0-4", "5-11", "12-15"})
_rng = random.SystemRandom()


@dataclass(frozen=True)
class NameWords:
    adjectives: tuple[str, ...]
    animals: tuple[str, ...]
    reserved: re.Pattern[str]


@lru_cache(maxsize=1)
def words() -> NameWords:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    adjectives = tuple(str(w) for w in data["adjectives"])
    animals = tuple(str(w) for w in data["animals"])

    def alternation(items: tuple[str, ...]) -> str:
        keys = sorted({skeleton_key(w) for w in items}, key=len, reverse=True)
        return "(?:" + "|".join(re.escape(k) for k in keys) + ")"

    # Digits as the skeleton writes them: 0 and 1 become o and l.
    reserved = re.compile(alternation(adjectives) + alternation(animals) + r"[0-9ol]+")
    return NameWords(adjectives, animals, reserved)


def is_child(age_band: str | None) -> bool:
    """Under 16, or of unknown age (a file's player without an age band)."""
    return age_band is None or age_band in CHILD_AGE_BANDS


def looks_generated(nickname: str) -> bool:
    """Whether a nickname has the reserved shape of a made-up name ("Brave Otter 42")."""
    return words().reserved.fullmatch(skeleton_key(nickname)) is not None


def make_name(rng: random.Random = _rng, *, digits: int = 2) -> str:
    w = words()
    number = rng.randrange(10 ** (digits - 1), 10**digits)
    return f"{rng.choice(w.adjectives)} {rng.choice(w.animals)} {number}"


def pick_name(taken: set[str], rng: random.Random = _rng) -> str:
    """A made-up name not in ``taken`` (which it is added to): two-digit numbers first."""
    for attempt in range(1000):
        name = make_name(rng, digits=2 if attempt < 20 else 3 + attempt // 100)
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("no free made-up name")  # pragma: no cover - 3,600 x 900 names
