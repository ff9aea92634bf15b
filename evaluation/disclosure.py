"""Statistical disclosure control for every aggregate below whole-game level.

Primary rule (NHS Digital HES method, 2018): a count of 1-7 people is published as ``"*"``;
every other count is rounded to the nearest 5; 0 stays 0. So the only published counts are
0, 10, 15, 20, ... (8-12 -> 10). Percentages are computed from the *unrounded* counts and
suppressed when their denominator is under 10; a mean or a test based on fewer than 10 people
is suppressed.

Two additions of ours, both only *adding* suppression:

* A percentage is also suppressed when its numerator, or its complement (denominator minus
  numerator), is 1-7 people: 3 of 40 = 7.5% next to a rounded denominator of 40 gives the
  suppressed 3 straight back, and 37 of 40 gives "3 did not". Switch off with
  ``protect_small_counts=False``.
* **Secondary suppression.** A suppressed cell must not be recoverable from totals. We assume
  the worst case: that an attacker knows every published cell and total *exactly*. Rounding
  to 5 blurs each published value by up to +/-2, so on its own it often prevents exact
  recovery, but not always: 0 is published exactly (``[0, 0, *, 0]`` with a total of 3 gives
  the cell), published percentages from unrounded counts reveal exact counts, and a narrow
  interval combined with the knowledge that ``*`` means 1-7 can pin the value. Treating
  published values as exact makes the protection independent of those details.

  Tables (rows x columns with row, column and grand totals) are handled in the *extended*
  table, where totals are entries too: every row and every column of the extended table
  satisfies "cells sum to the total". Suppressed entries are the unknowns. An unknown is
  determined by these equations exactly when, in the bipartite graph (rows and columns as
  nodes, suppressed entries as edges), its edge is a *bridge* (lies on no cycle); otherwise
  the alternating +/-1 change around a cycle keeps every published value and total
  unchanged, so the value cannot be solved. The algorithm

  1. suppresses, while some row or column holds exactly one suppressed entry, the next-
     smallest entry of that line (non-zero interior cells first, then zero cells, then the
     line's total; never the exact whole-game total);
  2. then, while any suppressed entry is still a bridge (e.g. two suppressed blocks joined by
     a single cell), suppresses the smallest entry that closes a cycle through it;
  3. repeats until stable.

  One-dimensional vectors (groups plus an overall total) are the single-row case: with a
  published total, one suppressed group is always recoverable and two or more never are
  exactly, so the rule is "if exactly one is suppressed, also suppress the next-smallest".
  The same rule is applied to percentages and means across groups (the whole-game value and
  the other groups' values give the remaining group's value away otherwise).

What this does *not* cover: linking different tables (e.g. players per quintile against
paired respondents per quintile). Each published vector is protected on its own; across
tables only rounding protects, which is the HES position.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MIN_DENOMINATOR",
    "MIN_PEOPLE",
    "SMALL_COUNT_MAX",
    "SUPPRESSED",
    "Published",
    "ProtectedCounts",
    "ProtectedTable",
    "complementary_suppression",
    "disclose_count",
    "disclose_percentage",
    "disclose_statistic",
    "is_small_count",
    "protect_counts",
    "protect_percentages",
    "protect_statistics",
    "protect_table",
    "round_to_5",
]

SUPPRESSED: Final = "*"
SMALL_COUNT_MAX: Final = 7
MIN_DENOMINATOR: Final = 10
MIN_PEOPLE: Final = 10

#: A published value: a number, ``"*"`` (suppressed) or ``None`` (not applicable, e.g. 0/0).
Published = int | float | str | None


def is_small_count(n: int) -> bool:
    """Counts of 1-7 people are suppressed (0 is not)."""
    return 1 <= n <= SMALL_COUNT_MAX


def round_to_5(n: int) -> int:
    """Round a non-negative count to the nearest 5 (integers have no ties: 12 -> 10, 13 -> 15)."""
    if n < 0:
        raise ValueError("counts are non-negative")
    return 5 * ((n + 2) // 5)


def disclose_count(n: int) -> int | str:
    """Primary rule: 0 -> 0, 1-7 -> ``"*"``, otherwise rounded to the nearest 5."""
    if n < 0:
        raise ValueError("counts are non-negative")
    if n == 0:
        return 0
    if is_small_count(n):
        return SUPPRESSED
    return round_to_5(n)


def _percentage_hidden(
    numerator: int, denominator: int, *, min_denominator: int, protect_small_counts: bool
) -> bool:
    if denominator < min_denominator:
        return True
    return protect_small_counts and (
        is_small_count(numerator) or is_small_count(denominator - numerator)
    )


def disclose_percentage(
    numerator: int,
    denominator: int,
    *,
    decimals: int = 1,
    scale: float = 100.0,
    min_denominator: int = MIN_DENOMINATOR,
    protect_small_counts: bool = True,
) -> float | str | None:
    """``scale * numerator / denominator`` from unrounded counts, or ``"*"``.

    ``None`` when the denominator is 0. Suppressed when the denominator is under
    ``min_denominator`` or (``protect_small_counts``) the numerator or complement is 1-7.
    """
    if numerator < 0 or denominator < 0 or numerator > denominator:
        raise ValueError("need 0 <= numerator <= denominator")
    if denominator == 0:
        return None
    if _percentage_hidden(
        numerator,
        denominator,
        min_denominator=min_denominator,
        protect_small_counts=protect_small_counts,
    ):
        return SUPPRESSED
    return round(scale * numerator / denominator, decimals)


def disclose_statistic(
    value: float | None, n: int, *, min_people: int = MIN_PEOPLE, decimals: int | None = None
) -> float | str | None:
    """A mean, interval bound or test result based on ``n`` people: ``"*"`` if n < 10."""
    if value is None:
        return None
    if n < min_people:
        return SUPPRESSED
    if decimals is not None and math.isfinite(value):
        return round(value, decimals)
    return value


def complementary_suppression(
    sizes: Sequence[int],
    suppressed: Collection[int],
    *,
    total_published: bool = True,
    eligible: Sequence[bool] | None = None,
) -> frozenset[int]:
    """Secondary suppression across groups that add up to a published total.

    ``sizes`` orders the candidates ("next smallest"); ``suppressed`` are the groups already
    hidden. While exactly one group is hidden, hide the eligible group with the smallest
    non-zero size (zero-size groups only as a last resort). Returns the full hidden set.
    """
    hidden = set(suppressed)
    if not total_published:
        return frozenset(hidden)
    allowed = list(eligible) if eligible is not None else [True] * len(sizes)
    while len(hidden) == 1:
        candidates = [i for i in range(len(sizes)) if i not in hidden and allowed[i]]
        if not candidates:
            break
        hidden.add(min(candidates, key=lambda i: (sizes[i] == 0, sizes[i], i)))
    return frozenset(hidden)


@dataclass(frozen=True, slots=True)
class ProtectedCounts:
    """Published counts for groups plus their total."""

    values: tuple[int | str, ...]
    total: int | str
    primary: frozenset[int]
    secondary: frozenset[int]
    #: hidden groups that the published total still gives away (only when there is a single
    #: group, whose value *is* the total)
    unprotected: frozenset[int] = frozenset()

    @property
    def suppressed(self) -> frozenset[int]:
        return self.primary | self.secondary


def protect_counts(counts: Sequence[int], *, total_exact: bool = True) -> ProtectedCounts:
    """Primary + secondary suppression of one vector of group counts and its total.

    ``total_exact=True`` when the total is the whole-game figure (published as it is);
    otherwise the total is itself a sub-game count and gets the primary rule.
    """
    if any(c < 0 for c in counts):
        raise ValueError("counts are non-negative")
    total = sum(counts)
    primary = frozenset(i for i, c in enumerate(counts) if is_small_count(c))
    published_total: int | str = total if total_exact else disclose_count(total)
    total_published = published_total != SUPPRESSED
    hidden = complementary_suppression(counts, primary, total_published=total_published)
    values = tuple(SUPPRESSED if i in hidden else disclose_count(c) for i, c in enumerate(counts))
    unprotected = hidden if total_published and len(hidden) == 1 else frozenset()
    return ProtectedCounts(values, published_total, primary, hidden - primary, unprotected)


def protect_percentages(
    numerators: Sequence[int],
    denominators: Sequence[int],
    *,
    also_hidden: Collection[int] = (),
    total_published: bool = True,
    decimals: int = 1,
    scale: float = 100.0,
    min_denominator: int = MIN_DENOMINATOR,
    protect_small_counts: bool = True,
) -> list[float | str | None]:
    """Percentages (or rates, via ``scale``) for groups, with secondary suppression.

    A group's value is hidden by the rules of :func:`disclose_percentage`, or because its
    numerator or denominator count is hidden elsewhere (``also_hidden``). If exactly one group
    is then hidden, the next-smallest (by ``min(numerator, complement)``) is hidden too, since
    the whole-game percentage and the other groups would give it away.
    """
    if len(numerators) != len(denominators):
        raise ValueError("one denominator per numerator")
    for num, den in zip(numerators, denominators, strict=True):
        if num < 0 or den < 0 or num > den:
            raise ValueError("need 0 <= numerator <= denominator")
    hidden = {
        i
        for i, (num, den) in enumerate(zip(numerators, denominators, strict=True))
        if den > 0
        and _percentage_hidden(
            num, den, min_denominator=min_denominator, protect_small_counts=protect_small_counts
        )
    }
    hidden |= {i for i in also_hidden if denominators[i] > 0}
    smallness = [min(n, d - n) for n, d in zip(numerators, denominators, strict=True)]
    hidden = set(
        complementary_suppression(
            smallness,
            hidden,
            total_published=total_published,
            eligible=[d > 0 for d in denominators],
        )
    )
    out: list[float | str | None] = []
    for i, (num, den) in enumerate(zip(numerators, denominators, strict=True)):
        if den == 0:
            out.append(None)
        elif i in hidden:
            out.append(SUPPRESSED)
        else:
            out.append(round(scale * num / den, decimals))
    return out


def protect_statistics(
    values: Sequence[float | None],
    sizes: Sequence[int],
    *,
    also_hidden: Collection[int] = (),
    total_published: bool = True,
    min_people: int = MIN_PEOPLE,
    decimals: int | None = None,
) -> tuple[list[float | str | None], frozenset[int]]:
    """Means (or other statistics) per group based on ``sizes`` people each.

    Hidden when a group has fewer than ``min_people`` (but some) people, or is in
    ``also_hidden``; then the secondary rule over group sizes. Returns the published values
    and the hidden set (so interval bounds can follow their mean).
    """
    if len(values) != len(sizes):
        raise ValueError("one size per value")
    hidden = {i for i, n in enumerate(sizes) if 0 < n < min_people} | set(also_hidden)
    final = complementary_suppression(
        sizes,
        hidden,
        total_published=total_published,
        eligible=[n > 0 and v is not None for n, v in zip(sizes, values, strict=True)],
    )
    out: list[float | str | None] = []
    for i, value in enumerate(values):
        if value is None:
            out.append(None)
        elif i in final:
            out.append(SUPPRESSED)
        elif decimals is not None and math.isfinite(value):
            out.append(round(value, decimals))
        else:
            out.append(value)
    return out, final


# --------------------------------------------------------------------------------------------
# Two-way tables


@dataclass(frozen=True, slots=True)
class ProtectedTable:
    """A published table. Coordinates in :attr:`primary` / :attr:`secondary` /
    :attr:`unprotected` are in the *extended* table: ``(i, j)`` with ``i == rows`` meaning the
    column-totals row and ``j == columns`` the row-totals column (``(rows, columns)`` is the
    grand total)."""

    cells: tuple[tuple[int | str, ...], ...]
    row_totals: tuple[int | str, ...]
    column_totals: tuple[int | str, ...]
    grand_total: int | str
    primary: frozenset[tuple[int, int]]
    secondary: frozenset[tuple[int, int]]
    #: suppressed entries the algorithm could not protect (only in degenerate tables, e.g. a
    #: single column whose small total equals an exact whole-game total)
    unprotected: frozenset[tuple[int, int]]

    @property
    def suppressed(self) -> frozenset[tuple[int, int]]:
        return self.primary | self.secondary


def _bridges(
    edges: set[tuple[int, int]],
) -> list[tuple[int, int]]:
    """Edges (row, col) of the bipartite suppression graph that lie on no cycle."""
    adjacency: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for i, j in edges:
        adjacency.setdefault(("r", i), set()).add(("c", j))
        adjacency.setdefault(("c", j), set()).add(("r", i))
    result = []
    for i, j in sorted(edges):
        start, goal = ("r", i), ("c", j)
        seen = {start}
        stack = [start]
        found = False
        while stack and not found:
            node = stack.pop()
            for nxt in adjacency[node]:
                if node == start and nxt == goal:
                    continue  # skip the edge itself
                if nxt == goal:
                    found = True
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        if not found:
            result.append((i, j))
    return result


def _component(
    edges: set[tuple[int, int]], start: tuple[str, int], removed: tuple[int, int]
) -> set[tuple[str, int]]:
    adjacency: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for i, j in edges:
        if (i, j) == removed:
            continue
        adjacency.setdefault(("r", i), set()).add(("c", j))
        adjacency.setdefault(("c", j), set()).add(("r", i))
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        for nxt in adjacency.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def protect_table(
    counts: Sequence[Sequence[int]], *, grand_total_exact: bool = False
) -> ProtectedTable:
    """Primary and secondary suppression of a table with row, column and grand totals.

    Totals are computed from the unrounded cells and then published under the same rules
    (rounded; ``"*"`` if 1-7). ``grand_total_exact=True`` publishes the grand total as it is
    (a whole-game figure) and never suppresses it.
    """
    rows = len(counts)
    if rows == 0:
        raise ValueError("the table needs at least one row")
    cols = len(counts[0])
    if cols == 0 or any(len(r) != cols for r in counts):
        raise ValueError("every row needs the same, non-zero number of cells")
    if any(c < 0 for r in counts for c in r):
        raise ValueError("counts are non-negative")

    ext: list[list[int]] = [list(r) + [sum(r)] for r in counts]
    ext.append([sum(counts[i][j] for i in range(rows)) for j in range(cols)])
    ext[rows].append(sum(ext[rows]))
    grand = (rows, cols)

    def fixed(entry: tuple[int, int]) -> bool:
        return grand_total_exact and entry == grand

    entries = [(i, j) for i in range(rows + 1) for j in range(cols + 1)]
    primary = {e for e in entries if not fixed(e) and is_small_count(ext[e[0]][e[1]])}
    hidden = set(primary)
    unprotected: set[tuple[int, int]] = set()

    def preference(e: tuple[int, int]) -> tuple[bool, bool, int, tuple[int, int]]:
        value = ext[e[0]][e[1]]
        is_total = e[0] == rows or e[1] == cols
        return (is_total, value == 0, value, e)

    def line_entries(kind: str, k: int) -> list[tuple[int, int]]:
        if kind == "r":
            return [(k, j) for j in range(cols + 1)]
        return [(i, k) for i in range(rows + 1)]

    lines = [("r", i) for i in range(rows + 1)] + [("c", j) for j in range(cols + 1)]
    while True:
        changed = False
        for kind, k in lines:
            members = line_entries(kind, k)
            inside = [e for e in members if e in hidden]
            if len(inside) != 1 or inside[0] in unprotected:
                continue
            candidates = [e for e in members if e not in hidden and not fixed(e)]
            if not candidates:
                unprotected.add(inside[0])
                continue
            hidden.add(min(candidates, key=preference))
            changed = True
        if changed:
            continue
        bridges = [b for b in _bridges(hidden) if b not in unprotected]
        if not bridges:
            break
        i, j = bridges[0]
        side_a = _component(hidden, ("r", i), (i, j))
        side_b = _component(hidden, ("c", j), (i, j))
        crossing = [
            e
            for e in entries
            if e not in hidden
            and not fixed(e)
            and (
                (("r", e[0]) in side_a and ("c", e[1]) in side_b)
                or (("r", e[0]) in side_b and ("c", e[1]) in side_a)
            )
        ]
        if not crossing:
            crossing = [
                e
                for e in line_entries("r", i) + line_entries("c", j)
                if e not in hidden and not fixed(e)
            ]
        if not crossing:
            unprotected.add((i, j))
            continue
        hidden.add(min(crossing, key=preference))

    def publish(e: tuple[int, int]) -> int | str:
        value = ext[e[0]][e[1]]
        if fixed(e):
            return value
        return SUPPRESSED if e in hidden else disclose_count(value)

    return ProtectedTable(
        cells=tuple(tuple(publish((i, j)) for j in range(cols)) for i in range(rows)),
        row_totals=tuple(publish((i, cols)) for i in range(rows)),
        column_totals=tuple(publish((rows, j)) for j in range(cols)),
        grand_total=publish(grand),
        primary=frozenset(primary),
        secondary=frozenset(hidden - primary),
        unprotected=frozenset(unprotected),
    )
