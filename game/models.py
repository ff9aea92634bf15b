"""Games, their checkpoints, teams and campaigns; the taps (the points ledger) and the totals
summed from them; lucky-tap draws."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY, so big ids use INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Game(Base):
    __tablename__ = "games"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    journey_window_minutes: Mapped[int] = mapped_column(Integer, default=60)
    points_per_leg: Mapped[int] = mapped_column(Integer, default=10)
    max_speed_kmh: Mapped[float] = mapped_column(Float, default=25.0)
    max_points_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_members_for_average: Mapped[int] = mapped_column(Integer, default=5)
    checkin_radius_m: Mapped[float] = mapped_column(Float, default=40.0)
    daytime_start_hour: Mapped[int] = mapped_column(Integer, default=7)
    daytime_end_hour: Mapped[int] = mapped_column(Integer, default=21)
    email_retention_days: Mapped[int] = mapped_column(Integer, default=90)
    # The survey instruments the game asks (evaluation/surveys.py); None = the default three.
    survey_instruments: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # The languages the family site offers for the game (api/family); None = English and Welsh.
    languages: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # Bumped by every re-score so readers of stored totals can tell which rules made them.
    scoring_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint("journey_window_minutes > 0", name="window_positive"),
        CheckConstraint("points_per_leg >= 0", name="points_nonnegative"),
        CheckConstraint("max_speed_kmh > 0", name="speed_positive"),
    )


class Checkpoint(Base):
    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    active_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    active_to: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("game_id", "code"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    # What joining the team takes (game/join_codes.py); null for schools, picked from a list.
    join_code: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (
        UniqueConstraint("game_id", "code"),
        CheckConstraint("kind IN ('school','community','workplace','family','other')", name="kind"),
        Index("uq_teams_game_id_join_code", "game_id", "join_code", unique=True),
    )


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checkpoint_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    checkpoint_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_bands: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (
        UniqueConstraint("game_id", "code"),
        CheckConstraint("multiplier > 0", name="multiplier_positive"),
        CheckConstraint("ends_at > starts_at", name="period"),
    )


def json_list(value: Any) -> list[str]:
    return sorted(value or [])


class Tap(Base):
    """An accepted tap and, once scored, its outcome: together they are the points ledger.

    Every total (holder, player, team, day) is a sum over these rows.
    """

    __tablename__ = "taps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No foreign key (migration 0011): the reader's assignment gives the game; a trigger on
    # games deletes a deleted game's taps.
    game_id: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(8))  # reader | app
    # reader: "<reader_id>/<boot>/<seq>"; app: "app/<player_id>/<client_id>". Tie-breaker.
    source_key: Mapped[str] = mapped_column(String(160))
    reader_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    boot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # No foreign keys on these three (migration 0009 says why): ingestion resolves them
    # from rows that are never deleted.
    card_id: Mapped[int] = mapped_column(Integer)
    holder_id: Mapped[int] = mapped_column(Integer)
    checkpoint_id: Mapped[int] = mapped_column(Integer)
    card_uid: Mapped[str] = mapped_column(String(20))
    tapped_at_raw: Mapped[datetime] = mapped_column(UTCDateTime())
    tapped_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Scoring output (null until scored).
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    multiplier: Mapped[Decimal | None] = mapped_column(Numeric(6, 3), nullable=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True
    )
    local_date: Mapped[date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (
        UniqueConstraint("game_id", "source_key"),
        Index("ix_taps_holder_time", "game_id", "holder_id", "tapped_at"),
        Index("ix_taps_card", "game_id", "card_id"),
        Index("ix_taps_checkpoint_time", "game_id", "checkpoint_id", "tapped_at"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN "
            "('out_of_game','journey_start','repeat','too_fast','leg','capped')",
            name="outcome",
        ),
    )


class HolderTotal(Base):
    """Stored totals of a holder, kept equal to the sums of its taps' outcomes."""

    __tablename__ = "holder_totals"

    game_id: Mapped[int] = mapped_column(
        ForeignKey("games.id", ondelete="CASCADE"), primary_key=True
    )
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), primary_key=True)
    taps: Mapped[int] = mapped_column(Integer, default=0)
    counted_taps: Mapped[int] = mapped_column(Integer, default=0)
    legs: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)


class HolderTeamTotal(Base):
    """A holder's totals per team it counted for; gives teams' active members."""

    __tablename__ = "holder_team_totals"

    game_id: Mapped[int] = mapped_column(
        ForeignKey("games.id", ondelete="CASCADE"), primary_key=True
    )
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    counted_taps: Mapped[int] = mapped_column(Integer, default=0)
    legs: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)


class TeamTotal(Base):
    __tablename__ = "team_totals"

    game_id: Mapped[int] = mapped_column(
        ForeignKey("games.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    legs: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    active_members: Mapped[int] = mapped_column(Integer, default=0)


class HolderDay(Base):
    """A holder's activity on one local day of the game."""

    __tablename__ = "holder_days"

    game_id: Mapped[int] = mapped_column(
        ForeignKey("games.id", ondelete="CASCADE"), primary_key=True
    )
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    taps: Mapped[int] = mapped_column(Integer, default=0)
    counted_taps: Mapped[int] = mapped_column(Integer, default=0)
    legs: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)


class LuckyDrawSchedule(Base):
    """Daily lucky-tap draws an organiser scheduled: ``winners_per_day`` winners for every
    local day in ``[from_date, to_date]`` (None = the game's first / last day)."""

    __tablename__ = "lucky_draw_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), index=True)
    winners_per_day: Mapped[int] = mapped_column(Integer)
    from_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    to_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("winners_per_day > 0", name="winners_positive"),
        CheckConstraint(
            "from_date IS NULL OR to_date IS NULL OR to_date >= from_date", name="dates"
        ),
    )


class LuckyDraw(Base):
    """One day's draw of a schedule, with everything needed to reproduce it:
    winners = ``random.Random(seed).sample(sorted(candidate_ids), min(n, len(candidates)))``,
    and ``candidates_sha256`` = SHA-256 of the sorted ids joined by commas."""

    __tablename__ = "lucky_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("lucky_draw_schedules.id", ondelete="CASCADE")
    )
    local_date: Mapped[date] = mapped_column(Date)
    winners_requested: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    candidate_count: Mapped[int] = mapped_column(Integer)
    candidates_sha256: Mapped[str] = mapped_column(String(64))
    candidate_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    drawn_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("schedule_id", "local_date"),)


class LuckyDrawWinner(Base):
    __tablename__ = "lucky_draw_winners"

    draw_id: Mapped[int] = mapped_column(
        ForeignKey("lucky_draws.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1 = drawn first
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), index=True)
    player_id: Mapped[int | None] = mapped_column(
        ForeignKey("players.id", ondelete="SET NULL"), nullable=True
    )
    # When an organiser marked the prize as sent (the Draws page); null: not sent yet.
    prize_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
