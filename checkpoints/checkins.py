"""Phone app check-ins: a player standing at a checkpoint taps with their virtual card.

A check-in counts when the phone says it is within the game's check-in radius of the
checkpoint (haversine, ``Game.checkin_radius_m``) with an accuracy of 50 m or better. It
becomes a tap of the player's virtual card (source ``app``, source key
``app/<player id>/<client id>``), scored like a reader's, in the caller's transaction:

1. lock the player's holder (``scoring.lock_holders``, the ``HolderScoring`` passed in) before anything else:
   one player's check-ins run one at a time, so the checks below are race-free; then the
   player must have an app account, which is for 13 and over
   (``people.rules.check_app_player``: a younger child plays with a card, 403);
2. a client id seen before answers as it did then (its tap's outcome now): a retry never
   makes a second tap; the same id with another checkpoint or time is a conflict;
3. the checks: known checkpoint, time not ahead, accuracy, distance, and at most one
   check-in per player every 30 seconds (by the server's clock: the limit is against
   floods, and offline check-ins sent later carry their own ``at``);
4. insert the tap and the check-in, score the holder.

The caller commits, then publishes the returned delta. An inactive checkpoint is not an
error here: scoring gives the tap ``out_of_game``, as it would a reader's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints import repository as repo
from checkpoints.models import Checkin
from checkpoints.schemas import CheckinIn, CheckinOut
from game.holder_scoring import HolderScoring
from game.models import Game, Tap
from game.totals import TotalsDelta
from kernel.errors import Conflict, Invalid, TooMany
from kernel.geodesy import haversine_m
from people import repository as people_repo
from people.models import Card, Player
from people.players import active_player
from people.registration import new_virtual_card
from people.rules import check_app_player

MAX_ACCURACY_M = 50.0
MIN_INTERVAL = timedelta(seconds=30)
FUTURE_TOLERANCE = timedelta(minutes=5)
# An offline phone may send a check-in late, but not back-date it freely: a claimed
# earlier time could fit a slow walk into the journey window.
PAST_TOLERANCE = timedelta(hours=24)


class UnknownCheckpoint(Invalid):
    code = "unknown_checkpoint"


class PoorAccuracy(Invalid):
    code = "poor_accuracy"


class TooFar(Invalid):
    code = "too_far"


class FutureTime(Invalid):
    code = "future_timestamp"


class StaleTime(Invalid):
    code = "stale_timestamp"


class TooSoon(TooMany):
    """A check-in too soon after the player's last one (429 with Retry-After)."""


def _field(name: str, message: str) -> list[dict[str, Any]]:
    return [{"field": name, "message": message}]


@dataclass
class CheckinResult:
    answer: CheckinOut
    game_id: int
    delta: TotalsDelta
    created: bool


def source_key(player_id: int, client_id: str) -> str:
    return f"app/{player_id}/{client_id}"


