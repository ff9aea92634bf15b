"""The console's Draws page for organisers of a game: ``/console/games/{slug}/draws``.

Lucky-tap draws (``organising.draws``): schedule N winners per local day; run a day's draws once
the day has ended in the game's time zone (before that the service refuses, and the page
says when the day ends); every draw with its winners by nickname and whether their prize
was sent. Winners' contact e-mails are shown only to organisers, only on request (a POST
that answers with the page and records the look in the audit trail), never in a URL.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from accounts.staff.service import actor
from api.console import scoped, web
from api.console.web import StaffContext
from api.deps import MAX_ROW_ID, Now, Session
from api.transaction import Tx
from game.models import Game
from game.schemas import DrawScheduleIn
from kernel.errors import Invalid, TaptrailError
from organising import admin_repository, draws

router = APIRouter(include_in_schema=False)

Organiser = Annotated[StaffContext, Depends(web.require_staff("organiser"))]
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Id = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Position = Annotated[int, Path(ge=1, le=1000)]

NOTICES = {
    "scheduled": "The draws have been scheduled.",
    "drawn": "The draw has been made.",
    "sent": "The prize is marked as sent.",
    "unsent": "The prize is marked as not sent.",
}


def _page(slug: str) -> str:
    return f"/console/games/{slug}/draws"


def _day(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        if "/" in text:
            d, mth, y = text.split("/")
            return date(int(y), int(mth), int(d))
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(
            f"the date must look like 15/05/2027 (got '{text[:20]}')",
            fields=[{"field": field, "message": "must be a date"}],
        ) from exc


async def _render(
    request: Request,
    session: Session,
    ctx: StaffContext,
    game: Game,
    *,
    status: int = 200,
    **values: Any,
) -> Response:
    zone = ZoneInfo(game.timezone)
    schedules = await admin_repository.schedules(session, game.id)
    made = list(await admin_repository.draws(session, game.id))
    outs = await draws.draw_outs(session, made)
    sent = await admin_repository.prizes_sent(session, [d.id for d in made])
    return web.render(
        request,
        "draws.html",
        status=status,
        ctx=ctx,
        title=f"Draws: {game.name}",
        game=game,
        zone=zone,
        schedules=[draws.schedule_out(s) for s in schedules],
        draws=sorted(outs, key=lambda d: (d.date, d.id), reverse=True),
        sent=sent,
        contacts=values.pop("contacts", None),
        contacts_for=values.pop("contacts_for", None),
        first_day=draws.game_days(game)[0],
        last_day=draws.game_days(game)[1],
        form=values.pop("form", {}),
        notice=NOTICES.get(request.query_params.get("notice", "")),
        **values,
    )


@router.get("/console/games/{slug}/draws")
async def draws_page(request: Request, session: Session, ctx: Organiser, slug: Slug) -> Response:
    game = await scoped.game_of(session, ctx, slug)
    return await _render(request, session, ctx, game)


@router.post("/console/games/{slug}/draws/schedules")
async def schedule(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug
) -> Response:
    form = await web.console_form(request, ctx)
    game = await scoped.game_of(session, ctx, slug)
    async with tx.write():
        try:
            try:
                data = DrawScheduleIn(
                    winners_per_day=form.get("winners_per_day", "").strip(),  # type: ignore[arg-type]
                    from_date=_day(form.get("from_date", ""), "from_date"),
                    to_date=_day(form.get("to_date", ""), "to_date"),
                )
            except ValidationError as exc:
                raise Invalid(
                    "the number of winners a day must be a whole number from 1 to 1000",
                    fields=[{"field": "winners_per_day", "message": "must be 1 to 1000"}],
                ) from exc
            await draws.schedule_draws(session, game, data, actor=actor(ctx.user))
        except TaptrailError as exc:
            await scoped.undo(session, ctx, game)
            return await _render(
                request, session, ctx, game, status=exc.status, errors=web.errors_of(exc), form=form
            )
    return web.redirect(_page(slug) + "?notice=scheduled")


@router.post("/console/games/{slug}/draws/run")
async def run(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug, now: Now
) -> Response:
    form = await web.console_form(request, ctx)
    game = await scoped.game_of(session, ctx, slug)
    async with tx.write():
        try:
            day = _day(form.get("date", ""), "date")
            if day is None:
                raise Invalid(
                    "enter the day to draw", fields=[{"field": "date", "message": "enter a day"}]
                )
            await draws.run_draws_for_day(session, game, day, actor=actor(ctx.user), now=now)
        except TaptrailError as exc:
            await scoped.undo(session, ctx, game)
            return await _render(
                request, session, ctx, game, status=exc.status, errors=web.errors_of(exc), form=form
            )
    return web.redirect(_page(slug) + "?notice=drawn")


@router.post("/console/games/{slug}/draws/{draw_id}/contacts")
async def contacts(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug, draw_id: Id
) -> Response:
    """The winners' contact details of one draw, shown in the answer (never in a URL);
    the look is recorded in the audit trail."""
    await web.console_form(request, ctx)
    game = await scoped.game_of(session, ctx, slug)
    async with tx.write():
        try:
            rows = await draws.winner_contacts(session, game, draw_id, actor=actor(ctx.user))
        except TaptrailError as exc:
            await scoped.undo(session, ctx, game)
            return await _render(
                request, session, ctx, game, status=exc.status, errors=web.errors_of(exc)
            )
    return await _render(request, session, ctx, game, contacts=rows, contacts_for=draw_id)


@router.post("/console/games/{slug}/draws/{draw_id}/winners/{position}/prize")
async def prize(
    request: Request,
    session: Session,
    tx: Tx,
    ctx: Organiser,
    slug: Slug,
    draw_id: Id,
    position: Position,
    now: Now,
) -> Response:
    form = await web.console_form(request, ctx)
    game = await scoped.game_of(session, ctx, slug)
    sent = form.get("sent") == "yes"
    async with tx.write():
        try:
            await draws.set_prize_sent(
                session,
                game,
                draw_id,
                position,
                sent,
                actor=actor(ctx.user),
                now=now,
            )
        except TaptrailError as exc:
            await scoped.undo(session, ctx, game)
            return await _render(
                request, session, ctx, game, status=exc.status, errors=web.errors_of(exc)
            )
    return web.redirect(_page(slug) + ("?notice=sent" if sent else "?notice=unsent") + "#made")
