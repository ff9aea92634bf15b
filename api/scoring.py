"""Scoring administration (organiser token): campaigns, re-scoring, lucky-tap draws, the
help-desk card view and the ledger check. Domain work is in organising.campaigns, organising.draws,
organising.helpdesk, scoring.rescore and scoring.ledger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

from fastapi import APIRouter, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.tokens import Principal
from api.deps import Caller, Now, RowId, Session, game_or_404, require_organiser
from api.errors import error_responses
from api.transaction import Transaction, Tx
from game.models import Game
from game.schemas import (
    CampaignChangeOut,
    CampaignIn,
    CampaignList,
    CampaignPatch,
    DrawDetail,
    DrawList,
    DrawRunOut,
    DrawScheduleIn,
    DrawScheduleOut,
    HelpdeskView,
    LedgerCheckOut,
    RescoreIn,
    RescoreOut,
)
from kernel.db import utcnow
from kernel.errors import NotFound
from organising import admin_repository, campaigns, draws, helpdesk
from scoring.ledger import ledger_mismatches
from scoring.rescore import rescore_game

_DESCRIBED = {
    401: "No or bad bearer token",
    403: "Not an organiser token for this game",
    404: "No such game (or campaign, card, draw)",
}
router = APIRouter(
    prefix="/admin/games/{slug}",
    tags=["scoring administration"],
    responses=error_responses(_DESCRIBED),
)

T = TypeVar("T")


async def _organiser_game(session: AsyncSession, slug: str, caller: Principal) -> Game:
    game = await game_or_404(session, slug)
    require_organiser(caller, game)
    return game


async def _write(
    tx: Transaction,
    slug: str,
    caller: Principal,
    work: Callable[[Game], Awaitable[T]],
    *,
    boards_changed: bool = False,
) -> T:
    """One write transaction; boards are rebuilt after the commit when scores may have
    moved."""
    async with tx.write() as session:
        game = await _organiser_game(session, slug, caller)
        result = await work(game)
        if boards_changed:
            tx.rebuild_boards(game.id)
    return result


# --------------------------------------------------------------------------- campaigns


@router.get(
    "/campaigns",
    response_model=CampaignList,
    summary="List a game's campaigns, with the legs and points each applied to",
)
async def list_campaigns(slug: str, session: Session, caller: Caller) -> CampaignList:
    game = await _organiser_game(session, slug, caller)
    return CampaignList(
        game=slug, campaigns=await campaigns.list_campaigns(session, game, utcnow())
    )


async def _change_out(session: AsyncSession, change: campaigns.CampaignChange) -> CampaignChangeOut:
    stats = (await admin_repository.campaign_stats(session, change.campaign.game_id)).get(
        change.campaign.id, (0, 0)
    )
    return CampaignChangeOut(
        campaign=campaigns.campaign_out(change.campaign, utcnow(), stats),
        changes=change.changes,
        rescore=campaigns.rescore_out(change.rescore),
    )


@router.post(
    "/campaigns",
    response_model=CampaignChangeOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a campaign (a points multiplier); the game is re-scored",
    responses=error_responses({409: "A campaign with this code exists"}),
)
async def create_campaign(
    slug: str, body: CampaignIn, request: Request, session: Session, tx: Tx, caller: Caller
) -> CampaignChangeOut:
    async def work(game: Game) -> CampaignChangeOut:
        change = await campaigns.create_campaign(session, game, body, actor=caller.actor)
        return await _change_out(session, change)

    return await _write(tx, slug, caller, work, boards_changed=True)


@router.patch(
    "/campaigns/{code}",
    response_model=CampaignChangeOut,
    summary="Change a campaign's fields; the game is re-scored if points can change",
)
async def update_campaign(
    slug: str,
    code: str,
    body: CampaignPatch,
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
) -> CampaignChangeOut:
    async def work(game: Game) -> CampaignChangeOut:
        change = await campaigns.update_campaign(session, game, code, body, actor=caller.actor)
        return await _change_out(session, change)

    return await _write(tx, slug, caller, work, boards_changed=True)


@router.post(
    "/campaigns/{code}/end",
    response_model=CampaignChangeOut,
    summary="End a running campaign now (ends_at = now); the game is re-scored",
    responses=error_responses({409: "Already ended, or not started yet"}),
)
async def end_campaign(
    slug: str, code: str, request: Request, session: Session, tx: Tx, caller: Caller
) -> CampaignChangeOut:
    async def work(game: Game) -> CampaignChangeOut:
        change = await campaigns.end_campaign(session, game, code, actor=caller.actor, now=utcnow())
        return await _change_out(session, change)

    return await _write(tx, slug, caller, work, boards_changed=True)


# --------------------------------------------------------------------------- re-scoring


@router.post(
    "/rescore",
    response_model=RescoreOut,
    summary="Re-score every tap of the game and rebuild its totals from the ledger",
)
async def rescore(
    slug: str,
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
    body: RescoreIn | None = None,
) -> RescoreOut:
    reason = body.reason if body else RescoreIn().reason

    async def work(game: Game) -> RescoreOut:
        report = await rescore_game(session, game.id, actor=caller.actor, reason=reason)
        out = campaigns.rescore_out(report)
        assert out is not None
        return out

    return await _write(tx, slug, caller, work, boards_changed=True)


@router.get(
    "/ledger-check",
    response_model=LedgerCheckOut,
    summary="Check that every stored total equals its sum over the points ledger",
)
async def ledger_check(slug: str, session: Session, caller: Caller) -> LedgerCheckOut:
    game = await _organiser_game(session, slug, caller)
    problems = await ledger_mismatches(session, game.id)
    return LedgerCheckOut(game=slug, ok=not problems, mismatches=problems[:100])


# --------------------------------------------------------------------------- lucky draws


@router.post(
    "/draws",
    response_model=DrawScheduleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Schedule daily lucky-tap draws: N winners per local day",
)
async def schedule_draws(
    slug: str, body: DrawScheduleIn, request: Request, session: Session, tx: Tx, caller: Caller
) -> DrawScheduleOut:
    async def work(game: Game) -> DrawScheduleOut:
        schedule = await draws.schedule_draws(session, game, body, actor=caller.actor)
        return draws.schedule_out(schedule)

    return await _write(tx, slug, caller, work)


@router.post(
    "/draws/run",
    response_model=DrawRunOut,
    summary="Run the draws scheduled for one local day once it has ended (each day drawn once)",
    responses=error_responses(
        {
            409: "No draw is scheduled for that day",
            422: "The day has not ended yet in the game's timezone (or the date is malformed)",
        }
    ),
)
async def run_draws(
    slug: str,
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
    now: Now,
    day: date = Query(alias="date", description="Local day in the game's timezone"),
) -> DrawRunOut:
    async def work(game: Game) -> DrawRunOut:
        new, earlier = await draws.run_draws_for_day(
            session, game, day, actor=caller.actor, now=now
        )
        return DrawRunOut(
            game=slug,
            date=day,
            draws=await draws.draw_outs(session, new),
            already_drawn=await draws.draw_outs(session, earlier),
        )

    return await _write(tx, slug, caller, work)


@router.get(
    "/draws",
    response_model=DrawList,
    summary="Draw schedules and every draw made, with the winners' player ids and nicknames",
)
async def list_draws(slug: str, session: Session, caller: Caller) -> DrawList:
    game = await _organiser_game(session, slug, caller)
    schedules = await admin_repository.schedules(session, game.id)
    made = await admin_repository.draws(session, game.id)
    return DrawList(
        game=slug,
        schedules=[draws.schedule_out(s) for s in schedules],
        draws=await draws.draw_outs(session, made),
    )


@router.get(
    "/draws/{draw_id}",
    response_model=DrawDetail,
    summary="One draw with its candidates, and a check that its record reproduces it",
)
async def get_draw(slug: str, draw_id: RowId, session: Session, caller: Caller) -> DrawDetail:
    game = await _organiser_game(session, slug, caller)
    found = await admin_repository.draws(session, game.id, draw_id=draw_id)
    if not found:
        raise NotFound(f"no draw {draw_id} in game '{slug}'")
    return await draws.draw_detail(session, game, found[0])


# --------------------------------------------------------------------------- help desk


@router.get(
    "/cards/{number}",
    response_model=HelpdeskView,
    summary="Help desk: a card's holder, team, points and every tap with why it counted or not",
)
async def card_view(slug: str, number: str, session: Session, caller: Caller) -> HelpdeskView:
    game = await _organiser_game(session, slug, caller)
    return await helpdesk.card_view(session, game, number)
