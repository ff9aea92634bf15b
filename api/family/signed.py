"""Who is signed in on the family site's own pages.

``Family`` is the dependency of every page that needs a family session: without one the
visitor is sent (303) to ``/family/sign-in?next=…`` and comes back after signing in.
``after_commit`` tells the boards of a game that who is shown on them may have changed;
it is called only after the endpoint's transaction has committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from api.app_state import app_state
from api.deps import Now, Session
from api.family import web
from game.totals import TotalsDelta


class SignInNeeded(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def require_family(request: Request, session: Session, now: Now) -> web.Signed:
    signed = await web.current(request, session, now)
    if signed is None:
        raise SignInNeeded(request.url.path)
    return signed


Family = Annotated[web.Signed, Depends(require_family)]


def install(app: FastAPI) -> None:
    async def _sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        return web.redirect("/family/sign-in?next=" + quote(web.safe_next(exc.next_path), safe="/"))

    app.add_exception_handler(SignInNeeded, _sign_in)


async def after_commit(request: Request, game_id: int, deltas: Sequence[TotalsDelta]) -> None:
    """Boards are rebuilt: who is shown on them may have changed."""
    del deltas
    await app_state(request).after_game_change(game_id)
