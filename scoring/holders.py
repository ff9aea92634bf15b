"""Scoring's implementation of ``game.holder_scoring.HolderScoring``: what people and
checkpoints call, through the collaborator they are given, when they change a holder."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from game.holder_scoring import HolderScoring
from game.totals import TotalsDelta
from scoring import incremental, locks


class DatabaseHolderScoring:
    """Scores against the database in the caller's transaction."""

    async def lock_holders(
        self, session: AsyncSession, holder_ids: Iterable[int], *, game_id: int | None = None
    ) -> None:
        await locks.lock_holders(session, holder_ids, game_id=game_id)

    async def score_holders(
        self, session: AsyncSession, game_id: int, holder_ids: Iterable[int]
    ) -> TotalsDelta:
        return await incremental.score_holders(session, game_id, holder_ids)

    async def rescore_holders(
        self, session: AsyncSession, game_id: int, holder_ids: Iterable[int]
    ) -> TotalsDelta:
        return await incremental.rescore_holders(session, game_id, holder_ids)

    async def apply_delta(self, session: AsyncSession, delta: TotalsDelta) -> None:
        await incremental.apply_delta(session, delta)


HOLDER_SCORING: HolderScoring = DatabaseHolderScoring()
