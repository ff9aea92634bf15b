"""The FastAPI application: wiring only. Domain work lives in the domain packages."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from api import errors
from api.body_guard import BodyGuard, BodyLimit
from api.deps import check_bearer, request_needs_bearer
from api.middleware import CompressStatic, RequestContextMiddleware, SecurityHeadersMiddleware
from game.scorer import sweep_forever
from taptrail import __version__
from taptrail.logging import configure, log
from taptrail.runtime import Runtime
from taptrail.scheduler import repair_boards_forever, run_periodic
from taptrail.settings import DEFAULT_GAME_FILE_BYTES, Settings, get_settings

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
        jobs: list[Callable[[FastAPI], Coroutine[Any, Any, None]]] = [
            repair_boards_forever,
            sweep_forever,
        ]
        if settings.periodic_jobs:
            jobs.append(run_periodic)
        jobs += background or []
        tasks = [asyncio.create_task(job(app)) for job in jobs]
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
    app.state.settings = settings
    errors.install(app)

    from api import api_explorer, games, health

    api_v1 = APIRouter(prefix="/api/v1")
    api_v1.include_router(games.router)
    root_routers: list[APIRouter] = [health.router, api_explorer.router]
    for name in DOMAIN_ROUTERS:
        module = _optional_module(name)
        if module is None:
            continue
        if name == "pages":
            root_routers.append(module.router)
        elif hasattr(module, "router"):
            api_v1.include_router(module.router)
        # Pages a person opens, and /metrics where scrapers look, live at the root.
        if hasattr(module, "pages_router"):
            root_routers.append(module.pages_router)
        if name == "metrics":
            root_routers.append(module.router)
        if hasattr(module, "install"):  # the console's HTML error pages and redirects
            module.install(app)
    for router in root_routers:
        app.include_router(router)
    app.include_router(api_v1)

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


DEFAULT_BODY_LIMIT = 1 << 20  # every other request body: 1 MiB
GAME_FILE_LIMIT = DEFAULT_GAME_FILE_BYTES  # TAPTRAIL_MAX_GAME_FILE_BYTES's default

DOMAIN_ROUTERS = (
    "readers",
    "admin_boxes",
    "checkins",
    "scoring",
    "leaderboard",
    "people",
    "tokens",
    "evaluation",
    "metrics",
    "pages",
    "console",
    "family",
)


def _optional_module(name: str) -> Any:
    """The domains' API modules: ``router`` goes under /api/v1, ``pages_router`` at the root."""
    import importlib

    try:
        return importlib.import_module(f"api.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"api.{name}":
            return None
        raise
