"""What a change of outcomes does to the stored totals (``game.models``' holder, holder-team,
day and team totals): the differences, keyed like their tables. Scoring fills them; the
caller publishes them to the boards after its commit. Pure data: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kernel.vocabulary import CAPPED, LEG, OUT_OF_GAME

_LEGS = frozenset((LEG, CAPPED))


@dataclass
class TotalsDelta:
    """Differences to add to the stored totals, keyed like their tables."""

    holders: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    holder_teams: dict[tuple[int, int, int], dict[str, Any]] = field(default_factory=dict)
    days: dict[tuple[int, int, date], dict[str, Any]] = field(default_factory=dict)
    # Filled by apply_delta: the team totals' differences, active members included.
    teams: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    points_moved: int = 0

    def add(self, game_id: int, holder_id: int, old: Any, new: Any) -> None:
        """Adds ``new``'s contribution and removes ``old``'s (objects with the outcome
        columns; None or an unscored one contributes nothing)."""
        # Called for every changed tap of a round: plain increments, no dicts per call.
        for sign, side in ((-1, old), (1, new)):
            if side is None or side.outcome is None:
                continue
            counted = sign if side.outcome != OUT_OF_GAME else 0
            leg = sign if side.outcome in _LEGS else 0
            points, distance = sign * side.points, sign * side.distance_m
            row = _row(self.holders, (game_id, holder_id), _HOLDER_FIELDS)
            _bump(row, sign, counted, leg, points, distance)
            if side.local_date is not None:
                row = _row(self.days, (game_id, holder_id, side.local_date), _HOLDER_FIELDS)
                _bump(row, sign, counted, leg, points, distance)
            if side.team_id is not None:
                row = _row(self.holder_teams, (game_id, holder_id, side.team_id), _TEAM_FIELDS)
                _bump(row, None, counted, leg, points, distance)
        old_points = old.points if old is not None and old.outcome is not None else 0
        new_points = new.points if new is not None and new.outcome is not None else 0
        self.points_moved += abs(new_points - old_points)

    def is_empty(self) -> bool:
        return not self.holders


# The columns a holder's (and a day's) row of differences carries; a holder-team row has
# no tap count.
_HOLDER_FIELDS = ("taps", "counted_taps", "legs", "points", "distance_m")
_TEAM_FIELDS = _HOLDER_FIELDS[1:]


def _row(target: dict[Any, dict[str, Any]], key: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    row = target.get(key)
    if row is None:
        row = target[key] = dict.fromkeys(fields, 0)
    return row


def _bump(
    row: dict[str, Any], taps: int | None, counted: int, legs: int, points: int, distance: float
) -> None:
    if taps is not None:
        row["taps"] += taps
    row["counted_taps"] += counted
    row["legs"] += legs
    row["points"] += points
    row["distance_m"] += distance


def add_values(target: dict[Any, dict[str, Any]], key: Any, values: dict[str, Any]) -> None:
    row = target.setdefault(key, dict.fromkeys(values, 0))
    for name, value in values.items():
        row[name] = row.get(name, 0) + value
