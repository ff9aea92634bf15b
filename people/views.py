"""What players, team managers and organisers see of people: the player's own view (points,
today, team and rank, recent journeys), a team's players, the teams, and players as organisers
see them (no e-mail, postcode-derived data, age or gender). Read only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from game import join_codes
from game.models import Game, Team
from kernel.geodesy import km
from names.nicknames import hidden_name, nickname_key
from people import repository as repo
from people import views_repository as views_repo
from people.models import Player
from people.players import card_key, public_name
from people.schemas import (
    AdminTeamOut,
    CardOut,
    JourneyOut,
    MemberOut,
    MeOut,
    PlayerAdminOut,
    TapOut,
    TeamOut,
    TeamPlayersOut,
    TeamStandingOut,
    TodayOut,
    TotalsOut,
)

RECENT_TAPS = 100
RECENT_JOURNEYS = 20


def _standing(standings: Sequence[views_repo.TeamStanding], team_id: int) -> TeamStandingOut:
    mine = next(s for s in standings if s.team_id == team_id)
    kind = [s for s in standings if s.kind == mine.kind]
    return TeamStandingOut(
        code=mine.code,
        name=mine.name,
        kind=mine.kind,  # type: ignore[arg-type]
        needs_join_code=join_codes.needs_join_code(mine.kind),
        points=mine.points,
        distance_km=km(mine.distance_m),
        active_members=mine.active_members,
        rank=1 + sum(1 for s in standings if s.points > mine.points),
        teams=len(standings),
        rank_in_kind=1 + sum(1 for s in kind if s.points > mine.points),
        teams_in_kind=len(kind),
    )


async def team_standing(session: AsyncSession, game_id: int, team_id: int) -> TeamStandingOut:
    return _standing(await views_repo.team_standings(session, game_id), team_id)


def _journeys(rows: Sequence[Any]) -> list[JourneyOut]:
    """Taps (newest first) grouped into journeys: each starts at a journey start."""
    groups: list[list[TapOut]] = []
    for row in reversed(rows):
        tap = TapOut(
            tapped_at=row.tapped_at,
            checkpoint=row.code,
            checkpoint_name=row.name,
            outcome=row.outcome or "pending",
            points=row.points,
            distance_m=round(row.distance_m, 1),
            multiplier=float(row.multiplier) if row.multiplier is not None else None,
        )
        if not groups or tap.outcome in ("journey_start", "out_of_game"):
            groups.append([])
        groups[-1].append(tap)
    journeys = [
        JourneyOut(
            started_at=g[0].tapped_at,
            points=sum(t.points for t in g),
            distance_km=km(sum(t.distance_m for t in g)),
            taps=g,
        )
        for g in groups
    ]
    return journeys[::-1][:RECENT_JOURNEYS]


def _notices(player: Player, game: Game) -> list[str]:
    notices = []
    if player.nickname_hidden:
        notices.append(
            "An organiser has hidden your nickname on public boards, where you appear as "
            f"{hidden_name(player.id)}. You can choose a new nickname."
        )
    if player.email:
        until = game.ends_at + timedelta(days=game.email_retention_days)
        notices.append(
            f"Your contact e-mail is kept only for prizes and is deleted on {until.date()}."
        )
    return notices


async def me_view(session: AsyncSession, player: Player, *, now: datetime) -> MeOut:
    game = await repo.game(session, player.game_id)
    assert game is not None
    holder = player.holder_id
    total = await views_repo.holder_total(session, game.id, holder)
    today_date = now.astimezone(ZoneInfo(game.timezone)).date()
    day = await views_repo.holder_day(session, game.id, holder, today_date)
    cards = await repo.cards_of_holder(session, game.id, holder)
    # A replaced card's later taps are whoever found it: they score nothing and are shown
    # only at the help desk, so they leave the player's journeys and tap counts.
    taps = await views_repo.recent_taps(session, game.id, holder, cards, RECENT_TAPS)
    lost_taps, lost_today = await views_repo.taps_outside_validity(
        session, game.id, holder, cards, today_date
    )
    return MeOut(
        game=game.slug,
        player_id=player.id,
        nickname=player.nickname or "",
        shown_as=public_name(player),
        nickname_hidden=player.nickname_hidden,
        public=player.public,
        show_nickname_publicly=player.show_nickname,
        age_band=player.age_band,
        gender=player.gender,
        has_email=player.email is not None,
        notices=_notices(player, game),
        team=await team_standing(session, game.id, player.team_id) if player.team_id else None,
        totals=TotalsOut(
            points=total.points if total else 0,
            distance_km=km(total.distance_m) if total else 0.0,
            legs=total.legs if total else 0,
            taps=(total.taps if total else 0) - lost_taps,
        ),
        today=TodayOut(
            date=today_date,
            taps=(day.taps if day else 0) - lost_today,
            legs=day.legs if day else 0,
            points=day.points if day else 0,
            distance_km=km(day.distance_m) if day else 0.0,
        ),
        cards=[
            CardOut(
                number=c.number,
                kind=c.kind,  # type: ignore[arg-type]
                active=c.valid_until is None or c.valid_until > now,
            )
            for c in cards
        ],
        journeys=_journeys(taps),
    )


async def team_view(session: AsyncSession, game: Game, team: Team) -> TeamPlayersOut:
    """What a team manager sees: the team's players by nickname, their points and activity,
    and the team's join code."""
    standing = await team_standing(session, game.id, team.id)
    members = await views_repo.team_members(session, game.id, team.id)
    players = sorted(
        (
            MemberOut(
                player_id=m.player_id,
                nickname=hidden_name(m.player_id) if m.nickname_hidden else (m.nickname or ""),
                nickname_hidden=m.nickname_hidden,
                points=m.points,
                legs=m.legs,
                distance_km=km(m.distance_m),
                days_active=m.days_active,
                last_active_on=m.last_active_on,
            )
            for m in members
        ),
        key=lambda m: (-m.points, m.nickname.casefold()),
    )
    return TeamPlayersOut(
        game=game.slug,
        team=standing,
        join_code=team.join_code,
        players=players,
        other_points=standing.points - sum(m.points for m in players),
    )


