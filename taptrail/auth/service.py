"""Issuing tokens for a scope named by slugs and codes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Game, Team
from taptrail import audit
from taptrail.auth.tokens import create_token


async def create_cli_token(
    session: AsyncSession,
    *,
    role: str,
    game_slug: str | None,
    team_code: str | None,
    label: str | None,
) -> str:
    game_id: int | None = None
    team_id: int | None = None
    if game_slug is not None:
        game = await session.scalar(select(Game).where(Game.slug == game_slug))
        if game is None:
            raise ValueError(f"no game '{game_slug}'")
        game_id = game.id
    if role == "team_manager":
        if game_id is None or team_code is None:
            raise ValueError("a team_manager token needs --game and --team")
        team = await session.scalar(
            select(Team).where(Team.game_id == game_id, Team.code == team_code)
        )
        if team is None:
            raise ValueError(f"no team '{team_code}' in {game_slug}")
        team_id = team.id
    elif team_code is not None:
        raise ValueError("--team only goes with --role team_manager")
    if role == "evaluator" and game_id is None:
        raise ValueError("an evaluator token needs --game")
    value = await create_token(session, role=role, game_id=game_id, team_id=team_id, label=label)
    audit.record(
        session, actor="cli", action="token.create", game_id=game_id, role=role, team=team_code
    )
    return value
