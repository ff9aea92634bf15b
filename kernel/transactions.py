"""Which committed transaction published score changes come from (PostgreSQL only).

Read ``transaction_id`` before the commit and publish within ``committed_transaction(xid)``:
the Redis boards then count its score changes exactly once even while a rebuild runs
(``leaderboard.redis_scripts``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import is_postgres

_committed_xid: ContextVar[str | None] = ContextVar("committed_xid", default=None)


async def transaction_id(session: AsyncSession) -> str | None:
    """The PostgreSQL id of the session's transaction (None on SQLite). Read it before the
    commit and publish within ``committed_transaction(xid)``: the Redis boards then count
    its score changes exactly once even while a rebuild runs (leaderboard.redis_scripts)."""
    if not is_postgres(session):
        return None
    return str(await session.scalar(text("SELECT pg_current_xact_id()::text")))


@contextlib.contextmanager
def committed_transaction(xid: str | None) -> Iterator[None]:
    """Score changes published inside come from the committed transaction ``xid``."""
    token = _committed_xid.set(xid)
    try:
        yield
    finally:
        _committed_xid.reset(token)


def committed_xid() -> str | None:
    """The transaction set by the enclosing ``committed_transaction`` (None outside one)."""
    return _committed_xid.get()
