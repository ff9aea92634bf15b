"""Setting games up (organisers) and describing them (public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.app_state import app_state
from api.deps import Caller, Session, game_or_404, require_organiser
from api.errors import ErrorOut
from api.transaction import Tx
from game.definition import DefinitionError
from kernel.db import utcnow
from kernel.errors import Invalid
from organising import repository as repo
from organising.service import describe, load_definition

router = APIRouter(tags=["games"])

EXAMPLE_FILE = """game:
  slug: burnley-2027
  name: Burnley Beats
  timezone: Europe/London
  starts_at: 2027-05-01T00:00:00+01:00
  ends_at: 2027-06-12T00:00:00+01:00
checkpoints:
  - {code: BB001, name: Queen's Park gates, lat: 53.7893, lon: -2.2368, tags: [park]}
"""


class LoadAnswer(BaseModel):
    game: str
    created: bool
    changes: list[str] = Field(description="What changed; empty when nothing did")
    notes: list[str]
    generated_secrets: dict[str, str] = Field(
        description="Reader secrets generated for readers without one: shown once only"
    )
    join_codes: dict[str, str] = Field(
        description="Join codes generated for teams other than schools, by team code (the "
        "organisers' team listing shows every team's code)"
    )


@router.put(
    "/admin/games/{slug}",
    response_model=LoadAnswer,
    summary="Create or update a game from its definition file (YAML or JSON)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}, "example": EXAMPLE_FILE},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
    responses={
        401: {"model": ErrorOut, "description": "No token, or a token that is not valid"},
        403: {"model": ErrorOut, "description": "Not an organiser token (for this game)"},
        413: {
            "model": ErrorOut,
            "description": "The file is over TAPTRAIL_MAX_GAME_FILE_BYTES (64 MiB by default); "
            "refused as it streams in, and only after the token is checked",
        },
        422: {
            "model": ErrorOut,
            "description": "Every problem in the file, each naming entry and field",
        },
    },
)
async def put_game(
    slug: str, request: Request, session: Session, tx: Tx, caller: Caller
) -> LoadAnswer:
    game = await repo.game_by_slug(session, slug)
    require_organiser(caller, game)
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the file must be UTF-8 text") from None
    is_json = "json" in request.headers.get("content-type", "")
    # Loading can re-score the game: one writer at a time on SQLite.
    async with tx.write():
        try:
            result = await load_definition(
                session,
                text,
                box=app_state(request).secret_box,
                actor=caller.actor,
                scope=caller.scope,
                filename="upload.json" if is_json else "upload.yaml",
                expected_slug=slug,
            )
        except DefinitionError as exc:
            await session.rollback()
            raise Invalid(
                f"{len(exc.errors)} problem(s) in the game definition; nothing was changed",
                fields=[{"field": e.split(":", 1)[0], "message": e} for e in exc.errors],
            ) from None
        tx.rebuild_boards(result.game_id)
    return LoadAnswer(
        game=slug,
        created=result.created,
        changes=result.changes,
        notes=result.notes,
        generated_secrets=result.generated_secrets,
        join_codes=result.join_codes,
    )


@router.get("/games", summary="Games on this server (public)")
async def list_games(session: Session) -> dict[str, Any]:
    games = await repo.all_games(session)
    return {
        "games": [
            {"slug": g.slug, "name": g.name, "starts_at": g.starts_at, "ends_at": g.ends_at}
            for g in games
        ]
    }


@router.get(
    "/games/{slug}",
    summary="A game's public description: checkpoints, tags and campaigns (for the map)",
    responses={404: {"model": ErrorOut, "description": "No such game"}},
)
async def get_game(slug: str, session: Session) -> dict[str, Any]:
    game = await game_or_404(session, slug)
    return await describe(session, game, utcnow())
