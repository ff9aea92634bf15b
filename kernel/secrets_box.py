"""Encrypts reader secrets at rest with the server key (Fernet: AES-128-CBC + HMAC)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from kernel.settings import Settings


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                "a reader secret cannot be decrypted: TAPTRAIL_SECRET_KEY is not the key "
                "it was stored with"
            ) from exc


def load_key(settings: Settings) -> bytes:
    """The configured key, else the key file (created on first use, readable by owner only)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.secret_key_file)
    if path.exists():
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def secret_box(settings: Settings) -> SecretBox:
    return SecretBox(load_key(settings))
