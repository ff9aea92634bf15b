"""Disclosure control. The recovery checker below is independent of the implementation: it
writes out every "cells add up to the total" equation of the extended table, treats every
published value as exactly known (the worst case) and row-reduces with exact fractions to see
whether any suppressed value is pinned down."""

import random
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.disclosure import (
    SUPPRESSED,
    complementary_suppression,
    disclose_count,
    disclose_percentage,
    disclose_statistic,
    protect_counts,
    protect_percentages,
    protect_statistics,
    protect_table,
    round_to_5,
)

# ---------------------------------------------------------------------------- checker


def _determined(equations: list[dict[Any, int]], unknowns: Sequence[Any]) -> set[Any]:
    """Unknowns whose value follows from the equations (each a {unknown: coefficient} map;
    known terms are irrelevant to *whether* a value is determined)."""
    index = {u: i for i, u in enumerate(unknowns)}
    rows = [[Fraction(0)] * len(unknowns) for _ in equations]
    for r, eq in enumerate(equations):
        for u, coef in eq.items():
            rows[r][index[u]] += coef
    # reduced row echelon form
    pivot_row = 0
    pivots: list[int] = []
    for col in range(len(unknowns)):
        sel = next((r for r in range(pivot_row, len(rows)) if rows[r][col] != 0), None)
        if sel is None:
            continue
        rows[pivot_row], rows[sel] = rows[sel], rows[pivot_row]
        lead = rows[pivot_row][col]
        rows[pivot_row] = [v / lead for v in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivots.append(col)
        pivot_row += 1
    solved = set()
    for r, col in enumerate(pivots):
        if all(v == 0 for c, v in enumerate(rows[r]) if c != col):
            solved.add(unknowns[col])
    return solved


def recoverable_table_cells(
    counts: list[list[int]], suppressed: set[tuple[int, int]]
) -> set[tuple[int, int]]:
    """Suppressed entries of the extended table (totals at index rows / columns) that can be
    solved from the published entries."""
    m, n = len(counts), len(counts[0])
    equations: list[dict[Any, int]] = []
    for i in range(m + 1):  # row i: cells - row total = 0 (i == m: column totals - grand)
        eq: dict[Any, int] = {}
        for j in range(n):
            if (i, j) in suppressed:
                eq[(i, j)] = eq.get((i, j), 0) + 1
        if (i, n) in suppressed:
            eq[(i, n)] = eq.get((i, n), 0) - 1
        equations.append(eq)
    for j in range(n + 1):
        eq = {}
        for i in range(m):
            if (i, j) in suppressed:
                eq[(i, j)] = eq.get((i, j), 0) + 1
        if (m, j) in suppressed:
            eq[(m, j)] = eq.get((m, j), 0) - 1
        equations.append(eq)
    unknowns = sorted(suppressed)
    return _determined(equations, unknowns)


def recoverable_vector_cells(n: int, suppressed: set[int], total_known: bool) -> set[int]:
    if not total_known:
        return set()
    unknowns = sorted(suppressed)
    return _determined([dict.fromkeys(unknowns, 1)], unknowns)


def _published_ok(value: object) -> bool:
    """Published counts are '*', 0, or multiples of 5 of at least 10 (never 1-7)."""
    if value == SUPPRESSED:
        return True
    assert isinstance(value, int)
    return value == 0 or (value >= 10 and value % 5 == 0)


def _assert_table_safe(counts: list[list[int]], *, grand_total_exact: bool = False) -> None:
    result = protect_table(counts, grand_total_exact=grand_total_exact)
    degenerate = grand_total_exact and (len(counts) == 1 or len(counts[0]) == 1)
    if not degenerate:
        assert not result.unprotected
    # with one row (or column) the row total *is* the exact grand total: nothing can hide it,
    # and the algorithm must say so rather than claim protection
    assert recoverable_table_cells(counts, set(result.suppressed)) == set(result.unprotected)
    published = [v for row in result.cells for v in row]
    published += list(result.row_totals) + list(result.column_totals)
    if not grand_total_exact:
        published.append(result.grand_total)
    else:
        assert result.grand_total == sum(map(sum, counts))
    assert all(_published_ok(v) for v in published)
    # every small count (cell or total) is suppressed
    m, n = len(counts), len(counts[0])
    ext = [list(r) + [sum(r)] for r in counts] + [[sum(r[j] for r in counts) for j in range(n)]]
    ext[m].append(sum(ext[m]))
    for i in range(m + 1):
        for j in range(n + 1):
            if 1 <= ext[i][j] <= 7 and not (grand_total_exact and (i, j) == (m, n)):
                assert (i, j) in result.primary


# ---------------------------------------------------------------------------- primary rule


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, 0),
        (1, "*"),
        (5, "*"),
        (7, "*"),
        (8, 10),
        (12, 10),
        (13, 15),
        (17, 15),
        (18, 20),
        (100, 100),
        (1234, 1235),
    ],
)
def test_disclose_count(n: int, shown: object) -> None:
    assert disclose_count(n) == shown


