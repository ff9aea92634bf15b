"""Evaluation: surveys, the equity report (JSON, CSV and a page) and anonymised exports.

Roles: players answer surveys with their token; organisers open and close waves, set the
game area and create evaluation projects; organisers and the game's evaluators read the
disclosure-controlled report; only the game's evaluators download player-level files.
"""

from __future__ import annotations

import asyncio
import html
import os
import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from accounts.tokens import Principal
from api.app_state import app_state
from api.deps import (
    Caller,
    Session,
    game_or_404,
    require_evaluator,
    require_organiser,
    require_player,
)
from api.errors import error_responses
from api.transaction import Transaction, Tx
from evaluation import exports, package, surveys
from evaluation import repository as repo
from evaluation.disclosure import disclose_count
from evaluation.report_service import build_game_report, game_area, report_csv, set_game_area
from evaluation.schemas import (
    AreaIn,
    AreaOut,
    DistrictOut,
    ProjectIn,
    ProjectOut,
    ProjectsOut,
    QuestionsOut,
    SurveyAnswers,
    SurveyAnswersOut,
    WaveOut,
    WavesOut,
)
from game.instruments import chosen as chosen_instruments
from game.models import Game
from kernel import audit
from kernel.db import utcnow
from kernel.errors import Forbidden, NotFound

router = APIRouter(tags=["evaluation"])
pages_router = APIRouter(include_in_schema=False)

STATIC_DIR = FsPath(__file__).resolve().parent.parent / "evaluation" / "static"
ASSET_ROUTE = "/static/evaluation"
_MEDIA = {".js": "text/javascript", ".css": "text/css"}
_ASSETS = {p.name: p for p in STATIC_DIR.glob("*") if p.suffix in _MEDIA}


