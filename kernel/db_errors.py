"""Classifying database errors: retry the transaction, answer 503, or let it fail."""

from __future__ import annotations

import asyncio

from sqlalchemy import exc as sa_exc

_RETRYABLE_STATES = {"40001", "40P01"}  # serialization failure, deadlock
_TRANSIENT_CLASSES = {"08", "40", "53", "57", "58"}


def sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a SQLAlchemy error (None: not known)."""
    orig = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        for name in ("sqlstate", "pgcode"):
            value = getattr(candidate, name, None)
            if isinstance(value, str):
                return value
    return None


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure: running the transaction again may succeed."""
    return isinstance(exc, sa_exc.DBAPIError) and sqlstate(exc) in _RETRYABLE_STATES


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot serve now (outage, lost connection, lock trouble): answer 503."""
    if isinstance(
        exc,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.TimeoutError
        | ConnectionError
        | asyncio.TimeoutError
        | TimeoutError,
    ):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        state = sqlstate(exc)
        return exc.connection_invalidated or (state is not None and state[:2] in _TRANSIENT_CLASSES)
    return isinstance(exc, OSError)
