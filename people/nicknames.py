"""Nicknames: how players are shown, never by name.

A nickname is cleaned (whitespace collapsed), checked for shape (letters, digits, spaces and
``- ' . _``; no long digit runs, which are usually phone numbers or dates of birth), checked
against a small blocklist that sees through the usual evasions, and made unique per game by
its case-insensitive key. A nickname an organiser hides is shown as ``Player <id>``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

MIN_LENGTH = 2
MAX_LENGTH = 24
BLOCKLIST_FILE = Path(__file__).with_name("blocked_words.yaml")

# What digits and symbols are typed for (a letter class per blocked letter is built from it).
_LOOKALIKES: dict[str, str] = {
    "0": "o",
    "1": "il",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
}
_SHAPE = re.compile(r"^[\w' .\-]+$")
_LONG_DIGITS = re.compile(r"\d{5,}")
_RESERVED = re.compile(r"^(?:player|anonymous)\s*\d*$")
_SPACES = re.compile(r"\s+")


class NicknameError(ValueError):
    """A nickname that cannot be used; the message is shown to the person."""


@dataclass(frozen=True)
class Blocklist:
    anywhere: tuple[re.Pattern[str], ...]
    whole_word: tuple[re.Pattern[str], ...]
    allowed: tuple[str, ...]

    def matches(self, text: str) -> bool:
        for token in _tokens(text):
            for word in self.allowed:
                token = token.replace(word, "")
            if any(p.search(token) for p in self.anywhere):
                return True
            if any(p.fullmatch(token) for p in self.whole_word):
                return True
        return False


def _letter(ch: str) -> str:
    """A regex class for one letter and its look-alikes, repeated ("fuuuck")."""
    alternatives = {ch} | {k for k, v in _LOOKALIKES.items() if ch in v}
    return "[" + "".join(re.escape(a) for a in sorted(alternatives)) + "]+"


def _pattern(word: str) -> str:
    return "".join(_letter(ch) for ch in word)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _tokens(text: str) -> list[str]:
    """Words with punctuation inside them dropped and runs of single letters joined.

    "f.u.c.k" and "f u c k" both become "fuck"; "Dash It" stays two words.
    """
    kept = "".join(c for c in _fold(text) if c.isalnum() or c.isspace() or c in _LOOKALIKES)
    tokens: list[str] = []
    run = ""
    for word in kept.split():
        if len(word) == 1:
            run += word
            continue
        if run:
            tokens.append(run)
            run = ""
        tokens.append(word)
    if run:
        tokens.append(run)
    return tokens


def load_blocklist(path: Path = BLOCKLIST_FILE) -> Blocklist:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    s = _letter("s")
    return Blocklist(
        anywhere=tuple(re.compile(_pattern(_fold(w))) for w in data.get("anywhere") or ()),
        whole_word=tuple(
            re.compile(_pattern(_fold(w)) + f"(?:{s})?[0-9]*") for w in data.get("whole_word") or ()
        ),
        allowed=tuple(_fold(w) for w in data.get("allowed") or ()),
    )


@lru_cache(maxsize=1)
def blocklist() -> Blocklist:
    return load_blocklist()


def is_offensive(text: str) -> bool:
    return blocklist().matches(text)


def clean(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def nickname_key(nickname: str) -> str:
    """The per-game uniqueness key: case-insensitive, whitespace collapsed."""
    return clean(nickname).casefold()


def check_nickname(text: str) -> str:
    """The cleaned nickname, or NicknameError saying what to change."""
    nickname = clean(text)
    if not MIN_LENGTH <= len(nickname) <= MAX_LENGTH:
        raise NicknameError(f"a nickname has {MIN_LENGTH} to {MAX_LENGTH} characters")
    if not _SHAPE.match(nickname) or not any(c.isalpha() for c in nickname):
        raise NicknameError(
            "a nickname has letters and may have digits, spaces and the characters - ' . _"
        )
    if _LONG_DIGITS.search(nickname):
        raise NicknameError(
            "a nickname may not contain long numbers: please leave out phone numbers and dates"
        )
    if _RESERVED.match(nickname.casefold()):
        raise NicknameError("that nickname is reserved: please choose another")
    if is_offensive(nickname):
        raise NicknameError("that nickname is not allowed: please choose another")
    return nickname


def hidden_name(player_id: int) -> str:
    """What public boards show instead of a nickname an organiser has hidden."""
    return f"Player {player_id}"
