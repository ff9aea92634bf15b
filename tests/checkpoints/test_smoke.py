from __future__ import annotations

from datetime import timedelta

import httpx

from tests.checkpoints.cp_helpers import NOW, Town, tap, upload


async def test_smoke(client: httpx.AsyncClient, town: Town) -> None:
    t0 = NOW - timedelta(minutes=50)
    r = await upload(client, town, "A", [tap(1, 1, t0), tap(2, "zz", t0)], sent_at=NOW)
    print(r.status_code, r.text)
    assert r.status_code == 200
    r = await upload(client, town, "B", [tap(1, 1, t0 + timedelta(minutes=15))], sent_at=NOW)
    print(r.status_code, r.text)
    assert r.status_code == 200
