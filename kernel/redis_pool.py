"""Redis clients with a bounded connection pool that waits instead of failing.

redis-py's default pool opens a connection per concurrent command and raises once 100 are
in use, so a burst of requests failed with "Too many connections". A client from
``bounded_client`` holds at most ``max_connections`` (a change-notice subscription keeps one
of them) and a command waits up to ``timeout_s`` for a free one before it fails with
``redis.exceptions.ConnectionError``. Closing the client closes its pool.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis


def bounded_client(url: str, *, max_connections: int, timeout_s: float) -> Redis:
    if max_connections < 2:
        raise ValueError("a Redis pool needs at least 2 connections (one is the subscription)")
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=timeout_s, decode_responses=True
    )
    return Redis.from_pool(pool)
