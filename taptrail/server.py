"""The FastAPI application: wiring only (the runtime, the background jobs, the routers of
``api``). Domain work lives in the domain packages."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from api import (
    admin_boxes,
    api_explorer,
    checkins,
    console,
    errors,
    evaluation,
    evaluation_exports,
    evaluation_page,
    family,
    games,
    health,
    leaderboard,
    metrics,
    pages,
    people,
    readers,
    scoring,
    tokens,
)
from api.board_lane import BoardReadLane
from api.body_guard import BodyGuard, BodyLimit
from api.deps import check_bearer, request_needs_bearer
from api.middleware import CompressStatic, RequestContextMiddleware, SecurityHeadersMiddleware
from kernel.logging import configure, log
from kernel.settings import DEFAULT_GAME_FILE_BYTES, Settings, get_settings
from scoring.scorer import sweep_forever
from taptrail import __version__
from taptrail.runtime import Runtime
from taptrail.scheduler import repair_boards_forever, run_periodic

DESCRIPTION = """
Taptrail runs community physical-activity games: families tap cards on boxes around a town,
walk or cycle to another box within the hour, and score for their school or group.

* **Readers** (boxes) upload signed batches of taps.
* **Organisers** set games up from one definition file and watch box health.
* **Everyone** can read the leaderboards; players see their own points.
* **Evaluators** download anonymised data.

Authentication: `Authorization: Bearer <token>` with a token from `taptrail token create`.
Errors are `{"error": "<code>", "detail": "<sentence>"}`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    background: list[Callable[[FastAPI], Coroutine[Any, Any, None]]] | None = None,
) -> FastAPI:
    """The app. ``background``: tasks started after start-up and cancelled at shutdown."""
    settings = settings or get_settings()
    configure(settings.log_level, settings.log_json)
    quiet_statement_loggers()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start(app)
        log.info("taptrail.started", database=runtime.database_kind, redis=bool(settings.redis_url))
        assert runtime.scorer is not None  # made by start()
        jobs: list[Coroutine[Any, Any, None]] = [
            repair_boards_forever(runtime),
            sweep_forever(runtime.scorer),
        ]
        if settings.periodic_jobs:
            jobs.append(run_periodic(runtime))
        jobs += [job(app) for job in background or []]
        tasks = [asyncio.create_task(job) for job in jobs]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            _, stuck = await asyncio.wait(tasks, timeout=10)
            if stuck:
                log.warning("taptrail.stop_timeout", tasks=len(stuck))
            await runtime.stop(app)

    app = TaptrailApp(
        title="Taptrail",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # api/api_explorer.py serves /docs without a CDN
        redoc_url=None,
    )
    errors.install(app)

    console.install(app)  # the console's HTML error pages and redirects
    family.install(app)  # the family site's sign-in redirects and language
    # A request tries the routes in order, and FastAPI matches a nested router's routes
    # again at each level it hands the request down, so the API (board reads are most of
    # the traffic) goes first and flat, each router straight on the app under /api/v1: a
    # board read tries about 30 routes, not 130 behind every console page. The order
    # changes no answer: no route outside /api/v1 can match a path in it (each starts with
    # its own literal segment; tests/foundation/test_route_order.py keeps it so).
    for router in API_V1_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in ROOT_ROUTERS:
        app.include_router(router)

    app.add_middleware(
        BodyGuard,
        default=BodyLimit(DEFAULT_BODY_LIMIT),
        limits=[
            (
                "/api/v1/readers/",
                BodyLimit(settings.max_body_bytes, "a reader upload", "TAPTRAIL_MAX_BODY_BYTES"),
            ),
            # Only the game definition itself (PUT /admin/games/{slug}), not its sub-resources.
            (
                re.compile(r"/api/v1/admin/games/[^/]+"),
                BodyLimit(
                    settings.max_game_file_bytes,
                    "the game definition file",
                    "TAPTRAIL_MAX_GAME_FILE_BYTES",
                ),
            ),
        ],
        needs_token=request_needs_bearer,
        check_token=check_bearer,
    )
    app.add_middleware(CompressStatic)
    # The public board reads skip FastAPI's routing and parameter solving, with the same
    # answers (api/board_lane.py), inside the request ids, logs, metrics and error pages; it
    # takes only requests without a body, which the two layers inside would pass on as is.
    app.add_middleware(BoardReadLane, prefix=API_PREFIX)
    app.add_middleware(RequestContextMiddleware, on_done=runtime.observe_request)
    return app


class TaptrailApp(FastAPI):
    """FastAPI with ``SecurityHeadersMiddleware`` outside everything, Starlette's own 500
    answer included (``add_middleware`` can only place middleware inside that one)."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(super().build_middleware_stack())


# These log every SQL statement WITH its parameters (e-mail addresses, nicknames) at DEBUG
# or INFO, whatever the root logger's level: personal data must never reach the logs.
STATEMENT_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool")


def quiet_statement_loggers() -> None:
    for name in STATEMENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


API_PREFIX = "/api/v1"
DEFAULT_BODY_LIMIT = 1 << 20  # every other request body: 1 MiB
GAME_FILE_LIMIT = DEFAULT_GAME_FILE_BYTES  # TAPTRAIL_MAX_GAME_FILE_BYTES's default

# Under /api/v1 (the metrics also at the root, where scrapers look).
API_V1_ROUTERS = (
    games.router,
    readers.router,
    admin_boxes.router,
    checkins.router,
    scoring.router,
    leaderboard.router,
    people.router,
    tokens.router,
    evaluation.router,
    evaluation_exports.router,
    metrics.router,
)
# Pages a person opens, and /metrics, at the root.
ROOT_ROUTERS = (
    health.router,
    api_explorer.router,
    evaluation_page.pages_router,
    metrics.router,
    pages.router,
    console.pages_router,
    family.pages_router,
)
