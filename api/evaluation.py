"""Evaluation over the API: surveys, the game area and the equity report (JSON and CSV).

Roles: players answer surveys with their token; organisers open and close waves and set the
game area; organisers and the game's evaluators read the disclosure-controlled report.
Evaluation projects and their exports are in ``api.evaluation_exports``, the report's page
in ``api.evaluation_page``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from accounts.tokens import Principal
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
from evaluation import surveys
from evaluation.disclosure import disclose_count
from evaluation.report_service import build_game_report, game_area, report_csv, set_game_area
from evaluation.schemas import (
    AreaIn,
    AreaOut,
    DistrictOut,
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


_DESCRIBED = {
    401: "No token, or a token that is not valid",
    403: "The token's role or game does not allow this",
    404: "No such game, wave, project or file",
    409: "The survey wave is closed, or the name is taken",
    422: "A field is not valid (each offending field is named)",
}


def responses_for(*codes: int) -> dict[int | str, dict[str, Any]]:
    return error_responses(_DESCRIBED, *codes)


Slug = Annotated[str, Path(min_length=1, max_length=64, examples=["burnley-2027"])]
WaveNo = Annotated[int, Path(ge=1, le=3, description="1 registration, 2 game end, 3 follow-up")]
ProjectName = Annotated[str, Path(min_length=1, max_length=64, examples=["uclan-2027"])]


def organiser_or_evaluator(principal: Principal, game: Game) -> None:
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
    responses=responses_for(404),
    summary="The survey waves of a game and whether each is open (public)",
)
async def list_waves(slug: Slug, session: Session) -> WavesOut:
    game = await game_or_404(session, slug)
    waves = await surveys.waves_of(session, game)
    return WavesOut(game=game.slug, waves=[WaveOut(**w) for w in waves])


@router.get(
    "/games/{slug}/surveys/{wave}/questions",
    response_model=QuestionsOut,
    responses=responses_for(404),
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
    responses=responses_for(401, 403, 404, 409, 422),
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
    responses=responses_for(401, 403, 404),
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
    responses=responses_for(401, 403, 404),
    summary="Open a survey wave for answers (organiser)",
)
async def open_wave(slug: Slug, wave: WaveNo, tx: Tx, caller: Caller) -> WaveOut:
    return await _set_wave(slug, wave, tx, caller, True)


@router.post(
    "/admin/games/{slug}/surveys/{wave}/close",
    response_model=WaveOut,
    responses=responses_for(401, 403, 404),
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
    responses=responses_for(401, 403, 404),
    summary="The game area used as the uptake denominator (organiser or evaluator)",
)
async def get_area(slug: Slug, session: Session, caller: Caller) -> AreaOut:
    game = await game_or_404(session, slug)
    organiser_or_evaluator(caller, game)
    return await _area_out(session, game)


@router.put(
    "/admin/games/{slug}/evaluation/area",
    response_model=AreaOut,
    responses=responses_for(401, 403, 404, 422),
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
        **responses_for(401, 403, 404),
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
    organiser_or_evaluator(caller, game)
    report = await build_game_report(session, game)
    headers = {"Cache-Control": "no-store"}
    if format == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{game.slug}-evaluation.csv"'
        return Response(report_csv(report), media_type="text/csv; charset=utf-8", headers=headers)
    return JSONResponse(report, headers=headers)
