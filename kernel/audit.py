"""The audit log: who changed what. A record is added to the caller's unit of work, never
committed here. The table belongs to the kernel because every domain writes to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, UTCDateTime, utcnow


class AuditRecord(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int | None] = mapped_column(
        ForeignKey("games.id", ondelete="CASCADE"), nullable=True
    )
    actor: Mapped[str] = mapped_column(String(100))  # "token:12", "cli", "system"
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_audit_log_game_time", "game_id", "created_at"),)


def record(
    session: AsyncSession, *, actor: str, action: str, game_id: int | None, **detail: Any
) -> AuditRecord:
    entry = AuditRecord(actor=actor, action=action, game_id=game_id, detail=detail)
    session.add(entry)
    return entry
