"""Team membership changes: a player moving team, a manager or organiser removing a member.

Each adds a membership from now (``TeamMembership.valid_from``) and re-scores the holder:
points already earned stay with the team they were earned for, through any later re-score,
and later taps count for the new team (or none). Joining a team takes what
``people.rules.check_join_code`` says. Services never commit; the caller publishes the
returned delta after its commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from game.holder_scoring import HolderScoring
from game.models import Team
from game.totals import TotalsDelta
from kernel import audit
from kernel.errors import NotFound
from people.models import Player, TeamMembership
from people.players import player_in_game
from people.rules import check_join_code, team_to_join


async def change_team(
    session: AsyncSession,
    player: Player,
    code: str | None,
    join_code: str | None = None,
    *,
    now: datetime,
    actor: str,
    scoring: HolderScoring,
) -> TotalsDelta:
    """The player counts for another team (or none) from now; earned points stay put.
    Joining a team other than a school takes its join code."""
    team = await team_to_join(session, player.game_id, code)
    if (team.id if team else None) == player.team_id:
        return TotalsDelta()
    check_join_code(team, join_code)
    delta = await _move_from_now(session, player, team, now=now, scoring=scoring)
    audit.record(
        session,
        actor=actor,
        action="player.team_change",
        game_id=player.game_id,
        player_id=player.id,
        team=team.code if team else None,
    )
    return delta


async def remove_member(
    session: AsyncSession,
    team: Team,
    player_id: int,
    *,
    now: datetime,
    actor: str,
    scoring: HolderScoring,
) -> TotalsDelta:
    """A team's manager or an organiser takes a player out of the team from now: what they
    earned stays with the team; from now on they count for no team."""
    player = await player_in_game(session, team.game_id, player_id)
    if player.team_id != team.id:
        raise NotFound(f"player {player_id} is not a member of team {team.code}")
    delta = await _move_from_now(session, player, None, now=now, scoring=scoring)
    audit.record(
        session,
        actor=actor,
        action="team.member_remove",
        game_id=team.game_id,
        player_id=player.id,
        team=team.code,
    )
    return delta


async def _move_from_now(
    session: AsyncSession,
    player: Player,
    team: Team | None,
    *,
    now: datetime,
    scoring: HolderScoring,
) -> TotalsDelta:
    """A membership from ``now`` (the history keeps earlier points where they were, through
    any later re-score), and the holder re-scored from it."""
    await scoring.lock_holders(session, [player.holder_id])
    team_id = team.id if team else None
    player.team_id = team_id
    session.add(
        TeamMembership(
            game_id=player.game_id, holder_id=player.holder_id, team_id=team_id, valid_from=now
        )
    )
    await session.flush()
    return await scoring.rescore_holders(session, player.game_id, [player.holder_id])
