"""In-process store: the embedded default for a single server process.

Each board is a list of (sort score, member) kept sorted with bisect, so a write moves
O(log N + memmove) and a read is O(log N + page). Every method runs without awaiting
between reading and writing state, so each call is atomic on the event loop.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left, insort
from dataclasses import dataclass, field

from leaderboard.models import (
    DEFAULT_MIN_MEMBERS,
    BoardChanges,
    BoardPage,
    BoardSnapshot,
    PlayerEntry,
    TeamEntry,
    check_kind,
)
from leaderboard.ranking import (
    average_score,
    competition_ranks,
    distance_score,
    member,
    player_score,
    total_score,
)
from leaderboard.store import (
    LeaderboardStore,
    check_page,
    player_entry,
    team_entry,
    team_segments,
)

_YIELD_EVERY = 2000


class _Board:
    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: list[tuple[float, str]] = []

    def add(self, score: float, mem: str) -> None:
        insort(self.keys, (score, mem))

    def remove(self, score: float, mem: str) -> None:
        i = bisect_left(self.keys, (score, mem))
        if i < len(self.keys) and self.keys[i] == (score, mem):
            del self.keys[i]

    def better_than(self, score: float) -> int:
        return bisect_left(self.keys, (score,))


@dataclass(slots=True)
class _Team:
    code: str
    name: str
    kind: str
    points: int = 0
    distance_m: float = 0.0
    active_members: int = 0
    member: str = ""


@dataclass(slots=True)
class _Player:
    holder: str
    nickname: str
    points: int = 0
    distance_m: float = 0.0
    public: bool = False
    team: str | None = None
    member: str = ""


@dataclass(slots=True)
class _Game:
    min_members: int = DEFAULT_MIN_MEMBERS
    version: int = 0
    teams: dict[str, _Team] = field(default_factory=dict)
    players: dict[str, _Player] = field(default_factory=dict)
    boards: dict[str, _Board] = field(default_factory=dict)

    def board(self, name: str) -> _Board:
        b = self.boards.get(name)
        if b is None:
            b = self.boards[name] = _Board()
        return b

    def team_places(self, t: _Team) -> list[tuple[str, float]]:
        avg_board = "avg" if t.active_members >= self.min_members else "avgx"
        avg = average_score(t.points, t.active_members)
        places = []
        for k in ("all", t.kind):
            places += [
                (f"teams:total:{k}", total_score(t.points)),
                (f"teams:distance:{k}", distance_score(t.distance_m)),
                (f"teams:{avg_board}:{k}", avg),
            ]
        return places

    def place_team(self, t: _Team, add: bool) -> None:
        for name, score in self.team_places(t):
            b = self.board(name)
            (b.add if add else b.remove)(score, t.member)

    def place_player(self, p: _Player, add: bool) -> None:
        if p.public:
            b = self.board("players")
            (b.add if add else b.remove)(player_score(p.points, p.distance_m), p.member)

    def page(self, names: list[str], offset: int, limit: int) -> tuple[list[tuple[int, str]], int]:
        """(rank, member) for board positions [offset, offset + limit) over the segments."""
        segments = [self.boards.get(n) or _Board() for n in names]
        total = sum(len(s.keys) for s in segments)
        out: list[tuple[int, str]] = []
        before = 0
        for seg in segments:
            n = len(seg.keys)
            start = offset + len(out) - before
            if len(out) < limit and 0 <= start < n:
                items = seg.keys[start : start + limit - len(out)]
                scores = [s for s, _ in items]
                first = before + seg.better_than(scores[0]) + 1
                ranks = competition_ranks(scores, first, before + start)
                out += [(r, m) for r, (_, m) in zip(ranks, items, strict=True)]
            before += n
        return out, total

    def position(self, names: list[str], score: float, mem: str) -> int | None:
        before = 0
        for n in names:
            seg = self.boards.get(n) or _Board()
            i = bisect_left(seg.keys, (score, mem))
            if i < len(seg.keys) and seg.keys[i] == (score, mem):
                return before + i
            before += len(seg.keys)
        return None


def _team_score(by: str, t: _Team) -> float:
    if by == "total":
        return total_score(t.points)
    if by == "distance":
        return distance_score(t.distance_m)
    return average_score(t.points, t.active_members)


class MemoryStore(LeaderboardStore):
    def __init__(self) -> None:
        self._games: dict[str, _Game] = {}

    async def apply(self, game: str, changes: BoardChanges) -> int:
        for td in changes.teams:
            check_kind(td.kind)
        g = self._games.get(game)
        if g is None:
            g = self._games[game] = _Game()
        for td in changes.teams:
            t = g.teams.get(td.code)
            if t is None:
                t = _Team(td.code, td.code, "other", member=member(td.code, td.code))
                g.teams[td.code] = t
            else:
                g.place_team(t, add=False)
            t.points += td.points
            t.distance_m += td.distance_m
            t.active_members += td.active_members
            if td.name is not None:
                t.name = td.name
                t.member = member(td.name, td.code)
            if td.kind is not None:
                t.kind = td.kind
            g.place_team(t, add=True)
        for pd in changes.players:
            p = g.players.get(pd.holder)
            if p is None:
                p = _Player(pd.holder, pd.holder, member=member(pd.holder, pd.holder))
                g.players[pd.holder] = p
            else:
                g.place_player(p, add=False)
            p.points += pd.points
            p.distance_m += pd.distance_m
            if pd.nickname is not None:
                p.nickname = pd.nickname
                p.member = member(pd.nickname, pd.holder)
            if pd.public is not None:
                p.public = pd.public
            if pd.team is not None:
                p.team = pd.team
            g.place_player(p, add=True)
        g.version += 1
        return g.version

    async def replace(self, game: str, snapshot: BoardSnapshot) -> int:
        for tr in snapshot.teams:
            check_kind(tr.kind)
        g = _Game(min_members=snapshot.min_members_for_average)
        for i, tr in enumerate(snapshot.teams, 1):
            t = _Team(
                tr.code,
                tr.name,
                tr.kind,
                tr.points,
                tr.distance_m,
                tr.active_members,
                member(tr.name, tr.code),
            )
            g.teams[t.code] = t
            for name, score in g.team_places(t):
                g.board(name).keys.append((score, t.member))
            if i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        for i, pr in enumerate(snapshot.players, 1):
            p = _Player(
                pr.holder,
                pr.nickname,
                pr.points,
                pr.distance_m,
                pr.public,
                pr.team,
                member(pr.nickname, pr.holder),
            )
            g.players[p.holder] = p
            if p.public:
                g.board("players").keys.append((player_score(p.points, p.distance_m), p.member))
            if i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        for b in g.boards.values():
            b.keys.sort()
        old = self._games.get(game)
        g.version = (old.version if old else 0) + 1
        self._games[game] = g
        return g.version

    async def exists(self, game: str) -> bool:
        return game in self._games

    async def version(self, game: str) -> int:
        g = self._games.get(game)
        return g.version if g else 0

    async def delete(self, game: str) -> None:
        self._games.pop(game, None)

    def _team_page(
        self, g: _Game, names: list[str], offset: int, limit: int
    ) -> BoardPage[TeamEntry]:
        rows, total = g.page(names, offset, limit)
        entries = []
        for rank, mem in rows:
            t = g.teams[mem.split("\x00", 1)[1]]
            entries.append(
                team_entry(
                    rank,
                    t.code,
                    t.name,
                    t.kind,
                    t.points,
                    t.distance_m,
                    t.active_members,
                    g.min_members,
                )
            )
        return BoardPage(entries, total, g.version)

    def _player_page(self, g: _Game, offset: int, limit: int) -> BoardPage[PlayerEntry]:
        rows, total = g.page(["players"], offset, limit)
        entries = []
        for rank, mem in rows:
            p = g.players[mem.split("\x00", 1)[1]]
            entries.append(player_entry(rank, p.nickname, p.points, p.distance_m))
        return BoardPage(entries, total, g.version)

    async def teams(
        self,
        game: str,
        by: str = "total",
        kind: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> BoardPage[TeamEntry]:
        names = team_segments(by, kind)
        check_page(limit, offset)
        g = self._games.get(game)
        if g is None:
            return BoardPage()
        return self._team_page(g, names, offset, limit)

    async def players(self, game: str, limit: int = 20, offset: int = 0) -> BoardPage[PlayerEntry]:
        check_page(limit, offset)
        g = self._games.get(game)
        if g is None:
            return BoardPage()
        return self._player_page(g, offset, limit)

    async def team_around(
        self, game: str, by: str, code: str, n: int = 3, kind: str | None = None
    ) -> BoardPage[TeamEntry] | None:
        names = team_segments(by, kind)
        g = self._games.get(game)
        t = g.teams.get(code) if g else None
        if g is None or t is None or (kind is not None and t.kind != kind):
            return None
        pos = g.position(names, _team_score(by, t), t.member)
        if pos is None:
            return None
        return self._team_page(g, names, max(0, pos - n), 2 * n + 1)

    async def player_around(
        self, game: str, holder: str, n: int = 3
    ) -> BoardPage[PlayerEntry] | None:
        g = self._games.get(game)
        p = g.players.get(holder) if g else None
        if g is None or p is None or not p.public:
            return None
        pos = g.position(["players"], player_score(p.points, p.distance_m), p.member)
        if pos is None:
            return None
        return self._player_page(g, max(0, pos - n), 2 * n + 1)
