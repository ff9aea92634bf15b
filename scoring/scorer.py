"""Scores stored taps after their upload has been answered, in coalesced rounds per game.

An upload stores its taps (outcome still null) and commits; the reader gets its answer at
once. The upload then asks this process's scorer to score the game (``settle``), which
runs rounds until the game has no pending taps: each round is one transaction that takes
the game's scorer lock (one round per game at a time, across processes), picks up to
``max_holders`` holders with pending taps, scores them from their earliest new tap on,
commits, and only then publishes the changes to the boards. Taps arriving during a round
are picked up by the next one, so a busy game is scored in a few large rounds rather
than one small one per upload.

With ``partitions`` > 1 a game's holders are split by ``holder_id % partitions``, each
partition with a scorer lock of its own: a pass scores every partition in turn, and the
passes of several processes run side by side on different partitions, so a game is scored
on as many cores as there are processes (team totals shared between partitions change
only by commutative increments; holder locks keep any overlap correct).

Publishing a round's changes overlaps the next round (publishing reads names from the
database and writes the boards: the next round need not wait for that); ``settle`` waits
for both, and changes commute, so their order does not matter.

The database is the queue (``pending_taps``, filled by a trigger on ``taps``): a process
that dies between an upload's commit and its round leaves the taps queued, and every
process's sweep (``sweep_forever``) scores whatever is queued, so nothing waits for longer
than a sweep interval.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from game.totals import TotalsDelta
from kernel.db import utcnow
from kernel.db_errors import is_retryable
from kernel.logging import describe_error, log
from kernel.metrics import Metrics
from kernel.transactions import committed_transaction, transaction_id
from scoring.incremental import score_pending
from scoring.pending import analyze_outgrown, pending_games, pending_summary

Publish = Callable[[int, TotalsDelta], Awaitable[None]]


class ScorerHost(Protocol):
    """What the scorer needs from its server process (``taptrail.runtime.Runtime``)."""

    metrics: Metrics
    stale_games: set[int]

    def writing(self) -> AbstractAsyncContextManager[Any]: ...

    def session(self) -> AbstractAsyncContextManager[AsyncSession]: ...


MAX_HOLDERS_PER_ROUND = 2_000
SETTLE_TIMEOUT_S = 30.0
ATTEMPTS = 3


@dataclass
class _GameQueue:
    requested: int = 0  # settle() calls so far
    done: int = 0  # the requests that a finished round had started after
    worker: asyncio.Task[None] | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    publishing: set[asyncio.Task[None]] = field(default_factory=set)


class Scorer:
    """One per server process (``Runtime.scorer``)."""

    def __init__(
        self,
        runtime: ScorerHost,
        publish: Publish,
        *,
        max_holders: int = MAX_HOLDERS_PER_ROUND,
        partitions: int = 1,
    ):
        if partitions < 1:
            raise ValueError(f"partitions must be at least 1, got {partitions}")
        self.runtime = runtime
        self.publish = publish
        self.max_holders = max_holders
        self.partitions = partitions
        # Processes start their passes at different partitions, so that their rounds of
        # one game run side by side rather than queue for the same partition's lock.
        self._first_partition = os.getpid() % partitions
        self._games: dict[int, _GameQueue] = {}
        self.rounds = 0

    async def settle(self, game_ids: list[int], timeout_s: float = SETTLE_TIMEOUT_S) -> None:
        """Scores the games' pending taps and waits (up to ``timeout_s``) until every tap
        committed before this call has an outcome, or a round failed (the sweep retries)."""
        started = time.perf_counter()
        waits = [self._request(game_id) for game_id in game_ids]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), timeout_s)
        except TimeoutError:
            log.info("scorer.settle_timeout", game_ids=game_ids)
            return
        self.runtime.metrics.scoring_delay.observe(time.perf_counter() - started)

    def wake(self, game_id: int) -> None:
        """Like ``settle``, without waiting."""
        self._start(game_id)

    async def _request(self, game_id: int) -> None:
        queue, ticket = self._start(game_id)
        async with queue.changed:
            await queue.changed.wait_for(lambda: queue.done >= ticket)

    def _start(self, game_id: int) -> tuple[_GameQueue, int]:
        queue = self._games.setdefault(game_id, _GameQueue())
        queue.requested += 1
        if queue.worker is None or queue.worker.done():
            queue.worker = asyncio.create_task(self._work(game_id, queue))
        return queue, queue.requested

    async def _work(self, game_id: int, queue: _GameQueue) -> None:
        while queue.done < queue.requested:
            covers = queue.requested  # every request made so far is committed: one pass sees it
            try:
                for i in range(self.partitions):
                    partition = (self._first_partition + i) % self.partitions
                    while await self._round(game_id, partition) >= self.max_holders:
                        pass  # more holders were pending than one round takes
            except Exception as exc:  # noqa: BLE001 - the taps stay pending; the sweep retries
                # The commit may have happened without its answer reaching us: rebuild the
                # boards rather than trust them.
                self.runtime.stale_games.add(game_id)
                self.runtime.metrics.db_errors.inc()
                log.warning("scorer.round_failed", game_id=game_id, error=describe_error(exc))
            if queue.publishing:  # what settle() promises includes the boards
                await asyncio.gather(*list(queue.publishing), return_exceptions=True)
            async with queue.changed:
                queue.done = covers
                queue.changed.notify_all()

    async def _round(self, game_id: int, partition: int = 0) -> int:
        """One transaction: scores up to ``max_holders`` holders; returns how many. The
        changes are published after the commit, while the next round runs."""
        started = time.perf_counter()
        delta, holders, xid = await self._transaction(game_id, partition)
        if holders:
            self.rounds += 1  # rounds that scored something
            self.runtime.metrics.scoring_rounds.observe(time.perf_counter() - started)
            self.runtime.metrics.scoring_round_holders.observe(holders)
        if delta is not None and not delta.is_empty():
            queue = self._games.setdefault(game_id, _GameQueue())
            task = asyncio.create_task(self._publish(game_id, delta, xid))
            queue.publishing.add(task)
            task.add_done_callback(queue.publishing.discard)
        return holders

    async def _transaction(
        self, game_id: int, partition: int
    ) -> tuple[TotalsDelta | None, int, str | None]:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.runtime.writing(), self.runtime.session() as session:
                    delta, holders = await score_pending(
                        session, game_id, self.max_holders, partition, self.partitions
                    )
                    xid = await transaction_id(session) if delta is not None else None
                    await session.commit()
                return delta, holders, xid
            except Exception as exc:
                if is_retryable(exc) and attempt < ATTEMPTS:
                    continue
                raise
        raise AssertionError("unreachable")

    async def _publish(self, game_id: int, delta: TotalsDelta, xid: str | None) -> None:
        try:
            with committed_transaction(xid):
                await self.publish(game_id, delta)
        except Exception as exc:  # noqa: BLE001 - committed; boards can be rebuilt
            log.warning("scores.publish_failed", game_id=game_id, error=describe_error(exc))

    async def sweep(self, *, gauges: bool = True) -> None:
        """Scores every game with pending taps (left by a process that stopped, or by a
        round that failed) and, with ``gauges``, updates the queue's gauges (which count
        the whole queue: a backlog makes that a scan, so the background sweep does it
        only every few seconds) and refreshes the statistics of scoring tables that
        outgrew them (``scoring.pending.analyze_outgrown``)."""
        async with self.runtime.session() as session:
            games = await pending_games(session)
            summary = await pending_summary(session) if gauges else None
            if gauges and (analyzed := await analyze_outgrown(session)):
                await session.commit()
                log.info("scorer.analyzed", tables=analyzed)
        if summary is not None:
            count, oldest = summary
            metrics = self.runtime.metrics
            metrics.scoring_pending.set(count)
            metrics.scoring_oldest_pending.set(
                0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds())
            )
        for game_id in games:
            self.wake(game_id)

    async def stop(self) -> None:
        workers = [q.worker for q in self._games.values() if q.worker is not None]
        workers += [t for q in self._games.values() for t in q.publishing]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


GAUGES_EVERY = 5  # sweeps


async def sweep_forever(scorer: Scorer, every_s: float = 1.0) -> None:
    """Background job of every server process (see the module's docstring)."""
    sweeps = 0
    while True:
        await asyncio.sleep(every_s)
        sweeps += 1
        try:
            await scorer.sweep(gauges=sweeps % GAUGES_EVERY == 1)
        except Exception as exc:  # noqa: BLE001 - the database is down: try again later
            log.warning("scorer.sweep_failed", error=describe_error(exc))
