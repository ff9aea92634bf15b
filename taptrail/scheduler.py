"""Periodic housekeeping inside each server process.

Jobs are idempotent (a draw is recorded once per game and day, a purge deletes what is
due), so several processes may run them without coordination; each run is one
transaction.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from taptrail.db import utcnow
from taptrail.logging import log

Job = Callable[[Any, datetime], Awaitable[Any]]


@dataclass(frozen=True)
class Periodic:
    name: str
    target: str  # "module:function" taking (session, now)
    every_s: float


JOBS = (
    Periodic("lucky draws", "game.draws:run_due_draws", 300),
    Periodic("people housekeeping", "people.privacy:housekeeping", 3600),
)


def _resolve(target: str) -> Job | None:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    fn: Job | None = getattr(module, attr, None)
    return fn


async def repair_boards_forever(app: Any, every_s: float = 5.0) -> None:
    """Boards that missed an update (Redis unreachable) are rebuilt once it is back."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await app.state.runtime.repair_boards()
        except Exception as exc:  # noqa: BLE001 - Redis still down: try again later
            # No traceback (see Runtime._publish_to_boards): this repeats every few seconds.
            log.warning(
                "scheduler.repair_boards_failed", error=f"{type(exc).__name__}: {exc}"[:300]
            )


async def run_periodic(app: Any, jobs: tuple[Periodic, ...] = JOBS, tick_s: float = 30) -> None:
    resolved = [(job, fn) for job in jobs if (fn := _resolve(job.target)) is not None]
    last: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    while True:
        for job, fn in resolved:
            if loop.time() - last.get(job.name, -1e18) < job.every_s:
                continue
            last[job.name] = loop.time()
            try:
                async with app.state.writing(), app.state.sessionmaker() as session:
                    await fn(session, utcnow())
                    await session.commit()
            except Exception:  # noqa: BLE001 - a failing job must not stop the others
                log.exception("scheduler.job_failed", job=job.name)
        await asyncio.sleep(tick_s)
