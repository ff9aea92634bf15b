"""A family's players: everyone's points (``/family/``), adding a card (or, for 13 and
over, a player without one who checks in by phone: ``kind=phone``), one player's page
(journeys, cards), changing team, replacing a lost card and removing a player.

Every page needs a family session (``signed.Family``) and shows only the account's own
players (another's: 404). Every POST is checked for the same origin and a CSRF token and
answers with a redirect (303), or the page again with an error summary and a 4xx status.
Each write is one transaction; boards hear of it after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.app_state import app_state
from api.deps import MAX_ROW_ID, Now, Session
from api.family import web
from api.family.i18n import N_
from api.family.messages import FIELDS, errors_of
from api.family.signed import Family, after_commit
from api.transaction import Tx
from evaluation import surveys as survey_service
from game.models import Game
from kernel.errors import Forbidden, TaptrailError
from people import cards, family, membership, views
from people import family_repository as repo
from people import repository as people_repository
from people.models import Player
from people.registration import WrongActivationCode
from people.rules import check_app_player
from people.schemas import AgeBand, Gender, RegistrationIn
from scoring.holders import HOLDER_SCORING

router = APIRouter(include_in_schema=False)
PlayerId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
AGE_BANDS: Sequence[str] = AgeBand.__args__  # type: ignore[attr-defined]
GENDERS: Sequence[str] = Gender.__args__  # type: ignore[attr-defined]


def _problem(p: web.Page, status: int = 404) -> web.FamilyPageProblem:
    return web.FamilyPageProblem(
        status, p._("Page not found"), p._("There is no such player in your account.")
    )


# ---------------------------------------------------------------- my points


def _local(moment: datetime, game: Game) -> datetime:
    return moment.astimezone(ZoneInfo(game.timezone))


async def may_check_in(session: Session, player: Player) -> bool:
    """Whether the player may check in by phone: an app account, 13 and over (``people.rules``)."""
    cards = await people_repository.cards_of_holder(session, player.game_id, player.holder_id)
    try:
        check_app_player(player, had_virtual_card=any(c.kind == "virtual" for c in cards))
    except Forbidden:
        return False
    return True


async def _card_view(session: Session, player: Player, now: datetime) -> dict[str, Any]:
    me = await views.me_view(session, player, now=now)
    game = await people_repository.game(session, player.game_id)
    assert game is not None
    boxes = await repo.checkpoints(session, game.id)
    visited = await repo.visited_checkpoint_ids(session, game.id, player.holder_id)
    campaigns = [
        c for c in await repo.campaigns_ending_after(session, game.id, now) if c.starts_at <= now
    ]
    return {
        "player": player,
        "me": me,
        "game": game,
        "not_visited": [b for b in boxes if b.id not in visited],
        "boxes": len(boxes),
        "campaigns": [(c, _local(c.ends_at, game)) for c in campaigns],
        "journeys": [(j, _local(j.started_at, game)) for j in me.journeys[:5]],
        "can_check_in": game.ends_at > now and await may_check_in(session, player),
    }


NOTICES = {
    "created": N_("Your account is ready. Add a card to start."),
    "added": N_("The card has been added."),
    "team": N_("The team has been changed. Points already earned stay with the old team."),
    "replaced": N_("The new card has been linked. The old card no longer scores."),
    "survey": N_("Thank you. The answers have been saved."),
    "removed": N_(
        "The player has been removed and their details deleted. Their points stay with their team."
    ),
}


@router.get("/family/")
async def home(request: Request, session: Session, signed: Family, now: Now) -> Response:
    p = web.page(request)
    cards = [
        await _card_view(session, pl, now) for pl in await family.players(session, signed.account)
    ]
    notice_key = request.query_params.get("notice", "")
    return p.render(
        "home.html",
        signed=signed,
        title=p._("Your family's points"),
        cards=cards,
        notice=p._(NOTICES[notice_key]) if notice_key in NOTICES else None,
    )


# ---------------------------------------------------------------- adding a card


async def _games_open(session: Session, now: datetime) -> list[Game]:
    return [g for g in await repo.games(session) if g.ends_at > now]


async def _add_page(
    p: web.Page,
    session: Session,
    signed: web.Signed,
    now: datetime,
    *,
    status: int = 200,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
) -> Response:
    games = await _games_open(session, now)
    game = next(
        (g for g in games if g.slug == values.get("game")), games[0] if len(games) == 1 else None
    )
    teams = await views.list_teams(session, game.id, None) if game else []
    phone = values.get("kind") == "phone"
    return p.render(
        "add.html",
        status=status,
        signed=signed,
        title=p._("Play by phone") if phone else p._("Add a card"),
        phone=phone,
        games=games,
        game=game,
        teams=teams,
        age_bands=AGE_BANDS,
        genders=GENDERS,
        values=values,
        errors=errors or [],
    )


@router.get("/family/add")
async def add_page(request: Request, session: Session, signed: Family, now: Now) -> Response:
    p = web.page(request)
    query = request.query_params
    return await _add_page(
        p,
        session,
        signed,
        now,
        values={"game": query.get("game", ""), "kind": query.get("kind", "")},
    )


def _required(p: web.Page, form: dict[str, str], names: Sequence[str]) -> list[dict[str, str]]:
    return [
        {"field": name, "message": p._(FIELDS[name])}
        for name in names
        if not form.get(name, "").strip()
    ]


@router.post("/family/add")
async def add(request: Request, session: Session, tx: Tx, signed: Family, now: Now) -> Response:
    p = web.page(request)
    form = await web.signed_form(p, signed)
    game = await repo.game_by_slug(session, form.get("game", ""))
    if game is None or game.ends_at <= now:
        return await _add_page(
            p,
            session,
            signed,
            now,
            status=422,
            values=form,
            errors=[{"field": "game", "message": p._("Choose a game")}],
        )
    # Without a card ("kind=phone"): a player of 13 or over who checks in by phone.
    phone = form.get("kind") == "phone"
    card = () if phone else ("card_number", "activation_code")
    errors = _required(p, form, (*card, "nickname", "age_band", "gender"))
    if errors:
        return await _add_page(p, session, signed, now, status=422, values=form, errors=errors)
    try:
        registration = RegistrationIn(
            card_number=None if phone else form["card_number"],
            activation_code=None if phone else form["activation_code"],
            age_13_or_over=phone and form.get("age_13_or_over") == "yes",
            nickname=form["nickname"],
            postcode=form.get("postcode") or None,
            age_band=form["age_band"],  # type: ignore[arg-type]
            gender=form["gender"],  # type: ignore[arg-type]
            team=form.get("team") or None,
            join_code=form.get("join_code") or None,
            public=form.get("public") == "yes",
            show_nickname_publicly=form.get("show_nickname") == "yes",
        )
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        errors = [{"field": f, "message": p._(FIELDS[f])} for f in FIELDS if f in fields]
        return await _add_page(
            p,
            session,
            signed,
            now,
            status=422,
            values=form,
            errors=errors
            or [
                {
                    "field": "",
                    "message": p._("Something in the form was not right. Check it and try again."),
                }
            ],
        )
    async with tx.writing():
        try:
            done = await family.register_card(
                session,
                signed.account,
                game,
                registration,
                client=web.client_key(request),
                now=now,
                scoring=HOLDER_SCORING,
            )
        except WrongActivationCode as exc:
            await session.commit()  # only the failed attempt: the rate limits count it
            return await _add_page(
                p, session, signed, now, status=422, values=form, errors=errors_of(p, exc)
            )
        except TaptrailError as exc:
            await session.rollback()
            response = await _add_page(
                p, session, signed, now, status=exc.status, values=form, errors=errors_of(p, exc)
            )
            if exc.retry_after:
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
        await session.commit()
    await after_commit(request, game.id, done.deltas)
    return web.redirect("/family/?notice=added")


# ---------------------------------------------------------------- one player


async def member(p: web.Page, session: Session, signed: web.Signed, player_id: int) -> Player:
    found = await family.player(session, signed.account, player_id)
    if found is None:
        raise _problem(p)
    return found


async def _player_page(
    p: web.Page,
    session: Session,
    signed: web.Signed,
    player: Player,
    now: datetime,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    view = await _card_view(session, player, now)
    teams = await views.list_teams(session, player.game_id, None)
    game = view["game"]
    waves = [
        (
            w["wave"],
            p.word(w["title"]),
            await survey_service.wave_answers(session, game, player.id, w["wave"]) is not None,
        )
        for w in await survey_service.waves_of(session, game)
        if w["open"]
    ]
    return p.render(
        "player.html",
        surveys=waves,
        status=status,
        signed=signed,
        title=view["me"].nickname,
        teams=teams,
        values=values or {},
        errors=errors or [],
        notice=p._(NOTICES[key])
        if (key := p.request.query_params.get("notice", "")) in NOTICES
        else None,
        **view,
    )


@router.get("/family/players/{player_id}")
async def player_page(
    request: Request, session: Session, tx: Tx, signed: Family, player_id: PlayerId, now: Now
) -> Response:
    p = web.page(request)
    player = await member(p, session, signed, player_id)
    return await _player_page(p, session, signed, player, now)


@router.post("/family/players/{player_id}/team")
async def change_team(
    request: Request, session: Session, tx: Tx, signed: Family, player_id: PlayerId, now: Now
) -> Response:
    p = web.page(request)
    form = await web.signed_form(p, signed)
    player = await member(p, session, signed, player_id)
    async with tx.writing():
        try:
            delta = await membership.change_team(
                session,
                player,
                form.get("team") or None,
                form.get("join_code") or None,
                now=now,
                actor=f"family:{signed.account.id}",
                scoring=HOLDER_SCORING,
            )
        except TaptrailError as exc:
            await session.rollback()
            player = await member(p, session, signed, player_id)
            return await _player_page(
                p,
                session,
                signed,
                player,
                now,
                status=exc.status,
                errors=errors_of(p, exc),
                values=form,
            )
        await session.commit()
    if not delta.is_empty():
        await app_state(request).publish_scores(player.game_id, delta)
    return web.redirect(f"/family/players/{player_id}?notice=team")


@router.post("/family/players/{player_id}/card")
async def replace_card(
    request: Request, session: Session, tx: Tx, signed: Family, player_id: PlayerId, now: Now
) -> Response:
    p = web.page(request)
    form = await web.signed_form(p, signed)
    player = await member(p, session, signed, player_id)
    errors = [
        {"field": f, "message": p._(FIELDS[n])}
        for f, n in (
            ("new_card_number", "new_card_number"),
            ("new_activation_code", "activation_code"),
        )
        if not form.get(f, "").strip()
    ]
    if errors:
        return await _player_page(
            p, session, signed, player, now, status=422, errors=errors, values=form
        )
    async with tx.writing():
        try:
            change = await cards.link_card(
                session,
                player,
                form["new_card_number"].strip(),
                form["new_activation_code"],
                client=web.client_key(request),
                now=now,
                actor=f"family:{signed.account.id}",
                scoring=HOLDER_SCORING,
            )
        except TaptrailError as exc:
            if isinstance(exc, WrongActivationCode):
                await session.commit()  # only the failed attempt: the rate limits count it
            else:
                await session.rollback()
            player = await member(p, session, signed, player_id)
            errors = [
                {
                    "field": "new_" + e["field"]
                    if e["field"] in ("card_number", "activation_code")
                    else e["field"],
                    "message": e["message"],
                }
                for e in errors_of(p, exc)
            ]
            return await _player_page(
                p, session, signed, player, now, status=exc.status, errors=errors, values=form
            )
        await session.commit()
    for delta in change.deltas:
        if not delta.is_empty():
            await app_state(request).publish_scores(player.game_id, delta)
    return web.redirect(f"/family/players/{player_id}?notice=replaced")


@router.get("/family/players/{player_id}/remove")
async def remove_page(
    request: Request, session: Session, signed: Family, player_id: PlayerId
) -> Response:
    p = web.page(request)
    player = await member(p, session, signed, player_id)
    return p.render("remove.html", signed=signed, title=p._("Remove a player"), player=player)


@router.post("/family/players/{player_id}/remove")
async def remove(
    request: Request, session: Session, tx: Tx, signed: Family, player_id: PlayerId, now: Now
) -> Response:
    p = web.page(request)
    await web.signed_form(p, signed)
    player = await member(p, session, signed, player_id)
    async with tx.write():
        await family.remove_player(
            session,
            signed.account,
            player,
            now=now,
            scoring=HOLDER_SCORING,
            elsewhere=app_state(request).player_data_eraser,
        )
        tx.rebuild_boards(player.game_id)  # after the commit: who is shown has changed
    return web.redirect("/family/?notice=removed")
