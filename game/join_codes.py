"""Team join codes: what a player types to join a family, community, workplace or other team.

A pupil picks their school from the public team list; every other kind of team is joined
with its join code, so that no stranger can add themselves to a family. Loading a game gives
each such team a code unless the game file sets one: generated codes are 8 characters from
an alphabet without look-alikes (no 0/O, 1/I/L), file codes 6-16 letters and digits. Codes
are unique in their game, compared without case, spaces or hyphens (and in constant time),
and shown only to the game's organisers and the team's manager: never on public answers,
never in change reports or logs.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Collection

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8
MIN_LENGTH, MAX_LENGTH = 6, 16
_FORMAT = re.compile(rf"^[A-Z0-9]{{{MIN_LENGTH},{MAX_LENGTH}}}$")
# Teams anyone may pick from the list; every other kind needs its join code.
OPEN_KINDS = frozenset({"school"})


def needs_join_code(kind: str) -> bool:
    return kind not in OPEN_KINDS


def normalise(text: str) -> str:
    """The stored form of a typed code: upper case, without spaces or hyphens."""
    return re.sub(r"[\s-]+", "", text).upper()


def check_format(text: str) -> str:
    """A game file's code in its stored form; ValueError saying what is wrong."""
    code = normalise(text)
    if not _FORMAT.match(code):
        raise ValueError(
            f"must be {MIN_LENGTH} to {MAX_LENGTH} letters and digits (spaces and hyphens "
            "are ignored)"
        )
    return code


def generate(taken: Collection[str]) -> str:
    """A random code not in ``taken`` (31^8: collisions are vanishingly rare)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if code not in taken:
            return code


def matches(typed: str | None, stored: str | None) -> bool:
    if not typed or not stored:
        return False
    return hmac.compare_digest(normalise(typed).encode(), stored.encode())
