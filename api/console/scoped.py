"""A game page's game, for the signed-in staff member: 404 for no such game, 403 when the
account's scope does not cover it (organisers of one game or every game; an evaluator or a
team manager of that game)."""

from __future__ import annotations

from api.console import web
from api.console.web import StaffContext
from api.deps import Session
from game.models import Game
from organising import repository as game_repo


async def game_of(session: Session, ctx: StaffContext, slug: str) -> Game:
    game = await game_repo.game_by_slug(session, slug)
    if game is None:
        raise web.PageProblem(404, "No such game", f"There is no game '{slug}'.")
    if not ctx.scope.covers_game(game.id):
        raise web.PageProblem(
            403, "You cannot open this page", "This page is for the staff of this game."
        )
    return game


async def undo(session: Session, ctx: StaffContext, game: Game) -> None:
    """Rolls back a refused change and reloads what the page shows."""
    await web.undo(session, ctx)
    await session.refresh(game)
