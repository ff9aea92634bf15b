"""SQL behind a box's history page in the console: its latest heartbeats and the audit
records of what organisers did to it (created, secret rotated, disabled, moved)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import ReaderHeartbeat
from kernel.audit import AuditRecord

READER_ACTIONS = "reader.%"


async def heartbeats(
    session: AsyncSession, game_id: int, reader_id: str, limit: int = 20
) -> Sequence[ReaderHeartbeat]:
    """The reader's latest heartbeats in this game, newest first."""
    rows = await session.scalars(
        select(ReaderHeartbeat)
        .where(ReaderHeartbeat.game_id == game_id, ReaderHeartbeat.reader_id == reader_id)
        .order_by(ReaderHeartbeat.received_at.desc(), ReaderHeartbeat.id.desc())
        .limit(limit)
    )
    return list(rows)


async def reader_audit(
    session: AsyncSession, game_id: int, reader_id: str, limit: int = 50
) -> list[AuditRecord]:
    """The audit records naming this reader, newest first.

    The reader is named in the JSON detail, which SQLite and PostgreSQL query differently:
    the game's reader records are read (bounded) and filtered here."""
    rows = await session.scalars(
        select(AuditRecord)
        .where(AuditRecord.game_id == game_id, AuditRecord.action.like(READER_ACTIONS))
        .order_by(AuditRecord.created_at.desc(), AuditRecord.id.desc())
        .limit(2000)
    )
    return [r for r in rows if (r.detail or {}).get("reader") == reader_id][:limit]
