"""Does a nickname look like a child's real full name? A heuristic, for players under 16.

Refused: a common given name followed by a surname-shaped word ("Olivia Jones", "olivia
zed", "Olivia-May Smith"), or a name-shaped word followed by a common surname ("Xanthe
Smith"). A word is surname-shaped when it is letters (with ``'`` or ``-``) and is not one
of the game's name words (adjectives and animals: "Olivia Otter" is a nickname), unless it
is itself a common surname ("Olivia Fox"). A given name alone ("Olivia") or with digits
("Olivia 7") passes. Matching ignores case, accents and look-alike letters.

The lists (``real_names.yaml``) hold common UK names only: this catches the usual case, not
every name. Public boards never depend on it alone: an under-16 is shown by a made-up name
unless a parent chose otherwise (names/public_names.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from names.public_names import words
from names.skeleton import skeleton_key

NAMES_FILE = Path(__file__).with_name("real_names.yaml")
_NAME_SHAPED = re.compile(r"^[^\W\d_]+(?:['\-][^\W\d_]+)*$")


@dataclass(frozen=True)
class NameLists:
    given: frozenset[str]
    surnames: frozenset[str]
    nickname_words: frozenset[str]


@lru_cache(maxsize=1)
def lists() -> NameLists:
    data = yaml.safe_load(NAMES_FILE.read_text(encoding="utf-8"))
    w = words()
    return NameLists(
        given=frozenset(skeleton_key(str(n)) for n in data["given_names"]),
        surnames=frozenset(skeleton_key(str(n)) for n in data["surnames"]),
        nickname_words=frozenset(skeleton_key(x) for x in (*w.adjectives, *w.animals)),
    )


def _given(word: str, names: NameLists) -> bool:
    # "Olivia-May" counts by its first part.
    return skeleton_key(re.split(r"['\-]", word)[0]) in names.given


def _surname_shaped(word: str, names: NameLists) -> bool:
    if not _NAME_SHAPED.match(word) or len(skeleton_key(word)) < 2:
        return False
    key = skeleton_key(word)
    return key in names.surnames or key not in names.nickname_words


def looks_like_real_name(nickname: str) -> bool:
    names = lists()
    parts = [p for p in nickname.replace("_", " ").replace(".", " ").split() if p]
    for first, second in zip(parts, parts[1:], strict=False):
        if _given(first, names) and _surname_shaped(second, names):
            return True
        if (
            skeleton_key(second) in names.surnames
            and _NAME_SHAPED.match(first)
            and skeleton_key(first) not in names.nickname_words
        ):
            return True
    return False
