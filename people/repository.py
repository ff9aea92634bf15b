"""SQL for cards, holders, players, teams and the people views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, not_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import ApiToken
from game.models import (
    Checkpoint,
    Game,
    HolderDay,
    HolderTeamTotal,
    HolderTotal,
    Tap,
    Team,
    TeamTotal,
)
from kernel.db import is_postgres
from people.models import Card, Holder, Player, RegistrationAttempt, TeamMembership

# ------------------------------------------------------------------------------ lookups


async def game(session: AsyncSession, game_id: int) -> Game | None:
    return await session.get(Game, game_id)


async def card_by_number(session: AsyncSession, game_id: int, number: str) -> Card | None:
    return await session.scalar(select(Card).where(Card.game_id == game_id, Card.number == number))


async def card_number_taken(session: AsyncSession, game_id: int, number: str) -> bool:
    found = await session.scalar(
        select(Card.id).where(Card.game_id == game_id, Card.number == number)
    )
    return found is not None


async def card_uid_taken(session: AsyncSession, game_id: int, uid: str) -> bool:
    found = await session.scalar(select(Card.id).where(Card.game_id == game_id, Card.uid == uid))
    return found is not None


async def cards_of_holder(session: AsyncSession, game_id: int, holder_id: int) -> Sequence[Card]:
    return (
        await session.scalars(
            select(Card)
            .where(Card.game_id == game_id, Card.holder_id == holder_id)
            .order_by(Card.id)
        )
    ).all()


async def player_of_holder(session: AsyncSession, game_id: int, holder_id: int) -> Player | None:
    return await session.scalar(
        select(Player).where(Player.game_id == game_id, Player.holder_id == holder_id)
    )


async def player(session: AsyncSession, player_id: int) -> Player | None:
    return await session.get(Player, player_id)


async def nickname_taken(
    session: AsyncSession, game_id: int, key: str, *, except_player: int | None = None
) -> bool:
    query = select(Player.id).where(Player.game_id == game_id, Player.nickname_key == key)
    if except_player is not None:
        query = query.where(Player.id != except_player)
    return await session.scalar(query) is not None


async def public_names(session: AsyncSession, game_id: int) -> set[str]:
    rows = await session.scalars(
        select(Player.public_name).where(Player.game_id == game_id, Player.public_name.is_not(None))
    )
    return {name for name in rows if name is not None}


async def public_name_taken(session: AsyncSession, game_id: int, name: str) -> bool:
    query = select(Player.id).where(Player.game_id == game_id, Player.public_name == name)
    return await session.scalar(query.limit(1)) is not None


async def nickname_keys(session: AsyncSession, game_id: int) -> dict[str, int]:
    """``{nickname key: holder id}`` of the game's players (erased players have none)."""
    rows = await session.execute(
        select(Player.nickname_key, Player.holder_id).where(
            Player.game_id == game_id, Player.nickname_key.is_not(None)
        )
    )
    return {key: holder for key, holder in rows if key is not None}


async def team_by_code(session: AsyncSession, game_id: int, code: str) -> Team | None:
    return await session.scalar(select(Team).where(Team.game_id == game_id, Team.code == code))


async def team(session: AsyncSession, team_id: int) -> Team | None:
    return await session.get(Team, team_id)


async def teams(session: AsyncSession, game_id: int, kind: str | None) -> Sequence[Team]:
    query = select(Team).where(Team.game_id == game_id).order_by(Team.name, Team.code)
    if kind is not None:
        query = query.where(Team.kind == kind)
    return (await session.scalars(query)).all()


async def find_players(
    session: AsyncSession, game_id: int, *, nickname: str | None, card_number: str | None
) -> Sequence[Player]:
    query = select(Player).where(Player.game_id == game_id)
    if nickname:
        query = query.where(Player.nickname_key.startswith(nickname, autoescape=True))
    if card_number:
        query = query.join(Card, Card.holder_id == Player.holder_id).where(
            Card.game_id == game_id, Card.number == card_number
        )
    return (await session.scalars(query.order_by(Player.id).limit(50))).all()


