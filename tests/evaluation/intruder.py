"""A motivated intruder against the anonymised export (pure functions over CSV rows).

What the intruder holds: the public players board (nickname, points, distance_km), the
export's players and daily files, and another project's export of the same game. Released
values are read as intervals: ``"12"`` is exactly 12, ``"10-49"`` is 10 to 49, ``"25+"`` is 25
or more, empty or ``"any"`` is unknown; the daily file's values are summed per pseudonym (a day's points
add up to the player's total) and intersected with the players file's interval.

* :func:`board_candidates`: for every public board entry, how many export records could be
  that person;
* :func:`class_sizes`: how many records share each record's released values (pseudonym aside)
  within one file, or in another project's file (a join on every shared column).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Interval = tuple[float, float]
LINK_COLUMNS = ("points", "distance_km")


def interval(value: str) -> Interval:
    value = value.strip()
    if value in ("", "any"):
        return (0.0, math.inf)
    if value.endswith("+"):
        return (float(value[:-1]), math.inf)
    lo, sep, hi = value.partition("-")
    if sep and lo:
        return (float(lo), float(hi))
    return (float(value), float(value))


def _meet(a: Interval, b: Interval) -> Interval:
    return (max(a[0], b[0]), min(a[1], b[1]))


def known_intervals(
    players: Sequence[Mapping[str, str]], daily: Sequence[Mapping[str, str]]
) -> dict[str, dict[str, Interval]]:
    """Per pseudonym: what the export tells about each linking column."""
    sums: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {c: [0.0, 0.0] for c in LINK_COLUMNS}
    )
    for row in daily:
        for column in LINK_COLUMNS:
            lo, hi = interval(row[column])
            acc = sums[row["pseudonym"]][column]
            acc[0] += lo
            acc[1] += hi
    known: dict[str, dict[str, Interval]] = {}
    for row in players:
        p = row["pseudonym"]
        known[p] = {}
        for column in LINK_COLUMNS:
            own = interval(row[column])
            if p in sums:
                lo, hi = sums[p][column]
                own = _meet(own, (lo, hi))
            known[p][column] = own
    return known


def board_candidates(
    board: Iterable[Mapping[str, Any]],
    players: Sequence[Mapping[str, str]],
    daily: Sequence[Mapping[str, str]],
) -> list[tuple[str, int]]:
    """(nickname, number of export records consistent with it) for every board entry."""
    known = list(known_intervals(players, daily).values())
    eps = 1e-9
    out = []
    for entry in board:
        n = sum(
            1
            for k in known
            if all(k[c][0] - eps <= float(entry[c]) <= k[c][1] + eps for c in LINK_COLUMNS)
        )
        out.append((str(entry["nickname"]), n))
    return out


def _released(row: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((c, v) for c, v in row.items() if c != "pseudonym"))


def class_sizes(
    rows: Sequence[Mapping[str, str]], against: Sequence[Mapping[str, str]] | None = None
) -> list[int]:
    """For every row, the number of rows of ``against`` (default: the same file) with the
    same released values (every column but the pseudonym)."""
    counts = Counter(_released(r) for r in (rows if against is None else against))
    return [counts[_released(r)] for r in rows]


def summary(values: Sequence[int], k: int) -> dict[str, int]:
    """``below_k`` counts records with 1 to k-1 candidates (0: the person is not in the
    export at all, e.g. suppressed, and cannot be linked)."""
    return {
        "records": len(values),
        "below_k": sum(1 for v in values if 0 < v < k),
        "unique": sum(1 for v in values if v == 1),
        "smallest": min(values) if values else 0,
    }
