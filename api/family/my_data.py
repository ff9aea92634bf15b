"""A family's data: download everything held about the account (JSON, and CSV with one
row per tap) and delete the account (its players are erased as the API erases them: their
points stay with their teams, without a link to them).
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.app_state import app_state
from api.deps import Now, Session
from api.family import web
from api.family.signed import Family
from api.transaction import Tx
from evaluation import surveys as survey_service
from kernel import csv_writer
from people import family, views
from people import repository as people_repository
from scoring.holders import HOLDER_SCORING

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- my data


async def _everything(session: Session, signed: web.Signed, now: datetime) -> dict[str, Any]:
    """Everything held about the account: the account itself and each player's own view."""
    account = signed.account
    players = []
    for player in await family.players(session, account):
        me = await views.me_view(session, player, now=now)
        game = await people_repository.game(session, player.game_id)
        answers = []
        for wave in survey_service.WAVES if game else ():
            assert game is not None
            stored = await survey_service.wave_answers(session, game, player.id, wave)
            if stored is not None:
                answers.append(
                    {
                        "wave": wave,
                        "answered_by": stored.answered_by,
                        "answered_on": stored.answered_on.isoformat(),
                        "answers": survey_service.to_answers(stored),
                    }
                )
        players.append(
            {
                "game": game.slug if game else None,
                "player_id": player.id,
                "nickname": player.nickname,
                "shown_on_public_boards_as": me.shown_as,
                "public": player.public,
                "show_nickname_publicly": player.show_nickname,
                "age_band": player.age_band,
                "gender": player.gender,
                "neighbourhood_lsoa": player.lsoa_code,
                "neighbourhood_deprivation_decile": player.imd_decile,
                "registered_at": player.registered_at.isoformat(),
                "team": me.team.code if me.team else None,
                "cards": [c.model_dump() for c in me.cards],
                "totals": me.totals.model_dump(),
                "journeys": [j.model_dump(mode="json") for j in me.journeys],
                "survey_answers": answers,
            }
        )
    return {
        "account": {
            "email": account.email,
            "account_code": account.account_code,
            "created_at": account.created_at.isoformat(),
        },
        "players": players,
    }


@router.get("/family/data")
async def data_page(request: Request, signed: Family) -> Response:
    p = web.page(request)
    return p.render("data.html", signed=signed, title=p._("Your data"))


@router.get("/family/data.json")
async def data_json(request: Request, session: Session, signed: Family, now: Now) -> Response:
    body = await _everything(session, signed, now)
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={**web.HEADERS, "Content-Disposition": 'attachment; filename="taptrail-data.json"'},
    )


CSV_COLUMNS = (
    "game",
    "player_id",
    "nickname",
    "age_band",
    "gender",
    "team",
    "card",
    "tapped_at",
    "box",
    "outcome",
    "points",
    "distance_m",
)


@router.get("/family/data.csv")
async def data_csv(request: Request, session: Session, signed: Family, now: Now) -> Response:
    """One row per tap of each player (a player without taps: one row without a tap)."""
    body = await _everything(session, signed, now)
    out = io.StringIO()
    writer = csv_writer.writer(out)
    writer.writerow(CSV_COLUMNS)
    for pl in body["players"]:
        head = [
            pl["game"],
            pl["player_id"],
            pl["nickname"],
            pl["age_band"],
            pl["gender"],
            pl["team"],
            " ".join(c["number"] for c in pl["cards"]),
        ]
        taps = [t for j in pl["journeys"] for t in j["taps"]]
        if not taps:
            writer.writerow(head + ["", "", "", "", ""])
        for t in taps:
            writer.writerow(
                head
                + [t["tapped_at"], t["checkpoint_name"], t["outcome"], t["points"], t["distance_m"]]
            )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**web.HEADERS, "Content-Disposition": 'attachment; filename="taptrail-data.csv"'},
    )


@router.get("/family/delete")
async def delete_page(request: Request, session: Session, signed: Family) -> Response:
    p = web.page(request)
    players = await family.players(session, signed.account)
    return p.render("delete.html", signed=signed, title=p._("Delete your account"), players=players)


@router.post("/family/delete")
async def delete(request: Request, session: Session, tx: Tx, signed: Family, now: Now) -> Response:
    p = web.page(request)
    await web.signed_form(p, signed)
    async with tx.write():
        games = {pl.game_id for pl in await family.players(session, signed.account)}
        await family.delete_account(
            session,
            signed.account,
            now=now,
            scoring=HOLDER_SCORING,
            elsewhere=app_state(request).player_data_eraser,
        )
        for game_id in games:
            tx.rebuild_boards(game_id)  # after the commit: who is shown may have changed
    response = web.redirect("/family/sign-in?notice=deleted")
    web.clear_cookie(request, response, web.SESSION_COOKIE)
    return response
