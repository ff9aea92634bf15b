"""Organisers' people tools: the nickname moderation queue and team join codes.

The queue holds every player whose current nickname no organiser has reviewed yet
(``players.nickname_reviewed_at`` is null), oldest registration first; a nickname the player
changes goes back in (``people.players.update_player``). Every nickname was already checked
on the way in (``names.nicknames``); the queue is for what rules cannot catch.

- approve: the nickname stays as it is, marked reviewed;
- reject: the nickname is hidden (boards and team views show ``Player <id>``, as
  ``set_nickname_hidden`` does), marked reviewed; the player may choose another, which
  comes back to the queue.

A join code can be regenerated (a code that was shared too widely): the old code stops
working at once; members already in the team stay. Codes appear only in organisers' and
the team manager's views (``game.join_codes``), so the audit record names the team only.

Services never commit; the caller commits and rebuilds the boards after a rejection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from game import join_codes
from game.models import Team
from kernel import audit
from kernel.errors import Conflict, NotFound
from people import repository as repo
from people.models import Player
from people.players import player_in_game, set_nickname_hidden

QUEUE_PAGE = 50


async def queue(session: AsyncSession, game_id: int) -> tuple[Sequence[Player], int]:
    """The first ``QUEUE_PAGE`` nicknames waiting for review, and how many wait in all."""
    return (
        await repo.nickname_queue(session, game_id, QUEUE_PAGE),
        await repo.nickname_queue_size(session, game_id),
    )


async def _reviewable(session: AsyncSession, game_id: int, player_id: int) -> Player:
    player = await player_in_game(session, game_id, player_id)
    if player.erased_at is not None:
        raise Conflict("this player's data was erased")
    if player.nickname is None:
        raise Conflict("this player has no nickname to review")
    return player


async def approve(
    session: AsyncSession, game_id: int, player_id: int, *, actor: str, now: datetime
) -> Player:
    player = await _reviewable(session, game_id, player_id)
    player.nickname_reviewed_at = now
    audit.record(
        session,
        actor=actor,
        action="player.nickname_approved",
        game_id=game_id,
        player_id=player.id,
    )
    return player


async def reject(
    session: AsyncSession, game_id: int, player_id: int, *, actor: str, now: datetime
) -> Player:
    """Hides the nickname; the caller rebuilds the boards after the commit."""
    player = await _reviewable(session, game_id, player_id)
    await set_nickname_hidden(session, game_id, player.id, True, actor=actor)
    player.nickname_reviewed_at = now
    audit.record(
        session,
        actor=actor,
        action="player.nickname_rejected",
        game_id=game_id,
        player_id=player.id,
    )
    return player


async def regenerate_join_code(
    session: AsyncSession, game_id: int, team_code: str, *, actor: str
) -> Team:
    team = await repo.team_by_code(session, game_id, team_code)
    if team is None:
        raise NotFound(f"no team '{team_code}' in this game")
    if not join_codes.needs_join_code(team.kind):
        raise Conflict(f"a {team.kind} team has no join code: players pick it from the list")
    taken = {t.join_code for t in await repo.teams(session, game_id, None) if t.join_code}
    team.join_code = join_codes.generate(taken)
    await session.flush()
    audit.record(
        session, actor=actor, action="team.join_code_regenerated", game_id=game_id, team=team.code
    )
    return team
