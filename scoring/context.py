"""A game's scoring context: what the engine needs of the game (rules, checkpoints,
campaigns), cached per game and rules version (:func:`scoring_context`), and forgotten when
those change (:func:`forget_context`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Game
from scoring import engine, inputs


@dataclass(frozen=True)
class ScoringContext:
    game: engine.GameContext
    checkpoint_codes: dict[int, str]
    campaign_ids: dict[str, int]
    campaign_codes: dict[int, str] = field(default_factory=dict)
    # campaign code (None: no campaign) -> (campaign id, multiplier in thousandths)
    campaign_keys: dict[str | None, tuple[int | None, int]] = field(default_factory=dict)


_context_cache: dict[tuple[int, int, datetime], ScoringContext] = {}


async def scoring_context(session: AsyncSession, game: Game) -> ScoringContext:
    """The engine's view of a game, cached per (game, scoring version, last update).

    Every change that alters scoring re-scores the game, which bumps ``scoring_version``;
    a checkpoint added since caching is detected by the callers (see ``ensure_checkpoints``).
    """
    key = (game.id, game.scoring_version, game.updated_at)
    cached = _context_cache.get(key)
    if cached is not None:
        return cached
    cps = await inputs.checkpoints(session, game.id)
    camps = await inputs.campaigns(session, game.id)
    ctx = ScoringContext(
        game=engine.GameContext(
            rules=engine.Rules(
                starts_at=game.starts_at,
                ends_at=game.ends_at,
                timezone=game.timezone,
                journey_window_minutes=game.journey_window_minutes,
                points_per_leg=game.points_per_leg,
                max_speed_kmh=game.max_speed_kmh,
                max_points_per_day=game.max_points_per_day,
            ),
            checkpoints={
                c.code: engine.Checkpoint(
                    code=c.code,
                    lat=c.lat,
                    lon=c.lon,
                    tags=frozenset(c.tags or ()),
                    active_from=c.active_from,
                    active_to=c.active_to,
                )
                for c in cps
            },
            campaigns=[
                engine.Campaign(
                    code=c.code,
                    multiplier=Decimal(c.multiplier),
                    starts_at=c.starts_at,
                    ends_at=c.ends_at,
                    checkpoint_codes=frozenset(c.checkpoint_codes or ()),
                    checkpoint_tags=frozenset(c.checkpoint_tags or ()),
                    age_bands=frozenset(c.age_bands or ()),
                )
                for c in camps
            ],
        ),
        checkpoint_codes={c.id: c.code for c in cps},
        campaign_ids={c.code: c.id for c in camps},
        campaign_codes={c.id: c.code for c in camps},
        campaign_keys={
            None: (None, 1000),
            **{c.code: (c.id, int(Decimal(c.multiplier) * 1000)) for c in camps},
        },
    )
    if len(_context_cache) > 256:
        _context_cache.clear()
    _context_cache[key] = ctx
    return ctx


def forget_context(game_id: int) -> None:
    for key in [k for k in _context_cache if k[0] == game_id]:
        del _context_cache[key]


async def ensure_checkpoints(
    session: AsyncSession, game: Game, ctx: ScoringContext, checkpoint_ids: Iterable[int]
) -> ScoringContext:
    """A checkpoint added after the context was cached (adding one needs no re-score)."""
    if all(cid in ctx.checkpoint_codes for cid in checkpoint_ids):
        return ctx
    forget_context(game.id)
    return await scoring_context(session, game)
