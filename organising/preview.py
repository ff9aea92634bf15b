"""What a change that re-scores would do to the teams, for a page that asks before applying.

The caller makes the change inside its transaction (the service re-scores as it would for
real), reads ``team_points`` before and after, and then rolls the transaction back:
``points_moved`` is the preview (taps scored again, points moved, and each team whose points
would change, with its points now and after). Campaigns that reach back in time, a game
file's changes and a box's moved place are all previewed this way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from leaderboard.db_sync import load_snapshot
from scoring.rescore import RescoreReport

TeamPoints = dict[str, tuple[str, int]]


@dataclass
class PointsMoved:
    taps: int = 0
    moved: int = 0
    # (team name, points now, points after), by team code; only teams whose points change.
    teams: list[tuple[str, int, int]] = field(default_factory=list)


async def team_points(session: AsyncSession, game_id: int) -> TeamPoints:
    """Every team's name and points, by team code, as the database has them now."""
    snap = await load_snapshot(session, game_id)
    return {t.code: (t.name, t.points) for t in snap.teams}


def points_moved(
    before: TeamPoints, after: TeamPoints, report: RescoreReport | None = None
) -> PointsMoved:
    teams = [
        (name, points, after.get(code, (name, points))[1])
        for code, (name, points) in sorted(before.items())
        if after.get(code, (name, points))[1] != points
    ]
    if report is None:
        return PointsMoved(teams=teams)
    return PointsMoved(report.taps, report.points_moved, teams)