_DESCRIBED = {
    401: "No token, or a token that is not valid",
    403: "The token's role or game does not allow this",
    404: "No such game, wave, project or file",
    409: "The survey wave is closed, or the name is taken",
    422: "A field is not valid (each offending field is named)",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return error_responses(_DESCRIBED, *codes)


Slug = Annotated[str, Path(min_length=1, max_length=64, examples=["burnley-2027"])]
WaveNo = Annotated[int, Path(ge=1, le=3, description="1 registration, 2 game end, 3 follow-up")]
ProjectName = Annotated[str, Path(min_length=1, max_length=64, examples=["uclan-2027"])]


def _organiser_or_evaluator(principal: Principal, game: Game) -> None:
    if principal.role == "evaluator":
        require_evaluator(principal, game)
        return
    if principal.role != "organiser":
        raise Forbidden("this needs an organiser token or an evaluator token for this game")
    require_organiser(principal, game)


# ------------------------------------------------------------------------------ surveys


@router.get(
    "/games/{slug}/surveys",
    response_model=WavesOut,
    responses=_errors(404),
    summary="The survey waves of a game and whether each is open (public)",
)
async def list_waves(slug: Slug, session: Session) -> WavesOut:
    game = await game_or_404(session, slug)
    waves = await surveys.waves_of(session, game)
    return WavesOut(game=game.slug, waves=[WaveOut(**w) for w in waves])


@router.get(
    "/games/{slug}/surveys/{wave}/questions",
    response_model=QuestionsOut,
    responses=_errors(404),
    summary="The questions of a survey wave, with their exact wording and answers (public)",
)
async def wave_questions(slug: Slug, wave: WaveNo, session: Session) -> QuestionsOut:
    game = await game_or_404(session, slug)
    return QuestionsOut(
        game=game.slug, **surveys.questions(wave, chosen_instruments(game.survey_instruments))
    )


def _answers_out(game: Game, wave: int, answers: dict[str, Any], **extra: Any) -> SurveyAnswersOut:
    return SurveyAnswersOut(game=game.slug, wave=wave, **answers, **extra)


@router.post(
    "/games/{slug}/surveys/{wave}",
    response_model=SurveyAnswersOut,
    responses=_errors(401, 403, 404, 409, 422),
    summary="Answer a survey wave (player token; a parent or carer may answer for a child)",
    description="One answer set per player per wave: answering again replaces the earlier "
    "answers. Every item is optional and accepts 'prefer_not_to_say'. A closed wave is 409.",
)
async def answer_wave(
    slug: Slug,
    wave: WaveNo,
    body: SurveyAnswers,
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
) -> SurveyAnswersOut:
    player_id = require_player(caller)
    game = await game_or_404(session, slug)
    answers = body.model_dump(exclude={"answered_by"})
    async with tx.write():
        done = await surveys.submit_answers(
            session, game, player_id, wave, answers, answered_by=body.answered_by, now=utcnow()
        )
    return _answers_out(
        game,
        wave,
        answers,
        answered_by=body.answered_by,
        answered_on=done.answered_on,
        replaced=done.replaced,
    )


@router.get(
    "/games/{slug}/surveys/{wave}/answers",
    response_model=SurveyAnswersOut,
    responses=_errors(401, 403, 404),
    summary="The player's own answers to a wave (player token)",
)
async def my_answers(
    slug: Slug, wave: WaveNo, session: Session, caller: Caller
) -> SurveyAnswersOut:
    player_id = require_player(caller)
    game = await game_or_404(session, slug)
    response = await surveys.wave_answers(session, game, player_id, wave)
    if response is None:
        raise NotFound(f"no answers to wave {wave} yet")
    return _answers_out(
        game,
        wave,
        surveys.to_answers(response),
        answered_by=response.answered_by,
        answered_on=response.answered_on,
        replaced=False,
    )


async def _set_wave(
    slug: str,
    wave: int,
    tx: Transaction,
    caller: Principal,
    is_open: bool,
) -> WaveOut:
    session = tx.session
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    async with tx.write():
        await surveys.set_wave_open(
            session, game, wave, is_open=is_open, actor=caller.actor, now=utcnow()
        )
    waves = await surveys.waves_of(session, game)
    return WaveOut(**waves[wave - 1])


@router.post(
    "/admin/games/{slug}/surveys/{wave}/open",
    response_model=WaveOut,
    responses=_errors(401, 403, 404),
    summary="Open a survey wave for answers (organiser)",
)
async def open_wave(slug: Slug, wave: WaveNo, tx: Tx, caller: Caller) -> WaveOut:
    return await _set_wave(slug, wave, tx, caller, True)


@router.post(
    "/admin/games/{slug}/surveys/{wave}/close",
    response_model=WaveOut,
    responses=_errors(401, 403, 404),
    summary="Close a survey wave: later answers are refused with 409 (organiser)",
)
async def close_wave(slug: Slug, wave: WaveNo, tx: Tx, caller: Caller) -> WaveOut:
    return await _set_wave(slug, wave, tx, caller, False)


# ------------------------------------------------------------------------------ area & report


async def _area_out(session: Session, game: Game) -> AreaOut:
    area = await game_area(session, game.id)
    info = area.describe()
    return AreaOut(
        game=game.slug,
        method=info["method"],
        definition=info["definition"],
        districts=[DistrictOut(**d) for d in info["districts"]],
        players_by_district={
            code: disclose_count(n) for code, n in sorted(area.players_by_lad.items())
        },
    )


@router.get(
    "/admin/games/{slug}/evaluation/area",
    response_model=AreaOut,
    responses=_errors(401, 403, 404),
    summary="The game area used as the uptake denominator (organiser or evaluator)",
)
async def get_area(slug: Slug, session: Session, caller: Caller) -> AreaOut:
    game = await game_or_404(session, slug)
    _organiser_or_evaluator(caller, game)
    return await _area_out(session, game)


@router.put(
    "/admin/games/{slug}/evaluation/area",
    response_model=AreaOut,
    responses=_errors(401, 403, 404, 422),
    summary="Set the local authority districts of the game area (organiser)",
    description="By default the area is the districts where at least 10% of players with a "
    "known neighbourhood live. An empty list returns to that default.",
)
async def put_area(
    slug: Slug, body: AreaIn, request: Request, session: Session, tx: Tx, caller: Caller
) -> AreaOut:
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    async with tx.write():
        await set_game_area(session, game, body.lad_codes)
        audit.record(
            session,
            actor=caller.actor,
            action="evaluation.area",
            game_id=game.id,
            lad_codes=sorted(body.lad_codes),
        )
    return await _area_out(session, game)


REPORT_EXAMPLE = {
    "game": {"slug": "burnley-2027", "name": "Burnley Beats"},
    "players": 2140,
    "nations": {
        "england": {
            "uptake": {
                "groups": {
                    "Q1": {"players": 640, "residents": 21000, "rate_per_1000": 30.5},
                    "Q3": {"players": "*", "rate_per_1000": "*"},
                    "total": {"players": 2140},
                }
            }
        }
    },
}


@router.get(
    "/admin/games/{slug}/reports/evaluation",
    responses={
        200: {
            "description": "The report; '*' marks a suppressed value, null 'not applicable'",
            "content": {
                "application/json": {"example": REPORT_EXAMPLE},
                "text/csv": {"example": "nation,section,comparison,group,metric,value\r\n"},
            },
        },
        **_errors(401, 403, 404),
    },
    summary="Evaluation report by IMD quintile: uptake, the game's survey measures, "
    "inequality and RE-AIM",
    description="Organisers and the game's evaluators. Disclosure control is applied to every "
    "value below whole-game level (counts 1-7 suppressed, others rounded to 5, secondary "
    "suppression). Sections: uptake, one per measure of the game's instruments (activity, "
    "belonging, nature, ONS4 items, loneliness), inequality, and the RE-AIM blocks (reach, "
    "effectiveness, active days and maintenance per nation; adoption and implementation for "
    "the whole game). `format=csv` gives one row per value.",
)
async def evaluation_report(
    slug: Slug,
    session: Session,
    caller: Caller,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    game = await game_or_404(session, slug)
    _organiser_or_evaluator(caller, game)
    report = await build_game_report(session, game)
    headers = {"Cache-Control": "no-store"}
    if format == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{game.slug}-evaluation.csv"'
        return Response(report_csv(report), media_type="text/csv; charset=utf-8", headers=headers)
    return JSONResponse(report, headers=headers)


# ------------------------------------------------------------------------------ projects & exports


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
    responses=_errors(401, 403, 404, 409, 422),
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
    responses=_errors(401, 403, 404),
    summary="The game's evaluation projects (organiser or evaluator)",
)
async def list_projects(
    slug: Slug, request: Request, session: Session, caller: Caller
) -> ProjectsOut:
    game = await game_or_404(session, slug)
    _organiser_or_evaluator(caller, game)
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
        **_errors(401, 403, 404),
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
        **_errors(401, 403, 404),
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
    async with app_state(request).writing():
        await exports.record_export(session, ctx, "package", actor=actor, fmt=format)
        await session.commit()
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
        **_errors(401, 403, 404),
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
    async with app_state(request).writing():
        await exports.record_export(session, ctx, file, actor=actor, fmt=format)
        await session.commit()
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


# ------------------------------------------------------------------------------ the report page

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


@pages_router.get("/games/{slug}/report", response_class=HTMLResponse)
async def report_page(request: Request, slug: str) -> Response:
    """The evaluation report for a council officer: paste a token (kept in this tab only)."""
    return await report_html(request, slug)


async def report_html(request: Request, slug: str, *, session_url: str = "") -> Response:
    """The report page; with ``session_url`` (the console) it reads the report from that
    address with the signed-in session's cookie instead of asking for a token."""
    exists = await app_state(request).game_exists(slug)
    if not exists:
        body = (
            "<!doctype html><meta charset=utf-8><title>Not found</title>"
            f"<p>There is no game called “{html.escape(slug)}”.</p>"
        )
        return HTMLResponse(body, status_code=404)
    root = request.scope.get("root_path", "")
    text = (STATIC_DIR / "report.html").read_text(encoding="utf-8")
    values = {
        "slug": slug,
        "api": f"{root}/api/v1",
        "assets": f"{root}{ASSET_ROUTE}",
        "session": session_url,
    }
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return HTMLResponse(
        text,
        headers={
            "Content-Security-Policy": _CSP,
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@pages_router.get(ASSET_ROUTE + "/{name}")
async def report_asset(name: str) -> Response:
    path = _ASSETS.get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        path,
        media_type=_MEDIA[path.suffix],
        headers={"Cache-Control": "no-cache"},
    )
