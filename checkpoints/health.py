"""Box health for organisers: which boxes need a visit today.

A box is ``silent`` after 2 hours without contact (heartbeat or upload) counted only in
the game's daytime hours (``daytime_start_hour`` to ``daytime_end_hour``, local time): a
box that went quiet at 20:30 is not flagged at 07:00 the next morning, but is by 08:30.
``low_battery`` is under 15 %, ``clock_skewed`` a last clock error over 120 s,
``counter_conflicts`` any reused seq with other content. Boxes needing a visit come first,
the most urgent problem first; disabled boxes (taken out of service) come last.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints import repository as repo
from checkpoints.models import Reader
from game.models import Game
from kernel import csv_writer

SILENT_AFTER = timedelta(hours=2)
LOW_BATTERY_PCT = 15
CLOCK_SKEW_S = 120.0

SILENT, LOW_BATTERY, CLOCK_SKEWED = "silent", "low_battery", "clock_skewed"
COUNTER_CONFLICTS, DISABLED, OK = "counter_conflicts", "disabled", "ok"
# Most urgent first: a silent box may be broken or gone, a flat one soon will be.
VISIT_REASONS = (SILENT, LOW_BATTERY, COUNTER_CONFLICTS, CLOCK_SKEWED)

CSV_COLUMNS = (
    "reader_id",
    "checkpoint",
    "checkpoint_name",
    "statuses",
    "needs_visit",
    "last_contact_at",
    "last_heartbeat_at",
    "last_upload_at",
    "last_tap_at",
    "battery_pct",
    "firmware",
    "queue_depth",
    "clock_offset_s",
    "conflicts",
    "taps_today",
)


def _local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    moment = datetime.combine(day + timedelta(days=hour // 24), time(hour % 24), tzinfo=tz)
    return moment.astimezone(UTC)


def _daytime(day: date, tz: ZoneInfo, start_hour: int, end_hour: int) -> tuple[datetime, datetime]:
    """The daytime window that starts on local ``day`` (it may run past midnight)."""
    if start_hour == end_hour:
        return _local(day, 0, tz), _local(day, 24, tz)
    end_day = day if start_hour < end_hour else day + timedelta(days=1)
    return _local(day, start_hour, tz), _local(end_day, end_hour, tz)


def daytime_between(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    start_hour: int,
    end_hour: int,
    *,
    enough: timedelta = SILENT_AFTER,
) -> timedelta:
    """How much of ``[start, end)`` falls in daytime hours (counting stops at ``enough``)."""
    total = timedelta(0)
    if end <= start:
        return total
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    for _ in range(370):  # a year without any daytime means the window is empty
        if day > last or total >= enough:
            break
        lo, hi = _daytime(day, tz, start_hour, end_hour)
        overlap = min(hi, end) - max(lo, start)
        if overlap > timedelta(0):
            total += overlap
        day += timedelta(days=1)
    return total


def last_contact(reader: Reader) -> datetime | None:
    seen = [t for t in (reader.last_heartbeat_at, reader.last_upload_at) if t is not None]
    return max(seen) if seen else None


def statuses(reader: Reader, game: Game, now: datetime) -> list[str]:
    found: list[str] = []
    since = last_contact(reader) or max(reader.created_at, game.starts_at)
    until = min(now, game.ends_at)
    quiet = daytime_between(
        since, until, ZoneInfo(game.timezone), game.daytime_start_hour, game.daytime_end_hour
    )
    if quiet >= SILENT_AFTER:
        found.append(SILENT)
    if reader.battery_pct is not None and reader.battery_pct < LOW_BATTERY_PCT:
        found.append(LOW_BATTERY)
    if (reader.conflicts or 0) > 0:
        found.append(COUNTER_CONFLICTS)
    if reader.clock_offset_s is not None and abs(reader.clock_offset_s) > CLOCK_SKEW_S:
        found.append(CLOCK_SKEWED)
    if reader.disabled:
        found.append(DISABLED)
    return found or [OK]


def _sort_key(box: dict[str, Any]) -> tuple[Any, ...]:
    if box["needs_visit"]:
        group = 0
        urgency = min(VISIT_REASONS.index(s) for s in box["statuses"] if s in VISIT_REASONS)
    else:
        group, urgency = (2 if DISABLED in box["statuses"] else 1), 0
    contact = box["last_contact_at"]
    return (group, urgency, contact is not None, contact or datetime.min, box["reader_id"])


async def boxes(session: AsyncSession, game: Game, now: datetime) -> tuple[date, list[dict]]:
    """Every box of the game with its health, needs-a-visit first; and today's local date."""
    today = now.astimezone(ZoneInfo(game.timezone)).date()
    taps_today = await repo.taps_on(session, game.id, today)
    out = []
    for reader, code, name in await repo.readers_of_game(session, game.id):
        found = statuses(reader, game, now)
        out.append(
            {
                "reader_id": reader.id,
                "checkpoint": code,
                "checkpoint_name": name,
                "statuses": found,
                "needs_visit": not reader.disabled and any(s in VISIT_REASONS for s in found),
                "last_contact_at": last_contact(reader),
                "last_heartbeat_at": reader.last_heartbeat_at,
                "last_upload_at": reader.last_upload_at,
                "last_tap_at": reader.last_tap_at,
                "battery_pct": reader.battery_pct,
                "firmware": reader.firmware,
                "queue_depth": reader.queue_depth,
                "clock_offset_s": reader.clock_offset_s,
                "conflicts": reader.conflicts or 0,
                "taps_today": taps_today.get(reader.id, 0),
            }
        )
    out.sort(key=_sort_key)
    return today, out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return " ".join(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv_writer.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()
