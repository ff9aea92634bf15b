"""Reader request signing: sign / verify / generate_secret (docs/reader-protocol.md)."""

from __future__ import annotations

import hashlib
import hmac
import re

from checkpoints.signing import SIGNATURE_HEADER, generate_secret, sign, verify

FOX = b"The quick brown fox jumps over the lazy dog"
# Computed once with: printf 'The quick brown fox jumps over the lazy dog' \
#   | openssl dgst -sha256 -hmac 'key'
FOX_HMAC_OPENSSL = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
# printf '{"sent_at":"2027-05-03T08:16:02Z","boot":7,"taps":[]}' \
#   | openssl dgst -sha256 -hmac 'demo-secret'
BODY = b'{"sent_at":"2027-05-03T08:16:02Z","boot":7,"taps":[]}'
BODY_HMAC_OPENSSL = "e2b0a5562ca18c8ca8ac00eb5a941239e061faaeaab27dc6167296b38624aa54"


def test_header_name() -> None:
    assert SIGNATURE_HEADER == "X-Reader-Signature"


def test_known_vector_matches_hashlib_and_openssl() -> None:
    independent = hmac.new(b"key", FOX, hashlib.sha256).hexdigest()
    assert independent == FOX_HMAC_OPENSSL
    assert sign("key", FOX) == "sha256=" + FOX_HMAC_OPENSSL
    assert sign("demo-secret", BODY) == "sha256=" + BODY_HMAC_OPENSSL


def test_secret_is_utf8_encoded() -> None:
    secret = "clé-☃"
    expected = hmac.new(secret.encode("utf-8"), BODY, hashlib.sha256).hexdigest()
    assert sign(secret, BODY) == f"sha256={expected}"


def test_round_trip_and_tampering() -> None:
    secret = generate_secret()
    header = sign(secret, BODY)
    assert verify(secret, BODY, header)
    assert verify(secret, BODY, header.upper().replace("SHA256=", "sha256="))  # hex case
    assert verify(secret, BODY, f"  {header} ")
    assert not verify(secret, BODY + b" ", header)  # a changed body
    assert not verify(secret + "x", BODY, header)  # another secret
    assert not verify(secret, BODY, header[:-1])  # truncated
    assert not verify(secret, BODY, header[len("sha256=") :])  # no prefix
    assert not verify(secret, BODY, "sha1=" + header[len("sha256=") :])
    assert not verify(secret, BODY, None)
    assert not verify(secret, BODY, "")
    assert not verify(secret, BODY, "sha256=ünïcode")


def test_generate_secret() -> None:
    secrets = {generate_secret() for _ in range(50)}
    assert len(secrets) == 50
    for s in secrets:
        assert len(s) == 43  # 32 bytes of base64url without padding
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", s)
