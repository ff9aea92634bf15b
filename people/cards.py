"""A player's cards: a player linking a new card (with its activation code), and an
organiser replacing a lost one.

A replacement card joins the holder; the old card stops scoring from now; taps the new card
made before it was linked move to the holder with it and are scored again (docs/scoring-rules.md,
"Who gets the points"). Services never commit; the caller publishes the returned deltas after
its commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from game.holder_scoring import HolderScoring
from game.totals import TotalsDelta
from kernel import audit
from kernel.errors import Conflict, NotFound
from people import repository as repo
from people.models import Card, Player
from people.players import card_key
from people.registration import check_activation


@dataclass
class CardChange:
    card: str
    retired: list[str]
    moved_taps: int
    deltas: list[TotalsDelta] = field(default_factory=list)


async def _attach_card(
    session: AsyncSession,
    game_id: int,
    holder_id: int,
    card: Card,
    *,
    now: datetime,
    scoring: HolderScoring,
) -> CardChange:
    if card.holder_id == holder_id:
        raise Conflict("this card already belongs to this player")
    if card.valid_until is not None:
        raise Conflict("this card was replaced and no longer scores")
    if await repo.player_of_holder(session, game_id, card.holder_id) is not None:
        raise Conflict("this card is already registered")
    previous = card.holder_id
    await scoring.lock_holders(session, [holder_id, previous])
    # The card's earlier taps leave the unregistered holder's totals, then score again under
    # the player (from scratch: their outcomes depend on the player's other taps).
    taps = await repo.scored_taps_of_card(session, game_id, card.id)
    out = TotalsDelta()
    for row in taps:
        if row.outcome is not None:
            out.add(game_id, previous, row, None)
    await scoring.apply_delta(session, out)
    await repo.move_card_taps(session, game_id, card.id, holder_id)
    card.holder_id = holder_id
    retired = await repo.retire_cards(session, game_id, holder_id, now, except_card=card.id)
    await session.flush()
    into = await scoring.rescore_holders(session, game_id, [holder_id, previous])
    return CardChange(card.number, retired, len(taps), [out, into])


async def link_card(
    session: AsyncSession,
    player: Player,
    number: str,
    code: str,
    *,
    client: str,
    now: datetime,
    actor: str,
    scoring: HolderScoring,
) -> CardChange:
    """A player links a new card (lost or replaced): it needs the new card's code."""
    card = await check_activation(session, player.game_id, number, code, client=client, now=now)
    change = await _attach_card(
        session, player.game_id, player.holder_id, card, now=now, scoring=scoring
    )
    audit.record(
        session,
        actor=actor,
        action="card.link",
        game_id=player.game_id,
        player_id=player.id,
        card=change.card,
        retired=change.retired,
    )
    return change


async def replace_card(
    session: AsyncSession,
    game_id: int,
    old_number: str,
    new_number: str,
    *,
    now: datetime,
    actor: str,
    scoring: HolderScoring,
) -> CardChange:
    """An organiser hands out a new card for a lost one; no activation code needed."""
    old = await repo.card_by_number(session, game_id, card_key(old_number))
    if old is None:
        raise NotFound(f"no card {old_number} in this game")
    if old.valid_until is not None:
        raise Conflict(f"card {old.number} was already replaced")
    player = await repo.player_of_holder(session, game_id, old.holder_id)
    if player is not None and player.erased_at is not None:
        raise Conflict("this card's player was erased")
    new = await repo.card_by_number(session, game_id, card_key(new_number))
    if new is None:
        raise NotFound(f"no card {new_number} in this game")
    change = await _attach_card(session, game_id, old.holder_id, new, now=now, scoring=scoring)
    audit.record(
        session,
        actor=actor,
        action="card.replace",
        game_id=game_id,
        player_id=player.id if player else None,
        old=old.number,
        card=change.card,
        retired=change.retired,
    )
    return change
