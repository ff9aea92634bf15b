"""The evaluation survey as forms: the open waves of a player's game, answered for one of
the family's players (``/family/players/{id}/surveys/{wave}``).

The questions are those of ``evaluation.surveys`` for the game's instruments, less the ones
the player is too young to be asked (``game.instruments.eligible``), worded in the
page's language (``survey_words``). Every question is optional and has "Prefer not to say".
A parent or carer may answer for a child, as the child would: the form asks who is
answering, and for a player under 12 it starts at "a parent or carer". Answering again
replaces the earlier answers, as the API does. The answers are checked once, with the API's
own body (``evaluation.schemas.SurveyAnswers``); a refused form comes back with every good
answer kept and the wrong ones named.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.deps import Now, Session
from api.family import web
from api.family.players import PlayerId, member
from api.family.signed import Family
from api.transaction import Tx
from evaluation import surveys as survey_service
from evaluation.schemas import SurveyAnswers
from game import instruments
from game.models import Game
from kernel.errors import TaptrailError
from people import repository as people_repository
from people.models import Player

router = APIRouter(include_in_schema=False)
YOUNG = ("0-4", "5-11")


async def open_waves(session: Session, game: Game) -> list[dict[str, Any]]:
    """The game's open waves (number and English title)."""
    return [w for w in await survey_service.waves_of(session, game) if w["open"]]


def _items(p: web.Page, game: Game, player: Player, wave: int) -> list[dict[str, Any]]:
    asked = survey_service.questions(wave, instruments.chosen(game.survey_instruments))["items"]
    shown: list[dict[str, Any]] = []
    intro = None
    for item in asked:
        if not instruments.eligible(item["instrument"], player.age_band):
            continue
        shown.append(
            {
                "key": item["key"],
                "text": p.word(item["text"]),
                "intro": p.word(item["intro"])
                if item.get("intro") and item["intro"] != intro
                else "",
                "answers": [(str(a["value"]), p.word(a["label"])) for a in item["answers"]],
            }
        )
        intro = item.get("intro")
    return shown


async def _open_wave(p: web.Page, session: Session, player: Player, wave: int) -> Game:
    game = await people_repository.game(session, player.game_id)
    assert game is not None
    if wave not in [w["wave"] for w in await open_waves(session, game)]:
        raise web.FamilyPageProblem(
            404,
            p._("This survey is not open"),
            p._("The organisers have not opened this survey, or it has closed."),
        )
    return game


async def _form_page(
    p: web.Page,
    session: Session,
    signed: web.Signed,
    player: Player,
    game: Game,
    wave: int,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    if values is None:
        stored = await survey_service.wave_answers(session, game, player.id, wave)
        values = {}
        if stored is not None:
            values = {
                key: str(value)
                for key, value in survey_service.to_answers(stored).items()
                if value is not None
            }
            values["answered_by"] = stored.answered_by
        else:
            values["answered_by"] = "parent_or_carer" if player.age_band in YOUNG else ""
    title = p.word(survey_service.WAVES[wave].title)
    return p.render(
        "survey.html",
        status=status,
        signed=signed,
        title=p._("Survey: %(title)s", title=title),
        wave_title=title,
        player=player,
        game=game,
        wave=wave,
        questions=_items(p, game, player, wave),
        values=values,
        errors=errors or [],
    )


WaveNo = Annotated[int, Path(ge=1, le=3)]


@router.get("/family/players/{player_id}/surveys/{wave}")
async def survey_page(
    request: Request, session: Session, signed: Family, player_id: PlayerId, wave: WaveNo
) -> Response:
    p = web.page(request)
    player = await member(p, session, signed, player_id)
    game = await _open_wave(p, session, player, wave)
    return await _form_page(p, session, signed, player, game, wave)


def _answer(value: str) -> int | str | None:
    value = value.strip()
    if not value:
        return None
    return int(value) if value.isdigit() and len(value) <= 2 else value


@router.post("/family/players/{player_id}/surveys/{wave}")
async def answer_survey(
    request: Request,
    session: Session,
    tx: Tx,
    signed: Family,
    player_id: PlayerId,
    wave: WaveNo,
    now: Now,
) -> Response:
    p = web.page(request)
    form = await web.signed_form(p, signed)
    player = await member(p, session, signed, player_id)
    game = await _open_wave(p, session, player, wave)
    keys = [item["key"] for item in _items(p, game, player, wave)]
    answers = {key: _answer(form.get(key, "")) for key in keys}
    errors: list[dict[str, str]] = []
    if form.get("answered_by") not in survey_service.ANSWERED_BY:
        errors.append({"field": "answered_by", "message": p._("Choose who is answering")})
    try:
        body = SurveyAnswers.model_validate(
            {**answers, "answered_by": form.get("answered_by") or "self"}
        )
    except ValidationError as exc:
        wrong = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        errors += [
            {"field": key, "message": p._("Choose one of the answers, or leave it empty")}
            for key in keys
            if key in wrong
        ]
    if errors:
        return await _form_page(
            p, session, signed, player, game, wave, status=422, values=form, errors=errors
        )
    async with tx.writing():
        try:
            await survey_service.submit_answers(
                session,
                game,
                player.id,
                wave,
                body.model_dump(exclude={"answered_by"}),
                answered_by=body.answered_by,
                now=now,
            )
        except TaptrailError:
            await session.rollback()
            raise web.FamilyPageProblem(
                409,
                p._("This survey is not open"),
                p._("The organisers have not opened this survey, or it has closed."),
            ) from None
        await session.commit()
    return web.redirect(f"/family/players/{player.id}?notice=survey")
