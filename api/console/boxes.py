"""The console's Boxes pages for organisers of a game.

``/console/games/{slug}/boxes`` is the visit list: every box with its health from
``checkpoints.health`` (silent, low battery, counter conflicts, clock skewed), the boxes
needing a visit first and the most urgent first, as a table (the no-JavaScript,
screen-reader and printed version) and on a Leaflet map drawn from that table.

``/console/games/{slug}/boxes/{reader_id}`` is one box: its health, its placements, its
latest heartbeats and the audit trail of what organisers did to it; and three changes, each
asked for and then confirmed (a POST without ``confirm=yes`` shows what will happen):
rotating its secret (the new one is shown once, in the answer to the confirming POST),
disabling or enabling it, and moving it to another checkpoint from a given local time
(taps stored since then are counted at the new place and re-scored). The work and the audit
records are ``checkpoints.service``'s, as for the admin API; boards are updated after the
commit.

A fourth change moves the box's place itself: new latitude and longitude for the checkpoint
it stands at (``organising.places``), which re-scores the whole game as a game file moving
the place does. It is previewed as a back-dated campaign is: the change is made and
re-scored inside a transaction that is rolled back, and the page shows the taps scored
again and the points moving per team (``organising.preview``) before ``confirm=yes``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from accounts.staff.service import actor
from api.console import maps, web
from api.console.campaigns import Organiser, Slug, moment_of, organiser_game
from api.console.web import StaffContext
from api.deps import Now, Session
from api.transaction import Transaction, Tx
from checkpoints import health, service
from checkpoints import history_repository as history
from game.models import Game
from kernel.errors import Invalid, TaptrailError
from organising import places as place_service
from organising import repository as game_repo
from organising.preview import points_moved, team_points
from scoring.holders import HOLDER_SCORING

router = APIRouter(include_in_schema=False)

ReaderId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
]
Action = Literal["rotate", "disable", "enable", "move"]

STATUS_NAMES = {
    health.SILENT: "Silent",
    health.LOW_BATTERY: "Low battery",
    health.COUNTER_CONFLICTS: "Counter conflicts",
    health.CLOCK_SKEWED: "Clock skewed",
    health.DISABLED: "Disabled",
    health.OK: "OK",
}
STATUS_COLOURS = {
    health.SILENT: "red",
    health.LOW_BATTERY: "orange",
    health.COUNTER_CONFLICTS: "purple",
    health.CLOCK_SKEWED: "yellow",
    health.DISABLED: "grey",
    health.OK: "green",
}
NOTICES = {
    "disabled": "The box has been disabled: its uploads and heartbeats are refused.",
    "enabled": "The box has been enabled again.",
    "moved": "The box has been moved.",
    "place_moved": "The box's place has been moved and the game re-scored.",
}


def _page(slug: str, reader_id: str | None = None) -> str:
    return f"/console/games/{slug}/boxes" + (f"/{reader_id}" if reader_id else "")


async def _places(session: Session, game: Game) -> dict[str, Any]:
    return {c.code: c for c in await game_repo.checkpoints_of(session, game.id)}


@router.get("/console/games/{slug}/boxes")
async def boxes_page(
    request: Request, session: Session, ctx: Organiser, slug: Slug, now: Now
) -> Response:
    game = await organiser_game(session, ctx, slug)
    zone = ZoneInfo(game.timezone)
    today, rows = await health.boxes(session, game, now)
    places = await _places(session, game)
    tiles = maps.tiles_url(request)
    response = web.render(
        request,
        "boxes.html",
        ctx=ctx,
        title=f"Boxes: {game.name}",
        game=game,
        zone=zone,
        today=today,
        rows=rows,
        places=places,
        visits=sum(1 for r in rows if r["needs_visit"]),
        status_names=STATUS_NAMES,
        status_colours=STATUS_COLOURS,
        tiles=tiles,
        attribution=maps.ATTRIBUTION,
        leaflet=maps.LEAFLET,
    )
    return maps.allow_tiles(response, tiles)


async def _box_page(
    request: Request,
    session: Session,
    ctx: StaffContext,
    game: Game,
    now: datetime,
    reader_id: str,
    *,
    status: int = 200,
    **values: Any,
) -> Response:
    reader = await service.reader_of_game(session, game, reader_id)
    zone = ZoneInfo(game.timezone)
    _, rows = await health.boxes(session, game, now)
    row = next(r for r in rows if r["reader_id"] == reader.id)
    info = await service.describe(session, game, reader)
    places = await _places(session, game)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return web.render(
        request,
        "box.html",
        status=status,
        ctx=ctx,
        title=f"Box {reader.id}: {game.name}",
        game=game,
        zone=zone,
        reader=reader,
        row=row,
        info=info,
        places=places,
        heartbeats=await history.heartbeats(session, game.id, reader.id),
        trail=await history.reader_audit(session, game.id, reader.id),
        status_names=STATUS_NAMES,
        status_colours=STATUS_COLOURS,
        notice=values.pop("notice", notice),
        form=values.pop("form", {}),
        **values,
    )


@router.get("/console/games/{slug}/boxes/{reader_id}")
async def box_page(
    request: Request, session: Session, ctx: Organiser, slug: Slug, reader_id: ReaderId, now: Now
) -> Response:
    game = await organiser_game(session, ctx, slug)
    try:
        return await _box_page(request, session, ctx, game, now, reader_id)
    except TaptrailError as exc:
        raise web.PageProblem(exc.status, "No such box", str(exc)) from None


CONFIRMS: dict[str, tuple[str, str, str]] = {
    "rotate": (
        "Rotate this box's secret?",
        "A new secret is made and shown once. The old one stops working at once: the box "
        "cannot upload until the new secret is put in it.",
        "Rotate the secret",
    ),
    "disable": (
        "Disable this box?",
        "Its uploads and heartbeats will be refused until it is enabled again. Use this for "
        "a box that is lost, stolen or taken down.",
        "Disable the box",
    ),
    "enable": (
        "Enable this box again?",
        "Its uploads and heartbeats will be accepted again.",
        "Enable the box",
    ),
    "move": (
        "Move this box?",
        "",
        "Move the box",
    ),
}


async def _act(
    request: Request,
    session: Session,
    tx: Transaction,
    ctx: StaffContext,
    slug: str,
    reader_id: str,
    what: Action,
    now: datetime,
) -> Response:
    form = await web.console_form(request, ctx)
    game = await organiser_game(session, ctx, slug)
    who = actor(ctx.user)
    secret: str | None = None
    delta = None
    async with tx.write():
        try:
            reader = await service.reader_of_game(session, game, reader_id)
            when: datetime | None = None
            if what == "move":
                typed = form.get("from_date", "").strip()
                when = moment_of(form, "from", ZoneInfo(game.timezone)) if typed else now
                target = form.get("checkpoint", "")
                if target not in await _places(session, game):
                    raise Invalid(
                        "choose the checkpoint the box now stands at",
                        fields=[{"field": "checkpoint", "message": "choose a checkpoint"}],
                    )
            if form.get("confirm") != "yes":
                title, text, button = CONFIRMS[what]
                if what == "move":
                    place = (await _places(session, game))[form["checkpoint"]]
                    assert when is not None
                    text = (
                        f"From {when.astimezone(ZoneInfo(game.timezone)):%-d %b %Y %H:%M}, box "
                        f"{reader.id} stands at {place.name} ({place.code}). Taps it stored "
                        "since then are counted there and their points re-scored."
                    )
                return await _box_page(
                    request,
                    session,
                    ctx,
                    game,
                    now,
                    reader_id,
                    form=form,
                    confirm={"action": what, "title": title, "text": text, "button": button},
                )
            if what == "rotate":
                secret = await service.rotate_secret(
                    session, game, reader.id, box=web.box(request), actor=who, now=now
                )
            elif what in ("disable", "enable"):
                await service.set_disabled(session, game, reader.id, what == "disable", actor=who)
            else:
                result = await service.move_reader(
                    session,
                    game,
                    reader.id,
                    form["checkpoint"],
                    when,
                    actor=who,
                    now=now,
                    scoring=HOLDER_SCORING,
                )
                delta = result.delta
        except TaptrailError as exc:
            await web.undo(session, ctx)
            await session.refresh(game)
            errors = web.errors_of(exc)
            if exc.status == 404:
                raise web.PageProblem(404, "No such box", str(exc)) from None
            for e in errors:
                e["field"] = {"from": "from_date"}.get(e["field"], e["field"])
            return await _box_page(
                request,
                session,
                ctx,
                game,
                now,
                reader_id,
                status=exc.status,
                errors=errors,
                form=form,
            )
        if delta is not None:
            tx.rebuild_boards(game.id)
    if secret is not None:
        # Shown once, in the answer to the POST that made it; the page is never cached.
        return await _box_page(
            request, session, ctx, game, now, reader_id, status=201, secret=secret
        )
    notice = {"disable": "disabled", "enable": "enabled", "move": "moved"}[what]
    return web.redirect(_page(slug, reader_id) + f"?notice={notice}")


@router.post("/console/games/{slug}/boxes/{reader_id}/rotate")
async def rotate(
    request: Request,
    session: Session,
    tx: Tx,
    ctx: Organiser,
    slug: Slug,
    reader_id: ReaderId,
    now: Now,
) -> Response:
    return await _act(request, session, tx, ctx, slug, reader_id, "rotate", now)


@router.post("/console/games/{slug}/boxes/{reader_id}/disable")
async def disable(
    request: Request,
    session: Session,
    tx: Tx,
    ctx: Organiser,
    slug: Slug,
    reader_id: ReaderId,
    now: Now,
) -> Response:
    return await _act(request, session, tx, ctx, slug, reader_id, "disable", now)


@router.post("/console/games/{slug}/boxes/{reader_id}/enable")
async def enable(
    request: Request,
    session: Session,
    tx: Tx,
    ctx: Organiser,
    slug: Slug,
    reader_id: ReaderId,
    now: Now,
) -> Response:
    return await _act(request, session, tx, ctx, slug, reader_id, "enable", now)


@router.post("/console/games/{slug}/boxes/{reader_id}/move")
async def move(
    request: Request,
    session: Session,
    tx: Tx,
    ctx: Organiser,
    slug: Slug,
    reader_id: ReaderId,
    now: Now,
) -> Response:
    return await _act(request, session, tx, ctx, slug, reader_id, "move", now)


@router.post("/console/games/{slug}/boxes/{reader_id}/place")
async def move_place(
    request: Request,
    session: Session,
    tx: Tx,
    ctx: Organiser,
    slug: Slug,
    reader_id: ReaderId,
    now: Now,
) -> Response:
    """New coordinates for the box's place: previewed (taps and points moving per team),
    then applied with ``confirm=yes``."""
    form = await web.console_form(request, ctx)
    game = await organiser_game(session, ctx, slug)
    async with tx.write():
        try:
            reader = await service.reader_of_game(session, game, reader_id)
            place = next(
                p for p in (await _places(session, game)).values() if p.id == reader.checkpoint_id
            )
            # Both coordinates are checked, so a mistake in each is shown at once.
            errors: list[dict[str, str]] = []
            typed: dict[str, float] = {}
            for name, limit in (("lat", 90.0), ("lon", 180.0)):
                try:
                    typed[name] = place_service.coordinate(form.get(name, ""), name, limit)
                except Invalid as exc:
                    errors += web.errors_of(exc)
            if errors:
                return await _box_page(
                    request,
                    session,
                    ctx,
                    game,
                    now,
                    reader_id,
                    status=422,
                    errors=errors,
                    form=form,
                )
            lat, lon = typed["lat"], typed["lon"]
            name, code, was = place.name, place.code, f"{place.lat:.5f}, {place.lon:.5f}"
            before = await team_points(session, game.id)
            report = await place_service.move_place(
                session, game, code, lat, lon, actor=actor(ctx.user), reader_id=reader.id
            )
        except TaptrailError as exc:
            await web.undo(session, ctx)
            await session.refresh(game)
            if exc.status == 404:
                raise web.PageProblem(404, "No such box", str(exc)) from None
            return await _box_page(
                request,
                session,
                ctx,
                game,
                now,
                reader_id,
                status=exc.status,
                errors=web.errors_of(exc),
                form=form,
            )
        if form.get("confirm") != "yes":
            moved = points_moved(before, await team_points(session, game.id), report)
            await web.undo(session, ctx)
            await session.refresh(game)
            text = (
                f"{name} ({code}) moves from {was} to {lat:.5f}, {lon:.5f}. Distances to and "
                "from it change, so every tap of the game is scored again."
            )
            return await _box_page(
                request,
                session,
                ctx,
                game,
                now,
                reader_id,
                form=form,
                confirm={
                    "action": "place",
                    "title": "Move this box's place?",
                    "text": text,
                    "button": "Move the place and the points",
                    "points": moved,
                },
            )
        tx.rebuild_boards(game.id)
    return web.redirect(_page(slug, reader_id) + "?notice=place_moved")
