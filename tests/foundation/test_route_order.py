"""The API's routes are tried before the pages' (board reads try few routes), which is
only safe while no route outside /api/v1 can match a path inside it, and the other way
round: then the order of the two groups changes no answer."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from kernel.settings import Settings
from taptrail.server import API_PREFIX, create_app

# A first path segment that is a literal: not a parameter, so it matches only itself.
_LITERAL_FIRST = re.compile(r"/[^/{]+(/|$)")


def _paths(app: FastAPI) -> list[str]:
    return [str(route.path) for route in iter_route_contexts(app.routes)]


def test_no_route_outside_the_api_can_match_a_path_in_it(settings: Settings) -> None:
    paths = _paths(create_app(settings))
    api = [p for p in paths if p.startswith(API_PREFIX + "/")]
    others = [p for p in paths if not p.startswith(API_PREFIX + "/")]
    assert api and others
    for path in others:
        if path == "/":  # the site's home page matches "/" alone
            continue
        assert _LITERAL_FIRST.match(path), f"{path}: its first segment could match 'api'"
        assert path.split("/")[1] != API_PREFIX.split("/")[1], path


def test_the_api_routes_come_first(settings: Settings) -> None:
    # /openapi.json is FastAPI's own route, placed before everything else.
    paths = [p for p in _paths(create_app(settings)) if p != "/openapi.json"]
    in_api = [p.startswith(API_PREFIX + "/") for p in paths]
    assert in_api == sorted(in_api, reverse=True), "an API route comes after a page"
