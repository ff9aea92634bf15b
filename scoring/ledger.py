"""The ledger check: whether every stored total equals its sum over the ledger (the taps'
outcomes)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from scoring import totals


async def ledger_mismatches(session: AsyncSession, game_id: int) -> list[str]:
    """Differences between the stored totals and the totals recomputed from the ledger
    (empty when they agree); each names the table and key."""
    ledger = await totals.ledger_sums(session, game_id)
    stored = await totals.stored_sums(session, game_id)
    problems: list[str] = []
    for table, want in ledger.items():
        have = stored.get(table, {})
        for key in sorted(set(want) | set(have), key=repr):
            a, b = want.get(key), have.get(key)
            if a is None or b is None or any(abs(x - y) > 1e-3 for x, y in zip(a, b, strict=True)):
                problems.append(f"{table} {key}: ledger {a} stored {b}")
    return problems


async def totals_match_ledger(session: AsyncSession, game_id: int) -> bool:
    """Whether every stored total (holder, day, holder-team, team incl. active members)
    equals its sum over the ledger."""
    return not await ledger_mismatches(session, game_id)