def team_out(team: Team) -> TeamOut:
    """A team as the public sees it: never its join code."""
    return TeamOut(
        code=team.code,
        name=team.name,
        kind=team.kind,  # type: ignore[arg-type]
        needs_join_code=join_codes.needs_join_code(team.kind),
    )


async def list_teams(session: AsyncSession, game_id: int, kind: str | None) -> list[TeamOut]:
    return [team_out(t) for t in await repo.teams(session, game_id, kind)]


async def admin_teams(session: AsyncSession, game_id: int) -> list[AdminTeamOut]:
    """Every team with its join code (organisers only)."""
    return [
        AdminTeamOut(**team_out(t).model_dump(), join_code=t.join_code)
        for t in await repo.teams(session, game_id, None)
    ]


async def find_players(
    session: AsyncSession, game_id: int, *, nickname: str | None, card_number: str | None
) -> list[PlayerAdminOut]:
    players = await repo.find_players(
        session,
        game_id,
        nickname=nickname_key(nickname) if nickname else None,
        card_number=card_key(card_number) if card_number else None,
    )
    return await admin_views(session, game_id, players)


async def admin_views(
    session: AsyncSession, game_id: int, players: Sequence[Player]
) -> list[PlayerAdminOut]:
    """What organisers see of players: no e-mail, postcode-derived data, age or gender."""
    cards = await repo.card_numbers_of_holders(session, game_id, [p.holder_id for p in players])
    teams = {t.id: t.code for t in await repo.teams(session, game_id, None)}
    return [
        PlayerAdminOut(
            id=p.id,
            nickname=p.nickname,
            nickname_hidden=p.nickname_hidden,
            public=p.public,
            team=teams.get(p.team_id) if p.team_id else None,
            cards=cards.get(p.holder_id, []),
            registered_at=p.registered_at,
            erased_at=p.erased_at,
            has_email=p.email is not None,
        )
        for p in players
    ]