async def check_in(
    session: AsyncSession,
    player_id: int,
    form: CheckinIn,
    *,
    now: datetime,
    scoring: HolderScoring,
) -> CheckinResult:
    """Records (or recalls) one check-in of a player; see the module docstring."""
    player = await active_player(session, player_id)
    game = await session.get(Game, player.game_id)
    assert game is not None
    await scoring.lock_holders(session, [player.holder_id])
    cards = await people_repo.cards_of_holder(session, game.id, player.holder_id)
    check_app_player(player, had_virtual_card=any(c.kind == "virtual" for c in cards))
    client_id = str(form.client_id)
    at = form.at.astimezone(UTC) if form.at is not None else None

    stored = await repo.checkin_answer(session, game.id, player.id, client_id)
    if stored is not None:
        same_time = (at is not None) == stored.at_from_client and (
            at is None or at == stored.tapped_at
        )
        if stored.code != form.checkpoint or not same_time:
            raise Conflict(
                f"client_id {client_id} was already used for another check-in "
                f"(at {stored.code}): make a new client_id for each check-in"
            )
        answer = await _answer(session, game, client_id, stored)
        return CheckinResult(answer, game.id, TotalsDelta(), created=False)

    checkpoint = await repo.checkpoint_by_code(session, game.id, form.checkpoint)
    if checkpoint is None:
        raise UnknownCheckpoint(
            f"there is no checkpoint '{form.checkpoint}' in this game",
            fields=_field("checkpoint", "no checkpoint with this code in this game"),
        )
    if at is not None and at > now + FUTURE_TOLERANCE:
        raise FutureTime(
            "at is more than 5 minutes ahead of the server's clock "
            f"({now.replace(microsecond=0).isoformat()}): check the phone's clock",
            fields=_field("at", "more than 5 minutes in the future"),
        )
    if at is not None and at < now - PAST_TOLERANCE:
        raise StaleTime(
            "at is more than 24 hours before the server's clock: a check-in must be sent "
            "within a day of being made",
            fields=_field("at", "more than 24 hours in the past"),
        )
    if form.accuracy_m > MAX_ACCURACY_M:
        raise PoorAccuracy(
            f"the position is only accurate to {form.accuracy_m:.0f} m; it must be "
            f"{MAX_ACCURACY_M:.0f} m or better: wait for a better fix (go outdoors) and retry",
            fields=_field("accuracy_m", f"over {MAX_ACCURACY_M:.0f} m"),
        )
    distance = haversine_m(form.lat, form.lon, checkpoint.lat, checkpoint.lon)
    radius = game.checkin_radius_m
    if distance > radius:
        raise TooFar(
            f"you are {distance:.0f} m from checkpoint {checkpoint.code} ({checkpoint.name}); "
            f"check in within {radius:.0f} m of it",
            fields=_field(
                "position", f"{distance:.0f} m from the checkpoint (limit {radius:.0f} m)"
            ),
        )
    last = await repo.last_checkin_at(session, game.id, player.id)
    if last is not None and now - last < MIN_INTERVAL:
        wait = max(1, math.ceil((MIN_INTERVAL - (now - last)).total_seconds()))
        raise TooSoon(
            f"one check-in every {int(MIN_INTERVAL.total_seconds())} seconds: "
            f"try again in {wait} s",
            retry_after=wait,
        )

    card = await _virtual_card(session, player, cards)
    tapped_at = at or now
    tap = Tap(
        game_id=game.id,
        source="app",
        source_key=source_key(player.id, client_id),
        card_id=card.id,
        holder_id=player.holder_id,
        checkpoint_id=checkpoint.id,
        card_uid=card.uid,
        tapped_at_raw=tapped_at,
        tapped_at=tapped_at,
        received_at=now,
        points=0,
        distance_m=0.0,
    )
    session.add(tap)
    await session.flush()
    session.add(
        Checkin(
            game_id=game.id,
            player_id=player.id,
            client_id=client_id,
            tap_id=tap.id,
            checkpoint_id=checkpoint.id,
            distance_m=round(distance, 1),
            accuracy_m=form.accuracy_m,
            at_from_client=at is not None,
            received_at=now,
        )
    )
    delta = await scoring.score_holders(session, game.id, [player.holder_id])
    stored = await repo.checkin_answer(session, game.id, player.id, client_id)
    assert stored is not None
    answer = await _answer(session, game, client_id, stored)
    return CheckinResult(answer, game.id, delta, created=True)


async def _virtual_card(session: AsyncSession, player: Player, cards: Sequence[Card]) -> Card:
    """The player's current virtual card; a new one (same holder) if they have none, or if
    theirs was retired (a card linked later retires the holder's other cards)."""
    for card in cards:
        if card.kind == "virtual" and card.valid_until is None:
            return card
    return await new_virtual_card(session, player.game_id, player.holder_id)


async def _answer(session: AsyncSession, game: Game, client_id: str, row: Any) -> CheckinOut:
    assert row.outcome is not None
    return CheckinOut(
        client_id=client_id,  # type: ignore[arg-type]
        game=game.slug,
        checkpoint=row.code,
        checkpoint_name=row.name,
        at=row.tapped_at,
        outcome=row.outcome,
        points=row.points,
        distance_m=round(row.distance_m, 1),
        multiplier=float(row.multiplier) if row.multiplier is not None else None,
        total_points=await repo.holder_points(session, game.id, row.holder_id),
    )
