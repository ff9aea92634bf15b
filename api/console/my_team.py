"""The console's My team page for team managers: ``/console/my-team``.

Scoped to the manager's own team (``staff_users.team_id``), whatever the address: there is
no team in the URL to change. Pupils by nickname (a nickname an organiser hid shows as
``Player <id>``; no other personal data), with the points they earned for the team, and their
points and active days this week (Monday to today, in the game's time zone); the team's rank
among teams of its kind; its join code; and the hall-board link that highlights the team
(``/games/{slug}/board?team=CODE``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.console import web
from api.console.web import StaffContext
from api.deps import Now, Session
from people import repository as people_repo
from people import views
from people import views_repository as people_views

router = APIRouter(include_in_schema=False)

Manager = Annotated[StaffContext, Depends(web.require_staff("team_manager"))]


@router.get("/console/my-team")
async def my_team(request: Request, session: Session, ctx: Manager, now: Now) -> Response:
    team = await people_repo.team(session, ctx.user.team_id) if ctx.user.team_id else None
    game = await people_repo.game(session, team.game_id) if team else None
    if team is None or game is None:
        raise web.PageProblem(404, "Your team no longer exists", "Ask an organiser to help.")
    view = await views.team_view(session, game, team)
    today = now.astimezone(ZoneInfo(game.timezone)).date()
    monday = today - timedelta(days=today.weekday())
    members = await people_views.team_members(session, game.id, team.id)
    holders = {m.player_id: m.holder_id for m in members}
    week = await people_views.week_activity(session, game.id, list(holders.values()), monday)
    return web.render(
        request,
        "my_team.html",
        ctx=ctx,
        title=f"My team: {team.name}",
        game=game,
        view=view,
        week={pid: week.get(hid, (0, 0)) for pid, hid in holders.items()},
        monday=monday,
        board=f"/games/{game.slug}/board?kind={team.kind}&team={team.code}",
    )
