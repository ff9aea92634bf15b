"""Token values: random, shown once, stored only as their SHA-256 (they carry 256 bits of
entropy, so a plain hash is enough). Who a token belongs to is ``accounts.tokens``."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "tt_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
