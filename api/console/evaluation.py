"""The console's Evaluation pages: ``/console/games/{slug}/evaluation``.

For the game's evaluators and its organisers. The report is the same page as the public
token form (``api.evaluation_page.report_html``) but behind sign-in: it reads the report from
``.../evaluation/report-data`` with the session cookie, so no token is ever pasted, kept or
put in an address. The export projects' downloads (each file, and the whole Frictionless
data package as one zip) are for the game's evaluators only, as in the API: organisers see
the projects and the aggregate report. Downloads reuse the API's streaming responses and are
recorded as the API's are (``evaluation.exports.record_export``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from accounts.staff.service import actor
from api.app_state import app_state
from api.console import scoped, web
from api.console.web import StaffContext
from api.deps import Session
from api.evaluation_exports import file_response, package_response
from api.evaluation_page import report_html
from evaluation import exports
from evaluation import repository as eval_repo
from evaluation.report_service import build_game_report, report_csv
from game.models import Game
from kernel.errors import NotFound

router = APIRouter(include_in_schema=False)

Reader = Annotated[StaffContext, Depends(web.require_staff("organiser", "evaluator"))]
Evaluator = Annotated[StaffContext, Depends(web.require_staff("evaluator"))]
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Project = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Format = Annotated[Literal["csv", "parquet"], Query()]
FILES: tuple[Literal["players", "daily", "surveys"], ...] = ("players", "daily", "surveys")


def _base(slug: str) -> str:
    return f"/console/games/{slug}/evaluation"


@router.get("/console/games/{slug}/evaluation")
async def evaluation_page(request: Request, session: Session, ctx: Reader, slug: Slug) -> Response:
    game = await scoped.game_of(session, ctx, slug)
    projects = await eval_repo.projects_of(session, game.id)
    return web.render(
        request,
        "evaluation.html",
        ctx=ctx,
        title=f"Evaluation: {game.name}",
        game=game,
        projects=projects,
        files=FILES,
        base=_base(slug),
        downloads=ctx.user.role == "evaluator",
    )


@router.get("/console/games/{slug}/evaluation/report")
async def report_page(request: Request, session: Session, ctx: Reader, slug: Slug) -> Response:
    game = await scoped.game_of(session, ctx, slug)
    return await report_html(request, game.slug, session_url=_base(slug) + "/report-data")


@router.get("/console/games/{slug}/evaluation/report-data")
async def report_data(
    request: Request,
    session: Session,
    ctx: Reader,
    slug: Slug,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    game = await scoped.game_of(session, ctx, slug)
    report = await build_game_report(session, game)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if format == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{game.slug}-evaluation.csv"'
        return Response(report_csv(report), media_type="text/csv; charset=utf-8", headers=headers)
    return JSONResponse(report, headers=headers)


async def _export(
    request: Request, session: Session, ctx: StaffContext, slug: str, project: str, daily: bool
) -> exports.ExportContext:
    game: Game = await scoped.game_of(session, ctx, slug)
    try:
        found = await exports.export_context(
            session, game, project, box=app_state(request).secret_box, daily=daily
        )
    except NotFound as exc:
        raise web.PageProblem(404, "No such project", str(exc)) from exc
    await session.commit()  # end the read transaction before streaming
    return found


@router.get("/console/games/{slug}/evaluation/{project}/package.zip")
async def package_zip(
    request: Request,
    session: Session,
    ctx: Evaluator,
    slug: Slug,
    project: Project,
    format: Format = "csv",
) -> Response:
    found = await _export(request, session, ctx, slug, project, True)
    return await package_response(request, session, found, format, actor=actor(ctx.user))


@router.get("/console/games/{slug}/evaluation/{project}/{file}")
async def export_file(
    request: Request,
    session: Session,
    ctx: Evaluator,
    slug: Slug,
    project: Project,
    file: Annotated[Literal["players", "daily", "surveys"], Path()],
    format: Format = "csv",
) -> Response:
    found = await _export(request, session, ctx, slug, project, file == "daily")
    return await file_response(request, session, found, file, format, actor=actor(ctx.user))
