"""SQL for cards, holders, players and teams: look-ups, writes, e-mail retention, the
nickname queue and what a subject access request shows. Rate limits are in
``people.attempts_repository``, the read views in ``people.views_repository``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import ApiToken
from game.models import (
    Checkpoint,
    Game,
    HolderDay,
    Tap,
    Team,
)
from people.models import Card, Holder, Player, TeamMembership

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


# ------------------------------------------------------------------------------ moderation, subject access


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
