"""Times that come in from outside: one check at the boundary, so no time reaches the
domain that overflows when converted to UTC or that the platform has no use for.

- ``Moment``: an aware datetime from 2000-01-01T00:00:00Z (inclusive) to
  2100-01-01T00:00:00Z (exclusive). Every time a person or a file gives (game and
  campaign periods, checkpoint activity, reader moves, phone check-ins) is one: a game
  runs for weeks in this century, and the window keeps every conversion (to UTC, to a
  local zone, a day either side) far from the ends of the calendar (years 1 and 9999),
  where Python raises ``OverflowError``.
- ``ClockTime``: an aware datetime that can be converted to UTC, for what a box's own clock
  says (``sent_at``). A box whose clock was reset (to 1970, say) is corrected on arrival
  (docs/reader-protocol.md), so its times must not be held to the window; only to existing.

A value outside is a validation error naming the field (422 through the API, a line
naming the entry in a game file). A tap's own time in a reader upload is judged per tap
(``checkpoints.ingestion``), so one bad tap never costs its batch: see ``to_utc`` and
``in_window``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
WINDOW_TEXT = "2000-01-01T00:00:00Z (inclusive) and 2100-01-01T00:00:00Z (exclusive)"


def to_utc(value: datetime) -> datetime | None:
    """``value`` in UTC; None when that is not a datetime (before year 1 or after 9999)."""
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def in_window(value: datetime) -> bool:
    """Whether an aware datetime lies in the platform's window (see the module docstring)."""
    return EARLIEST <= value < LATEST


def _moment(value: datetime) -> datetime:
    if not in_window(value):
        raise ValueError(f"must be between {WINDOW_TEXT}")
    return value


def _clock_time(value: datetime) -> datetime:
    if to_utc(value) is None:
        raise ValueError("is not a time that exists in UTC (before year 1 or after year 9999)")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_moment)]
ClockTime = Annotated[AwareDatetime, AfterValidator(_clock_time)]