async def card_numbers_of_holders(
    session: AsyncSession, game_id: int, holder_ids: Sequence[int]
) -> dict[int, list[str]]:
    if not holder_ids:
        return {}
    rows = await session.execute(
        select(Card.holder_id, Card.number)
        .where(Card.game_id == game_id, Card.holder_id.in_(holder_ids))
        .order_by(Card.id)
    )
    out: dict[int, list[str]] = {}
    for row in rows:
        out.setdefault(row.holder_id, []).append(row.number)
    return out


# ------------------------------------------------------------------------------ writes


async def add_holder(session: AsyncSession, game_id: int) -> Holder:
    holder = Holder(game_id=game_id)
    session.add(holder)
    await session.flush()
    return holder


async def reset_memberships(
    session: AsyncSession, game_id: int, holder_id: int, team_id: int | None
) -> None:
    """The holder counts for ``team_id`` from the start (what registration does)."""
    await session.execute(
        delete(TeamMembership)
        .where(TeamMembership.game_id == game_id, TeamMembership.holder_id == holder_id)
        # "fetch": forget the deleted rows by key. The default evaluates the criteria
        # against every object in the session, which made loading a game with tens of
        # thousands of cards take minutes.
        .execution_options(synchronize_session="fetch")
    )
    session.add(
        TeamMembership(game_id=game_id, holder_id=holder_id, team_id=team_id, valid_from=None)
    )


async def retire_cards(
    session: AsyncSession,
    game_id: int,
    holder_id: int,
    at: datetime,
    *,
    except_card: int | None = None,
) -> list[str]:
    """Cards of the holder that still score stop scoring at ``at``; returns their numbers."""
    cards = [
        c
        for c in await cards_of_holder(session, game_id, holder_id)
        if c.id != except_card and (c.valid_until is None or c.valid_until > at)
    ]
    for c in cards:
        c.valid_until = at
    return [c.number for c in cards]


async def scored_taps_of_card(session: AsyncSession, game_id: int, card_id: int) -> list[Any]:
    """The card's taps with their stored outcomes (the shape TotalsDelta.add reads)."""
    rows = await session.execute(
        select(
            Tap.id,
            Tap.holder_id,
            Tap.outcome,
            Tap.points,
            Tap.distance_m,
            Tap.team_id,
            Tap.local_date,
        ).where(Tap.game_id == game_id, Tap.card_id == card_id)
    )
    return list(rows.all())


async def move_card_taps(session: AsyncSession, game_id: int, card_id: int, holder_id: int) -> None:
    """Moves the card's taps to another holder, unscored: they are scored again there."""
    await session.execute(
        update(Tap)
        .where(Tap.game_id == game_id, Tap.card_id == card_id)
        .values(
            holder_id=holder_id,
            outcome=None,
            points=0,
            distance_m=0.0,
            multiplier=None,
            campaign_id=None,
            team_id=None,
            local_date=None,
        )
        .execution_options(synchronize_session=False)
    )


async def revoke_player_tokens(session: AsyncSession, player_id: int, at: datetime) -> int:
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.player_id == player_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


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


# ------------------------------------------------------------------------------ retention


async def games_past_email_retention(session: AsyncSession, now: datetime) -> Sequence[Game]:
    """Games whose e-mail retention has run out (ends_at + email_retention_days <= now)."""
    games = (await session.scalars(select(Game).where(Game.ends_at <= now))).all()
    return [g for g in games if g.ends_at + timedelta(days=g.email_retention_days) <= now]


