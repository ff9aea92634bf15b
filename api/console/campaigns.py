"""The console's Campaigns page for organisers of a game: ``/console/games/{slug}/campaigns``.

It lists the game's campaigns (now, upcoming, past) in the game's local time, creates one
from a form (local date and time in the game's time zone; boxes by checkpoint tag, or picked
one by one from a checkbox list grouped by tag, which the page's script shows on a map whose
markers tick and untick them) and ends a running one. The work is done by ``organising.campaigns`` (no SQL here).

- A new campaign that overlaps another is created, and the page it leads to says so.
- A campaign that starts in the past (it reaches back in time) is first previewed: the
  service creates it and re-scores inside a transaction that is rolled back, and the page
  shows the taps and points that would move, per team; a second POST with ``confirm=yes``
  applies it. Boards are rebuilt after the commit.
- A picked box is a field ``box-{code}``, so this form may carry one field per box: its
  reader allows ``PICKED_FIELDS`` (``MAX_BOXES`` boxes and kinds of box, beyond the usual
  fields), no more; a longer form is refused whole with a 400 page saying so.
- Only organisers of the game (one game or every game) may open it; others get 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from accounts.staff.service import actor
from api.console import maps, web
from api.console.web import StaffContext
from api.deps import Now, Session
from api.transaction import Tx
from game.models import Campaign, Checkpoint, Game
from game.schemas import CampaignIn, CampaignPatch
from kernel.errors import Invalid, TaptrailError
from organising import admin_repository
from organising import campaigns as service
from organising import repository as game_repo
from organising.preview import TeamPoints, points_moved, team_points
from scoring.rescore import RescoreReport

router = APIRouter(include_in_schema=False)
T = TypeVar("T")

Organiser = Annotated[StaffContext, Depends(web.require_staff("organiser"))]
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]


@dataclass
class Row:
    campaign: Campaign
    starts: datetime
    ends: datetime
    overlaps: list[str]


def _page(slug: str) -> str:
    return f"/console/games/{slug}/campaigns"


async def organiser_game(session: Session, ctx: StaffContext, slug: str) -> Game:
    """The game of the address, for an organiser of it (404 unknown, 403 another game)."""
    game = await game_repo.game_by_slug(session, slug)
    if game is None:
        raise web.PageProblem(404, "No such game", f"There is no game '{slug}'.")
    if not ctx.scope.covers_game(game.id):
        raise web.PageProblem(
            403, "You cannot open this page", "This page is for the organisers of this game."
        )
    return game


async def _undo(session: Session, ctx: StaffContext, game: Game) -> None:
    await web.undo(session, ctx)
    await session.refresh(game)


FIELDS = {"starts_at": "starts_date", "ends_at": "ends_date", "checkpoints": "tags"}

# A game has at most a few hundred boxes; the form carries one field per picked box and per
# kind of box, so its reader allows this many fields, and no more, beyond the usual ones.
MAX_BOXES = 1000
PICKED_FIELDS = web.MAX_FORM_FIELDS + MAX_BOXES


async def _campaign_form(request: Request, ctx: StaffContext) -> dict[str, str]:
    return await web.console_form(request, ctx, max_fields=PICKED_FIELDS)


def _errors(exc: Exception) -> list[dict[str, str]]:
    """The error summary, with the service's field names as this form's fields."""
    found = web.errors_of(exc)
    return [{**e, "field": FIELDS.get(e["field"], e["field"])} for e in found]


def _overlapping(camps: list[Campaign], starts: datetime, ends: datetime, code: str) -> list[str]:
    return [c.name for c in camps if c.code != code and c.starts_at < ends and starts < c.ends_at]


def moment_of(form: dict[str, str], prefix: str, zone: ZoneInfo) -> datetime:
    day, clock = form.get(f"{prefix}_date", "").strip(), form.get(f"{prefix}_time", "").strip()
    try:
        when = datetime.strptime(day, "%d/%m/%Y").date() if "/" in day else date.fromisoformat(day)
        local = datetime.combine(when, time.fromisoformat(clock or "00:00"))
    except ValueError as exc:
        raise Invalid(
            f"the {prefix} date and time must look like 15/05/2027 and 09:00",
            fields=[{"field": f"{prefix}_date", "message": "must be a date and time"}],
        ) from exc
    return local.replace(tzinfo=zone)


def _code(name: str, taken: set[str]) -> str:
    base = "".join(ch if ch.isalnum() else "-" for ch in name.upper()).strip("-")[:24] or "CAMP"
    base = "-".join(p for p in base.split("-") if p)
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


def _fields(form: dict[str, str], game: Game, tags: list[str]) -> dict[str, Any]:
    """The campaign fields of the form (a new campaign's, or all of a changed one's)."""
    zone = ZoneInfo(game.timezone)
    name = form.get("name", "").strip()
    if not name:
        raise Invalid("enter a name", fields=[{"field": "name", "message": "enter a name"}])
    try:
        multiplier = Decimal(form.get("multiplier", "").strip())
    except InvalidOperation as exc:
        raise Invalid(
            "the multiplier must be a number, for example 2",
            fields=[{"field": "multiplier", "message": "must be a number"}],
        ) from exc
    chosen = [t for t in tags if form.get(f"tag-{t}") == "yes"]
    # Every picked box, known or not: the service names any the game does not have.
    codes = sorted(k.removeprefix("box-") for k, v in form.items() if k[:4] == "box-" and v)
    if not chosen and not codes:
        raise Invalid(
            "choose at least one kind of box or pick boxes",
            fields=[{"field": "tags", "message": "choose boxes"}],
        )
    return {
        "name": name,
        "multiplier": multiplier,
        "starts_at": moment_of(form, "starts", zone),
        "ends_at": moment_of(form, "ends", zone),
        "checkpoint_tags": chosen,
        "checkpoints": codes,
    }


def _validated(build: Callable[[], T]) -> T:
    """The schema's own checks, as an error against the form's field."""
    try:
        return build()
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = str(problem["loc"][0]) if problem["loc"] else "name"
        raise Invalid(
            f"{where}: {problem['msg']}", fields=[{"field": where, "message": problem["msg"]}]
        ) from exc


def _campaign_in(form: dict[str, str], game: Game, tags: list[str], taken: set[str]) -> CampaignIn:
    fields = _fields(form, game, tags)
    return _validated(lambda: CampaignIn(code=_code(fields["name"], taken), **fields))


def _patch(form: dict[str, str], game: Game, tags: list[str]) -> CampaignPatch:
    fields = _fields(form, game, tags)
    return _validated(lambda: CampaignPatch(**fields))


def form_of(camp: Campaign, zone: ZoneInfo) -> dict[str, str]:
    """A campaign as the form that would make it: the starting point of a change."""
    starts, ends = camp.starts_at.astimezone(zone), camp.ends_at.astimezone(zone)
    form = {
        "name": camp.name,
        "multiplier": f"{camp.multiplier:f}".rstrip("0").rstrip("."),
        "starts_date": starts.strftime("%d/%m/%Y"),
        "starts_time": starts.strftime("%H:%M"),
        "ends_date": ends.strftime("%d/%m/%Y"),
        "ends_time": ends.strftime("%H:%M"),
    }
    form.update({f"tag-{t}": "yes" for t in camp.checkpoint_tags or []})
    form.update({f"box-{c}": "yes" for c in camp.checkpoint_codes or []})
    return form


async def _render(
    request: Request,
    session: Session,
    ctx: StaffContext,
    game: Game,
    now: datetime,
    *,
    status: int = 200,
    **values: Any,
) -> Response:
    zone = ZoneInfo(game.timezone)
    camps = list(await game_repo.campaigns_of(session, game.id))
    places = list(await game_repo.checkpoints_of(session, game.id))
    tags = sorted({t for c in places for t in c.tags})
    groups: dict[str, list[Row]] = {"now": [], "upcoming": [], "past": []}
    for c in camps:
        kind = "past" if c.ends_at <= now else "upcoming" if c.starts_at > now else "now"
        row = Row(
            c,
            c.starts_at.astimezone(zone),
            c.ends_at.astimezone(zone),
            _overlapping(camps, c.starts_at, c.ends_at, c.code),
        )
        groups[kind].append(row)
    if "overlaps" not in values:  # after adding one: does it overlap another?
        added = next((c for c in camps if c.code == request.query_params.get("added")), None)
        if added is not None:
            values["overlaps"] = _overlapping(camps, added.starts_at, added.ends_at, added.code)
    trail = await admin_repository.campaign_audit(session, game.id)
    notice = {
        "created": "The campaign has been added.",
        "changed": "The campaign has been changed.",
        "ended": "The campaign has been ended.",
    }.get(request.query_params.get("notice", ""))
    tiles = maps.tiles_url(request)
    form: dict[str, str] = values.pop("form", {})
    # The form's example dates are next week's (Monday to Monday, local): "a double-points
    # week next week" is the commonest campaign, and the dates are then read off the page.
    today = now.astimezone(zone).date()
    monday = today + timedelta(days=7 - today.weekday())
    response = web.render(
        request,
        "campaigns.html",
        status=status,
        ctx=ctx,
        title=f"Campaigns: {game.name}",
        game=game,
        zone=zone,
        groups=groups,
        tags=tags,
        next_week=(monday, monday + timedelta(days=7)),
        box_groups=box_groups(places),
        picked_codes={k[4:] for k, v in form.items() if k[:4] == "box-" and v},
        tiles=tiles,
        attribution=maps.ATTRIBUTION,
        leaflet=maps.LEAFLET,
        trail=[(r, r.created_at.astimezone(zone)) for r in trail],
        notice=values.pop("notice", notice),
        form=form,
        **values,
    )
    return maps.allow_tiles(response, tiles)


def box_groups(places: list[Checkpoint]) -> list[tuple[str, list[Checkpoint]]]:
    """The boxes to pick from, by their first kind (tag) and then name: a few hundred boxes
    stay usable as a list of closed groups without the map."""
    groups: dict[str, list[Checkpoint]] = {}
    for place in places:
        groups.setdefault(min(place.tags) if place.tags else "", []).append(place)
    return [
        (tag, sorted(found, key=lambda c: (c.name.lower(), c.code)))
        for tag, found in sorted(groups.items(), key=lambda g: (g[0] == "", g[0]))
    ]


@router.get("/console/games/{slug}/campaigns")
async def campaigns_page(
    request: Request, session: Session, ctx: Organiser, slug: Slug, now: Now
) -> Response:
    game = await organiser_game(session, ctx, slug)
    return await _render(request, session, ctx, game, now)


async def _preview(
    request: Request,
    session: Session,
    ctx: StaffContext,
    game: Game,
    now: datetime,
    form: dict[str, str],
    before: TeamPoints,
    report: RescoreReport | None,
    **values: Any,
) -> Response:
    """The page asking to confirm a change that reaches back in time: the taps scored again
    and the points moving per team, read inside the change's transaction, which is then
    rolled back."""
    confirm = points_moved(before, await team_points(session, game.id), report)
    await _undo(session, ctx, game)
    return await _render(request, session, ctx, game, now, form=form, confirm=confirm, **values)


async def _campaign(session: Session, game: Game, code: str) -> Campaign:
    found = next(
        (c for c in await game_repo.campaigns_of(session, game.id) if c.code == code), None
    )
    if found is None:
        raise web.PageProblem(404, "No such campaign", f"There is no campaign '{code}'.")
    return found


Code = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/console/games/{slug}/campaigns/{code}")
async def change_page(
    request: Request, session: Session, ctx: Organiser, slug: Slug, code: Code, now: Now
) -> Response:
    """The form to change a campaign, filled in with what it is now."""
    game = await organiser_game(session, ctx, slug)
    camp = await _campaign(session, game, code)
    return await _render(
        request, session, ctx, game, now, editing=camp, form=form_of(camp, ZoneInfo(game.timezone))
    )


@router.post("/console/games/{slug}/campaigns/{code}")
async def change(
    request: Request,
    session: Session,
    tx: Tx,
    ctx: Organiser,
    slug: Slug,
    code: Code,
    now: Now,
) -> Response:
    """Changes a campaign. A change that reaches back in time (the campaign started, or
    will start, before now) is previewed first, as a new back-dated campaign is."""
    form = await _campaign_form(request, ctx)
    game = await organiser_game(session, ctx, slug)
    async with tx.write():
        camp = await _campaign(session, game, code)
        camps = list(await game_repo.campaigns_of(session, game.id))
        tags = sorted({t for c in await game_repo.checkpoints_of(session, game.id) for t in c.tags})
        try:
            patch = _patch(form, game, tags)
            starts, ends = patch.starts_at or camp.starts_at, patch.ends_at or camp.ends_at
            overlaps = _overlapping(camps, starts, ends, code)
            back_dated = min(camp.starts_at, starts) < now
            before = await team_points(session, game.id) if back_dated else {}
            changed = await service.update_campaign(
                session, game, code, patch, actor=actor(ctx.user)
            )
        except TaptrailError as exc:
            await _undo(session, ctx, game)
            return await _render(
                request,
                session,
                ctx,
                game,
                now,
                status=exc.status,
                errors=_errors(exc),
                form=form,
                editing=await _campaign(session, game, code),
            )
        if back_dated and form.get("confirm") != "yes":
            return await _preview(
                request,
                session,
                ctx,
                game,
                now,
                form,
                before,
                changed.rescore,
                overlaps=overlaps,
                editing=await _campaign(session, game, code),
            )
        tx.rebuild_boards(game.id)
    return web.redirect(_page(slug) + "?notice=changed&added=" + quote(code))


@router.post("/console/games/{slug}/campaigns")
async def create(
    request: Request, session: Session, tx: Tx, ctx: Organiser, slug: Slug, now: Now
) -> Response:
    form = await _campaign_form(request, ctx)
    game = await organiser_game(session, ctx, slug)
    async with tx.write():
        camps = list(await game_repo.campaigns_of(session, game.id))
        tags = sorted({t for c in await game_repo.checkpoints_of(session, game.id) for t in c.tags})
        try:
            data = _campaign_in(form, game, tags, {c.code for c in camps})
            overlaps = _overlapping(camps, data.starts_at, data.ends_at, data.code)
            back_dated = data.starts_at < now
            before = await team_points(session, game.id) if back_dated else {}
            change = await service.create_campaign(session, game, data, actor=actor(ctx.user))
        except TaptrailError as exc:
            await _undo(session, ctx, game)
            return await _render(
                request, session, ctx, game, now, status=exc.status, errors=_errors(exc), form=form
            )
        if back_dated and form.get("confirm") != "yes":
            return await _preview(
                request, session, ctx, game, now, form, before, change.rescore, overlaps=overlaps
            )
        tx.rebuild_boards(game.id)
    return web.redirect(_page(slug) + "?notice=created&added=" + quote(data.code))


@router.post("/console/games/{slug}/campaigns/{code}/end")
async def end(
    request: Request,
    session: Session,
    tx: Tx,
    ctx: Organiser,
    slug: Slug,
    code: Annotated[str, Path(min_length=1, max_length=64)],
    now: Now,
) -> Response:
    await web.console_form(request, ctx)
    game = await organiser_game(session, ctx, slug)
    async with tx.write():
        try:
            await service.end_campaign(session, game, code, actor=actor(ctx.user), now=now)
        except TaptrailError as exc:
            await _undo(session, ctx, game)
            return await _render(
                request, session, ctx, game, now, status=exc.status, errors=_errors(exc)
            )
        tx.rebuild_boards(game.id)
    return web.redirect(_page(slug) + "?notice=ended")
