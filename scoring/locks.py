"""Scoring's locks: the game lock, holder row locks and the per-game scorer lock.

Locking (PostgreSQL; see docs/architecture.md "Scoring and concurrency"):

* Incremental scoring takes a *shared* advisory lock on the game, then row locks on the
  touched holders in id order (:func:`lock_holders`), before it inserts taps.
* A full re-score takes the *exclusive* advisory lock on the game (:func:`lock_game`), so
  it never interleaves with incremental scoring under different rules.
* The scorer takes a per-game lock (:func:`lock_scorer`; per game and partition of its
  holders when they are partitioned) so rounds of one game (partition) run one at a time
  across server processes.

SQLite has a single writer: the app serialises write transactions (``AppState.writing()``)
and SQLite's own database lock serialises other processes; every lock here is a no-op there.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import is_postgres, one_of
from people.models import Holder

# Namespace of the game-level advisory locks (pg_advisory_xact_lock(namespace, game_id)).
GAME_LOCK_NAMESPACE = 0x7A5C  # "scoring"


async def lock_game(session: AsyncSession, game_id: int, *, exclusive: bool = True) -> None:
    """Transaction-scoped advisory lock on a game's scoring (PostgreSQL; no-op on SQLite).

    Exclusive: a full re-score. Shared: incremental scoring (taken by :func:`lock_holders`).
    """
    if is_postgres(session):
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await session.execute(
            text(f"SELECT {fn}(:ns, :game_id)"), {"ns": GAME_LOCK_NAMESPACE, "game_id": game_id}
        )


async def lock_holders(
    session: AsyncSession, holder_ids: Iterable[int], *, game_id: int | None = None
) -> None:
    """Serialises scoring per holder on PostgreSQL: call once per transaction, BEFORE
    inserting the holders' taps, with every holder the transaction will score.

    1. A shared advisory lock on each holder's game (in game id order): waits while a full
       re-score of that game is running, and keeps one from starting until we commit.
    2. ``SELECT … FOR NO KEY UPDATE`` on the holder rows, in id order (a global order, so
       two uploads touching overlapping holders cannot deadlock): the second upload waits
       for the first to commit, then reads its committed taps and outcomes (READ COMMITTED:
       every statement sees the latest commits), so it scores exactly as if the two had run
       one after the other. ``NO KEY UPDATE`` (not ``UPDATE``) does not conflict with the
       ``KEY SHARE`` locks that foreign-key checks take on a holder when rows referencing it
       are inserted (taps, cards), so such inserts never wait for, or deadlock with, a scorer.

    Stored totals shared between holders (team totals) are only changed by commutative
    increments (``INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x``) in key order.
    SQLite has one writer at a time: nothing to do.
    """
    ids = sorted(set(holder_ids))
    if not ids or not is_postgres(session):
        return
    if game_id is not None:
        # The caller knows every holder is of that game: both steps in one statement (the
        # subquery's lock is taken before the join yields a row, so before any row lock).
        await session.execute(
            text(
                "SELECT h.id FROM (SELECT pg_advisory_xact_lock_shared(:ns, :game_id)) AS g,"
                " holders AS h WHERE h.id = ANY(CAST(:ids AS integer[]))"
                " ORDER BY h.id FOR NO KEY UPDATE OF h"
            ),
            {"ns": GAME_LOCK_NAMESPACE, "game_id": game_id, "ids": ids},
        )
        return
    game_ids = (
        await session.scalars(
            select(Holder.game_id)
            .where(one_of(session, Holder.id, ids))
            .distinct()
            .order_by(Holder.game_id)
        )
    ).all()
    for gid in game_ids:
        await lock_game(session, gid, exclusive=False)
    await session.execute(
        select(Holder.id)
        .where(one_of(session, Holder.id, ids))
        .order_by(Holder.id)
        .with_for_update(key_share=True)
    )


# ---------------------------------------------------------------- the scorer's queue

# Namespace of the per-game scorer locks (pg_advisory_xact_lock(namespace, game_id)).
SCORER_LOCK_NAMESPACE = 0x7A5D


# Namespaces of the per-(game, partition) scorer locks when a game's holders are split
# into partitions: (SCORER_PARTITION_NAMESPACE + partition, game_id).
SCORER_PARTITION_NAMESPACE = 0x7A600000


async def lock_scorer(
    session: AsyncSession, game_id: int, partition: int = 0, partitions: int = 1
) -> None:
    """Makes scoring rounds of one game (or of one partition of its holders, see
    ``scoring.pending.pending_holders``) run one at a time across server processes
    (PostgreSQL; SQLite has one writer). Taken before :func:`lock_holders`, by the scorer
    only, so it cannot take part in a lock cycle. Rounds of different partitions run side
    by side: their holders are disjoint, and the holder locks keep them correct even so."""
    if is_postgres(session):
        namespace = (
            SCORER_LOCK_NAMESPACE if partitions == 1 else SCORER_PARTITION_NAMESPACE + partition
        )
        # A peer stuck inside a round must not stall this one for ever: give up after 30 s
        # (the round fails, its taps stay pending, and the sweep tries again).
        # (SET LOCAL in the same statement: the inner query runs first.)
        await session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:ns, :game_id) FROM"
                " (SELECT set_config('lock_timeout', '30s', true)) AS timeout"
            ),
            {"ns": namespace, "game_id": game_id},
        )
