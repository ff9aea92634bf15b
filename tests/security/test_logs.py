"""No personal data in the logs: registrations and a player's own changes, with every log
record captured (the app's structlog lines and the standard library's, down to DEBUG)."""

from __future__ import annotations

import logging
import random
import string

import httpx
import pytest
import structlog
from fastapi import FastAPI

from geo.deprivation import Deprivation
from taptrail.server import STATEMENT_LOGGERS
from tests.helpers import auth
from tests.security.world import definition


def _letters(n: int) -> str:
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


@pytest.fixture
def lookup(monkeypatch: pytest.MonkeyPatch) -> dict[str, Deprivation]:
    known: dict[str, Deprivation] = {}

    async def fake(session: object, postcode: str) -> Deprivation | None:
        return known.get(postcode)

    monkeypatch.setattr("geo.deprivation.lookup_deprivation", fake)
    return known


async def test_registration_leaves_no_personal_data_in_the_logs(
    client: httpx.AsyncClient,
    app: FastAPI,
    organiser_token: str,
    slug: str,
    lookup: dict[str, Deprivation],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    data = definition(slug)
    loaded = await client.put(
        f"/api/v1/admin/games/{slug}", json=data, headers=auth(organiser_token)
    )
    assert loaded.status_code == 200
    email = f"{_letters(10)}.{_letters(8)}@{_letters(9)}.example.org"
    new_email = f"{_letters(12)}@{_letters(7)}.example.net"
    postcode = f"Q{random.choice('ABDE')}{random.randint(1, 9)} {random.randint(0, 9)}ZX"
    lookup[postcode] = Deprivation("found", "E01987654", 3, "england")
    nickname = "Kestrel " + "".join(random.choice("bdfghjkmnpqrwxz") for _ in range(9))
    structlog.get_logger("taptrail.test").info("canary.structlog")
    logging.getLogger("taptrail.test").warning("canary.stdlib")

    registered = await client.post(
        f"/api/v1/games/{slug}/registrations",
        json={
            "card_number": "0000011",
            "activation_code": "K011",
            "nickname": nickname,
            "postcode": postcode.lower().replace(" ", ""),
            "age_band": "25-44",
            "gender": "female",
            "email": email,
            "public": True,
        },
    )
    assert registered.status_code == 201, registered.text
    token = registered.json()["token"]
    failures = [
        {"card_number": "0000012", "activation_code": "WRONG1", "postcode": postcode},
        {"postcode": "not a postcode " + postcode[:3]},
        {"email": email.replace("@", " at ")},
        {"nickname": nickname},  # taken
    ]
    for extra in failures:
        body = {"nickname": "Owl " + _letters(6), "age_band": "25-44", "gender": "male", **extra}
        answer = await client.post(f"/api/v1/games/{slug}/registrations", json=body)
        assert answer.status_code in (409, 422), answer.text
        assert email not in answer.text and postcode not in answer.text
    patched = await client.patch(
        "/api/v1/me", json={"email": new_email, "public": False}, headers=auth(token)
    )
    assert patched.status_code == 200
    me = await client.get("/api/v1/me", headers=auth(token))
    assert me.status_code == 200
    erased = await client.delete(
        f"/api/v1/admin/games/{slug}/players/{registered.json()['player_id']}",
        headers=auth(organiser_token),
    )
    assert erased.status_code == 200

    out, err = capfd.readouterr()
    logged = "\n".join([caplog.text, out, err])
    assert "canary.structlog" in logged and "canary.stdlib" in logged  # the capture works
    secrets = {
        "e-mail": email,
        "new e-mail": new_email,
        "e-mail user": email.split("@")[0],
        "postcode": postcode,
        "typed postcode": postcode.lower().replace(" ", ""),
        "LSOA": "E01987654",
        "nickname": nickname,
        "activation code": "K011",
        "wrong code": "WRONG1",
    }
    leaked = [name for name, value in secrets.items() if value.lower() in logged.lower()]
    assert not leaked, f"personal data in the logs: {leaked}"


def test_database_drivers_never_log_statements() -> None:
    """They would log parameters (e-mails, nicknames) at DEBUG or INFO."""
    for name in STATEMENT_LOGGERS:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
