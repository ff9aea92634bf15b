"""Shared builders for the leaderboard tests (imported by basename: tests/ is no package)."""

from __future__ import annotations

import random
from typing import Any

from kernel.vocabulary import TEAM_KINDS
from leaderboard.models import (
    BoardChanges,
    BoardSnapshot,
    PlayerDelta,
    PlayerRecord,
    TeamDelta,
    TeamRecord,
)
from leaderboard.store import LeaderboardStore


def team(
    code: str,
    points: int = 0,
    *,
    name: str | None = None,
    kind: str = "school",
    distance_m: int = 0,
    members: int = 5,
) -> TeamRecord:
    return TeamRecord(code, name or code, kind, points, distance_m, members)


def player(
    holder: str,
    points: int = 0,
    *,
    nickname: str | None = None,
    distance_m: int = 0,
    public: bool = True,
    team: str | None = None,
) -> PlayerRecord:
    return PlayerRecord(holder, nickname or holder, points, distance_m, public, team)


def random_changes(
    rng: random.Random, n_teams: int, n_players: int, batches: int
) -> list[BoardChanges]:
    """Delta batches that create, score, rename and re-kind teams and players."""
    out = []
    for b in range(batches):
        teams = []
        for _ in range(rng.randint(1, n_teams)):
            code = f"T{rng.randrange(n_teams):03d}"
            first = b == 0
            teams.append(
                TeamDelta(
                    code,
                    points=rng.choice([0, 10, 10, 20, 5]),
                    distance_m=rng.choice([0, 800, 1234]),
                    active_members=rng.choice([0, 0, 1, 2]),
                    name=f"Team {rng.choice('ABCDE')}" if first or rng.random() < 0.1 else None,
                    kind=rng.choice(TEAM_KINDS) if first or rng.random() < 0.1 else None,
                )
            )
        players = []
        for _ in range(rng.randint(1, n_players)):
            holder = f"H{rng.randrange(n_players):04d}"
            players.append(
                PlayerDelta(
                    holder,
                    points=rng.choice([0, 10, 20]),
                    distance_m=rng.choice([0, 800, 900]),
                    nickname=f"Fox {rng.choice('abc')}" if rng.random() < 0.3 else None,
                    public=rng.choice([True, False]) if rng.random() < 0.3 else None,
                    team=f"T{rng.randrange(n_teams):03d}" if rng.random() < 0.2 else None,
                )
            )
        out.append(BoardChanges(teams, players))
    return out


def fold(changes: list[BoardChanges], min_members: int = 5) -> BoardSnapshot:
    """The absolute snapshot the deltas add up to."""
    teams: dict[str, dict[str, Any]] = {}
    players: dict[str, dict[str, Any]] = {}
    for ch in changes:
        for t in ch.teams:
            r = teams.setdefault(t.code, {"name": t.code, "kind": "other", "p": 0, "d": 0, "m": 0})
            r["p"] += t.points
            r["d"] += t.distance_m
            r["m"] += t.active_members
            if t.name is not None:
                r["name"] = t.name
            if t.kind is not None:
                r["kind"] = t.kind
        for p in ch.players:
            u = players.setdefault(
                p.holder, {"nick": p.holder, "p": 0, "d": 0, "pub": False, "team": None}
            )
            u["p"] += p.points
            u["d"] += p.distance_m
            if p.nickname is not None:
                u["nick"] = p.nickname
            if p.public is not None:
                u["pub"] = p.public
            if p.team is not None:
                u["team"] = p.team
    return BoardSnapshot(
        tuple(
            TeamRecord(c, r["name"], r["kind"], r["p"], r["d"], r["m"]) for c, r in teams.items()
        ),
        tuple(
            PlayerRecord(h, u["nick"], u["p"], u["d"], u["pub"], u["team"])
            for h, u in players.items()
        ),
        min_members,
    )


async def read_everything(store: LeaderboardStore, game: str) -> dict[str, Any]:
    """Every board, every kind, whole and in pages, as plain data (without versions)."""
    out: dict[str, Any] = {}
    for by in ("total", "average", "distance"):
        for kind in (None, *TEAM_KINDS):
            page = await store.teams(game, by=by, kind=kind, limit=1000)
            out[f"{by}/{kind}"] = (page.total, [e.as_dict() for e in page.entries])
            paged = []
            for offset in range(0, page.total, 7):
                part = await store.teams(game, by=by, kind=kind, limit=7, offset=offset)
                paged += [e.as_dict() for e in part.entries]
            assert paged == out[f"{by}/{kind}"][1]
    page_p = await store.players(game, limit=1000)
    out["players"] = (page_p.total, [e.as_dict() for e in page_p.entries])
    return out
