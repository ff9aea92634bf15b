"""Audit records: who changed what. Added to the caller's unit of work, never committed here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from taptrail.auth.models import AuditRecord


def record(
    session: AsyncSession, *, actor: str, action: str, game_id: int | None, **detail: Any
) -> AuditRecord:
    entry = AuditRecord(actor=actor, action=action, game_id=game_id, detail=detail)
    session.add(entry)
    return entry
