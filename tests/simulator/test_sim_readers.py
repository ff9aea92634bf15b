"""SimulatedReader against a tiny fake server (``fake_server.py``): signed batches,
retries, clock skew, offline queues, restarts, partial answers. Nothing may ever be lost.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta, timezone

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from simulator.reader_client import (
    RetryPolicy,
    SimulatedReader,
    UploadRejected,
    format_time,
    parse_time,
)
from tests.simulator.fake_server import (
    T0,
    FakeServer,
    LossyTransport,
    Sleeps,
    assert_all_stored,
    make_client,
)


def test_format_and_parse_time() -> None:
    assert format_time(T0) == "2026-11-27T10:00:00Z"
    assert format_time(T0 + timedelta(microseconds=123456)) == "2026-11-27T10:00:00.123Z"
    assert parse_time("2026-11-27T10:00:00Z") == T0
    assert parse_time("2026-11-27T11:00:00+01:00") == T0
    with pytest.raises(ValueError):
        parse_time("2026-11-27T10:00:00")
    assert format_time(T0.astimezone(timezone(timedelta(hours=-5)))) == "2026-11-27T10:00:00Z"


def test_a_recorded_tap_renders_the_json_of_its_payload() -> None:
    reader = SimulatedReader("R-1", "s", None, now_fn=lambda: T0)  # type: ignore[arg-type]
    odd = reader.tap('04"\\é', T0 + timedelta(microseconds=7_890))
    plain = reader.tap("04A1B2C3D4E5F6", T0)
    for tap in (odd, plain):
        assert json.loads(tap.record) == tap.payload()
    assert json.loads(odd.record)["tapped_at"] == "2026-11-27T10:00:00.007Z"


async def test_upload_signed_batch(server_and_client: tuple[FakeServer, httpx.AsyncClient]) -> None:
    server, client = server_and_client
    reader = SimulatedReader("R-1", "secret-one", client, boot=7, now_fn=lambda: T0)
    for i in range(3):
        tap = reader.tap("04A1B2C3D4E5F6", T0 - timedelta(seconds=30 - i))
        assert (tap.boot, tap.seq) == (7, i + 1)
    assert reader.queue_depth == 3
    result = await reader.upload()
    assert result.complete and result.batches == 1 and result.acked == 3
    assert reader.queue_depth == 0
    [(rid, body)] = server.bodies
    assert rid == "R-1"
    assert body == {
        "sent_at": "2026-11-27T10:00:00Z",
        "boot": 7,
        "taps": [
            {"seq": 1, "card_uid": "04A1B2C3D4E5F6", "tapped_at": "2026-11-27T09:59:30Z"},
            {"seq": 2, "card_uid": "04A1B2C3D4E5F6", "tapped_at": "2026-11-27T09:59:31Z"},
            {"seq": 3, "card_uid": "04A1B2C3D4E5F6", "tapped_at": "2026-11-27T09:59:32Z"},
        ],
    }
    assert reader.counters.sent == 3 and reader.counters.acked == 3
    assert reader.counters.accepted == 3 and reader.counters.requests == 1
    assert (await reader.upload()).batches == 0  # nothing left: no request
    assert reader.counters.requests == 1


async def test_clock_skew_shifts_sent_at_and_tapped_at(
    server_and_client: tuple[FakeServer, httpx.AsyncClient],
) -> None:
    server, client = server_and_client
    skew = timedelta(minutes=-7)
    reader = SimulatedReader(
        "R-1", "secret-one", client, clock_skew=skew, now_fn=lambda: T0 + timedelta(minutes=1)
    )
    reader.tap("04A1B2C3D4E5F6", T0)
    assert reader.queue[0].tapped_at == T0 + skew
    await reader.upload()
    body = server.bodies[0][1]
    assert body["sent_at"] == format_time(T0 + timedelta(minutes=1) + skew)
    assert body["taps"][0]["tapped_at"] == format_time(T0 + skew)


async def test_retries_503_with_exponential_backoff() -> None:
    server = FakeServer({"R-1": "s"}, fail_next=3)
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=6, base_delay_s=1.0, max_delay_s=30.0, jitter=0.5)
    async with make_client(server) as client:
        reader = SimulatedReader("R-1", "s", client, retry=policy, sleep_fn=sleeps)
        reader.tap("04A1B2C3D4E5F6", T0)
        result = await reader.upload()
    assert result.complete
    assert len(sleeps.delays) == 3 and reader.counters.retries == 3
    for n, delay in enumerate(sleeps.delays, start=1):
        ceiling = 2.0 ** (n - 1)
        assert ceiling * 0.5 <= delay <= ceiling  # exponential, with jitter
    assert reader.counters.unavailable == 3 and reader.counters.requests == 4
    assert len(server.taps) == 1


async def test_gives_up_within_bounds_and_keeps_taps() -> None:
    server = FakeServer({"R-1": "s"}, fail_rate=1.0)
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=5, base_delay_s=2.0, max_delay_s=4.0, jitter=0.0)
    async with make_client(server) as client:
        reader = SimulatedReader("R-1", "s", client, retry=policy, sleep_fn=sleeps)
        for i in range(10):
            reader.tap("04A1B2C3D4E5F6", T0 + timedelta(seconds=i))
        result = await reader.upload()
        assert not result.complete and result.error == "unavailable"
        assert result.remaining == 10 and reader.queue_depth == 10
        assert reader.counters.requests == 5 and reader.counters.gave_up == 1
        assert sleeps.delays == [2.0, 4.0, 4.0, 4.0]  # capped at max_delay_s

        # A total-delay budget stops sooner than the attempt budget.
        sleeps.delays.clear()
        reader.retry = RetryPolicy(max_attempts=50, base_delay_s=1.0, max_total_delay_s=10.0)
        await reader.upload()
        assert sum(sleeps.delays) <= 10.0 and len(sleeps.delays) < 49

        server.fail_rate = 0.0  # the server recovers: everything goes through
        result = await reader.upload()
    assert result.complete
    assert_all_stored(server, [reader])


async def test_connection_errors_and_lost_answers_lose_nothing() -> None:
    server = FakeServer({"R-1": "s"})
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=30, max_total_delay_s=1e9)
    async with make_client(server, refuse=0.2, lose=0.3) as client:
        reader = SimulatedReader("R-1", "s", client, retry=policy, sleep_fn=sleeps)
        for i in range(1200):
            reader.tap(f"04{i:012X}", T0 + timedelta(seconds=i))
        result = await reader.upload(max_batch=100)
        transport = client._transport
        assert isinstance(transport, LossyTransport)
        assert transport.refused > 0 and transport.lost > 0
    assert result.complete
    assert_all_stored(server, [reader])
    # Answers lost after storing come back as duplicates when resent, never conflicts.
    assert reader.counters.duplicates > 0
    assert reader.counters.connection_errors == transport.refused + transport.lost


async def test_offline_accumulates_then_uploads_late(
    server_and_client: tuple[FakeServer, httpx.AsyncClient],
) -> None:
    server, client = server_and_client
    reader = SimulatedReader("R-2", "secret-two", client)
    reader.go_offline()
    for i in range(25):
        reader.tap("04A1B2C3D4E5F6", T0 + timedelta(minutes=i))
    result = await reader.upload()
    assert result.error == "offline" and result.remaining == 25
    assert await reader.heartbeat(80, "2.4.1") is None
    assert reader.counters.requests == 0 and not server.bodies
    reader.come_online()
    assert (await reader.upload()).complete
    assert_all_stored(server, [reader])


async def test_restart_keeps_old_identities(
    server_and_client: tuple[FakeServer, httpx.AsyncClient],
) -> None:
    server, client = server_and_client
    reader = SimulatedReader("R-1", "secret-one", client, boot=3)
    reader.go_offline()
    for i in range(4):
        reader.tap("04A1B2C3D4E5F6", T0 + timedelta(minutes=i))
    reader.restart()  # battery swap while offline
    assert (reader.boot, reader.seq) == (4, 0)
    for i in range(2):
        reader.tap("04A1B2C3D4E5F7", T0 + timedelta(minutes=10 + i))
    assert [(t.boot, t.seq) for t in reader.queue] == [
        (3, 1),
        (3, 2),
        (3, 3),
        (3, 4),
        (4, 1),
        (4, 2),
    ]
    reader.come_online()
    result = await reader.upload()
    assert result.complete and result.batches == 2  # one boot per request
    assert [b["boot"] for _, b in server.bodies] == [3, 4]
    assert set(server.taps) == {("R-1", 3, s) for s in range(1, 5)} | {("R-1", 4, 1), ("R-1", 4, 2)}
    assert_all_stored(server, [reader])


async def test_partial_ack_resends_the_rest() -> None:
    server = FakeServer({"R-1": "s"}, partial_ack=True)
    async with make_client(server) as client:
        reader = SimulatedReader("R-1", "s", client)
        for i in range(40):
            reader.tap("04A1B2C3D4E5F6", T0 + timedelta(seconds=i))
        result = await reader.upload(max_batch=16)
    assert result.complete
    assert_all_stored(server, [reader])
    assert reader.counters.duplicates > 0


async def test_batches_of_at_most_500_and_413_halves() -> None:
    server = FakeServer({"R-1": "s"})
    async with make_client(server) as client:
        reader = SimulatedReader("R-1", "s", client)
        for i in range(1201):
            reader.tap("04A1B2C3D4E5F6", T0 + timedelta(seconds=i))
        result = await reader.upload(max_batch=10_000)
        assert [len(b["taps"]) for _, b in server.bodies] == [500, 500, 201]
        assert result.batches == 3 and result.complete

        server.max_batch = 60  # a stricter server: 413, the reader halves its batches
        server.bodies.clear()
        for i in range(200):
            reader.tap("04A1B2C3D4E5F6", T0 + timedelta(hours=1, seconds=i))
        result = await reader.upload()
    assert result.complete
    assert max(len(b["taps"]) for _, b in server.bodies) <= 60
    assert_all_stored(server, [reader])


async def test_wrong_secret_is_unauthorised_and_keeps_taps(
    server_and_client: tuple[FakeServer, httpx.AsyncClient],
) -> None:
    server, client = server_and_client
    reader = SimulatedReader("R-1", "not-the-secret", client)
    reader.tap("04A1B2C3D4E5F6", T0)
    result = await reader.upload()
    assert result.error == "unauthorized" and reader.queue_depth == 1
    assert reader.counters.unauthorized == 1 and not server.taps
    unknown = SimulatedReader("R-404", "x", client)
    unknown.tap("04A1B2C3D4E5F6", T0)
    assert (await unknown.upload()).error == "unauthorized"


async def test_rejections_are_counted_and_acknowledged(
    server_and_client: tuple[FakeServer, httpx.AsyncClient],
) -> None:
    server, client = server_and_client
    reader = SimulatedReader("R-1", "secret-one", client)
    reader.tap("04A1B2C3D4E5F6", T0)
    reader.tap("not-a-card", T0)
    result = await reader.upload()
    assert result.complete  # rejected taps are final: acknowledged, not retried
    assert reader.counters.rejected == Counter({"bad_card_uid": 1})
    assert reader.counters.accepted == 1


async def test_unexpected_4xx_raises() -> None:
    app = FastAPI()

    @app.post("/api/v1/readers/{reader_id}/taps")
    async def taps(reader_id: str) -> JSONResponse:
        return JSONResponse({"error": "invalid", "detail": "bad"}, status_code=422)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://x"
    ) as client:
        reader = SimulatedReader("R-1", "s", client)
        reader.tap("04A1B2C3D4E5F6", T0)
        with pytest.raises(UploadRejected) as info:
            await reader.upload()
    assert info.value.status_code == 422
    assert reader.queue_depth == 1


async def test_heartbeat(server_and_client: tuple[FakeServer, httpx.AsyncClient]) -> None:
    server, client = server_and_client
    reader = SimulatedReader("R-2", "secret-two", client, now_fn=lambda: T0)
    reader.tap("04A1B2C3D4E5F6", T0)
    assert await reader.heartbeat(81, "2.4.1") == T0
    assert await reader.heartbeat(80, "2.4.1", queue_depth=0) == T0
    assert server.heartbeats == [
        (
            "R-2",
            {
                "sent_at": "2026-11-27T10:00:00Z",
                "battery_pct": 81,
                "firmware": "2.4.1",
                "queue_depth": 1,
            },
        ),
        (
            "R-2",
            {
                "sent_at": "2026-11-27T10:00:00Z",
                "battery_pct": 80,
                "firmware": "2.4.1",
                "queue_depth": 0,
            },
        ),
    ]
    assert reader.counters.heartbeats == 2
