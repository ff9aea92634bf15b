"""Signed reader requests: a captured request sent again changes nothing, and a request
signed for one reader is refused (401) at another."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from checkpoints.models import Reader, ReaderDay, ReaderHeartbeat, TapRejection
from checkpoints.signing import SIGNATURE_HEADER, sign
from game.models import Game, HolderTotal, Tap, TeamTotal
from kernel.db import utcnow
from tests.helpers import auth
from tests.security.world import definition


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def secret(slug: str, code: str) -> str:
    return f"{slug}-{code}-" + "s" * 32


def signed(slug: str, code: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(payload).encode()
    return raw, {
        "content-type": "application/json",
        SIGNATURE_HEADER: sign(secret(slug, code), raw),
    }


async def snapshot(app: FastAPI, slug: str) -> dict[str, Any]:
    """Everything an upload or heartbeat can change, for one game."""
    async with state_of(app).sessionmaker() as s:
        gid = await s.scalar(select(Game.id).where(Game.slug == slug))

        async def rows(*columns: Any, where: Any) -> list[tuple[Any, ...]]:
            result = await s.execute(select(*columns).where(where))
            return sorted((tuple(r) for r in result), key=repr)

        return {
            "taps": await rows(
                Tap.source_key, Tap.tapped_at, Tap.outcome, Tap.points, where=Tap.game_id == gid
            ),
            "rejections": await rows(
                TapRejection.source_key, TapRejection.reason, where=TapRejection.game_id == gid
            ),
            "holders": await rows(
                HolderTotal.holder_id, HolderTotal.points, where=HolderTotal.game_id == gid
            ),
            "teams": await rows(
                TeamTotal.team_id, TeamTotal.points, where=TeamTotal.game_id == gid
            ),
            "days": await rows(ReaderDay.reader_id, ReaderDay.taps, where=ReaderDay.game_id == gid),
            "readers": await rows(
                Reader.id,
                Reader.last_upload_at,
                Reader.last_tap_at,
                Reader.last_heartbeat_at,
                Reader.battery_pct,
                Reader.clock_offset_s,
                Reader.conflicts,
                Reader.seq_marks,
                where=Reader.game_id == gid,
            ),
            "heartbeats": await rows(
                ReaderHeartbeat.reader_id,
                ReaderHeartbeat.sent_at,
                where=ReaderHeartbeat.game_id == gid,
            ),
        }


@pytest.fixture
async def town(client: httpx.AsyncClient, organiser_token: str, slug: str) -> str:
    response = await client.put(
        f"/api/v1/admin/games/{slug}", json=definition(slug), headers=auth(organiser_token)
    )
    assert response.status_code == 200, response.text
    return slug


async def test_a_replayed_upload_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, town: str
) -> None:
    now = utcnow()
    taps = [
        {"seq": 1, "card_uid": "04000000000001", "tapped_at": iso(now - timedelta(minutes=30))},
        {"seq": 2, "card_uid": "04000000000002", "tapped_at": iso(now - timedelta(minutes=29))},
        {"seq": 3, "card_uid": "not-a-uid", "tapped_at": iso(now - timedelta(minutes=28))},
        {"seq": 4, "card_uid": "04FFFFFFFFFFFF", "tapped_at": iso(now - timedelta(minutes=27))},
    ]
    # The box's clock is 10 minutes slow: the server corrects it (and notes the offset).
    raw, headers = signed(town, "A", {"sent_at": iso(now - timedelta(minutes=10)), "taps": taps})
    url = f"/api/v1/readers/R-{town}-A/taps"
    first = await client.post(url, content=raw, headers=headers)
    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], len(first.json()["rejected"])) == (2, 2)
    leg = [{"seq": 1, "card_uid": "04000000000001", "tapped_at": iso(now - timedelta(minutes=5))}]
    raw_b, headers_b = signed(town, "B", {"sent_at": iso(now), "taps": leg})
    second = await client.post(f"/api/v1/readers/R-{town}-B/taps", content=raw_b, headers=headers_b)
    assert second.json()["accepted"] == 1
    before = await snapshot(app, town)
    assert before["taps"] and before["rejections"] and before["holders"]

    for _ in range(3):
        again = await client.post(url, content=raw, headers=headers)
        assert again.status_code == 200, again.text
        answer = again.json()
        assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (0, 4, [])
        assert answer["ack_seq"] == 4
    assert await snapshot(app, town) == before


async def test_a_replayed_heartbeat_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, town: str
) -> None:
    url = f"/api/v1/readers/R-{town}-C/heartbeat"
    old, headers_old = signed(
        town, "C", {"sent_at": iso(utcnow() - timedelta(hours=3)), "battery_pct": 90}
    )
    new, headers_new = signed(town, "C", {"sent_at": iso(utcnow()), "battery_pct": 12})
    assert (await client.post(url, content=old, headers=headers_old)).status_code == 200
    assert (await client.post(url, content=new, headers=headers_new)).status_code == 200
    before = await snapshot(app, town)

    for raw, headers in ((old, headers_old), (new, headers_new)):
        again = await client.post(url, content=raw, headers=headers)
        assert again.status_code == 200  # answered (with the time), but nothing recorded
        assert set(again.json()) == {"server_time"}
    after = await snapshot(app, town)
    assert after == before
    assert [r[4] for r in after["readers"] if r[0] == f"R-{town}-C"] == [12]


async def test_a_request_signed_for_one_reader_is_refused_at_another(
    client: httpx.AsyncClient, app: FastAPI, town: str
) -> None:
    now = utcnow()
    taps = [{"seq": 1, "card_uid": "04000000000003", "tapped_at": iso(now)}]
    raw, headers = signed(town, "A", {"sent_at": iso(now), "taps": taps})
    beat, beat_headers = signed(town, "A", {"sent_at": iso(now), "battery_pct": 50})
    before = await snapshot(app, town)
    for code in ("B", "C", "P"):
        for path, body, hdrs in (("taps", raw, headers), ("heartbeat", beat, beat_headers)):
            response = await client.post(
                f"/api/v1/readers/R-{town}-{code}/{path}", content=body, headers=hdrs
            )
            assert response.status_code == 401, response.text
            assert response.json()["error"] == "unauthorized"
            assert response.headers.get("www-authenticate") is not None
    # The same answer as an unknown reader or a tampered body: nothing says which.
    unknown = await client.post(f"/api/v1/readers/R-{town}-Z/taps", content=raw, headers=headers)
    tampered = await client.post(
        f"/api/v1/readers/R-{town}-A/taps", content=raw.replace(b"03", b"04"), headers=headers
    )
    assert unknown.json() == tampered.json()
    assert unknown.status_code == tampered.status_code == 401
    assert await snapshot(app, town) == before
    # ... and the genuine request still works.
    ok = await client.post(f"/api/v1/readers/R-{town}-A/taps", content=raw, headers=headers)
    assert ok.json()["accepted"] == 1