async def clear_emails(session: AsyncSession, game_id: int) -> int:
    result = await session.execute(
        update(Player)
        .where(Player.game_id == game_id, Player.email.is_not(None))
        .values(email=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# ------------------------------------------------------------------------------ views


@dataclass(frozen=True, slots=True)
class TeamStanding:
    team_id: int
    code: str
    name: str
    kind: str
    points: int
    distance_m: float
    active_members: int


async def team_standings(session: AsyncSession, game_id: int) -> list[TeamStanding]:
    """Every team of the game with its stored totals (0 for a team without any yet)."""
    rows = await session.execute(
        select(
            Team.id,
            Team.code,
            Team.name,
            Team.kind,
            func.coalesce(TeamTotal.points, 0),
            func.coalesce(TeamTotal.distance_m, 0.0),
            func.coalesce(TeamTotal.active_members, 0),
        )
        .outerjoin(TeamTotal, (TeamTotal.team_id == Team.id) & (TeamTotal.game_id == game_id))
        .where(Team.game_id == game_id)
    )
    return [TeamStanding(*row) for row in rows]


async def holder_total(session: AsyncSession, game_id: int, holder_id: int) -> HolderTotal | None:
    return await session.get(HolderTotal, (game_id, holder_id))


async def holder_day(
    session: AsyncSession, game_id: int, holder_id: int, day: date
) -> HolderDay | None:
    return await session.get(HolderDay, (game_id, holder_id, day))


def _outside_validity(cards: Sequence[Card]) -> ColumnElement[bool] | None:
    """Taps made with one of ``cards`` outside its ``[valid_from, valid_until)``: a replaced
    card's later taps are whoever has the card now, not its holder (None: no limits)."""
    limits = []
    for card in cards:
        times = []
        if card.valid_from is not None:
            times.append(Tap.tapped_at < card.valid_from)
        if card.valid_until is not None:
            times.append(Tap.tapped_at >= card.valid_until)
        if times:
            limits.append(and_(Tap.card_id == card.id, or_(*times)))
    return or_(*limits) if limits else None


async def recent_taps(
    session: AsyncSession, game_id: int, holder_id: int, cards: Sequence[Card], limit: int
) -> list[Any]:
    """The holder's latest taps, newest first, with their checkpoints and outcomes; taps of
    its ``cards`` outside their validity are left out."""
    query = (
        select(
            Tap.tapped_at,
            Tap.outcome,
            Tap.points,
            Tap.distance_m,
            Tap.multiplier,
            Checkpoint.code,
            Checkpoint.name,
        )
        .join(Checkpoint, Checkpoint.id == Tap.checkpoint_id)
        .where(Tap.game_id == game_id, Tap.holder_id == holder_id)
    )
    outside = _outside_validity(cards)
    if outside is not None:
        query = query.where(not_(outside))
    rows = await session.execute(
        query.order_by(Tap.tapped_at.desc(), Checkpoint.code.desc(), Tap.source_key.desc()).limit(
            limit
        )
    )
    return list(rows.all())


async def taps_outside_validity(
    session: AsyncSession, game_id: int, holder_id: int, cards: Sequence[Card], day: date
) -> tuple[int, int]:
    """How many of the holder's taps were made with its ``cards`` outside their validity:
    in all, and on local ``day``. The holder's stored tap counts include them."""
    outside = _outside_validity(cards)
    if outside is None:
        return 0, 0
    row = (
        await session.execute(
            select(func.count(), func.count().filter(Tap.local_date == day)).where(
                Tap.game_id == game_id,
                Tap.holder_id == holder_id,
                Tap.card_id.in_([c.id for c in cards]),
                outside,
            )
        )
    ).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True, slots=True)
class MemberActivity:
    player_id: int
    holder_id: int
    nickname: str | None
    nickname_hidden: bool
    points: int
    legs: int
    distance_m: float
    days_active: int
    last_active_on: date | None


async def team_members(session: AsyncSession, game_id: int, team_id: int) -> list[MemberActivity]:
    """Current (not erased) players of a team with what they earned for it and their days."""
    members = (
        await session.execute(
            select(
                Player.id,
                Player.holder_id,
                Player.nickname,
                Player.nickname_hidden,
                func.coalesce(HolderTeamTotal.points, 0),
                func.coalesce(HolderTeamTotal.legs, 0),
                func.coalesce(HolderTeamTotal.distance_m, 0.0),
            )
            .outerjoin(
                HolderTeamTotal,
                (HolderTeamTotal.game_id == game_id)
                & (HolderTeamTotal.holder_id == Player.holder_id)
                & (HolderTeamTotal.team_id == team_id),
            )
            .where(Player.game_id == game_id, Player.team_id == team_id, Player.erased_at.is_(None))
        )
    ).all()
    holder_ids = [m[1] for m in members]
    days: dict[int, tuple[int, date | None]] = {}
    for i in range(0, len(holder_ids), 1000):
        chunk = holder_ids[i : i + 1000]
        rows = await session.execute(
            select(HolderDay.holder_id, func.count(), func.max(HolderDay.local_date))
            .where(
                HolderDay.game_id == game_id,
                HolderDay.holder_id.in_(chunk),
                HolderDay.counted_taps > 0,
            )
            .group_by(HolderDay.holder_id)
        )
        days.update({r[0]: (int(r[1]), r[2]) for r in rows})
    return [
        MemberActivity(
            m[0], m[1], m[2], m[3], int(m[4]), int(m[5]), float(m[6]), *days.get(m[1], (0, None))
        )
        for m in members
    ]


# ------------------------------------------------------------------------------ organiser tools


async def nickname_queue(session: AsyncSession, game_id: int, limit: int) -> Sequence[Player]:
    """Players whose current nickname nobody has reviewed yet, oldest registration first."""
    return (
        await session.scalars(
            select(Player)
            .where(
                Player.game_id == game_id,
                Player.nickname.is_not(None),
                Player.nickname_reviewed_at.is_(None),
                Player.nickname_hidden.is_(False),
                Player.erased_at.is_(None),
            )
            .order_by(Player.registered_at, Player.id)
            .limit(limit)
        )
    ).all()


async def nickname_queue_size(session: AsyncSession, game_id: int) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(Player)
        .where(
            Player.game_id == game_id,
            Player.nickname.is_not(None),
            Player.nickname_reviewed_at.is_(None),
            Player.nickname_hidden.is_(False),
            Player.erased_at.is_(None),
        )
    )
    return int(found or 0)


