"""Registering a card (its number and activation code), or registering without a card
for a virtual one, under the guessing and registration limits.

Registering a card makes its holder the player's holder and puts it in the player's team
from the start, so the card's earlier points move to the player's team (docs/scoring-rules.md,
"Who gets the points"); the caller publishes the returned deltas after its commit. Who may
join which team, and who may register without a card (13 and over), is decided by
people/rules.py. Postcodes are normalised, looked up and dropped: never stored or logged.

Services never commit.
"""

from __future__ import annotations

import math
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.tokens import create_token
from game.holder_scoring import HolderScoring
from game.models import Game, Team
from game.totals import TotalsDelta
from geo import deprivation
from geo.postcodes import is_plausible_postcode, normalise_postcode
from kernel import audit
from kernel.errors import Conflict, Invalid, TooMany
from kernel.logging import log
from people import activation
from people import attempts_repository as attempts
from people import repository as repo
from people.models import Card, Player
from people.players import (
    card_key,
    checked_nickname_or_error,
    ensure_nickname_free,
    new_public_name,
)
from people.rules import check_app_age, check_join_code, field_error, team_to_join
from people.schemas import RegistrationIn

# Wrong activation codes (or unknown card numbers) one client address may make in a day
# before progressive lockouts (people.activation): for one card, and over all cards.
CARD_CLIENT_FREE = 5
CLIENT_FREE = 20


# Wrong codes for one card from all addresses in a day that raise a warning in the log: the
# card is being guessed (it is never locked for everyone: see check_activation).
CARD_ALERT = 50


# Registrations without a card (each makes a virtual card and a player) per client address.
APP_REGISTRATIONS = 10
APP_REGISTRATION_WINDOW = timedelta(hours=1)


class WrongActivationCode(Invalid):
    """The card number and code do not match. The failed attempt was added to the session:
    the caller commits it (and nothing else) before answering, so rate limits see it."""


@dataclass
class Registration:
    player: Player
    card: Card
    team: Team | None
    token: str
    postcode_status: str
    deltas: list[TotalsDelta] = field(default_factory=list)


def _postcode(text: str | None) -> str | None:
    """The pcds form of a typed postcode, or None; never echoed back in an error."""
    if text is None or not text.strip():
        return None
    if not is_plausible_postcode(text):
        raise field_error("postcode", "does not look like a UK postcode (for example BB11 3DF)")
    return normalise_postcode(text)


