"""Game set-up: loading definition files, and the public description of a game."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from game.definition import DefinitionError, load_text
from game.models import Game
from kernel.scope import GameScope
from kernel.secrets_box import SecretBox
from organising import repository as repo
from organising.loading import LoadResult, apply_definition
from scoring.incremental import rescore_holders
from scoring.rescore import rescore_game


async def load_definition(
    session: AsyncSession,
    text: str,
    *,
    box: SecretBox,
    actor: str,
    scope: GameScope,
    filename: str = "",
    expected_slug: str | None = None,
) -> LoadResult:
    """Validate and apply a file in the caller's transaction; re-scores what changed.

    ``scope``: the games the actor may change (see organising.loading on ownership); the command
    line passes ``kernel.scope.OPERATOR``, the API the caller's scope."""
    gf = load_text(text, filename=filename)
    if expected_slug is not None and gf.game.slug != expected_slug:
        raise DefinitionError(
            [f"game.slug: '{gf.game.slug}' does not match the address's '{expected_slug}'"]
        )
    result = await apply_definition(session, gf, box=box, actor=actor, scope=scope)
    if not result.created and (result.rescore_needed or result.holders_to_rescore):
        if result.rescore_needed:
            await rescore_game(session, result.game_id, actor=actor, reason="game file changed")
        else:
            await rescore_holders(session, result.game_id, result.holders_to_rescore)
    return result


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


async def describe(session: AsyncSession, game: Game, now: datetime) -> dict[str, Any]:
    checkpoints = await repo.checkpoints_of(session, game.id)
    campaigns = await repo.campaigns_of(session, game.id)
    return {
        "slug": game.slug,
        "name": game.name,
        "timezone": game.timezone,
        "starts_at": _iso(game.starts_at),
        "ends_at": _iso(game.ends_at),
        "rules": {
            "journey_window_minutes": game.journey_window_minutes,
            "points_per_leg": game.points_per_leg,
            "max_speed_kmh": game.max_speed_kmh,
            "max_points_per_day": game.max_points_per_day,
            "min_members_for_average": game.min_members_for_average,
        },
        "checkpoints": [
            {
                "code": c.code,
                "name": c.name,
                "lat": c.lat,
                "lon": c.lon,
                "tags": list(c.tags or []),
                "active": (c.active_from is None or c.active_from <= now)
                and (c.active_to is None or now < c.active_to),
            }
            for c in checkpoints
        ],
        "campaigns": [
            {
                "code": c.code,
                "name": c.name,
                "multiplier": float(c.multiplier),
                "starts_at": _iso(c.starts_at),
                "ends_at": _iso(c.ends_at),
                "checkpoint_tags": list(c.checkpoint_tags or []),
                "checkpoints": list(c.checkpoint_codes or []),
                "age_bands": list(c.age_bands or []),
                "active_now": c.starts_at <= now < c.ends_at,
            }
            for c in campaigns
        ],
    }