def test_round_to_5() -> None:
    assert [round_to_5(n) for n in range(0, 16)] == [
        0,
        0,
        0,
        5,
        5,
        5,
        5,
        5,
        10,
        10,
        10,
        10,
        10,
        15,
        15,
        15,
    ]
    with pytest.raises(ValueError):
        round_to_5(-1)


def test_percentages_from_unrounded_counts() -> None:
    assert disclose_percentage(23, 47) == 48.9  # not 25/45
    assert disclose_percentage(20, 40) == 50.0
    assert disclose_percentage(5, 9) == SUPPRESSED  # denominator under 10
    assert disclose_percentage(0, 9) == SUPPRESSED
    assert disclose_percentage(0, 0) is None
    assert disclose_percentage(3, 40) == SUPPRESSED  # numerator 1-7
    assert disclose_percentage(37, 40) == SUPPRESSED  # complement 1-7
    assert disclose_percentage(3, 40, protect_small_counts=False) == 7.5
    assert disclose_percentage(0, 40) == 0.0
    assert disclose_percentage(40, 40) == 100.0
    assert disclose_percentage(12, 4000, scale=1000.0, decimals=2) == 3.0


def test_statistics_need_ten_people() -> None:
    assert disclose_statistic(2.345, 9) == SUPPRESSED
    assert disclose_statistic(2.345, 10, decimals=2) == 2.35
    assert disclose_statistic(None, 50) is None


# ---------------------------------------------------------------------------- vectors


def test_single_suppressed_group_gets_a_partner() -> None:
    counts = [40, 3, 25, 60, 12, 30]
    protected = protect_counts(counts)
    assert protected.primary == {1}
    assert protected.secondary == {4}  # the next smallest
    assert protected.values == (40, "*", 25, 60, "*", 30)
    assert protected.total == 170  # whole game: exact
    assert recoverable_vector_cells(6, {1}, True) == {1}  # without the partner: recoverable
    assert recoverable_vector_cells(6, set(protected.suppressed), True) == set()


def test_zero_groups_are_partners_only_as_a_last_resort() -> None:
    protected = protect_counts([0, 0, 3, 0])
    assert protected.secondary == {0}
    assert protected.values == ("*", 0, "*", 0)


def test_two_small_groups_need_no_partner() -> None:
    protected = protect_counts([2, 5, 40, 60])
    assert protected.secondary == frozenset()


def test_sub_game_total_is_itself_controlled() -> None:
    protected = protect_counts([2, 3, 0], total_exact=False)
    assert protected.total == "*"
    assert protected.secondary == frozenset()
    rounded = protect_counts([20, 3, 18], total_exact=False)
    assert rounded.total == 40  # 41 rounded
    assert rounded.suppressed == {1, 2}


