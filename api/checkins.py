"""Phone app check-ins (player token): a tap of the player's virtual card at a checkpoint."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.app_state import app_state
from api.deps import Caller, Now, Session, require_player
from api.transaction import Tx
from checkpoints import checkins
from checkpoints.schemas import CheckinIn, CheckinOut
from scoring.holders import HOLDER_SCORING

router = APIRouter(tags=["app"])


def _example(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"value": {"error": code, "detail": detail, **extra}}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or a token that is not valid (or was revoked)"},
    403: {
        "description": "Not a player token, or a player without an app account: the app is "
        "for 13 and over, and younger children play with a card"
    },
    409: {"description": "This client_id was already used for another check-in"},
    422: {
        "description": "Not checked in: unknown checkpoint (`unknown_checkpoint`), too far "
        "from it (`too_far`, saying how far), position not accurate enough (`poor_accuracy`), "
        "`at` over 5 minutes ahead (`future_timestamp`), or a malformed body "
        "(`validation_error`)",
        "content": {
            "application/json": {
                "examples": {
                    "too_far": _example(
                        "too_far",
                        "you are 153 m from checkpoint BB001 (Queen's Park gates); check in "
                        "within 40 m of it",
                        fields=[{"field": "position", "message": "153 m from the checkpoint"}],
                    ),
                    "poor_accuracy": _example(
                        "poor_accuracy",
                        "the position is only accurate to 80 m; it must be 50 m or better",
                    ),
                }
            }
        },
    },
    429: {
        "description": "One check-in per player every 30 seconds; Retry-After says when",
        "content": {
            "application/json": {
                "example": {
                    "error": "rate_limited",
                    "detail": "one check-in every 30 seconds: try again in 12 s",
                }
            }
        },
    },
    503: {"description": "The database is unavailable: nothing was stored; retry with backoff"},
}


@router.post(
    "/app/checkins",
    response_model=CheckinOut,
    summary="Check in at a checkpoint from the phone app (player token)",
    description=(
        "The phone must be within the game's check-in radius (default 40 m) of the "
        "checkpoint, with a reported accuracy of 50 m or better. The check-in becomes a tap "
        "of the player's virtual card and scores like a card tap (an inactive checkpoint "
        "gives `out_of_game`). `client_id` makes it idempotent: a retry with the same id "
        "gets the same answer and never a second tap. At most one check-in per player every "
        "30 seconds."
    ),
    responses=ERRORS,
)
async def check_in(
    form: CheckinIn, request: Request, session: Session, tx: Tx, caller: Caller, now: Now
) -> CheckinOut:
    player_id = require_player(caller)

    async def work() -> checkins.CheckinResult:
        result = await checkins.check_in(session, player_id, form, now=now, scoring=HOLDER_SCORING)
        if result.created:
            tx.publish_scores(result.game_id, result.delta)
        return result

    result = await tx.run(work)
    metrics = app_state(request).metrics
    metrics.taps_received.labels("app").inc()
    (metrics.taps_accepted if result.created else metrics.taps_duplicate).labels("app").inc()
    return result.answer
