"""SQL for the rate limits of registrations and card activations: failed attempts, app
registrations, the per-client lock, and forgetting old attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import is_postgres
from people.models import RegistrationAttempt

# ------------------------------------------------------------------------------ rate limits


# Rows with this card key record a registration without a card (for its own limit), not a
# failed activation. Typed card numbers never contain a space, so they cannot collide.
APP_REGISTRATION = "app registration"


async def failures_since(
    session: AsyncSession,
    game_id: int,
    since: datetime,
    client_key: str,
    *,
    card_key: str | None = None,
) -> tuple[int, datetime | None]:
    """A client's failed activations since ``since`` (for one card, or all): how many, and
    when the latest was."""
    query = select(func.count(), func.max(RegistrationAttempt.created_at)).where(
        RegistrationAttempt.game_id == game_id,
        RegistrationAttempt.client_key == client_key,
        RegistrationAttempt.created_at >= since,
        RegistrationAttempt.card_key != APP_REGISTRATION,
    )
    if card_key is not None:
        query = query.where(RegistrationAttempt.card_key == card_key)
    count, latest = (await session.execute(query)).one()
    return int(count or 0), latest


async def card_failures_since(
    session: AsyncSession, game_id: int, card_key: str, since: datetime
) -> int:
    """A card's failed activations since ``since`` from every client."""
    count = await session.scalar(
        select(func.count()).where(
            RegistrationAttempt.game_id == game_id,
            RegistrationAttempt.card_key == card_key,
            RegistrationAttempt.created_at >= since,
        )
    )
    return int(count or 0)


def add_failed_attempt(
    session: AsyncSession, game_id: int, card_key: str, client_key: str, at: datetime
) -> None:
    session.add(
        RegistrationAttempt(
            game_id=game_id, card_key=card_key, client_key=client_key, created_at=at
        )
    )


async def app_registrations_since(
    session: AsyncSession, game_id: int, client_key: str, since: datetime
) -> tuple[int, datetime | None]:
    """A client's registrations without a card since ``since``, and when the oldest was."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(RegistrationAttempt.created_at)).where(
                RegistrationAttempt.game_id == game_id,
                RegistrationAttempt.client_key == client_key,
                RegistrationAttempt.created_at >= since,
                RegistrationAttempt.card_key == APP_REGISTRATION,
            )
        )
    ).one()
    return int(count or 0), oldest


def add_app_registration(
    session: AsyncSession, game_id: int, client_key: str, at: datetime
) -> None:
    add_failed_attempt(session, game_id, APP_REGISTRATION, client_key, at)


async def lock_client(session: AsyncSession, game_id: int, client_key: str) -> None:
    """Serialises one client's rate-limited writes in a game until commit (PostgreSQL; SQLite
    has one writer), so concurrent requests cannot all pass a limit they share."""
    if is_postgres(session):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"taptrail-client:{game_id}:{client_key}"},
        )


async def purge_attempts_before(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        delete(RegistrationAttempt).where(RegistrationAttempt.created_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
