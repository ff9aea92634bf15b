"""Reader request signing (docs/reader-protocol.md).

A reader signs the raw bytes of each request body with the secret it shares with the
server and sends ``X-Reader-Signature: sha256=<hex of HMAC-SHA256(secret, body)>``.
The server recomputes the value and compares it in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Reader-Signature"
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """Return the header value for ``body``: ``"sha256=" + hex(HMAC-SHA256(secret, body))``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Check a ``X-Reader-Signature`` header value against ``body`` in constant time.

    A missing header, a header without the ``sha256=`` prefix or with anything but the
    64-character hex digest is simply not valid (no exception). Hex case is ignored.
    """
    if not header:
        return False
    value = header.strip()
    if value[: len(_PREFIX)].lower() != _PREFIX:
        return False
    given = value[len(_PREFIX) :].lower().encode("utf-8", errors="replace")
    expected = sign(secret, body)[len(_PREFIX) :].encode("ascii")
    # compare_digest on bytes works for any content and does not leak where they differ.
    return hmac.compare_digest(expected, given)


def generate_secret() -> str:
    """A new reader secret: 32 random bytes as 43 URL-safe base64 characters."""
    return secrets.token_urlsafe(32)
