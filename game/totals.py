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
        for sign, side in ((-1, old), (1, new)):
            if side is None or side.outcome is None:
                continue
            counted = int(side.outcome != OUT_OF_GAME)
            leg = int(side.outcome in _LEGS)
            values = {
                "taps": sign,
                "counted_taps": sign * counted,
                "legs": sign * leg,
                "points": sign * side.points,
                "distance_m": sign * side.distance_m,
            }
            add_values(self.holders, (game_id, holder_id), values)
            if side.local_date is not None:
                add_values(self.days, (game_id, holder_id, side.local_date), values)
            if side.team_id is not None:
                team_values = {k: v for k, v in values.items() if k != "taps"}
                add_values(self.holder_teams, (game_id, holder_id, side.team_id), team_values)
        old_points = old.points if old is not None and old.outcome is not None else 0
        new_points = new.points if new is not None and new.outcome is not None else 0
        self.points_moved += abs(new_points - old_points)

    def is_empty(self) -> bool:
        return not self.holders


def add_values(target: dict[Any, dict[str, Any]], key: Any, values: dict[str, Any]) -> None:
    row = target.setdefault(key, dict.fromkeys(values, 0))
    for name, value in values.items():
        row[name] = row.get(name, 0) + value
