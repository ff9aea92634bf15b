"""The console's Overview of a game for its organisers: ``/console/games/{slug}``.

Today and each day of the game so far: taps, active cards, new registrations and distance
(``organising.overview_repository``); uptake by IMD quintile beside the residents of the game's
area, from the evaluation report (``evaluation.report_service``, so the same disclosure
control applies: small counts are suppressed); and the boxes needing a visit
(``checkpoints.health``).

Every figure is in a table, which is the page without JavaScript; a vendored Chart.js
draws the daily tables as charts, and ``/console/games/{slug}/overview.json`` gives
today's figures for the page's script to refresh every 30 seconds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.console import maps, web
from api.console.campaigns import Organiser, Slug, organiser_game
from api.deps import Now, Session
from checkpoints import health
from evaluation.report_scores import GROUPS
from evaluation.report_service import build_game_report
from game.models import Game
from organising import overview_repository as repo

router = APIRouter(include_in_schema=False)

QUINTILE_NAMES = {
    "Q1": "Q1 (most deprived)",
    "Q2": "Q2",
    "Q3": "Q3",
    "Q4": "Q4",
    "Q5": "Q5 (least deprived)",
}


@dataclass(frozen=True)
class Day:
    day: date
    taps: int
    active: int
    registrations: int
    distance_km: float


def _days(game: Game, now: datetime) -> list[date]:
    """The game's local days from its start to today (or its end), oldest first."""
    zone = ZoneInfo(game.timezone)
    first = game.starts_at.astimezone(zone).date()
    last = min(now, game.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


async def daily(session: Session, game: Game, now: datetime) -> tuple[date, list[Day]]:
    zone = ZoneInfo(game.timezone)
    today = now.astimezone(zone).date()
    days = _days(game, now)
    if not days:
        return today, []
    play = {p.day: p for p in await repo.play_by_day(session, game.id, days[0], days[-1])}
    joined = Counter(
        t.astimezone(zone).date() for t in await repo.registration_times(session, game.id)
    )
    out = []
    for d in days:
        p = play.get(d)
        out.append(
            Day(
                d,
                p.taps if p else 0,
                p.active if p else 0,
                joined.get(d, 0),
                round((p.distance_m if p else 0.0) / 1000, 1),
            )
        )
    return today, out


def _today(today: date, days: list[Day]) -> dict[str, Any]:
    found = next((d for d in days if d.day == today), None)
    return {
        "date": today.isoformat(),
        "taps": found.taps if found else 0,
        "active": found.active if found else 0,
        "registrations": found.registrations if found else 0,
        "distance_km": found.distance_km if found else 0.0,
    }


def _uptake(report: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Per nation, the uptake rows Q1-Q5 (players, residents, rate per 1,000, shares)."""
    out = []
    for nation, section in sorted(report.get("nations", {}).items()):
        groups = section["uptake"]["groups"]
        out.append((nation, [{"group": QUINTILE_NAMES[g], **groups[g]} for g in GROUPS[:5]]))
    return out


@router.get("/console/games/{slug}")
async def overview(
    request: Request, session: Session, ctx: Organiser, slug: Slug, now: Now
) -> Response:
    game = await organiser_game(session, ctx, slug)
    today, days = await daily(session, game, now)
    _, boxes = await health.boxes(session, game, now)
    report = await build_game_report(session, game, now=now)
    return web.render(
        request,
        "overview.html",
        ctx=ctx,
        title=f"Overview: {game.name}",
        game=game,
        today=_today(today, days),
        days=list(reversed(days)),
        uptake=_uptake(report),
        area=report.get("area", {}),
        visits=[b for b in boxes if b["needs_visit"]],
        box_count=len(boxes),
        chart_js=maps.CHART_JS,
    )


@router.get("/console/games/{slug}/overview.json")
async def overview_json(
    request: Request, session: Session, ctx: Organiser, slug: Slug, now: Now
) -> Response:
    game = await organiser_game(session, ctx, slug)
    today, days = await daily(session, game, now)
    _, boxes = await health.boxes(session, game, now)
    body = {
        "today": _today(today, days),
        "boxes_needing_a_visit": sum(1 for b in boxes if b["needs_visit"]),
        "generated_at": now.isoformat(timespec="seconds"),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
