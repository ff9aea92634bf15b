"""What people and checkpoints need from scoring when they change a holder (a registration,
a card moved, a team change, an erasure, a box moved, an app check-in): lock the holders,
then score or re-score them. Scoring sits above these domains and implements this
``Protocol`` (``scoring.holders.HOLDER_SCORING``); the HTTP surface and the application pass
it in, so the domains below scoring never import it.

Services never commit: each call works in the caller's transaction and returns the totals'
differences for the caller to publish after its commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from game.totals import TotalsDelta


class HolderScoring(Protocol):
    async def lock_holders(
        self, session: AsyncSession, holder_ids: Iterable[int], *, game_id: int | None = None
    ) -> None:
        """Serialises scoring per holder (PostgreSQL): before any change to these holders."""

    async def score_holders(
        self, session: AsyncSession, game_id: int, holder_ids: Iterable[int]
    ) -> TotalsDelta:
        """Scores the holders' new taps (their locks held) and applies the differences."""

    async def rescore_holders(
        self, session: AsyncSession, game_id: int, holder_ids: Iterable[int]
    ) -> TotalsDelta:
        """Locks and re-derives every tap of these holders, applying the differences."""

    async def apply_delta(self, session: AsyncSession, delta: TotalsDelta) -> None:
        """Adds ``delta`` to the stored totals (the holders' locks held)."""
