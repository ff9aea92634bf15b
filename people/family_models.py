"""Family accounts: one sign-in holding several players' cards (one per child or adult).

An account is opened with an e-mail address and a password (an adult), or, for a player
aged 13 or over on their own, with an account code the site makes up and a password; a
recovery code is shown once for an account without an e-mail. Children are never asked for
an e-mail address. Passwords are Argon2id hashes (accounts/staff/passwords.py), session
ids and recovery codes SHA-256 hashes. Deleting an account erases its players (points stay
with their teams, anonymously) and deletes these rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, UTCDateTime, utcnow


class FamilyAccount(Base):
    __tablename__ = "family_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Exactly one of the two sign-in names: an adult's e-mail (lower case) or an account code.
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    account_code: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    recovery_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FamilySession(Base):
    __tablename__ = "family_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("family_accounts.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FamilyMember(Base):
    """A player (a registered card) kept in an account; a player is in one account at most."""

    __tablename__ = "family_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("family_accounts.id", ondelete="CASCADE"), index=True
    )
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"), unique=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
