"""Activation codes and the limits on guessing them.

**Codes.** A generated code is 12 characters from a 32-character alphabet without 0/O or 1/I
(easy to read off a printed card), printed in groups of four: ``K7Q2-X9PA-3MRT``. That is
60 bits: 32^12 ≈ 1.15 × 10^18 codes. Typed codes are compared ignoring case, spaces and
hyphens, so a code typed as printed, in lower case or run together matches; shorter codes
of existing game files (4 characters or more) keep working.

**Guessing.** Wrong codes are counted per client address over the last ``MEMORY`` (a day):
per (card, address) and per address over every card. Below an allowance (``free``) an
address may keep trying; from then on each further wrong code locks that address out for
twice as long as the one before: 1, 2, 4, 8 ... minutes after its latest wrong code. Every
lockout belongs to the address that earned it: wrong codes from other addresses never
stop a card's owner, so a correct code from an address that is not itself locked out
always works. The doubling bounds what one address can try in any day
(``most_failures_per_day``); the code length makes that hopeless (see
``guessing_chance``). This module is pure: people.registration applies it.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 12
GROUP = 4
MEMORY = timedelta(days=1)
FIRST_LOCKOUT = timedelta(minutes=1)


def new_code(choice: Callable[[str], str] = secrets.choice) -> str:
    """A new code, grouped for printing; ``choice`` picks one character (a seeded
    ``random.Random().choice`` for reproducible demo files)."""
    return grouped("".join(choice(ALPHABET) for _ in range(LENGTH)))


def grouped(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def canonical(code: str) -> str:
    """What is compared: upper case, without spaces or hyphens."""
    return "".join(code.split()).replace("-", "").upper()


def codes_match(typed: str, stored: str) -> bool:
    return hmac.compare_digest(canonical(typed).encode(), canonical(stored).encode())


def lockout(failures: int, free: int) -> timedelta | None:
    """How long after its latest wrong code an address with ``failures`` in memory waits."""
    if failures < free:
        return None
    return min(FIRST_LOCKOUT * 2 ** min(failures - free, 20), MEMORY)


def wait_seconds(failures: int, latest: datetime | None, free: int, now: datetime) -> int:
    """Whole seconds until the next try may be made (0: now)."""
    span = lockout(failures, free)
    if span is None or latest is None:
        return 0
    return max(0, math.ceil((latest + span - now).total_seconds()))


def most_failures_per_day(free: int) -> int:
    """The most wrong codes one address can make in any ``MEMORY``: all earlier ones of that
    period are still counted, so after ``free`` of them the k-th next one waits
    2^(k-1) minutes, and those waits must fit into the period."""
    extra = 0
    while FIRST_LOCKOUT * (2 ** (extra + 1) - 1) < MEMORY:
        extra += 1
    return free + extra


def guessing_chance(guesses: int) -> float:
    """The chance that ``guesses`` distinct wrong-or-right tries hit one generated code."""
    return guesses / len(ALPHABET) ** LENGTH
