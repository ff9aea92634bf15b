"""Readers (boxes), their placement history, the scoring queue, rejected taps, heartbeats and
app check-ins. The taps themselves (the points ledger) are ``game.models.Tap``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from game.models import BigId
from kernel.db import Base, UTCDateTime, utcnow


class Reader(Base):
    """A box's RFID reader. Its id is its serial number, global across games."""

    __tablename__ = "readers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), index=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"))
    # Fernet-encrypted with the server key: HMAC checks need the secret itself.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    secret_rotated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_upload_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_tap_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    battery_pct: Mapped[int | None] = mapped_column(Integer, nullable=True)
    firmware: Mapped[str | None] = mapped_column(String(32), nullable=True)
    queue_depth: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clock_offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    # Per boot, the highest seq stored (accepted or rejected): {"<boot>": seq}. Taps above
    # the mark are new for certain, so a reader's fresh uploads need no identity look-up.
    seq_marks: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)


class ReaderAssignment(Base):
    """Where a reader stood from ``valid_from`` (null = from the start) onwards."""

    __tablename__ = "reader_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_reader_assignments_reader", "reader_id", "valid_from"),)


class PendingTap(Base):
    """The scorer's queue: one row per stored tap still waiting for its outcome.

    Filled by the database itself: a trigger on ``taps`` (migration 0010) enqueues every
    tap inserted without an outcome, whichever code path inserted it, in the same
    statement. A scoring round deletes the rows of the holders it scores
    (``scoring.pending.take_pending``). Kept apart from ``taps`` so that setting
    an outcome changes no indexed column of ``taps`` (its updates stay HOT).
    """

    __tablename__ = "pending_taps"

    game_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no key: see Tap.game_id
    holder_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tap_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tapped_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TapRejection(Base):
    """A tap that will never score, kept for diagnosis."""

    __tablename__ = "tap_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(8), default="reader")
    reader_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    boot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    card_uid_raw: Mapped[str | None] = mapped_column(String(80), nullable=True)
    tapped_at_raw: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    tapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    # Reader taps: the identity "<reader_id>/<boot>/<seq>" and what was sent under it
    # (normalised UID or the raw text, and the raw time). A replayed request finds its own
    # rejections by these and adds nothing.
    source_key: Mapped[str | None] = mapped_column(String(160), nullable=True)
    content_key: Mapped[str | None] = mapped_column(String(160), nullable=True)

    __table_args__ = (
        Index("ix_tap_rejections_reader", "game_id", "reader_id", "received_at"),
        Index("uq_tap_rejections_identity", "game_id", "source_key", "content_key", unique=True),
    )


class ReaderHeartbeat(Base):
    __tablename__ = "reader_heartbeats"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    battery_pct: Mapped[int | None] = mapped_column(Integer, nullable=True)
    firmware: Mapped[str | None] = mapped_column(String(32), nullable=True)
    queue_depth: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # sent_at was more than the allowed skew ahead of received_at: the box's clock ran
    # ahead, so this reading is no replay mark for later heartbeats (ingestion.py).
    clock_ahead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        Index("ix_reader_heartbeats_reader", "game_id", "reader_id", "received_at"),
        Index("ix_reader_heartbeats_sent", "game_id", "reader_id", "sent_at"),
    )


class ReaderDay(Base):
    """Accepted taps per reader and local day of the game: the boxes list's "taps today"."""

    __tablename__ = "reader_days"

    game_id: Mapped[int] = mapped_column(
        ForeignKey("games.id", ondelete="CASCADE"), primary_key=True
    )
    reader_id: Mapped[str] = mapped_column(
        ForeignKey("readers.id", ondelete="CASCADE"), primary_key=True
    )
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    taps: Mapped[int] = mapped_column(Integer, default=0)


class Checkin(Base):
    """A phone app check-in: the tap it made, and how the position was checked.

    The phone's coordinates are not kept: only how far from the checkpoint it said it was,
    and how accurate it said that was (for diagnosing "my check-in did not count").
    """

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id", ondelete="CASCADE"))
    # The app's idempotency key (a UUID it generated): the same key again is the same check-in.
    client_id: Mapped[str] = mapped_column(String(36))
    tap_id: Mapped[int] = mapped_column(BigId, ForeignKey("taps.id", ondelete="CASCADE"))
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"))
    distance_m: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    # Whether the app said when (offline check-ins sent later) or the server's clock did.
    at_from_client: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("game_id", "player_id", "client_id"),
        Index("ix_checkins_player_time", "game_id", "player_id", "received_at"),
    )
