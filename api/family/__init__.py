"""The family site: server-rendered pages for players and their families, in English and
Welsh (``i18n``). ``public`` holds the pages anyone may open (games, a game's home, the
notices); ``game_map`` a game's map of the boxes; ``board`` the hall board; ``account``
opening an account, signing in and out; ``players`` the family's
players and their cards; ``checkin`` checking in by phone (13 and over); ``surveys`` the
evaluation survey as forms; ``my_data`` the account's data and its deletion; ``signed``
who is signed in; ``web`` the toolkit all of them use."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api.family import (
    account,
    board,
    checkin,
    game_map,
    my_data,
    players,
    public,
    signed,
    surveys,
    web,
)

pages_router = APIRouter(include_in_schema=False)
for _module in (public, game_map, board, account, players, checkin, surveys, my_data):
    pages_router.include_router(_module.router)


def install(app: FastAPI) -> None:
    web.install(app)
    signed.install(app)
