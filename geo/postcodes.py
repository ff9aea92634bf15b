"""UK postcode normalisation (pure functions, no I/O).

A typed postcode is normalised to the ONS ``pcds`` form: uppercase, all whitespace removed,
then exactly one space before the last three characters (``" bb11  3df "`` -> ``"BB11 3DF"``).
The ONS lookups also carry ``pcd7`` (7 characters, outward code left-aligned and padded:
``"BB113DF"``, ``"M1  1AE"``) and ``pcd8`` (8 characters); both normalise to the same ``pcds``.
"""

from __future__ import annotations

import re

__all__ = [
    "PCDS_PATTERN",
    "compact_postcode",
    "is_plausible_postcode",
    "normalise_postcode",
    "outward_code",
]

_WHITESPACE = re.compile(r"\s+")

# Shape of a UK postcode in pcds form: outward code (area letters, district digit, optional
# digit or letter) + space + inward code (sector digit, two unit letters). "GIR 0AA" (Girobank)
# is the one historic exception ONS still lists. This is a plausibility check, not a lookup:
# only the ONS file says whether a postcode exists. A string that fullmatches is already in pcds form.
PCDS_PATTERN = re.compile(r"(?:[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}|GIR 0AA)")


def compact_postcode(text: str) -> str:
    """Uppercase and drop every whitespace character (spaces, tabs, no-break spaces)."""
    return _WHITESPACE.sub("", text).upper()


def normalise_postcode(text: str) -> str:
    """Return the ONS ``pcds`` form of ``text``.

    Uppercase, remove all whitespace, then insert one space before the last three characters.
    Strings of three characters or fewer are returned compacted, without a space (they cannot
    be postcodes; :func:`is_plausible_postcode` rejects them).
    """
    compact = compact_postcode(text)
    if len(compact) <= 3:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def is_plausible_postcode(text: str) -> bool:
    """Whether ``text`` (in any spacing or case) has the shape of a UK postcode."""
    return bool(PCDS_PATTERN.fullmatch(normalise_postcode(text)))


def outward_code(text: str) -> str:
    """The outward code (the part before the space) of a postcode, e.g. ``"BB11"``."""
    return normalise_postcode(text).split(" ", 1)[0]
