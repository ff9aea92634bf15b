"""Evaluation tables: surveys and evaluation projects; every one carries ``game_id``.

The deprivation reference tables (``lsoa_areas``, ``postcode_lookup``) are in ``geo.models``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from game.instruments import NATURE_KEYS, ONS4_ITEMS
from kernel.db import Base, UTCDateTime, utcnow


class SurveyWave(Base):
    """Whether a game's survey wave is open. No row = never opened (closed)."""

    __tablename__ = "survey_waves"

    game_id: Mapped[int] = mapped_column(
        ForeignKey("games.id", ondelete="CASCADE"), primary_key=True
    )
    wave: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (CheckConstraint("wave BETWEEN 1 AND 3", name="wave_range"),)


LONELINESS_ANSWERS = ("often_always", "some_of_the_time", "occasionally", "hardly_ever", "never")


class SurveyResponse(Base):
    """One player's answers at one wave (a resubmission replaces them).

    Every item is optional: ``None`` means not answered; an item named in ``declined`` was
    answered "prefer not to say" (its value is ``None`` too).
    """

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id", ondelete="CASCADE"))
    wave: Mapped[int] = mapped_column(SmallInteger)
    answered_by: Mapped[str] = mapped_column(String(16), default="self")
    activity_days: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    belonging: Mapped[str | None] = mapped_column(String(12), nullable=True)
    nature_beauty: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    nature_respect: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    nature_happy: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    nature_important: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    nature_amazing: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    nature_part: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    life_satisfaction: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    worthwhile: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    happiness: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    anxiety: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    loneliness: Mapped[str | None] = mapped_column(String(16), nullable=True)
    declined: Mapped[list[str]] = mapped_column(JSON, default=list)
    answered_on: Mapped[date] = mapped_column(Date)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("game_id", "player_id", "wave"),
        Index("ix_survey_responses_game_wave", "game_id", "wave"),
        CheckConstraint("wave BETWEEN 1 AND 3", name="wave_range"),
        CheckConstraint("answered_by IN ('self','parent_or_carer')", name="answered_by"),
        CheckConstraint(
            "activity_days IS NULL OR activity_days BETWEEN 0 AND 7", name="activity_range"
        ),
        CheckConstraint(
            "belonging IS NULL OR belonging IN ('very','fairly','not_very','not_at_all')",
            name="belonging_values",
        ),
        *(
            CheckConstraint(f"{item} IS NULL OR {item} BETWEEN 1 AND 7", name=f"{item}_range")
            for item in NATURE_KEYS
        ),
        *(
            CheckConstraint(f"{item} IS NULL OR {item} BETWEEN 0 AND 10", name=f"{item}_range")
            for item in ONS4_ITEMS
        ),
        CheckConstraint(
            "loneliness IS NULL OR loneliness IN ("
            + ",".join(f"'{a}'" for a in LONELINESS_ANSWERS)
            + ")",
            name="loneliness_values",
        ),
    )


class EvaluationArea(Base):
    """Local authority districts an organiser set as a game's area (overrides the default)."""

    __tablename__ = "evaluation_areas"

    game_id: Mapped[int] = mapped_column(
        ForeignKey("games.id", ondelete="CASCADE"), primary_key=True
    )
    lad_code: Mapped[str] = mapped_column(String(12), primary_key=True)


class EvaluationProject(Base):
    """An evaluation of a game. Its export key (for pseudonyms) is stored sealed with the
    server key and never leaves the server."""

    __tablename__ = "evaluation_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    k: Mapped[int] = mapped_column(Integer, default=10)
    sealed_key: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("game_id", "name"),
        CheckConstraint("k >= 2", name="k_min"),
    )
