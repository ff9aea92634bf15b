"""``taptrail demo``: the Burnley demo town on a fresh embedded database, with live taps.

The demo file's dates are shifted so that the game is always running today; the past
days are filled with simulated history and new taps keep arriving through the real
reader upload endpoint (signed batches), so the boards move.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI

from accounts.tokens import create_token
from evaluation.importing import import_imd, import_postcodes
from evaluation.surveys import set_wave_open
from game.definition import validate
from kernel.db import utcnow
from kernel.logging import log
from kernel.scope import OPERATOR
from kernel.secrets_box import secret_box
from kernel.settings import Settings, get_settings
from organising.loading import apply_definition
from organising.repository import game_by_slug
from simulator.town import TownSimulation
from taptrail.commands.common import run_with_session
from taptrail.demo import DEMO_IMD_FILE, DEMO_POSTCODES_FILE
from taptrail.demo.survey_answers import add_demo_answers

DEMO_FILE = Path(__file__).parent / "demo" / "burnley-demo.yaml"
DEMO_DB = "taptrail-demo.db"
HISTORY_TAPS = 4000


def shifted_definition(today: date | None = None) -> dict[str, Any]:
    """The demo definition with every date moved so the game started ten days ago."""
    data: dict[str, Any] = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    start: datetime = _aware(data["game"]["starts_at"])
    today = today or datetime.now(UTC).date()
    target = datetime.combine(today - timedelta(days=10), datetime.min.time(), tzinfo=UTC)
    shift = target - start.replace(hour=0, minute=0, second=0, microsecond=0)
    return _shift(data, shift)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _shift(node: Any, shift: timedelta) -> Any:
    if isinstance(node, dict):
        return {k: _shift(v, shift) for k, v in node.items()}
    if isinstance(node, list):
        return [_shift(v, shift) for v in node]
    if isinstance(node, datetime):
        return (_aware(node) + shift).isoformat()
    return node


def prepare_demo(
    host: str, port: int, database_url: str | None = None, redis_url: str | None = None
) -> tuple[Settings, str]:
    """A fresh database with the demo town loaded; returns settings and a banner.

    The demo never uses the database or Redis named in the environment (a production
    installation's, perhaps): it starts its own file, ``taptrail-demo.db``, afresh, with
    in-process boards, unless ``database_url`` or ``redis_url`` say otherwise explicitly.
    """

    if database_url is None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(DEMO_DB + suffix)
        database_url = f"sqlite+aiosqlite:///./{DEMO_DB}"
    os.environ["TAPTRAIL_DATABASE_URL"] = database_url
    if redis_url is None:
        os.environ.pop("TAPTRAIL_REDIS_URL", None)
    else:
        os.environ["TAPTRAIL_REDIS_URL"] = redis_url

    get_settings.cache_clear()
    settings = get_settings()
    data = shifted_definition()

    async def _load(session: Any) -> str:
        # Illustrative deprivation lookups, so demo players get IMD deciles.
        await import_imd(session, DEMO_IMD_FILE)
        await import_postcodes(session, DEMO_POSTCODES_FILE)

        await apply_definition(
            session, validate(data), box=secret_box(settings), actor="demo", scope=OPERATOR
        )
        await answer_surveys(session, data["game"]["slug"])
        return await create_token(session, role="organiser", label="demo")

    token = run_with_session(_load)
    slug = data["game"]["slug"]
    base = f"http://{host}:{port}"
    banner = "\n".join(
        [
            "Taptrail demo: Burnley, with simulated families tapping boxes.",
            f"  API docs:          {base}/docs",
            f"  school-hall board: {base}/games/{slug}/board",
            f"  map:               {base}/games/{slug}/boxes",
            f"  evaluation report: {base}/games/{slug}/report  (paste the token below)",
            f"  team board (JSON): {base}/api/v1/games/{slug}/leaderboards/teams",
            "  organiser token (for /docs 'Authorize'):",
            f"  {token}",
        ]
    )
    return settings, banner


async def answer_surveys(session: Any, slug: str) -> None:
    """The demo players' survey answers (illustrative; taptrail/demo/survey_answers.py), with
    the registration wave open as it would be during a game."""

    game = await game_by_slug(session, slug)
    if game is None:  # pragma: no cover - just loaded
        raise RuntimeError(f"the demo game {slug} was not loaded")
    added = await add_demo_answers(session, game)
    await set_wave_open(session, game, 1, is_open=True, actor="demo", now=utcnow())
    log.info("demo.survey_answers", answer_sets=added)


def demo_task(taps_per_second: float) -> Callable[[FastAPI], Coroutine[Any, Any, None]]:
    """A background task for the demo server: history first, then live taps."""

    async def run(app: FastAPI) -> None:
        data = shifted_definition()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            sim = TownSimulation(data, client, seed=7, flaky_fraction=0.1, skewed_fraction=0.05)
            now = datetime.now(UTC)
            start = _aware(data["game"]["starts_at"])
            try:
                history = sim.generate(HISTORY_TAPS, start, now - timedelta(minutes=5))
                stats = await sim.deliver(history, upload_every=250)
                log.info("demo.history", taps=stats.taps)
                await sim.run(duration_s=10 * 365 * 24 * 3600, taps_per_s=taps_per_second)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the demo must keep serving even if it stops
                log.exception("demo.simulation_stopped")

    return run
