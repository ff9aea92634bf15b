"""Box health and reader management for organisers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from accounts.tokens import Principal
from api.app_state import app_state
from api.deps import Caller, Now, Session, game_or_404, require_organiser
from api.errors import error_responses
from api.transaction import Transaction, Tx
from checkpoints import health, service
from checkpoints.schemas import (
    BoxesAnswer,
    MoveAnswer,
    ReaderCreate,
    ReaderInfo,
    ReaderMove,
    ReaderSecret,
)
from game.models import Game
from scoring.holders import HOLDER_SCORING

ERRORS = error_responses(
    {
        401: "No token, or a token that is not valid",
        403: "Not an organiser token for this game",
        404: "No such game, reader or checkpoint",
    }
)
router = APIRouter(tags=["boxes"], responses=ERRORS)

BOXES_CSV_EXAMPLE = (
    "reader_id,checkpoint,checkpoint_name,statuses,needs_visit,last_contact_at,...\r\n"
    "R-BB017,BB017,Library,silent low_battery,yes,2027-05-03T06:10:00Z,...\r\n"
)


async def _organiser_game(session: Any, caller: Any, slug: str) -> Game:
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    return game


@router.get(
    "/admin/games/{slug}/boxes",
    response_model=BoxesAnswer,
    summary="Box health: which boxes need a visit today (JSON, or CSV)",
    description=(
        "Every box of the game with its last heartbeat, last upload, last tap, battery, "
        "queue depth, clock error, counter conflicts and taps today (game-local day). "
        "Statuses: `ok`, `silent` (no contact for 2 hours of the game's daytime hours), "
        "`low_battery` (under 15 %), `clock_skewed` (last clock error over 120 s), "
        "`counter_conflicts`, `disabled`. Boxes needing a visit come first, most urgent "
        "first. CSV with `?format=csv` or `Accept: text/csv`."
    ),
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": BOXES_CSV_EXAMPLE}}}
    },
)
async def boxes(
    slug: str,
    request: Request,
    session: Session,
    caller: Caller,
    now: Now,
    format: Annotated[Literal["json", "csv"] | None, Query(description="json or csv")] = None,
) -> Any:
    game = await _organiser_game(session, caller, slug)
    today, rows = await health.boxes(session, game, now)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(
            health.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{slug}-boxes.csv"'},
        )
    return BoxesAnswer(game=slug, generated_at=now, local_date=today.isoformat(), boxes=rows)


@router.get(
    "/admin/games/{slug}/readers",
    response_model=list[ReaderInfo],
    summary="The game's readers with their placements",
)
async def list_readers(slug: str, session: Session, caller: Caller) -> Any:
    game = await _organiser_game(session, caller, slug)
    return await service.list_readers(session, game)


@router.get(
    "/admin/games/{slug}/readers/{reader_id}",
    response_model=ReaderInfo,
    summary="One reader with its placements",
)
async def get_reader(slug: str, reader_id: str, session: Session, caller: Caller) -> Any:
    game = await _organiser_game(session, caller, slug)
    reader = await service.reader_of_game(session, game, reader_id)
    return await service.describe(session, game, reader)


@router.post(
    "/admin/games/{slug}/readers",
    response_model=ReaderSecret,
    status_code=201,
    summary="Add a reader at a checkpoint; its secret is shown once",
    responses=error_responses({409: "A reader with this id exists (move it instead)"}),
)
async def create_reader(
    slug: str, body: ReaderCreate, request: Request, session: Session, tx: Tx, caller: Caller
) -> ReaderSecret:
    game = await _organiser_game(session, caller, slug)

    async def work() -> str:
        _, secret = await service.create_reader(
            session,
            game,
            body.id,
            body.checkpoint,
            box=app_state(request).secret_box,
            actor=caller.actor,
        )
        return secret

    secret = await tx.run(work)
    return ReaderSecret(id=body.id, checkpoint=body.checkpoint, secret=secret)


@router.post(
    "/admin/games/{slug}/readers/{reader_id}/secret",
    response_model=ReaderSecret,
    summary="Rotate a reader's secret: the new one is shown once, the old one stops working",
)
async def rotate_secret(
    slug: str,
    reader_id: str,
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
    now: Now,
) -> ReaderSecret:
    game = await _organiser_game(session, caller, slug)

    async def work() -> tuple[str, dict[str, Any]]:
        secret = await service.rotate_secret(
            session,
            game,
            reader_id,
            box=app_state(request).secret_box,
            actor=caller.actor,
            now=now,
        )
        reader = await service.reader_of_game(session, game, reader_id)
        return secret, await service.describe(session, game, reader)

    secret, info = await tx.run(work)
    return ReaderSecret(id=reader_id, checkpoint=info["checkpoint"], secret=secret)


async def _set_disabled(
    slug: str, reader_id: str, disabled: bool, tx: Transaction, caller: Principal
) -> dict[str, Any]:
    session = tx.session
    game = await _organiser_game(session, caller, slug)

    async def work() -> dict[str, Any]:
        reader = await service.set_disabled(session, game, reader_id, disabled, actor=caller.actor)
        return await service.describe(session, game, reader)

    return await tx.run(work)


@router.post(
    "/admin/games/{slug}/readers/{reader_id}/disable",
    response_model=ReaderInfo,
    summary="Disable a reader: its uploads and heartbeats are refused (401)",
)
async def disable_reader(slug: str, reader_id: str, tx: Tx, caller: Caller) -> Any:
    return await _set_disabled(slug, reader_id, True, tx, caller)


@router.post(
    "/admin/games/{slug}/readers/{reader_id}/enable",
    response_model=ReaderInfo,
    summary="Enable a disabled reader again",
)
async def enable_reader(slug: str, reader_id: str, tx: Tx, caller: Caller) -> Any:
    return await _set_disabled(slug, reader_id, False, tx, caller)


@router.post(
    "/admin/games/{slug}/readers/{reader_id}/move",
    response_model=MoveAnswer,
    summary="Move a reader to another checkpoint from a given time",
    description=(
        "Records that the box stood at the new checkpoint from `from` (default: now; not "
        "in the future). Taps made before stay with the old checkpoint; taps already "
        "stored from that time on are counted at the new checkpoint and their holders "
        "re-scored."
    ),
)
async def move_reader(
    slug: str, reader_id: str, body: ReaderMove, session: Session, tx: Tx, caller: Caller, now: Now
) -> Any:
    game = await _organiser_game(session, caller, slug)

    async def work() -> tuple[service.MoveResult, dict[str, Any]]:
        result = await service.move_reader(
            session,
            game,
            reader_id,
            body.checkpoint,
            body.valid_from,
            actor=caller.actor,
            now=now,
            scoring=HOLDER_SCORING,
        )
        if result.delta is not None:
            tx.publish_scores(game.id, result.delta)
        return result, await service.describe(session, game, result.reader)

    result, info = await tx.run(work)
    return MoveAnswer(reader=ReaderInfo(**info), taps_moved=result.taps_moved)
