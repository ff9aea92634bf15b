"""What the evaluation domain holds about a player, removed when the player is erased: the
people domain's ``PlayerDataEraser`` (``people.privacy``), passed in by the application."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.surveys import erase_player_answers
from people.models import Player
from people.privacy import PlayerDataEraser


class SurveyAnswers:
    """A player's survey answers (every wave)."""

    async def erase_player_data(self, session: AsyncSession, player: Player) -> list[str]:
        count = await erase_player_answers(session, player.id)
        # The label audit records have always carried for these rows.
        return [f"evaluation.erasure: {count} record(s)"]


SURVEY_ANSWERS: PlayerDataEraser = SurveyAnswers()
