"""The staff console: server-rendered pages at ``/login``, ``/console/`` and friends.

``web`` is the toolkit every console page uses (layout, CSRF, ``require_staff``);
``sign_in`` the pages before the console; ``pages`` the console itself;
``campaigns``, ``boxes``, ``overview`` and ``setup`` a game's pages for its organisers;
``helpdesk``, ``people``, ``draws``,
``my_team`` and ``evaluation`` the pages of those names (``scoped`` finds a page's game).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api.console import (
    boxes,
    campaigns,
    draws,
    evaluation,
    helpdesk,
    my_team,
    overview,
    pages,
    people,
    setup,
    sign_in,
    web,
)

pages_router = APIRouter(include_in_schema=False)
pages_router.include_router(sign_in.router)
pages_router.include_router(pages.router)
pages_router.include_router(campaigns.router)
pages_router.include_router(boxes.router)
pages_router.include_router(overview.router)
pages_router.include_router(setup.router)
pages_router.include_router(helpdesk.router)
pages_router.include_router(people.router)
pages_router.include_router(draws.router)
pages_router.include_router(my_team.router)
pages_router.include_router(evaluation.router)


def install(app: FastAPI) -> None:
    web.install(app)
