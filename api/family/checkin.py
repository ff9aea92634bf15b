"""Checking in by phone (``/family/players/{id}/check-in``): a player aged 13 or over, at a
box, presses "Check in here" and the phone's position makes a tap of their virtual card
(``checkpoints.checkins``, the same rules as the app's ``POST /app/checkins``).

- The position is asked for only when the button is pressed (``static/family/checkin.js``),
  never in the background; a sign on the page says while it is in use. Without JavaScript,
  or when the browser refuses, the form goes without a position and the answer says the
  phone's browser must allow location.
- The box is the game's nearest to the position (active boxes first); the checks (distance,
  accuracy, one check-in every 30 seconds) are the service's, and each outcome is explained
  in plain words. The position itself is not stored: the check-in keeps the box, the
  distance to it and the accuracy.
- The page carries a fresh check-in id, so sending the same form again (a reload) gives the
  same answer and never a second tap.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.app_state import app_state
from api.deps import Now, Session
from api.family import web
from api.family.i18n import N_
from api.family.players import PlayerId, may_check_in, member
from api.family.signed import Family
from api.transaction import Tx
from checkpoints import checkins
from checkpoints.schemas import CheckinIn
from game.models import Checkpoint, Game
from kernel.errors import Conflict, Forbidden, TaptrailError
from kernel.geodesy import haversine_m
from people import family_repository as repo
from people.models import Player
from scoring.holders import HOLDER_SCORING

router = APIRouter(include_in_schema=False)

OUTCOMES = {
    "leg": N_(
        "You checked in at %(box)s: %(points)s points for the journey from your last box. "
        "You have %(total)s points now."
    ),
    "journey_start": N_(
        "You checked in at %(box)s and your journey has started. Go to another box within an "
        "hour and check in there to earn points."
    ),
    "repeat": N_(
        "You checked in at %(box)s again. The same box twice in a row earns no points: go to "
        "another box."
    ),
    "too_fast": N_(
        "You checked in at %(box)s, but it earns no points: you got there faster than anyone "
        "could walk, wheel or cycle."
    ),
    "capped": N_(
        "You checked in at %(box)s, but it earns no points: you have reached today's limit. "
        "Come back tomorrow."
    ),
    "out_of_game": N_(
        "You checked in at %(box)s, but it earns no points: this box is not in the game at the "
        "moment."
    ),
}


def nearest(boxes: Sequence[Checkpoint], lat: float, lon: float, now: datetime) -> Checkpoint:
    """The box nearest the position, an active one if any is within its distance."""

    def active(box: Checkpoint) -> bool:
        return (box.active_from is None or box.active_from <= now) and (
            box.active_to is None or now < box.active_to
        )

    return min(boxes, key=lambda b: (not active(b), haversine_m(lat, lon, b.lat, b.lon)))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class _Who:
    """What the page shows of the player and game, read before a refusal's rollback."""

    player_id: int
    nickname: str
    game_name: str
    radius_m: float
    allowed: bool


def _page(
    p: web.Page,
    signed: web.Signed,
    who: _Who,
    *,
    status: int = 200,
    outcome: str | None = None,
    problem: str | None = None,
    retry_after: int | None = None,
) -> Response:
    response = p.render(
        "checkin.html",
        status=status,
        signed=signed,
        title=p._("Check in here"),
        who=who,
        client_id=str(uuid.uuid4()),
        outcome=outcome,
        problem=problem,
    )
    response.headers["Cache-Control"] = "no-store"
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def _who(session: Session, player: Player) -> tuple[_Who, Game]:
    game = await session.get(Game, player.game_id)
    assert game is not None
    allowed = await may_check_in(session, player)
    return _Who(player.id, player.nickname or "", game.name, game.checkin_radius_m, allowed), game


@router.get("/family/players/{player_id}/check-in")
async def check_in_page(
    request: Request, session: Session, signed: Family, player_id: PlayerId
) -> Response:
    p = web.page(request)
    player = await member(p, session, signed, player_id)
    who, _ = await _who(session, player)
    return _page(p, signed, who)


