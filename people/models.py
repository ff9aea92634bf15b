"""Cards, holders, players and their team history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, UTCDateTime, utcnow


class Holder(Base):
    """Who a card's points belong to: an unregistered card, or a registered player.

    Several cards (a replaced card) can share one holder. Scoring works per holder.
    """

    __tablename__ = "holders"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Card(Base):
    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32))
    uid: Mapped[str] = mapped_column(String(20))  # normalised: upper-case hex, no separators
    activation_code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8), default="rfid")
    issued_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True
    )
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    # The card scores only within [valid_from, valid_until): a replaced card stops scoring.
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("game_id", "number"),
        UniqueConstraint("game_id", "uid"),
        CheckConstraint("kind IN ('rfid','virtual')", name="kind"),
    )


class Player(Base):
    """A registration. Holds the least personal data the game needs."""

    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), unique=True)
    nickname: Mapped[str | None] = mapped_column(String(40), nullable=True)
    nickname_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    nickname_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # How public boards show a player under 16 (names/public_names.py): made up, stable.
    public_name: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # A parent's deliberate choice to show an under-16's nickname on public boards instead.
    show_nickname: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    age_band: Mapped[str | None] = mapped_column(String(8), nullable=True)
    gender: Mapped[str | None] = mapped_column(String(24), nullable=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True
    )
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    lsoa_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    imd_decile: Mapped[int | None] = mapped_column(Integer, nullable=True)
    imd_nation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    deprivation_status: Mapped[str] = mapped_column(String(16), default="not_given")
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When an organiser last approved or rejected the current nickname (people/moderation.py);
    # null: waiting in the moderation queue.
    nickname_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("game_id", "nickname_key"),
        UniqueConstraint("game_id", "public_name"),
        Index("ix_players_game_team", "game_id", "team_id"),
        CheckConstraint(
            "imd_decile IS NULL OR imd_decile BETWEEN 1 AND 10", name="imd_decile_range"
        ),
    )


class TeamMembership(Base):
    """The team a holder counted for from ``valid_from`` (null = from the start) onwards."""

    __tablename__ = "team_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True
    )
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_team_memberships_holder", "game_id", "holder_id"),)


class RegistrationAttempt(Base):
    """A failed card activation (unknown number or wrong code), or a registration without a
    card (card_key "app registration"), kept briefly for rate limits.

    Only the card number as typed and a SHA-256 digest of the client's address are kept (not
    the address itself), and rows older than a day are purged by the people housekeeping.
    """

    __tablename__ = "registration_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    card_key: Mapped[str] = mapped_column(String(32))
    client_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_registration_attempts_card", "game_id", "card_key", "created_at"),
        Index("ix_registration_attempts_client", "game_id", "client_key", "created_at"),
        Index("ix_registration_attempts_time", "created_at"),
    )
