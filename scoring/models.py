"""Scoring's own table: each holder's running scoring state (``holder_scoring_states``).

A row is the engine's :class:`scoring.engine.ScoringState` after walking every scored tap of
the holder (the last anchor, the daily-cap counters) and the time of the last of those taps.
It lets a round score taps that arrive in order (the usual case) from the state alone,
without reading the holder's history (``scoring.incremental``). It is a cache of the ledger:
it is only trusted for the game's ``scoring_version`` it was written under, and every
scoring path that writes outcomes rewrites it in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, UTCDateTime


class HolderScoringState(Base):
    """Where scoring stands for one holder (see the module's docstring)."""

    __tablename__ = "holder_scoring_states"

    game_id: Mapped[int] = mapped_column(
        ForeignKey("games.id", ondelete="CASCADE"), primary_key=True
    )
    holder_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The game's scoring_version the state was derived under; any other version: stale.
    scoring_version: Mapped[int] = mapped_column(Integer)
    # tapped_at of the holder's last scored tap (in scoring order).
    last_tapped_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anchor_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    anchor_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    day: Mapped[date | None] = mapped_column(Date, nullable=True)
    day_points: Mapped[int] = mapped_column(Integer, default=0)
    previous_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    previous_day_points: Mapped[int] = mapped_column(Integer, default=0)
