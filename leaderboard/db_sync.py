"""Between the database (the truth) and the boards: snapshots and score deltas.

Distances pass through unrounded: a snapshot carries the stored totals and a delta the
exact differences that were added to them, so the boards' sums are the database's sums
(rounding each delta instead would drift by up to half a metre per upload).

Boards are keyed by game slug. Only registered, not erased players who allow public
display appear on the players board, by the name ``people.players.public_name`` gives: the
nickname, ``Player <id>`` for a hidden one, the made-up public name of a player under 16
whose parent did not choose to show the nickname. No other name reaches a store.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Game, HolderTotal, Team, TeamTotal
from kernel.db import is_postgres
from leaderboard.models import (
    BoardChanges,
    BoardSnapshot,
    PlayerDelta,
    PlayerRecord,
    TeamDelta,
    TeamRecord,
)
from people.models import Player
from people.players import public_name


def _board_name(player: Player) -> str | None:
    return public_name(player)


async def load_snapshot(session: AsyncSession, game_id: int) -> BoardSnapshot:
    """The game's boards from the stored totals. Given a session that has not begun a
    transaction, on PostgreSQL it reads them in one REPEATABLE READ snapshot and records
    it (``BoardSnapshot.xact_snapshot``), so the swap counts concurrent uploads once."""
    xact_snapshot = None
    if is_postgres(session) and not session.in_transaction():
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        xact_snapshot = await session.scalar(text("SELECT pg_current_snapshot()::text"))
    game = await session.get(Game, game_id)
    assert game is not None
    team_rows = await session.execute(
        select(Team.id, Team.code, Team.name, Team.kind, TeamTotal)
        .outerjoin(TeamTotal, (TeamTotal.team_id == Team.id) & (TeamTotal.game_id == game_id))
        .where(Team.game_id == game_id)
    )
    codes: dict[int, str] = {}
    teams = []
    for team_id, code, name, kind, total in team_rows:
        codes[team_id] = code
        teams.append(
            TeamRecord(
                code=code,
                name=name,
                kind=kind,
                points=total.points if total else 0,
                distance_m=total.distance_m if total else 0.0,
                active_members=total.active_members if total else 0,
            )
        )
    player_rows = await session.execute(
        select(Player, HolderTotal.points, HolderTotal.distance_m)
        .outerjoin(
            HolderTotal,
            (HolderTotal.holder_id == Player.holder_id) & (HolderTotal.game_id == game_id),
        )
        .where(Player.game_id == game_id)
    )
    players = [
        PlayerRecord(
            holder=str(p.holder_id),
            nickname=_board_name(p) or "",
            points=points or 0,
            distance_m=distance or 0.0,
            public=_board_name(p) is not None,
            team=codes.get(p.team_id) if p.team_id else None,
        )
        for p, points, distance in player_rows
        if p.nickname
    ]
    return replace(
        BoardSnapshot.of(teams, players, min_members_for_average=game.min_members_for_average),
        xact_snapshot=xact_snapshot,
    )


async def changes_from_delta(session: AsyncSession, game_id: int, delta: Any) -> BoardChanges:
    """Board changes for a scoring delta (game.totals.TotalsDelta)."""
    team_ids = sorted({team_id for _, team_id in delta.teams})
    teams: list[TeamDelta] = []
    if team_ids:
        rows = await session.execute(
            select(Team.id, Team.code, Team.name, Team.kind).where(Team.id.in_(team_ids))
        )
        for team_id, code, name, kind in rows:
            values = delta.teams[(game_id, team_id)]
            teams.append(
                TeamDelta(
                    code=code,
                    points=int(values["points"]),
                    distance_m=float(values["distance_m"]),
                    active_members=int(values["active_members"]),
                    name=name,
                    kind=kind,
                )
            )
    holder_ids = sorted({holder_id for _, holder_id in delta.holders})
    players: list[PlayerDelta] = []
    if holder_ids:
        player_rows = await session.execute(
            select(Player, Team.code)
            .outerjoin(Team, Team.id == Player.team_id)
            .where(Player.game_id == game_id, Player.holder_id.in_(holder_ids))
        )
        for player, team_code in player_rows:
            if not player.nickname:
                continue
            values = delta.holders[(game_id, player.holder_id)]
            players.append(
                PlayerDelta(
                    holder=str(player.holder_id),
                    points=int(values["points"]),
                    distance_m=float(values["distance_m"]),
                    nickname=_board_name(player) or "",
                    public=_board_name(player) is not None,
                    team=team_code,
                )
            )
    return BoardChanges(teams=teams, players=players)
