"""The leaderboard store interface and the board layout both backends share.

Every team sits on these boards (``k`` is "all" and the team's own kind):
``teams:total:k``, ``teams:distance:k`` and, for the average, ``teams:avg:k`` while it has
at least ``min_members_for_average`` active members, else ``teams:avgx:k``. The average
board is read as ``avg`` followed by ``avgx``, so not-yet-eligible teams come after all
others; their ranks continue from there. Public players sit on ``players``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from kernel import geodesy
from leaderboard.models import (
    BOARD_NAMES,
    BoardChanges,
    BoardPage,
    BoardSnapshot,
    PlayerEntry,
    TeamEntry,
    check_by,
    check_kind,
)
from leaderboard.ranking import average, whole_metres

# Stores accept bigger pages than the API (which caps at 100) for exports and the fan-out.
MAX_READ = 1000


def team_segments(by: str, kind: str | None) -> list[str]:
    """Board names read, in order, for a team board."""
    check_by(by)
    check_kind(kind)
    k = kind or "all"
    if by == "average":
        return [f"teams:avg:{k}", f"teams:avgx:{k}"]
    return [f"teams:{by}:{k}"]


def all_board_keys(kinds: tuple[str, ...]) -> list[str]:
    """Every board name a game can have (used to swap in a rebuilt game)."""
    names = ["players"]
    for k in ("all", *kinds):
        names += [f"teams:total:{k}", f"teams:distance:{k}", f"teams:avg:{k}", f"teams:avgx:{k}"]
    return names


def team_entry(
    rank: int,
    code: str,
    name: str,
    kind: str,
    points: int,
    distance_m: float,
    active_members: int,
    min_members: int,
) -> TeamEntry:
    # Positional (rank, team, name, kind, points, active_members, average, distance_km,
    # eligible): a board page makes one per entry, and keywords cost a third more.
    return TeamEntry(
        rank,
        code,
        name,
        kind,
        points,
        active_members,
        round(average(points, active_members), 2),
        km(distance_m),
        active_members >= min_members,
    )


def km(distance_m: float) -> float:
    """A stored distance as shown: the whole metres it ranks by, in km."""
    return geodesy.km(whole_metres(distance_m))


def player_entry(rank: int, nickname: str, points: int, distance_m: float) -> PlayerEntry:
    return PlayerEntry(rank, nickname, points, km(distance_m))


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_READ:
        raise ValueError("limit out of range")
    if offset < 0:
        raise ValueError("offset must be >= 0")


class LeaderboardStore(ABC):
    """Boards of every game, keyed by game slug. All methods are safe to call concurrently."""

    @abstractmethod
    async def apply(self, game: str, changes: BoardChanges) -> int:
        """Apply deltas and metadata upserts atomically; returns the game's new version."""

    @abstractmethod
    async def replace(self, game: str, snapshot: BoardSnapshot) -> int:
        """Rebuild the game's boards from absolute values and swap them in atomically."""

    @abstractmethod
    async def exists(self, game: str) -> bool: ...

    @abstractmethod
    async def version(self, game: str) -> int:
        """0 for a game that has no boards."""

    @abstractmethod
    async def delete(self, game: str) -> None: ...

    @abstractmethod
    async def teams(
        self,
        game: str,
        by: str = "total",
        kind: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> BoardPage[TeamEntry]: ...

    @abstractmethod
    async def players(self, game: str, limit: int = 20, offset: int = 0) -> BoardPage[PlayerEntry]:
        """Public players only."""

    @abstractmethod
    async def team_around(
        self, game: str, by: str, code: str, n: int = 3, kind: str | None = None
    ) -> BoardPage[TeamEntry] | None:
        """The team with up to n entries either side; None if it is not on that board."""

    @abstractmethod
    async def player_around(
        self, game: str, holder: str, n: int = 3
    ) -> BoardPage[PlayerEntry] | None:
        """The holder with up to n public players either side; None unless it is public."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass

    async def board(self, game: str, board: str, kind: str | None, limit: int) -> BoardPage[Any]:
        """Top entries of a board named as on the live socket ("teams-total", "players")."""
        if board not in BOARD_NAMES:
            raise ValueError(f"unknown board {board!r}")
        if board == "players":
            return await self.players(game, limit=limit)
        return await self.teams(game, by=board.removeprefix("teams-"), kind=kind, limit=limit)