@router.post("/family/players/{player_id}/check-in")
async def check_in(
    request: Request, session: Session, tx: Tx, signed: Family, player_id: PlayerId, now: Now
) -> Response:
    p = web.page(request)
    form = await web.signed_form(p, signed)
    player = await member(p, session, signed, player_id)
    who, game = await _who(session, player)
    if not who.allowed:
        return _page(
            p,
            signed,
            who,
            status=403,
            problem=p._(
                "Checking in by phone is for players aged 13 and over. Tap the card on a box "
                "instead."
            ),
        )
    lat, lon = _number(form.get("lat", "")), _number(form.get("lon", ""))
    accuracy = _number(form.get("accuracy", ""))
    if lat is None or lon is None or accuracy is None:
        return _page(
            p,
            signed,
            who,
            status=422,
            problem=p._(
                "We did not get your position. Your phone's browser must allow this page to use "
                "your location, and JavaScript must be on. Then press the button again."
            ),
        )
    boxes = await repo.checkpoints(session, game.id)
    if not boxes:
        return _page(p, signed, who, status=422, problem=p._("This game has no boxes yet."))
    box = nearest(boxes, lat, lon, now)
    try:
        sent = CheckinIn(
            client_id=uuid.UUID(form.get("client_id", "")),
            checkpoint=box.code,
            lat=lat,
            lon=lon,
            accuracy_m=max(0.0, accuracy),
        )
    except ValueError:  # a malformed id or a position off the globe: not from our page
        return _page(
            p,
            signed,
            who,
            status=422,
            problem=p._("The form could not be read. Open the page again and press the button."),
        )
    async with tx.writing():
        try:
            result = await checkins.check_in(
                session, player.id, sent, now=now, scoring=HOLDER_SCORING
            )
        except TaptrailError as exc:
            message = _refusal(p, exc, box, lat, lon, accuracy, game)
            await session.rollback()
            return _page(
                p, signed, who, status=exc.status, problem=message, retry_after=exc.retry_after
            )
        await session.commit()
    if result.created:
        await app_state(request).publish_scores(result.game_id, result.delta)
    answer = result.answer
    return _page(
        p,
        signed,
        who,
        outcome=p._(
            OUTCOMES[answer.outcome],
            box=answer.checkpoint_name,
            points=answer.points,
            total=answer.total_points,
        ),
    )


def _refusal(
    p: web.Page,
    exc: TaptrailError,
    box: Checkpoint,
    lat: float,
    lon: float,
    accuracy: float,
    game: Game,
) -> str:
    if isinstance(exc, checkins.TooFar):
        return p._(
            "You are %(distance)s m from the nearest box, %(box)s. Check in within %(radius)s m "
            "of it.",
            distance=round(haversine_m(lat, lon, box.lat, box.lon)),
            box=box.name,
            radius=round(game.checkin_radius_m),
        )
    if isinstance(exc, checkins.PoorAccuracy):
        return p._(
            "Your phone knows where you are only to within %(accuracy)s m, and a check-in needs "
            "%(needed)s m or better. Go outdoors, away from tall buildings, wait a moment and "
            "press the button again.",
            accuracy=round(accuracy),
            needed=round(checkins.MAX_ACCURACY_M),
        )
    if isinstance(exc, checkins.TooSoon):
        return p._(
            "You checked in a moment ago: one check-in every 30 seconds. Try again in "
            "%(seconds)s seconds.",
            seconds=exc.retry_after or 30,
        )
    if isinstance(exc, Forbidden):
        return p._(
            "Checking in by phone is for players aged 13 and over. Tap the card on a box instead."
        )
    if isinstance(exc, Conflict):
        return p._("This check-in was sent already. Open the page again to check in again.")
    return p._("The check-in did not work. Open the page again and press the button.")
