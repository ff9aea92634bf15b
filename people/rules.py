"""Who may join which team, and who may have an app account (pure checks and one lookup).

- A pupil picks their school from the list; every other team (family, community,
  workplace, other) is joined with its join code (game/join_codes.py), unless the player's
  card was issued to that team by the organisers.
- An app account (a registration without a card, and so phone check-ins) is for players
  aged 13 and over; younger children play with a card through a parent or carer. The age
  bands are fixed (docs/running-a-game/game-file.md): 0-4 and 5-11 are under 13, 16-24 and up are over, and
  12-15 straddles 13, so an app account in that band takes the player's confirmation that
  they are 13 or over.

Refusals name the field (422) or, for a check-in, the reason (403); none echoes a code.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from game import join_codes
from game.models import Team
from kernel.errors import Forbidden, Invalid
from people import repository as repo
from people.models import Player

APP_AGE_BANDS = frozenset({"16-24", "25-44", "45-64", "65+"})
BAND_ACROSS_13 = "12-15"
_YOUNGER_WITH_A_CARD = "younger children play with a card registered by a parent or carer"


def field_error(field_name: str, message: str) -> Invalid:
    return Invalid(f"{field_name}: {message}", fields=[{"field": field_name, "message": message}])


async def team_to_join(session: AsyncSession, game_id: int, code: str | None) -> Team | None:
    """The team with this code in the game (None for no team); 422 if there is none."""
    if code is None:
        return None
    team = await repo.team_by_code(session, game_id, code.strip())
    if team is None:
        raise field_error("team", "there is no team with that code in this game")
    return team


def check_join_code(
    team: Team | None, typed: str | None, *, issued_team_id: int | None = None
) -> None:
    """Joining a team other than a school takes its join code, unless the player's card was
    issued to that team (the organiser put the card there)."""
    if team is None or not join_codes.needs_join_code(team.kind) or team.id == issued_team_id:
        return
    if typed is None or not typed.strip():
        raise field_error(
            "join_code",
            f"team {team.code} is a {team.kind} team: joining it takes its join code, which "
            "the team's manager gives out",
        )
    if not join_codes.matches(typed, team.join_code):
        raise field_error("join_code", f"is not the join code of team {team.code}")


def check_app_age(age_band: str, *, confirmed_13_or_over: bool) -> None:
    """An account without a card (the phone app's) is for players aged 13 and over."""
    if age_band in APP_AGE_BANDS:
        return
    if age_band != BAND_ACROSS_13:
        raise field_error(
            "age_band",
            f"an app account (without a card) is for players aged 13 and over; "
            f"{_YOUNGER_WITH_A_CARD}",
        )
    if not confirmed_13_or_over:
        raise field_error(
            "age_13_or_over",
            f"must be true for an app account (without a card) in the {BAND_ACROSS_13} band: "
            f"app accounts are for players aged 13 and over; {_YOUNGER_WITH_A_CARD}",
        )


def check_app_player(player: Player, *, had_virtual_card: bool) -> None:
    """Phone check-ins use an app account: players aged 16 and over, or 12-15 who confirmed
    13 or over when they registered without a card (that registration made their first
    virtual card). A younger player registered with a card plays with the card."""
    if player.age_band in APP_AGE_BANDS:
        return
    if player.age_band == BAND_ACROSS_13 and had_virtual_card:
        return
    raise Forbidden(
        "checking in with the phone app is for players aged 13 and over with an app "
        f"account: tap your card at the box instead ({_YOUNGER_WITH_A_CARD})"
    )
