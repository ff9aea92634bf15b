"""Periodic housekeeping inside each server process.

Jobs are idempotent (a draw is recorded once per game and day, a purge deletes what is
due), so several processes may run them without coordination; each run is one
transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import utcnow
from kernel.logging import log
from organising.draws import run_due_draws
from people.privacy import housekeeping
from taptrail.runtime import Runtime

Job = Callable[[AsyncSession, datetime], Awaitable[Any]]


@dataclass(frozen=True)
class Periodic:
    name: str
    run: Job  # one transaction: (session, now)
    every_s: float


JOBS = (
    Periodic("lucky draws", run_due_draws, 300),
    Periodic("people housekeeping", housekeeping, 3600),
)


async def repair_boards_forever(runtime: Runtime, every_s: float = 5.0) -> None:
    """Boards that missed an update (Redis unreachable) are rebuilt once it is back."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await runtime.repair_boards()
        except Exception as exc:  # noqa: BLE001 - Redis still down: try again later
            # No traceback (see Runtime._publish_to_boards): this repeats every few seconds.
            log.warning(
                "scheduler.repair_boards_failed", error=f"{type(exc).__name__}: {exc}"[:300]
            )


async def run_periodic(
    runtime: Runtime, jobs: tuple[Periodic, ...] = JOBS, tick_s: float = 30
) -> None:
    last: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    while True:
        for job in jobs:
            if loop.time() - last.get(job.name, -1e18) < job.every_s:
                continue
            last[job.name] = loop.time()
            try:
                async with runtime.writing(), runtime.session() as session:
                    await job.run(session, utcnow())
                    await session.commit()
            except Exception:  # noqa: BLE001 - a failing job must not stop the others
                log.exception("scheduler.job_failed", job=job.name)
        await asyncio.sleep(tick_s)