async def check_activation(
    session: AsyncSession, game_id: int, number: str, code: str, *, client: str, now: datetime
) -> Card:
    """The card with this printed number and activation code, under the guessing limits.

    Wrong codes are counted per (card, client address) and per client address, with
    progressive lockouts (people.activation). There is deliberately no lockout per card
    for everyone: any such limit lets anyone lock a card's owner out by typing wrong codes
    for it. A card's failures from all addresses are counted only to log a warning
    (``activation.card_guessed``) when they reach CARD_ALERT in a day; guessing stays
    hopeless because each address is slowed down and a generated code has 60 bits.
    The client's attempts are serialised (``lock_client``), so parallel requests share
    one allowance.
    """
    key = card_key(number)
    await attempts.lock_client(session, game_id, client)
    since = now - activation.MEMORY
    count, latest = await attempts.failures_since(session, game_id, since, client, card_key=key)
    wait = activation.wait_seconds(count, latest, CARD_CLIENT_FREE, now)
    if wait:
        raise TooMany(
            "too many wrong activation codes for this card from this device: try again in "
            f"{_duration(wait)}",
            retry_after=wait,
        )
    count, latest = await attempts.failures_since(session, game_id, since, client)
    wait = activation.wait_seconds(count, latest, CLIENT_FREE, now)
    if wait:
        raise TooMany(
            f"too many wrong activation codes from this device: try again in {_duration(wait)}",
            retry_after=wait,
        )
    card = await repo.card_by_number(session, game_id, key)
    if card is None or not activation.codes_match(code, card.activation_code):
        attempts.add_failed_attempt(session, game_id, key, client, now)
        if await attempts.card_failures_since(session, game_id, key, since) == CARD_ALERT - 1:
            log.warning("activation.card_guessed", game_id=game_id, card=key, failures=CARD_ALERT)
        raise WrongActivationCode(
            "the card number and activation code do not match",
            fields=[{"field": "activation_code", "message": "does not match the card number"}],
        )
    return card


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{-(-minutes // 60)} hours"


async def _limit_app_registrations(
    session: AsyncSession, game_id: int, *, client: str, now: datetime
) -> None:
    """At most APP_REGISTRATIONS registrations without a card per client address and
    window, counted in the database (so across server processes); records this one."""
    await attempts.lock_client(session, game_id, client)
    since = now - APP_REGISTRATION_WINDOW
    count, oldest = await attempts.app_registrations_since(session, game_id, client, since)
    if count >= APP_REGISTRATIONS and oldest is not None:
        minutes = int(APP_REGISTRATION_WINDOW.total_seconds() // 60)
        wait = math.ceil((oldest + APP_REGISTRATION_WINDOW - now).total_seconds())
        raise TooMany(
            f"too many registrations without a card from this address: at most "
            f"{APP_REGISTRATIONS} every {minutes} minutes; try again in {_duration(wait)}",
            retry_after=wait,
        )
    attempts.add_app_registration(session, game_id, client, now)


async def new_virtual_card(
    session: AsyncSession, game_id: int, holder_id: int | None = None
) -> Card:
    """A phone app's card: random 20-hex UID, number "V" + 9 digits. Without ``holder_id``
    it gets a new holder (an app registration); with one, it joins that holder (a player's
    first app check-in)."""
    if holder_id is None:
        holder_id = (await repo.add_holder(session, game_id)).id
    for _ in range(20):
        uid = secrets.token_hex(10).upper()
        number = "V" + "".join(secrets.choice(string.digits) for _ in range(9))
        if not await repo.card_uid_taken(
            session, game_id, uid
        ) and not await repo.card_number_taken(session, game_id, number):
            break
    else:  # pragma: no cover - 20 collisions in a space of 10^9 numbers
        raise Conflict("could not make a virtual card: please try again")
    card = Card(
        game_id=game_id,
        number=number,
        uid=uid,
        activation_code=activation.new_code(),
        kind="virtual",
        holder_id=holder_id,
    )
    session.add(card)
    await session.flush()
    return card


async def attach_player(
    session: AsyncSession, game_id: int, holder_id: int, team_id: int | None, **values: Any
) -> Player:
    """Registers the card holder as a player in ``team_id`` from the start.

    The holder's earlier memberships (the team its card was issued to) are replaced, so
    points earned before registration move to the player's team. The caller re-scores the
    holder (``rescore_holders``) afterwards.
    """
    player = Player(game_id=game_id, holder_id=holder_id, team_id=team_id, **values)
    session.add(player)
    await repo.reset_memberships(session, game_id, holder_id, team_id)
    await session.flush()
    return player


async def register(
    session: AsyncSession,
    game: Game,
    form: RegistrationIn,
    *,
    client: str,
    now: datetime,
    scoring: HolderScoring,
) -> Registration:
    nickname = checked_nickname_or_error(form.nickname, form.age_band)
    team = await team_to_join(session, game.id, form.team)
    postcode = _postcode(form.postcode)
    if form.card_number is not None and form.activation_code is not None:
        card = await check_activation(
            session, game.id, form.card_number, form.activation_code, client=client, now=now
        )
        if await repo.player_of_holder(session, game.id, card.holder_id) is not None:
            raise Conflict("this card is already registered")
        if card.valid_until is not None:
            raise Conflict("this card was replaced and no longer scores")
        if team is None and card.issued_team_id is not None:
            team = await repo.team(session, card.issued_team_id)
        check_join_code(team, form.join_code, issued_team_id=card.issued_team_id)
    else:
        check_app_age(form.age_band, confirmed_13_or_over=form.age_13_or_over)
        check_join_code(team, form.join_code)
        await _limit_app_registrations(session, game.id, client=client, now=now)
        card = await new_virtual_card(session, game.id)
    key = await ensure_nickname_free(session, game.id, nickname)
    shown = await new_public_name(session, game.id)
    found = await deprivation.derive(session, postcode)
    del postcode  # from here on only the LSOA and decile exist
    await scoring.lock_holders(session, [card.holder_id])
    try:
        player = await attach_player(
            session,
            game.id,
            card.holder_id,
            team.id if team else None,
            nickname=nickname,
            nickname_key=key,
            public=form.public,
            public_name=shown,
            show_nickname=form.show_nickname_publicly,
            age_band=form.age_band,
            gender=form.gender,
            email=form.email,
            lsoa_code=found.lsoa_code,
            imd_decile=found.imd_decile,
            imd_nation=found.nation,
            deprivation_status=found.status,
            registered_at=now,
        )
    except IntegrityError:
        raise Conflict(
            "the card or nickname was registered a moment ago: please check and try again"
        ) from None
    delta = await scoring.rescore_holders(session, game.id, [card.holder_id])
    token = await create_token(session, role="player", game_id=game.id, player_id=player.id)
    audit.record(
        session,
        actor="public",
        action="player.register",
        game_id=game.id,
        player_id=player.id,
        card_kind=card.kind,
    )
    return Registration(player, card, team, token, found.status, [delta])