def test_complementary_suppression_respects_eligibility() -> None:
    hidden = complementary_suppression([5, 10, 20], {0}, eligible=[True, False, True])
    assert hidden == {0, 2}
    assert complementary_suppression([5, 10], {0}, total_published=False) == {0}


def test_percentage_secondary_suppression() -> None:
    values = protect_percentages([3, 20, 30], [40, 50, 60])
    assert values == ["*", "*", 50.0]
    assert protect_percentages([20, 25], [40, 50]) == [50.0, 50.0]
    # a count hidden elsewhere hides its percentage
    assert protect_percentages([20, 25, 30], [40, 50, 60], also_hidden={2}) == ["*", 50.0, "*"]
    assert protect_percentages([0, 20], [0, 40]) == [None, 50.0]


def test_statistic_secondary_suppression() -> None:
    values, hidden = protect_statistics([1.5, 0.5, 0.7, None], [5, 40, 50, 0])
    assert values == ["*", "*", 0.7, None]
    assert hidden == {0, 1}


# ---------------------------------------------------------------------------- tables


def test_table_with_one_small_cell() -> None:
    counts = [[20, 3, 15], [12, 30, 18], [25, 22, 40]]
    assert recoverable_table_cells(counts, {(0, 1)}) == {(0, 1)}  # primary alone leaks
    result = protect_table(counts)
    assert result.primary == {(0, 1)}
    assert len(result.secondary) >= 3  # a rectangle at least
    _assert_table_safe(counts)


def test_table_small_total_is_suppressed_and_protected() -> None:
    counts = [[2, 1, 0], [30, 40, 50], [22, 35, 41]]
    result = protect_table(counts)
    assert result.row_totals[0] == SUPPRESSED
    _assert_table_safe(counts)


def test_table_bridge_between_two_blocks_is_closed() -> None:
    # Two 2x2 blocks of small cells joined by one small cell (0, 2): every row and column has
    # at least two suppressed cells, yet (0, 2) = rows 0+1 minus columns 0+1.
    big = 50
    counts = [
        [2, 3, 4, big, big],
        [5, 6, big, big, big],
        [big, big, 3, 4, big],
        [big, big, 5, 6, big],
        [big, big, big, big, big],
    ]
    primary = {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3)}
    assert (0, 2) in recoverable_table_cells(counts, primary)
    result = protect_table(counts)
    assert result.primary == primary
    _assert_table_safe(counts)


def test_single_column_table() -> None:
    counts = [[3], [40], [25], [60]]
    _assert_table_safe(counts)
    _assert_table_safe(counts, grand_total_exact=True)


def test_exact_grand_total() -> None:
    counts = [[20, 3, 15], [12, 30, 18]]
    result = protect_table(counts, grand_total_exact=True)
    assert result.grand_total == 98
    _assert_table_safe(counts, grand_total_exact=True)


def test_random_tables_never_leak() -> None:
    rng = random.Random(20270501)
    for _ in range(300):
        m, n = rng.randint(1, 5), rng.randint(2, 5)
        counts = [
            [rng.choice([0, 0, 1, 2, 3, 5, 7, 8, 9, 12, 15, 30, 64]) for _ in range(n)]
            for _ in range(m)
        ]
        _assert_table_safe(counts)
        _assert_table_safe(counts, grand_total_exact=True)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda m: st.lists(
            st.lists(st.integers(min_value=0, max_value=40), min_size=3, max_size=3),
            min_size=m,
            max_size=m,
        )
    )
)
def test_property_tables_never_leak(counts: list[list[int]]) -> None:
    _assert_table_safe(counts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=7))
def test_property_vectors_never_leak(counts: list[int]) -> None:
    protected = protect_counts(counts)
    leaked = recoverable_vector_cells(len(counts), set(protected.suppressed), True)
    assert leaked == set(protected.unprotected)
    if len(counts) > 1:
        assert leaked == set()
    assert all(_published_ok(v) for v in protected.values)
    assert protected.total == sum(counts)
