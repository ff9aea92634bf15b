"""Privacy: erasing a player's personal data, and forgetting what is kept only for a while
(contact e-mails after a game, failed activation attempts after a day).

Erasure removes personal data but keeps the holder, its taps, memberships and totals, so
teams keep their points, anonymously. Services never commit; the caller publishes the
returned deltas after its commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from game.holder_scoring import HolderScoring
from game.totals import TotalsDelta
from kernel import audit
from kernel.errors import Conflict
from people import activation
from people import attempts_repository as attempts
from people import repository as repo
from people.models import Player
from people.players import player_in_game

ATTEMPT_RETENTION = activation.MEMORY


@dataclass
class Erasure:
    player_id: int
    erased_at: datetime
    tokens_revoked: int
    removed: list[str]
    deltas: list[TotalsDelta] = field(default_factory=list)


class PlayerDataEraser(Protocol):
    """What other domains hold about a player, removed when the player is erased.

    The people domain cannot see the domains above it; the application passes in the one
    that knows them (``evaluation.erasure.SURVEY_ANSWERS``), or :data:`NO_OTHER_DATA`."""

    async def erase_player_data(self, session: AsyncSession, player: Player) -> list[str]:
        """Removes the player's data in the erasure's transaction, before the player's own
        fields are cleared; returns what was removed, for the audit record."""
        ...


class _NoOtherData:
    async def erase_player_data(self, session: AsyncSession, player: Player) -> list[str]:
        return []


NO_OTHER_DATA: PlayerDataEraser = _NoOtherData()
"""No other domain holds anything about players."""


async def erase_player(
    session: AsyncSession,
    game_id: int,
    player_id: int,
    *,
    actor: str,
    now: datetime,
    scoring: HolderScoring,
    elsewhere: PlayerDataEraser,
) -> Erasure:
    """Removes a player's personal data; their points stay, anonymously, with their teams.

    Kept: the holder, its taps, team memberships and totals, and the age band (campaign
    multipliers depend on it, so dropping it would change earned points). The player's cards
    stop scoring and their tokens are revoked. ``elsewhere`` removes what other domains
    hold about the player.
    """
    player = await player_in_game(session, game_id, player_id)
    if player.erased_at is not None:
        raise Conflict(f"player {player_id} was already erased")
    await scoring.lock_holders(session, [player.holder_id])
    removed = ["nickname", "e-mail", "gender", "neighbourhood (LSOA and decile)"]
    removed += await elsewhere.erase_player_data(session, player)
    player.nickname = None
    player.nickname_key = None
    player.email = None
    player.gender = None
    player.lsoa_code = None
    player.imd_decile = None
    player.imd_nation = None
    player.deprivation_status = "erased"
    player.public = False
    player.public_name = None
    player.show_nickname = False
    player.nickname_hidden = False
    player.erased_at = now
    await repo.retire_cards(session, game_id, player.holder_id, now)
    revoked = await repo.revoke_player_tokens(session, player.id, now)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="player.erase",
        game_id=game_id,
        player_id=player.id,
        holder_id=player.holder_id,
        tokens_revoked=revoked,
        removed=removed,
    )
    delta = await scoring.rescore_holders(session, game_id, [player.holder_id])
    return Erasure(player.id, now, revoked, removed, [delta])


async def purge_expired_emails(session: AsyncSession, now: datetime) -> int:
    """Deletes contact e-mails of games that ended more than email_retention_days ago."""
    total = 0
    for game in await repo.games_past_email_retention(session, now):
        count = await repo.clear_emails(session, game.id)
        if count:
            audit.record(
                session, actor="system", action="people.purge_emails", game_id=game.id, emails=count
            )
            total += count
    return total


async def purge_old_attempts(session: AsyncSession, now: datetime) -> int:
    """Forgets failed activation attempts older than a day (they only serve rate limits)."""
    return await attempts.purge_attempts_before(session, now - ATTEMPT_RETENTION)


@dataclass(frozen=True)
class Housekeeping:
    emails_deleted: int
    attempts_deleted: int


async def housekeeping(session: AsyncSession, now: datetime) -> Housekeeping:
    """The periodic people job (taptrail.scheduler: ``(session, now)``, caller commits)."""
    return Housekeeping(
        await purge_expired_emails(session, now), await purge_old_attempts(session, now)
    )