async def week_activity(
    session: AsyncSession, game_id: int, holder_ids: Sequence[int], since: date
) -> dict[int, tuple[int, int]]:
    """``{holder_id: (points, days with a counted tap)}`` from local day ``since`` on."""
    out: dict[int, tuple[int, int]] = {}
    for i in range(0, len(holder_ids), 1000):
        rows = await session.execute(
            select(HolderDay.holder_id, func.sum(HolderDay.points), func.count())
            .where(
                HolderDay.game_id == game_id,
                HolderDay.holder_id.in_(list(holder_ids[i : i + 1000])),
                HolderDay.local_date >= since,
                HolderDay.counted_taps > 0,
            )
            .group_by(HolderDay.holder_id)
        )
        out.update({int(r[0]): (int(r[1] or 0), int(r[2])) for r in rows})
    return out


async def memberships_of_holder(
    session: AsyncSession, game_id: int, holder_id: int
) -> list[tuple[datetime | None, str | None]]:
    """The holder's team history: (from when, team code or None) in order."""
    rows = await session.execute(
        select(TeamMembership.valid_from, Team.code)
        .outerjoin(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.game_id == game_id, TeamMembership.holder_id == holder_id)
        .order_by(TeamMembership.id)
    )
    return [(r[0], r[1]) for r in rows]


async def days_of_holder(
    session: AsyncSession, game_id: int, holder_id: int
) -> Sequence[HolderDay]:
    return (
        await session.scalars(
            select(HolderDay)
            .where(HolderDay.game_id == game_id, HolderDay.holder_id == holder_id)
            .order_by(HolderDay.local_date)
        )
    ).all()


async def taps_of_holder(session: AsyncSession, game_id: int, holder_id: int) -> list[Any]:
    """The holder's taps with their box code, in time order."""
    return list(
        (
            await session.execute(
                select(
                    Tap.tapped_at,
                    Checkpoint.code,
                    Card.number,
                    Tap.outcome,
                    Tap.points,
                    Tap.distance_m,
                )
                .join(Checkpoint, Checkpoint.id == Tap.checkpoint_id)
                .join(Card, Card.id == Tap.card_id)
                .where(Tap.game_id == game_id, Tap.holder_id == holder_id)
                .order_by(Tap.tapped_at, Tap.id)
            )
        ).all()
    )
