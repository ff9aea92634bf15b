"""Small helpers shared by tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from api.deps import server_now
from names.nicknames import check_nickname

# Letters for the hex digits 0-9 and a-f, tried in turn: the first spelling the nickname
# rules accept, whatever number follows it.
_HEX_LETTERS = (
    "ghjkmnpqrsabcdef",
    "wxyzghjkmnabcdef",
    "pqrswxyzghabcdef",
    "ghjkmnpqrsuvwxyz",
)


def letters(text: str) -> str:
    """``text`` with its digits written as letters: a nickname part from a slug that never
    looks like a phone number (nicknames refuse runs of digits) and never spells what the
    nickname rules refuse (a slug's hex digits sometimes did)."""
    spelled = ""
    for alphabet in _HEX_LETTERS:
        spelled = text.translate(str.maketrans("0123456789abcdef", alphabet)).replace("-", "")
        try:
            for n in range(10):
                check_nickname(f"Walker {spelled} {n}")
        except ValueError:
            continue
        return spelled
    return spelled
    return spelled


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Clock:
    """A server clock a test sets and moves (it stands in for ``api.deps.server_now``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@contextmanager
def server_clock(app: Any, now: datetime) -> Iterator[Clock]:
    """The app's clock reads ``now`` (until the test moves it) inside the block."""
    clock = Clock(now)
    app.dependency_overrides[server_now] = clock
    try:
        yield clock
    finally:
        app.dependency_overrides.pop(server_now, None)
