"""One write transaction per request: the writing lock, the commit, retries, and publishing
to the boards only after the commit.

An endpoint that writes takes ``tx: Tx`` (it shares the request's session) and either::

    async with tx.write():                      # the writing lock; commit when the block ends
        delta = await service.something(session, ...)
        tx.publish_scores(game.id, delta)       # queued: sent after the commit

or, where a deadlock is worth retrying and an outage must say "nothing was stored" (the
readers' and boxes' endpoints), ``value = await tx.run(work)``.

The rules it keeps:

- SQLite has one writer: the writing lock (``AppState.writing``) queues write transactions
  there; on PostgreSQL it is a no-op.
- Services never commit; the commit is here, inside the lock.
- Boards are written only after the commit, outside the lock, in the order queued: a board
  never shows what the database does not hold. Nothing queued is sent when the block raises.
- ``write(commit_on=...)``: an error of those types still commits what was written before it
  (a failed attempt that the rate limits count) and is raised again.
- A failure to publish scores does not undo the answer (everything is stored and the boards
  can be rebuilt from the database); a failure to rebuild boards is raised, as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.app_state import app_state
from api.deps import Session
from checkpoints.ingestion import Unavailable
from kernel.db_errors import is_retryable, is_unavailable
from kernel.errors import TaptrailError
from kernel.logging import log

T = TypeVar("T")
ATTEMPTS = 3  # a deadlocked or serialisation-failed transaction is run again this often

AfterCommit = Callable[[], Awaitable[None]]


class Transaction:
    """The request's write transaction (see the module docstring)."""

    def __init__(self, request: Request, session: AsyncSession) -> None:
        self.request = request
        self.session = session
        self._after: list[AfterCommit] = []

    # ------------------------------------------------------------------ after the commit

    def publish_scores(self, game_id: int, delta: Any) -> None:
        """After the commit: these score changes go to the boards and live screens."""

        async def send() -> None:
            await publish(self.request, game_id, delta)

        self._after.append(send)

    def rebuild_boards(self, game_id: int) -> None:
        """After the commit: the game's boards are rebuilt from the database (who is shown
        on them changed, or the game's set-up did)."""

        async def rebuild() -> None:
            await app_state(self.request).after_game_change(game_id)

        self._after.append(rebuild)

    async def _committed(self) -> None:
        after, self._after = self._after, []
        for step in after:
            await step()

    # ------------------------------------------------------------------ the transaction

    def writing(self) -> Any:
        """The writing lock alone, for a flow that commits or rolls back on its own branches."""
        return app_state(self.request).writing()

    @asynccontextmanager
    async def write(
        self, *, commit_on: tuple[type[BaseException], ...] = ()
    ) -> AsyncIterator[AsyncSession]:
        """The writing lock around the block, the commit at its end, then what was queued."""
        self._after = []
        async with self.writing():
            try:
                yield self.session
            except commit_on:
                self._after = []
                await self.session.commit()
                raise
            except BaseException:
                self._after = []
                raise
            await self.session.commit()
        await self._committed()

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Runs ``work`` in a transaction and commits, running it again (up to ``ATTEMPTS``
        times) after a deadlock or serialisation failure; a database outage becomes 503
        with nothing stored. What ``work`` queued is sent after the commit."""
        for attempt in range(1, ATTEMPTS + 1):
            self._after = []
            try:
                async with self.writing():
                    value = await work()
                    await self.session.commit()
            except TaptrailError:
                await self._rollback()
                raise
            except Exception as exc:
                await self._rollback()
                if is_retryable(exc) and attempt < ATTEMPTS:
                    log.info("readers.retry", attempt=attempt, error=type(exc).__name__)
                    continue
                if is_unavailable(exc) or is_retryable(exc):
                    app_state(self.request).metrics.db_errors.inc()
                    log.warning("readers.unavailable", error=str(exc)[:300])
                    raise Unavailable(
                        "the database is unavailable: nothing was stored; retry with backoff"
                    ) from None
                raise
            await self._committed()
            return value
        raise AssertionError("unreachable")

    async def _rollback(self) -> None:
        self._after = []
        try:
            await self.session.rollback()
        except Exception as exc:  # the connection may be gone; the pool discards it
            log.warning("readers.rollback_failed", error=str(exc))


async def publish(request: Request, game_id: int, delta: Any) -> None:
    """Score changes to the boards; a failure is logged, not raised (see the docstring)."""
    try:
        await app_state(request).publish_scores(game_id, delta)
    except Exception as exc:
        log.warning("scores.publish_failed", game_id=game_id, error=str(exc)[:300])


async def get_transaction(request: Request, session: Session) -> Transaction:
    # Async so that FastAPI does not hand it to a worker thread (see api.deps.server_now).
    return Transaction(request, session)


Tx = Annotated[Transaction, Depends(get_transaction)]
