"""Blocked words in nicknames: a maintained word list, matched through the usual evasions.

Words come from the word list of the ``better-profanity`` package (MIT licence; read from
its data file, not through its API), blocked as whole words, plus the local additions and
exceptions in ``blocked_words.yaml`` (words blocked anywhere inside a word, British words the
list lacks, list words that are innocent in a nickname, innocent words that contain a word
blocked anywhere).

Before matching, the text and every listed word go through the same normalisation:
NFKC and case folding; letters of other scripts replaced by their Unicode TR39 prototype
(Cyrillic ``с`` is ``c``); accents dropped; sounds spelt differently read alike (``ph`` f,
``ck`` ``c`` ``q`` k, ``v`` u). Then each letter of a word matches itself repeated
("fuuuck") or a digit or symbol typed for it (0 o, 1 i/l, 3 e, 4 a, 5 s, 7 t, 8 b, 9 g,
@ a, $ s, ! i, | l, + t). Punctuation inside a word is ignored and runs of single letters
are joined ("f.u.c.k", "f u c k"); a whole word may also be spread over neighbouring words
("Sh It") and be followed by a plural or digits ("dick69").
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from names.skeleton import skeleton_non_ascii

BLOCKLIST_FILE = Path(__file__).with_name("blocked_words.yaml")
WORDLIST_PACKAGE = "better_profanity"
WORDLIST_FILE = "profanity_wordlist.txt"

# What digits and symbols are typed for; the first letter is how a listed word reads them.
_LOOKALIKES: dict[str, str] = {
    "0": "o",
    "1": "il",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "+": "t",
}
_SOUNDS = (("ph", "f"), ("ck", "k"), ("c", "k"), ("q", "k"), ("v", "u"))
_MAX_SPREAD = 4  # a whole word may be spread over at most this many neighbouring words


def normalise(text: str) -> str:
    """Lower case, other scripts' look-alikes as their prototype, no accents, sounds alike."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    mapped = skeleton_non_ascii(folded).casefold()
    plain = "".join(c for c in unicodedata.normalize("NFD", mapped) if not unicodedata.combining(c))
    for spelt, sound in _SOUNDS:
        plain = plain.replace(spelt, sound)
    return plain


def tokens(text: str) -> list[str]:
    """Words with punctuation inside them dropped and runs of single letters joined.

    "f.u.c.k" and "f u c k" both become "fuck"; "Dash It" stays two words.
    """
    kept = "".join(c for c in normalise(text) if c.isalnum() or c.isspace() or c in _LOOKALIKES)
    out: list[str] = []
    run = ""
    for word in kept.split():
        if len(word) == 1:
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        out.append(word)
    if run:
        out.append(run)
    return out


def _listed(word: str) -> str:
    """A listed word as letters: normalised, leet read as its first letter, no spaces."""
    letters = "".join(_LOOKALIKES.get(c, c)[0] for c in normalise(word))
    return "".join(c for c in letters if c.isalpha())


def _letter(ch: str) -> str:
    """A regex class for one letter and its look-alikes, repeated ("fuuuck")."""
    alternatives = {ch} | {k for k, v in _LOOKALIKES.items() if ch in v}
    return "[" + "".join(re.escape(a) for a in sorted(alternatives)) + "]+"


def _alternation(words: Iterable[str]) -> str:
    patterns = sorted({"".join(_letter(c) for c in w) for w in words if w}, key=len, reverse=True)
    return "(?:" + "|".join(patterns) + ")" if patterns else "(?!)"


@dataclass(frozen=True)
class Blocklist:
    anywhere: re.Pattern[str]
    whole_word: re.Pattern[str]
    allowed: tuple[str, ...]

    def matches(self, text: str) -> bool:
        words = tokens(text)
        for token in words:
            for word in self.allowed:
                token = token.replace(word, "")
            if self.anywhere.search(token):
                return True
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + _MAX_SPREAD) + 1):
                if self.whole_word.fullmatch("".join(words[i:j])):
                    return True
        return False


def maintained_words() -> list[str]:
    spec = importlib.util.find_spec(WORDLIST_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'better-profanity' package (the blocked word list) is missing")
    path = Path(next(iter(spec.submodule_search_locations)), WORDLIST_FILE)
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


def load_blocklist(
    path: Path = BLOCKLIST_FILE, maintained: Iterable[str] | None = None
) -> Blocklist:
    """The blocklist from the local file and the maintained list (``maintained=()``: none)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    listed = maintained_words() if maintained is None else list(maintained)
    not_blocked = {_listed(w) for w in data.get("not_blocked") or ()}
    anywhere = [w.rstrip("*") for w in listed if w.endswith("*")]
    anywhere += list(data.get("anywhere") or ())
    whole = [w for w in listed if not w.endswith("*")] + list(data.get("whole_word") or ())
    whole_words = {_listed(w) for w in whole} - not_blocked
    plural = "(?:" + _letter("e") + "?" + _letter("s") + ")?"
    return Blocklist(
        anywhere=re.compile(_alternation(_listed(w) for w in anywhere)),
        whole_word=re.compile(_alternation(whole_words) + plural + "[0-9]*"),
        allowed=tuple(sorted({_listed(w) for w in data.get("allowed") or ()}, key=len)[::-1]),
    )


@lru_cache(maxsize=1)
def blocklist() -> Blocklist:
    return load_blocklist()


def is_offensive(text: str) -> bool:
    return blocklist().matches(text)
