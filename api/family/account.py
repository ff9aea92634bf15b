"""A family's pages: opening an account, signing in (and recovering an account code's
password), signing out, the players and their points, adding a card, changing team,
replacing a lost card, removing a player, downloading the data and deleting the account.

Every page but opening and signing in needs a family session (without one: 303 to
``/family/sign-in``). Every POST is checked for the same origin and a CSRF token and
answers with a redirect (303), or the form again with an error summary and a 4xx status.
Each write is one transaction; boards hear of it after the commit.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.deps import MAX_ROW_ID, Session
from api.family import web
from api.family.i18n import N_
from api.family.messages import FIELDS, errors_of
from game.models import Game
from game.scoring_service import TotalsDelta
from people import family, membership
from people import family_repository as repo
from people import service as people_service
from people.models import Player
from people.schemas import AgeBand, Gender, RegistrationIn
from taptrail import csv_writer
from taptrail.errors import TaptrailError
from taptrail.staff import throttle

router = APIRouter(include_in_schema=False)
PlayerId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
AGE_BANDS: Sequence[str] = AgeBand.__args__  # type: ignore[attr-defined]
GENDERS: Sequence[str] = Gender.__args__  # type: ignore[attr-defined]


class SignInNeeded(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def require_family(request: Request, session: Session) -> web.Signed:
    signed = await web.current(request, session)
    if signed is None:
        raise SignInNeeded(request.url.path)
    return signed


Family = Annotated[web.Signed, Depends(require_family)]


def install(app: Any) -> None:
    async def _sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        return web.redirect("/family/sign-in?next=" + quote(web.safe_next(exc.next_path), safe="/"))

    app.add_exception_handler(SignInNeeded, _sign_in)


async def _after_commit(request: Request, game_id: int, deltas: Sequence[TotalsDelta]) -> None:
    """Boards are rebuilt: who is shown on them may have changed."""
    del deltas
    await request.app.state.after_game_change(game_id)


def _problem(p: web.Page, status: int = 404) -> web.FamilyPageProblem:
    return web.FamilyPageProblem(
        status, p._("Page not found"), p._("There is no such player in your account.")
    )


# ---------------------------------------------------------------- opening an account


@router.get("/family/create")
async def create_page(request: Request) -> Response:
    p = web.page(request)
    return p.anonymous("create.html", title=p._("Create a family account"), values={})


@router.post("/family/create")
async def create(request: Request, session: Session) -> Response:
    p = web.page(request)
    form = await web.anonymous_form(p)
    kind = form.get("kind", "")
    errors: list[dict[str, str]] = []
    if kind not in ("email", "code"):
        errors.append({"field": "kind", "message": p._("Choose how you will sign in")})
    elif kind == "code" and form.get("age_13") != "yes":
        errors.append(
            {
                "field": "age_13",
                "message": p._(
                    "Accounts without a parent or carer are for people aged 13 and over"
                ),
            }
        )
    if not errors:
        async with request.app.state.writing():
            try:
                made = await family.create_account(
                    session,
                    email=form.get("email", "") if kind == "email" else None,
                    password=form.get("password", ""),
                    confirm=form.get("confirm", ""),
                    now=web.now(request),
                )
                raw, _ = await family.start_session(session, made.account, web.now(request))
                await session.commit()
            except TaptrailError as exc:
                await session.rollback()
                errors = errors_of(p, exc)
                status = exc.status
            else:
                if made.account_code is None:
                    return web.signed_in_response(request, raw, "/family/?notice=created")
                response = p.render(
                    "codes.html",
                    title=p._("Write down your codes"),
                    account_code=made.account_code,
                    recovery_code=made.recovery_code,
                )
                web.set_cookie(request, response, web.SESSION_COOKIE, raw)
                return response
    return p.anonymous(
        "create.html",
        status=status if errors and "status" in locals() else 422,
        title=p._("Create a family account"),
        values={"kind": kind, "email": form.get("email", "")},
        errors=errors,
    )


# ---------------------------------------------------------------- signing in and out


def _sign_in_page(p: web.Page, *, status: int = 200, **values: Any) -> Response:
    values.setdefault("name", "")
    values.setdefault("next_path", "/family/")
    return p.anonymous("sign_in.html", status=status, title=p._("Sign in"), **values)


@router.get("/family/sign-in")
async def sign_in_page(request: Request, session: Session) -> Response:
    p = web.page(request)
    next_path = web.safe_next(request.query_params.get("next"))
    if await web.current(request, session) is not None:
        return web.redirect(next_path)
    notice = {
        "signed_out": p._("You have signed out."),
        "deleted": p._("Your account and its data have been deleted."),
        "recovered": p._("Your password has been changed."),
    }.get(request.query_params.get("notice", ""))
    return _sign_in_page(p, next_path=next_path, notice=notice)


@router.post("/family/sign-in")
async def sign_in(request: Request, session: Session) -> Response:
    p = web.page(request)
    form = await web.anonymous_form(p)
    name, password = form.get("name", "").strip(), form.get("password", "")
    next_path = web.safe_next(form.get("next"))
    missing = [
        {"field": field, "message": message}
        for field, message, value in (
            ("name", p._("Enter your e-mail address or account code"), name),
            ("password", p._("Enter your password"), password),
        )
        if not value
    ]
    if missing:
        return _sign_in_page(p, status=400, name=name, next_path=next_path, errors=missing)
    moment = web.now(request)
    async with request.app.state.writing():
        try:
            account = await family.sign_in(
                session, name, password, client=web.client_key(request), now=moment
            )
        except throttle.Throttled as exc:
            await session.rollback()
            response = _sign_in_page(
                p, status=429, name=name, next_path=next_path, errors=errors_of(p, exc)
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except family.FamilyProblem as exc:
            await session.commit()  # the failure counts
            return _sign_in_page(
                p, status=401, name=name, next_path=next_path, errors=errors_of(p, exc)
            )
        raw, _ = await family.start_session(session, account, moment)
        await session.commit()
    return web.signed_in_response(request, raw, next_path)


@router.get("/family/recover")
async def recover_page(request: Request) -> Response:
    p = web.page(request)
    return p.anonymous("recover.html", title=p._("Forgotten your password?"), code="")


@router.post("/family/recover")
async def recover(request: Request, session: Session) -> Response:
    p = web.page(request)
    form = await web.anonymous_form(p)
    moment = web.now(request)
    async with request.app.state.writing():
        try:
            account, fresh = await family.recover(
                session,
                form.get("account_code", ""),
                form.get("recovery_code", ""),
                form.get("password", ""),
                form.get("confirm", ""),
                client=web.client_key(request),
                now=moment,
            )
            raw, _ = await family.start_session(session, account, moment)
            await session.commit()
        except TaptrailError as exc:
            if isinstance(exc, family.FamilyProblem) and exc.reason == "wrong_recovery":
                await session.commit()  # the failure counts
            else:
                await session.rollback()
            response = p.anonymous(
                "recover.html",
                status=exc.status,
                title=p._("Forgotten your password?"),
                code=form.get("account_code", ""),
                errors=errors_of(p, exc),
            )
            if exc.retry_after:
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
    response = p.render(
        "codes.html",
        title=p._("Write down your codes"),
        account_code=account.account_code,
        recovery_code=fresh,
    )
    web.set_cookie(request, response, web.SESSION_COOKIE, raw)
    return response


@router.get("/family/sign-out")
async def sign_out_page(request: Request, signed: Family) -> Response:
    p = web.page(request)
    return p.render("sign_out.html", signed=signed, title=p._("Sign out"))


@router.post("/family/sign-out")
async def sign_out(request: Request, session: Session, signed: Family) -> Response:
    p = web.page(request)
    await web.signed_form(p, signed)
    async with request.app.state.writing():
        await family.end_session(session, signed.row)
        await session.commit()
    response = web.redirect("/family/sign-in?notice=signed_out")
    web.clear_cookie(request, response, web.SESSION_COOKIE)
    return response


# ---------------------------------------------------------------- my points


def _local(moment: datetime, game: Game) -> datetime:
    return moment.astimezone(ZoneInfo(game.timezone))


async def _card_view(session: Session, player: Player, now: datetime) -> dict[str, Any]:
    me = await people_service.me_view(session, player, now=now)
    game = await people_service.repo.game(session, player.game_id)
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
    }


NOTICES = {
    "created": N_("Your account is ready. Add a card to start."),
    "added": N_("The card has been added."),
    "team": N_("The team has been changed. Points already earned stay with the old team."),
    "replaced": N_("The new card has been linked. The old card no longer scores."),
    "removed": N_(
        "The player has been removed and their details deleted. Their points stay with their team."
    ),
}


@router.get("/family/")
async def home(request: Request, session: Session, signed: Family) -> Response:
    p = web.page(request)
    now = web.now(request)
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
    *,
    status: int = 200,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
) -> Response:
    games = await _games_open(session, web.now(p.request))
    game = next(
        (g for g in games if g.slug == values.get("game")), games[0] if len(games) == 1 else None
    )
    teams = await people_service.list_teams(session, game.id, None) if game else []
    return p.render(
        "add.html",
        status=status,
        signed=signed,
        title=p._("Add a card"),
        games=games,
        game=game,
        teams=teams,
        age_bands=AGE_BANDS,
        genders=GENDERS,
        values=values,
        errors=errors or [],
    )


@router.get("/family/add")
async def add_page(request: Request, session: Session, signed: Family) -> Response:
    p = web.page(request)
    return await _add_page(
        p, session, signed, values={"game": request.query_params.get("game", "")}
    )


def _required(p: web.Page, form: dict[str, str], names: Sequence[str]) -> list[dict[str, str]]:
    return [
        {"field": name, "message": p._(FIELDS[name])}
        for name in names
        if not form.get(name, "").strip()
    ]


@router.post("/family/add")
async def add(request: Request, session: Session, signed: Family) -> Response:
    p = web.page(request)
    form = await web.signed_form(p, signed)
    game = await repo.game_by_slug(session, form.get("game", ""))
    if game is None or game.ends_at <= web.now(request):
        return await _add_page(
            p,
            session,
            signed,
            status=422,
            values=form,
            errors=[{"field": "game", "message": p._("Choose a game")}],
        )
    errors = _required(
        p, form, ("card_number", "activation_code", "nickname", "age_band", "gender")
    )
    if errors:
        return await _add_page(p, session, signed, status=422, values=form, errors=errors)
    try:
        registration = RegistrationIn(
            card_number=form["card_number"],
            activation_code=form["activation_code"],
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
    async with request.app.state.writing():
        try:
            done = await family.register_card(
                session,
                signed.account,
                game,
                registration,
                client=web.client_key(request),
                now=web.now(request),
            )
        except people_service.WrongActivationCode as exc:
            await session.commit()  # only the failed attempt: the rate limits count it
            return await _add_page(
                p, session, signed, status=422, values=form, errors=errors_of(p, exc)
            )
        except TaptrailError as exc:
            await session.rollback()
            response = await _add_page(
                p, session, signed, status=exc.status, values=form, errors=errors_of(p, exc)
            )
            if exc.retry_after:
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
        await session.commit()
    await _after_commit(request, game.id, done.deltas)
    return web.redirect("/family/?notice=added")


# ---------------------------------------------------------------- one player


async def _member(p: web.Page, session: Session, signed: web.Signed, player_id: int) -> Player:
    found = await family.player(session, signed.account, player_id)
    if found is None:
        raise _problem(p)
    return found


async def _player_page(
    p: web.Page,
    session: Session,
    signed: web.Signed,
    player: Player,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    view = await _card_view(session, player, web.now(p.request))
    teams = await people_service.list_teams(session, player.game_id, None)
    return p.render(
        "player.html",
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
    request: Request, session: Session, signed: Family, player_id: PlayerId
) -> Response:
    p = web.page(request)
    player = await _member(p, session, signed, player_id)
    return await _player_page(p, session, signed, player)


@router.post("/family/players/{player_id}/team")
async def change_team(
    request: Request, session: Session, signed: Family, player_id: PlayerId
) -> Response:
    p = web.page(request)
    form = await web.signed_form(p, signed)
    player = await _member(p, session, signed, player_id)
    async with request.app.state.writing():
        try:
            delta = await membership.change_team(
                session,
                player,
                form.get("team") or None,
                form.get("join_code") or None,
                now=web.now(request),
                actor=f"family:{signed.account.id}",
            )
        except TaptrailError as exc:
            await session.rollback()
            player = await _member(p, session, signed, player_id)
            return await _player_page(
                p, session, signed, player, status=exc.status, errors=errors_of(p, exc), values=form
            )
        await session.commit()
    if not delta.is_empty():
        await request.app.state.publish_scores(player.game_id, delta)
    return web.redirect(f"/family/players/{player_id}?notice=team")


@router.post("/family/players/{player_id}/card")
async def replace_card(
    request: Request, session: Session, signed: Family, player_id: PlayerId
) -> Response:
    p = web.page(request)
    form = await web.signed_form(p, signed)
    player = await _member(p, session, signed, player_id)
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
            p, session, signed, player, status=422, errors=errors, values=form
        )
    async with request.app.state.writing():
        try:
            change = await people_service.link_card(
                session,
                player,
                form["new_card_number"].strip(),
                form["new_activation_code"],
                client=web.client_key(request),
                now=web.now(request),
                actor=f"family:{signed.account.id}",
            )
        except TaptrailError as exc:
            if isinstance(exc, people_service.WrongActivationCode):
                await session.commit()  # only the failed attempt: the rate limits count it
            else:
                await session.rollback()
            player = await _member(p, session, signed, player_id)
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
                p, session, signed, player, status=exc.status, errors=errors, values=form
            )
        await session.commit()
    for delta in change.deltas:
        if not delta.is_empty():
            await request.app.state.publish_scores(player.game_id, delta)
    return web.redirect(f"/family/players/{player_id}?notice=replaced")


@router.get("/family/players/{player_id}/remove")
async def remove_page(
    request: Request, session: Session, signed: Family, player_id: PlayerId
) -> Response:
    p = web.page(request)
    player = await _member(p, session, signed, player_id)
    return p.render("remove.html", signed=signed, title=p._("Remove a player"), player=player)


@router.post("/family/players/{player_id}/remove")
async def remove(
    request: Request, session: Session, signed: Family, player_id: PlayerId
) -> Response:
    p = web.page(request)
    await web.signed_form(p, signed)
    player = await _member(p, session, signed, player_id)
    async with request.app.state.writing():
        erasure = await family.remove_player(session, signed.account, player, now=web.now(request))
        await session.commit()
    await _after_commit(request, player.game_id, erasure.deltas)
    return web.redirect("/family/?notice=removed")


# ---------------------------------------------------------------- my data


async def _everything(session: Session, signed: web.Signed, now: datetime) -> dict[str, Any]:
    """Everything held about the account: the account itself and each player's own view."""
    account = signed.account
    players = []
    for player in await family.players(session, account):
        me = await people_service.me_view(session, player, now=now)
        game = await people_service.repo.game(session, player.game_id)
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
async def data_json(request: Request, session: Session, signed: Family) -> Response:
    body = await _everything(session, signed, web.now(request))
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
async def data_csv(request: Request, session: Session, signed: Family) -> Response:
    """One row per tap of each player (a player without taps: one row without a tap)."""
    body = await _everything(session, signed, web.now(request))
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
async def delete(request: Request, session: Session, signed: Family) -> Response:
    p = web.page(request)
    await web.signed_form(p, signed)
    async with request.app.state.writing():
        games = {pl.game_id for pl in await family.players(session, signed.account)}
        await family.delete_account(session, signed.account, now=web.now(request))
        await session.commit()
    for game_id in games:
        await _after_commit(request, game_id, [])
    response = web.redirect("/family/sign-in?notice=deleted")
    web.clear_cookie(request, response, web.SESSION_COOKIE)
    return response
