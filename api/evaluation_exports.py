"""Evaluation projects and their anonymised exports over the API.

Organisers create projects (each with its own pseudonym key and k); organisers and the
game's evaluators list them; only the game's evaluators download player-level files, as a
package or one file at a time, streamed.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from accounts.tokens import Principal
from api.app_state import app_state
from api.deps import (
    Caller,
    Session,
    game_or_404,
    require_evaluator,
    require_organiser,
)
from api.evaluation import ProjectName, Slug, organiser_or_evaluator, responses_for
from api.transaction import Transaction, Tx
from evaluation import exports, package
from evaluation import repository as repo
from evaluation.schemas import (
    ProjectIn,
    ProjectOut,
    ProjectsOut,
)
from game.models import Game
from kernel.db import utcnow

router = APIRouter(tags=["evaluation"])


def _project_out(request: Request, game: Game, project: Any) -> ProjectOut:
    base = f"{request.scope.get('root_path', '')}/api/v1/games/{game.slug}/exports/{project.name}"
    return ProjectOut(
        name=project.name,
        k=project.k,
        description=project.description,
        created_at=project.created_at,
        created_by=project.created_by,
        files={name: f"{base}/{name}" for name in (*exports.FILES, "manifest")},
    )


@router.post(
    "/admin/games/{slug}/evaluation-projects",
    status_code=201,
    response_model=ProjectOut,
    responses=responses_for(401, 403, 404, 409, 422),
    summary="Create an evaluation project: its own pseudonym key and k (organiser)",
    description="Each project gets a random export key, kept on the server (sealed with the "
    "server key) and never shown: pseudonyms of two projects cannot be linked. Evaluator "
    "tokens for the game (`taptrail token create --role evaluator --game SLUG`) download.",
)
async def create_project(
    slug: Slug, body: ProjectIn, request: Request, session: Session, tx: Tx, caller: Caller
) -> ProjectOut:
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    async with tx.write():
        project = await exports.create_project(
            session,
            game,
            body.name,
            box=app_state(request).secret_box,
            actor=caller.actor,
            k=body.k,
            description=body.description,
        )
    return _project_out(request, game, project)


@router.get(
    "/admin/games/{slug}/evaluation-projects",
    response_model=ProjectsOut,
    responses=responses_for(401, 403, 404),
    summary="The game's evaluation projects (organiser or evaluator)",
)
async def list_projects(
    slug: Slug, request: Request, session: Session, caller: Caller
) -> ProjectsOut:
    game = await game_or_404(session, slug)
    organiser_or_evaluator(caller, game)
    projects = await repo.projects_of(session, game.id)
    return ProjectsOut(game=game.slug, projects=[_project_out(request, game, p) for p in projects])


async def _context(
    slug: str,
    project: str,
    request: Request,
    session: Session,
    caller: Principal,
    *,
    daily: bool = True,
) -> exports.ExportContext:
    game = await game_or_404(session, slug)
    require_evaluator(caller, game)
    ctx = await exports.export_context(
        session, game, project, box=app_state(request).secret_box, daily=daily
    )
    await session.commit()  # end the read transaction before streaming
    return ctx


@router.get(
    "/games/{slug}/exports/{project}/manifest",
    responses={
        200: {"description": "k, generalisation, suppression, game, schema, software version"},
        **responses_for(401, 403, 404),
    },
    summary="The export manifest of an evaluation project (evaluator of the game)",
)
async def export_manifest(
    slug: Slug, project: ProjectName, request: Request, session: Session, tx: Tx, caller: Caller
) -> JSONResponse:
    ctx = await _context(slug, project, request, session, caller)
    body = exports.manifest(ctx, generated_on=utcnow().date())
    async with tx.write():
        await exports.record_export(session, ctx, "manifest", actor=caller.actor, fmt="json")
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get(
    "/games/{slug}/exports/{project}/package.zip",
    responses={
        200: {
            "description": "The data package as one zip: players, daily and surveys files, "
            "datapackage.json (Frictionless Table Schemas) and methods.md",
            "content": {"application/zip": {}},
        },
        **responses_for(401, 403, 404),
    },
    summary="Download the whole anonymised data package as a zip (evaluator of the game)",
    description="A Frictionless Data package: the three files (CSV or Parquet), a Table "
    "Schema per file (types, units, codes and their meanings, missing values, keys), the "
    "anonymisation (k, bands, generalisation steps and their information loss, suppression) "
    "and a methods file. Written to a temporary file in bounded memory, then streamed.",
)
async def export_package(
    slug: Slug,
    project: ProjectName,
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
    format: Annotated[Literal["csv", "parquet"], Query()] = "csv",
) -> Response:
    ctx = await _context(slug, project, request, session, caller, daily=True)
    return await package_response(request, session, ctx, format, actor=caller.actor)


async def package_response(
    request: Request,
    session: Session,
    ctx: exports.ExportContext,
    format: Literal["csv", "parquet"],
    *,
    actor: str,
) -> Response:
    """The data package zip of an export (recorded first), written to a temporary file in
    bounded memory and streamed; the console's downloads use it too."""
    async with Transaction(request, session).write():
        await exports.record_export(session, ctx, "package", actor=actor, fmt=format)
    async with app_state(request).sessionmaker() as own:
        path = await package.zip_package(own, ctx, format, generated_on=utcnow().date())
    name = f"{ctx.game.slug}-{ctx.project.name}-{format}.zip"
    return FileResponse(
        path,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get(
    "/games/{slug}/exports/{project}/{file}",
    responses={
        200: {
            "description": "The anonymised file, streamed",
            "content": {
                "text/csv": {"example": "pseudonym,date,taps,legs,points,distance_km\r\n"},
                "application/vnd.apache.parquet": {},
            },
        },
        **responses_for(401, 403, 404),
    },
    summary="Download an anonymised file: players, daily or surveys (evaluator of the game)",
    description="CSV is streamed in constant memory; `format=parquet` writes row groups. "
    "Players that k-anonymity suppresses are left out of every file. Only evaluator tokens "
    "for this game may download player-level data; organisers get the aggregate report.",
)
async def export_file(
    slug: Slug,
    project: ProjectName,
    file: Annotated[Literal["players", "daily", "surveys"], Path()],
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
    format: Annotated[Literal["csv", "parquet"], Query()] = "csv",
) -> Response:
    ctx = await _context(slug, project, request, session, caller, daily=file == "daily")
    return await file_response(request, session, ctx, file, format, actor=caller.actor)


async def file_response(
    request: Request,
    session: Session,
    ctx: exports.ExportContext,
    file: Literal["players", "daily", "surveys"],
    format: Literal["csv", "parquet"],
    *,
    actor: str,
) -> Response:
    """One anonymised file of an export (recorded first): CSV streamed in constant memory,
    Parquet through a temporary file; the console's downloads use it too."""
    async with Transaction(request, session).write():
        await exports.record_export(session, ctx, file, actor=actor, fmt=format)
    name = f"{ctx.game.slug}-{ctx.project.name}-{file}.{format}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
    sessionmaker = app_state(request).sessionmaker
    if format == "parquet":
        fd, tmp = tempfile.mkstemp(prefix="taptrail-export-", suffix=".parquet")
        os.close(fd)
        path = FsPath(tmp)
        try:
            async with sessionmaker() as own:
                await exports.write_parquet(own, ctx, file, path)
        except BaseException:
            await asyncio.to_thread(path.unlink, True)
            raise
        return FileResponse(
            path,
            media_type="application/vnd.apache.parquet",
            headers=headers,
            background=BackgroundTask(path.unlink, missing_ok=True),
        )

    async def body() -> Any:
        async with sessionmaker() as own:
            async for chunk in exports.csv_chunks(own, ctx, file):
                yield chunk

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=headers)
