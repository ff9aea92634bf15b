"""The people domain's erasure hook (``people.privacy.ERASURE_HOOK_MODULES``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.surveys import erase_player_answers
from people.models import Player


async def erase_player_data(session: AsyncSession, player: Player) -> int:
    """Removes the player's survey answers (every wave); returns how many answer sets."""
    return await erase_player_answers(session, player.id)
