"""Sign-in throttling that slows a guesser down without locking the real person out.

Failures are counted per (account, client address) and per client address:

- the same account from the same address gets ``FREE_FAILURES`` wrong passwords, then must
  wait before each further try, the wait doubling from ``FIRST_DELAY`` up to ``WINDOW``;
- one address gets ``CLIENT_FAILURES`` wrong passwords (over any accounts) per ``WINDOW``.

An attacker elsewhere therefore never delays the account's owner, who signs in from their
own address (the same idea as the activation-code limits in ``people.registration``). A right
password clears that (account, address)'s failures. The answer while throttled is 429
with Retry-After in seconds.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.staff import repository as repo
from kernel.errors import TooMany

FREE_FAILURES = 3
FIRST_DELAY = timedelta(seconds=5)
WINDOW = timedelta(minutes=15)
CLIENT_FAILURES = 30


class Throttled(TooMany):
    """A sign-in refused for now (429 with ``Retry-After``, as every 429)."""


def account_key(email: str) -> str:
    """The failures' key for an account: a hash, so the table holds no e-mail address."""
    return hashlib.sha256(("staff:" + email.strip().casefold()).encode()).hexdigest()


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def delay_after(failures: int) -> timedelta:
    """How long to wait after the last of ``failures`` wrong passwords."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** (failures - FREE_FAILURES), WINDOW)


async def check(session: AsyncSession, email: str, client: str, now: datetime) -> None:
    """Raises ``Throttled`` when this client must wait before trying this account again."""
    since = now - WINDOW
    count, first, _ = await repo.failures(session, since, client=client)
    if count >= CLIENT_FAILURES and first is not None:
        raise Throttled(
            "too many wrong passwords from this address: try again later",
            retry_after=_seconds(first + WINDOW - now),
        )
    count, _, last = await repo.failures(
        session, since, client=client, account_key=account_key(email)
    )
    if last is not None and count >= FREE_FAILURES:
        until = last + delay_after(count)
        if until > now:
            raise Throttled(
                "too many wrong passwords for this account: wait a little and try again",
                retry_after=_seconds(until - now),
            )


def failed(session: AsyncSession, email: str, client: str, now: datetime) -> None:
    repo.add_failure(session, account_key(email), client, now)


async def succeeded(session: AsyncSession, email: str, client: str) -> None:
    await repo.clear_failures(session, account_key(email), client)
