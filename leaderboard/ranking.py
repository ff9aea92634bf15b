"""Standard competition ranking and the sort keys every store shares.

Boards are kept ascending by (sort score, member), where the sort score is the negated
board value (so the best comes first) and the member is ``name_key(name) + "\\0" + code``:
equal scores then come out ordered by name, in the same order in Python (code point order)
and in Redis (byte order of UTF-8, which is the same order).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")

SEP = "\x00"
# Players are ordered by points then distance with one exact double per player:
# score = points * PLAYER_DISTANCE_SCALE + whole metres. Exact while |score| < 2**53, so
# 0 <= whole metres < 10**8 (100,000 km; larger is clamped) and |points| <= 90,071,991.
PLAYER_DISTANCE_SCALE = 100_000_000
MAX_PLAYER_POINTS = (2**53 - 1) // PLAYER_DISTANCE_SCALE - 1


def name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().replace(SEP, "")


def member(name: str, key: str) -> str:
    """Sorted-set member: orders by name, then by the unique key."""
    return f"{name_key(name)}{SEP}{key}"


def member_key(value: str) -> str:
    return value.split(SEP, 1)[1]


def whole_metres(distance_m: float) -> int:
    """A stored distance (metres, unrounded) as the boards rank and show it: to the nearest
    metre, halves up (``x - floor(x)`` is exact for x >= 0, so unlike ``floor(x + 0.5)``
    this never rounds 0.49999999999999994 up). The Lua scripts do the same double
    operations, so both stores agree on every value."""
    whole = math.floor(distance_m)
    return whole + 1 if distance_m - whole >= 0.5 else whole


def total_score(points: int) -> float:
    return float(-points) + 0.0


def distance_score(distance_m: float) -> float:
    return float(-whole_metres(distance_m)) + 0.0


def average(points: int, active_members: int) -> float:
    return points / active_members if active_members > 0 else 0.0


def average_score(points: int, active_members: int) -> float:
    # "+ 0.0" turns -0.0 into 0.0 so equal averages always compare and print equal.
    return -average(points, active_members) + 0.0


def player_score(points: int, distance_m: float) -> float:
    d = min(max(whole_metres(distance_m), 0), PLAYER_DISTANCE_SCALE - 1)
    return float(-(points * PLAYER_DISTANCE_SCALE + d)) + 0.0


def competition_ranks(scores: Sequence[float], first_rank: int = 1, offset: int = 0) -> list[int]:
    """Ranks of consecutive board positions given their sort scores (best first).

    ``first_rank`` is the rank of ``scores[0]`` (1 + how many entries score strictly better)
    and ``offset`` its 0-based position on the board; later entries get position + 1 unless
    they tie with the one before.
    """
    ranks: list[int] = []
    for i, score in enumerate(scores):
        if i == 0:
            ranks.append(first_rank)
        elif score == scores[i - 1]:
            ranks.append(ranks[-1])
        else:
            ranks.append(offset + i + 1)
    return ranks


def rank_by(
    items: Iterable[T], value: Callable[[T], float], name: Callable[[T], str]
) -> list[tuple[int, T]]:
    """Sort items best-first by value, ties by name, with ranks 1, 2, 2, 4."""
    ordered = sorted(items, key=lambda item: (-value(item), name_key(name(item))))
    ranks = competition_ranks([-value(item) for item in ordered])
    return list(zip(ranks, ordered, strict=True))
