"""The console's People pages for organisers of a game: ``/console/games/{slug}/people``.

- the nickname moderation queue: approve or reject (hide) each nickname no organiser has
  reviewed yet (``people.moderation``);
- teams and their join codes (shown only here and to the team's manager), a join code
  regenerated on request; each team's members, and removing one (``people.membership``:
  the points they earned stay with the team);
- a player found by nickname or card number; their data as a JSON download (a
  subject-access request, ``people.subject_access`` plus their survey answers), and erasure
  (``people.privacy.erase_player``) after an explicit confirmation. Both are audited.

Boards are rebuilt (or score changes published) after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from accounts.staff.service import actor
from api.app_state import app_state
from api.console import scoped, web
from api.console.web import StaffContext
from api.deps import MAX_ROW_ID, Now, Session
from api.transaction import Transaction, Tx
from evaluation import surveys
from game.models import Game
from game.totals import TotalsDelta
from kernel import audit
from kernel.errors import Invalid, NotFound, TaptrailError
from people import membership, moderation, privacy, subject_access, views
from people import repository as people_repo
from scoring.holders import HOLDER_SCORING

router = APIRouter(include_in_schema=False)

Organiser = Annotated[StaffContext, Depends(web.require_staff("organiser"))]
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Code = Annotated[str, Path(min_length=1, max_length=64)]
Id = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
WAVES = (1, 2, 3)

NOTICES = {
    "approved": "The nickname has been approved.",
    "rejected": "The nickname has been hidden: boards now show the player as Player and a number.",
    "code": "A new join code has been made. The old code no longer works.",
    "removed": "The member has been removed from the team. Their points stay with it.",
    "erased": "The player's personal data has been erased. Their points stay with their team.",
}


def _page(slug: str, rest: str = "") -> str:
    return f"/console/games/{slug}/people{rest}"


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


async def _people(
    request: Request,
    session: Session,
    ctx: StaffContext,
    game: Game,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    waiting, total = await moderation.queue(session, game.id)
    teams = await views.admin_teams(session, game.id)
    query = request.query_params.get("find", "").strip()[:60]
    found = None
    if query:
        by_card = await views.find_players(session, game.id, nickname=None, card_number=query)
        by_name = await views.find_players(session, game.id, nickname=query, card_number=None)
        found = by_card + [p for p in by_name if p.id not in {c.id for c in by_card}]
    return web.render(
        request,
        "people.html",
        status=status,
        ctx=ctx,
        title=f"People: {game.name}",
        game=game,
        waiting=waiting,
        waiting_total=total,
        teams=teams,
        query=query,
        found=found,
        errors=errors or [],
        notice=_notice(request),
    )


@router.get("/console/games/{slug}/people")
async def people_page(request: Request, session: Session, ctx: Organiser, slug: Slug) -> Response:
    game = await scoped.game_of(session, ctx, slug)
    return await _people(request, session, ctx, game)


async def _act(
    request: Request,
    session: Session,
    tx: Transaction,
    ctx: StaffContext,
    slug: str,
    action: Callable[[Game], Awaitable[object]],
    done: str,
    *,
    boards: bool,
    refused: Callable[[Game, list[dict[str, str]], int], Awaitable[Response]] | None = None,
) -> Response:
    """A People form that changes one thing: checked, one transaction, boards after the
    commit, then back to ``done``; a refusal shows the page again with its error."""
    await web.console_form(request, ctx)
    game = await scoped.game_of(session, ctx, slug)
    async with tx.write():
        try:
            result = await action(game)
        except TaptrailError as exc:
            await scoped.undo(session, ctx, game)
            if refused is not None:
                return await refused(game, web.errors_of(exc), exc.status)
            return await _people(
                request, session, ctx, game, status=exc.status, errors=web.errors_of(exc)
            )
        if boards:
            tx.rebuild_boards(game.id)
        elif isinstance(result, TotalsDelta) and not result.is_empty():
            tx.publish_scores(game.id, result)
    return web.redirect(done)


@router.post("/console/games/{slug}/people/nicknames/{player_id}/approve")
async def approve(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug, player_id: Id, now: Now
) -> Response:
    return await _act(
        request,
        session,
        tx,
        ctx,
        slug,
        lambda g: moderation.approve(session, g.id, player_id, actor=actor(ctx.user), now=now),
        _page(slug, "?notice=approved#queue"),
        boards=False,
    )


@router.post("/console/games/{slug}/people/nicknames/{player_id}/reject")
async def reject(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug, player_id: Id, now: Now
) -> Response:
    return await _act(
        request,
        session,
        tx,
        ctx,
        slug,
        lambda g: moderation.reject(session, g.id, player_id, actor=actor(ctx.user), now=now),
        _page(slug, "?notice=rejected#queue"),
        boards=True,
    )


@router.post("/console/games/{slug}/people/teams/{code}/join-code")
async def regenerate(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug, code: Code
) -> Response:
    return await _act(
        request,
        session,
        tx,
        ctx,
        slug,
        lambda g: moderation.regenerate_join_code(session, g.id, code, actor=actor(ctx.user)),
        _page(slug, "?notice=code#teams"),
        boards=False,
    )


# ---------------------------------------------------------------- one team


async def _team(
    request: Request,
    session: Session,
    ctx: StaffContext,
    game: Game,
    code: str,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    team = await people_repo.team_by_code(session, game.id, code)
    if team is None:
        raise web.PageProblem(404, "No such team", f"There is no team '{code}' in this game.")
    view = await views.team_view(session, game, team)
    return web.render(
        request,
        "people_team.html",
        status=status,
        ctx=ctx,
        title=f"{team.name}: {game.name}",
        game=game,
        view=view,
        errors=errors or [],
        notice=_notice(request),
    )


@router.get("/console/games/{slug}/people/teams/{code}")
async def team_page(
    request: Request, session: Session, ctx: Organiser, slug: Slug, code: Code
) -> Response:
    game = await scoped.game_of(session, ctx, slug)
    return await _team(request, session, ctx, game, code)


@router.post("/console/games/{slug}/people/teams/{code}/members/{player_id}/remove")
async def remove_member(
    request: Request,
    session: Session,
    tx: Tx,
    ctx: Organiser,
    slug: Slug,
    code: Code,
    player_id: Id,
    now: Now,
) -> Response:
    async def work(game: Game) -> object:
        team = await people_repo.team_by_code(session, game.id, code)
        if team is None:
            raise NotFound(f"no team '{code}' in this game")
        return await membership.remove_member(
            session,
            team,
            player_id,
            now=now,
            actor=actor(ctx.user),
            scoring=HOLDER_SCORING,
        )

    async def refused(game: Game, errors: list[dict[str, str]], status: int) -> Response:
        return await _team(request, session, ctx, game, code, status=status, errors=errors)

    return await _act(
        request,
        session,
        tx,
        ctx,
        slug,
        work,
        _page(slug, f"/teams/{code}?notice=removed"),
        boards=False,
        refused=refused,
    )


# ---------------------------------------------------------------- one player


async def _player(
    request: Request,
    session: Session,
    ctx: StaffContext,
    game: Game,
    player_id: int,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    player = await people_repo.player(session, player_id)
    if player is None or player.game_id != game.id:
        raise web.PageProblem(404, "No such player", f"There is no player {player_id} here.")
    view = (await views.admin_views(session, game.id, [player]))[0]
    return web.render(
        request,
        "people_player.html",
        status=status,
        ctx=ctx,
        title=f"Player {player_id}: {game.name}",
        game=game,
        player=view,
        errors=errors or [],
        notice=_notice(request),
    )


@router.get("/console/games/{slug}/people/players/{player_id}")
async def player_page(
    request: Request, session: Session, ctx: Organiser, slug: Slug, player_id: Id
) -> Response:
    game = await scoped.game_of(session, ctx, slug)
    return await _player(request, session, ctx, game, player_id)


@router.get("/console/games/{slug}/people/players/{player_id}/data.json")
async def player_data(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug, player_id: Id
) -> Response:
    """A subject-access request: the player's data as a JSON download, recorded in the
    audit trail."""
    game = await scoped.game_of(session, ctx, slug)
    async with tx.write():
        try:
            data: dict[str, Any] = await subject_access.player_data(session, game, player_id)
        except NotFound as exc:
            raise web.PageProblem(404, "No such player", str(exc)) from exc
        answers = {}
        for wave in WAVES:
            found = await surveys.wave_answers(session, game, player_id, wave)
            if found is not None:
                answers[f"wave_{wave}"] = {
                    "answered_on": found.answered_on.isoformat(),
                    **surveys.to_answers(found),
                }
        data["survey_answers"] = answers
        audit.record(
            session,
            actor=actor(ctx.user),
            action="player.subject_access",
            game_id=game.id,
            player_id=player_id,
        )
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    name = f"{game.slug}-player-{player_id}.json"
    return Response(
        body,
        media_type="application/json",
        headers={
            **web.HEADERS,
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


@router.post("/console/games/{slug}/people/players/{player_id}/erase")
async def erase(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug, player_id: Id, now: Now
) -> Response:
    form = await web.console_form(request, ctx)
    game = await scoped.game_of(session, ctx, slug)
    async with tx.write():
        try:
            if form.get("confirm") != "yes":
                raise Invalid(
                    "tick the box to confirm the erasure",
                    fields=[{"field": "confirm", "message": "tick the box to confirm"}],
                )
            await privacy.erase_player(
                session,
                game.id,
                player_id,
                actor=actor(ctx.user),
                now=now,
                scoring=HOLDER_SCORING,
                elsewhere=app_state(request).player_data_eraser,
            )
        except TaptrailError as exc:
            await scoped.undo(session, ctx, game)
            return await _player(
                request,
                session,
                ctx,
                game,
                player_id,
                status=exc.status,
                errors=web.errors_of(exc),
            )
        tx.rebuild_boards(game.id)
    return web.redirect(_page(slug, f"/players/{player_id}?notice=erased"))
