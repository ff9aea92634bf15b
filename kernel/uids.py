"""Card UIDs: 4, 7 or 10 bytes written as 8, 14 or 20 hex characters."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s:\-_.]")
_HEX = re.compile(r"^[0-9A-F]+$")
# What boxes send: already upper-case hex of a valid length (one match instead of three steps).
_CANONICAL = re.compile(r"[0-9A-F]{8}(?:[0-9A-F]{6}){0,2}")
VALID_LENGTHS = (8, 14, 20)


def normalise_uid(text: str) -> str | None:
    """Upper-case hex without separators, or None when it is not a card UID."""
    if _CANONICAL.fullmatch(text):
        return text
    uid = _SEPARATORS.sub("", text).upper()
    if len(uid) not in VALID_LENGTHS or not _HEX.match(uid):
        return None
    return uid
