"""Passwords: Argon2id hashes, a length rule and a short list of passwords never to allow.

A password is never logged and never leaves this module except as a hash. ``verify`` also
takes time when there is no account (``DUMMY_HASH``), so the answer's timing does not tell
whether an e-mail address has an account.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters

# The commonest passwords of 12 characters or more in public breach lists, and the obvious
# variations on this product's own name.
COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "qwertyuiopas",
        "qwertyuiop12",
        "qwertyuiop123",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "password1234",
        "password12345",
        "passwordpassword",
        "iloveyou1234",
        "abcdefghijkl",
        "abc123abc123",
        "aaaaaaaaaaaa",
        "111111111111",
        "000000000000",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "administrator",
        "administrator1",
        "football1234",
        "baseball1234",
        "sunshine1234",
        "princess1234",
        "trustno11234",
        "correcthorsebatterystaple",
        "taptrail1234",
        "taptrailtaptrail",
        "beatthestreet",
        "beatthestreet1",
    }
)


def problem(password: str, *, email: str = "") -> str | None:
    """Why this password may not be used (a sentence), or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    folded = password.casefold()
    if folded in COMMON or len(set(folded)) < 4:
        return "is too common: choose one that is harder to guess"
    if email and folded in (email.casefold(), email.casefold().split("@")[0]):
        return "must not be your e-mail address"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


DUMMY_HASH = hash_password("taptrail dummy password for timing")


def verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
