"""The family site: server-rendered pages for players and their families, in English and
Welsh (``i18n``). ``public`` holds the pages anyone may open (games, a game's home, the
notices); ``account`` a family's own pages; ``web`` the toolkit both use."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api.family import account, public, web

pages_router = APIRouter(include_in_schema=False)
pages_router.include_router(public.router)
pages_router.include_router(account.router)


def install(app: FastAPI) -> None:
    web.install(app)
    account.install(app)
