"""Activity bands chosen from the data, and the generalisation hierarchies they give (pure).

Exact activity (points, distance, taps...) is never released: the public players board shows
points and distance by nickname, so an exact total is a key to a child's record. A measure is
released as a *band*. The finest bands are quantile bands of the measure's positive values
(:data:`FINEST_BANDS` of them), their edges rounded to two significant figures (a band edge
never repeats someone's exact total); zero is a band of its own. Each coarser level merges
neighbouring pairs of bands (16 -> 8 -> 4 -> 2 -> 1 positive band, ``"1+"``: played or not),
and the last level is ``"any"``. The k-anonymity planner climbs these levels.

Band labels: ``"0"``; integers ``"a-b"`` (a to b inclusive) or ``"a"``; distances ``"a-b"``
(a km or more, less than b km); the top band is open: ``"a+"``.

Only a histogram of each measure is needed (distinct values, with distances to 0.1 km), so
bands are chosen in memory bounded by the range of values, not by the number of records.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["ANY", "FINEST_BANDS", "Bands", "bands_from_histogram", "histogram_value"]

ANY: Final = "any"
FINEST_BANDS: Final = 16


def histogram_value(value: float | int | None, *, integer: bool) -> float:
    """The value as counted in a histogram: integers as they are, distances to 0.1 km."""
    if value is None:
        return 0.0
    return float(int(value)) if integer else round(float(value), 1)


def _nice(x: float, *, integer: bool) -> float:
    """Round down to two significant figures (integers stay integers, at least 1)."""
    if x <= 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(x)) - 1)
    nice = math.floor(x / scale) * scale
    if integer:
        return float(max(1, int(round(nice))))
    return round(nice, 10)


def _fmt(x: float, integer: bool) -> str:
    return str(int(x)) if integer else f"{x:g}"


@dataclass(frozen=True, slots=True)
class Bands:
    """Bands of one measure: ``edges`` are the lower bounds of the positive bands."""

    column: str
    integer: bool
    edges: tuple[float, ...]

    @property
    def levels(self) -> int:
        """Levels of positive bands (16, 8, ... 1); level ``levels`` is ``"any"``."""
        n, levels = len(self.edges), 1
        while n > 1:
            n = (n + 1) // 2
            levels += 1
        return levels

    def index(self, value: float | int | None) -> int:
        """-1 for zero, else the finest band holding ``value``."""
        v = histogram_value(value, integer=self.integer)
        if v <= 0 or not self.edges:
            return -1
        lo, hi = 0, len(self.edges) - 1
        while lo < hi:  # the last edge <= v
            mid = (lo + hi + 1) // 2
            if self.edges[mid] <= v:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def label(self, index: int, level: int) -> str:
        """The released label of finest band ``index`` at ``level``."""
        if level >= self.levels:
            return ANY
        if index < 0:
            return "0"
        group = index >> level
        first = group << level
        after = (group + 1) << level
        lo = self.edges[first]
        if after >= len(self.edges):
            return f"{_fmt(lo, self.integer)}+"
        hi = self.edges[after]
        if self.integer:
            top = hi - 1
            return _fmt(lo, True) if top == lo else f"{_fmt(lo, True)}-{_fmt(top, True)}"
        return f"{_fmt(lo, False)}-{_fmt(hi, False)}"

    def labels(self, level: int) -> list[str]:
        """Every label of ``level``, in order (the allowed codes of the column)."""
        out = ["0"] if level < self.levels else [ANY]
        if level < self.levels:
            out += list(dict.fromkeys(self.label(i, level) for i in range(len(self.edges))))
        return out

    def meaning(self, label: str) -> str:
        if label == ANY:
            return "not released (generalised away)"
        if label == "0":
            return "none"
        unit = "" if self.integer else " km"
        if label.endswith("+"):
            return f"{label[:-1]}{unit} or more"
        lo, sep, hi = label.partition("-")
        if not sep:
            return f"exactly {lo}{unit}"
        if self.integer:
            return f"{lo} to {hi}"
        return f"{lo} km or more, less than {hi} km"


def bands_from_histogram(
    column: str, histogram: Mapping[float, int], *, integer: bool, bands: int = FINEST_BANDS
) -> Bands:
    """Quantile bands of the positive values in ``histogram`` (value -> records)."""
    positive = sorted((v, n) for v, n in histogram.items() if v > 0 and n > 0)
    total = sum(n for _, n in positive)
    edges: list[float] = []
    if total:
        first = 1.0 if integer else 0.0
        edges.append(first)
        seen, cut = 0, 1
        for value, n in positive:
            while cut < bands and seen >= cut * total / bands:
                edge = _nice(value, integer=integer)
                if edge > edges[-1]:
                    edges.append(edge)
                cut += 1
            seen += n
    return Bands(column, integer, tuple(edges))
