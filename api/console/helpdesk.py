"""The console's Help desk for organisers of a game: ``/console/games/{slug}/help-desk``.

"My card didn't count": find a card by its printed number (``?card=``; leading zeros may be
left out), see its holder (nickname and age band only), team, points and every tap with the
plain-words reason it counted or not (``organising.helpdesk``), and the rejected taps of its UID.
A lost card is replaced from the same page (``people.cards.replace_card``: the new card
joins the holder, the old one stops scoring now); the score changes are published after the
commit. Only organisers of the game may open it.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from accounts.staff.service import actor
from api.console import scoped, web
from api.console.web import StaffContext
from api.deps import Now, Session
from api.transaction import Tx
from game.models import Game
from kernel.errors import Invalid, NotFound, TaptrailError
from organising import helpdesk
from people import cards
from scoring.holders import HOLDER_SCORING

router = APIRouter(include_in_schema=False)

Organiser = Annotated[StaffContext, Depends(web.require_staff("organiser"))]
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]


def _page(slug: str) -> str:
    return f"/console/games/{slug}/help-desk"


async def _render(
    request: Request,
    session: Session,
    ctx: StaffContext,
    game: Game,
    number: str,
    *,
    status: int = 200,
    **values: Any,
) -> Response:
    view = None
    errors = values.pop("errors", [])
    if number:
        try:
            view = await helpdesk.card_view(session, game, number)
        except NotFound:
            status = 404
            errors = [{"field": "card", "message": f"There is no card {number} in this game"}]
    notice = {"replaced": "The card has been replaced. The old card stops scoring now."}.get(
        request.query_params.get("notice", "")
    )
    return web.render(
        request,
        "helpdesk.html",
        status=status,
        ctx=ctx,
        title=f"Help desk: {game.name}",
        game=game,
        zone=ZoneInfo(game.timezone),
        number=number,
        view=view,
        errors=errors,
        notice=notice,
        form=values.pop("form", {}),
        **values,
    )


@router.get("/console/games/{slug}/help-desk")
async def helpdesk_page(request: Request, session: Session, ctx: Organiser, slug: Slug) -> Response:
    game = await scoped.game_of(session, ctx, slug)
    number = request.query_params.get("card", "").strip()[:32]
    return await _render(request, session, ctx, game, number)


@router.post("/console/games/{slug}/help-desk/replace")
async def replace(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug, now: Now
) -> Response:
    form = await web.console_form(request, ctx)
    game = await scoped.game_of(session, ctx, slug)
    old = form.get("card", "").strip()[:32]
    new = form.get("new_card", "").strip()[:32]
    async with tx.write():
        try:
            if not new:
                raise Invalid("enter the number of the new card")
            found = await helpdesk.card_view(session, game, old)
            target = await helpdesk.card_view(session, game, new)
            change = await cards.replace_card(
                session,
                game.id,
                found.card.number,
                target.card.number,
                now=now,
                actor=actor(ctx.user),
                scoring=HOLDER_SCORING,
            )
        except TaptrailError as exc:
            await scoped.undo(session, ctx, game)
            errors = [{"field": "new_card", "message": web.errors_of(exc)[0]["message"]}]
            return await _render(
                request, session, ctx, game, old, status=exc.status, errors=errors, form=form
            )
        for delta in change.deltas:
            if not delta.is_empty():
                tx.publish_scores(game.id, delta)
    return web.redirect(
        _page(slug) + "?card=" + quote(change.card) + "&notice=replaced#card-summary"
    )
