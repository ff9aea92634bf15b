"""SimulatedReader and TownSimulation against a tiny fake server (docs/reader-protocol.md).

The fake endpoint verifies signatures, stores taps by (reader, boot, seq), answers
duplicates and conflicts, returns ack_seq and, when asked, answers 503, refuses
connections or loses responses after storing. Nothing may ever be lost.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from checkpoints.signing import SIGNATURE_HEADER, verify
from kernel.geodesy import haversine_m
from simulator.reader_client import (
    QueuedTap,
    RetryPolicy,
    SimulatedReader,
    UploadRejected,
    format_time,
    parse_time,
)
from simulator.town import SimTap, TownSimulation
from taptrail.demo import load_demo_definition

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
HEX_UID = re.compile(r"(?:[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})")


# ----------------------------------------------------------------------------------------
# The fake server
# ----------------------------------------------------------------------------------------


@dataclass
class Stored:
    card_uid: str
    tapped_at: str
    corrected: datetime


@dataclass
class FakeServer:
    secrets: dict[str, str]
    fail_rate: float = 0.0  # 503 before storing anything
    fail_next: int = 0  # the next N tap requests answer 503
    max_batch: int = 500
    partial_ack: bool = False  # acknowledge only the first half of each batch
    seed: int = 0
    taps: dict[tuple[str, int, int], Stored] = field(default_factory=dict)
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    heartbeats: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    conflicts: int = 0
    unavailable: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.app = FastAPI()
        self.app.post("/api/v1/readers/{reader_id}/taps")(self.post_taps)
        self.app.post("/api/v1/readers/{reader_id}/heartbeat")(self.post_heartbeat)

    def _authorised(self, reader_id: str, body: bytes, request: Request) -> bool:
        secret = self.secrets.get(reader_id)
        return secret is not None and verify(secret, body, request.headers.get(SIGNATURE_HEADER))

    async def post_taps(self, reader_id: str, request: Request) -> JSONResponse:
        received = datetime.now(UTC)
        body = await request.body()
        if not self._authorised(reader_id, body, request):
            return JSONResponse({"error": "unauthorized", "detail": "no"}, status_code=401)
        if self.fail_next > 0 or self.rng.random() < self.fail_rate:
            self.fail_next = max(0, self.fail_next - 1)
            self.unavailable += 1
            return JSONResponse({"error": "unavailable", "detail": "busy"}, status_code=503)
        data = json.loads(body)
        if len(data["taps"]) > self.max_batch:
            return JSONResponse({"error": "too_large", "detail": "batch"}, status_code=413)
        self.bodies.append((reader_id, data))
        shift = received - parse_time(data["sent_at"])
        if abs(shift) <= timedelta(seconds=120):
            shift = timedelta(0)
        boot = int(data.get("boot", 0))
        accepted = duplicates = 0
        rejected: list[dict[str, Any]] = []
        for tap in data["taps"]:
            key = (reader_id, boot, int(tap["seq"]))
            stored = Stored(tap["card_uid"], tap["tapped_at"], parse_time(tap["tapped_at"]) + shift)
            if key in self.taps:
                old = self.taps[key]
                if (old.card_uid, old.tapped_at) == (stored.card_uid, stored.tapped_at):
                    duplicates += 1
                else:
                    self.conflicts += 1
                    rejected.append({"seq": tap["seq"], "reason": "conflict"})
                continue
            self.taps[key] = stored
            if HEX_UID.fullmatch(tap["card_uid"]):
                accepted += 1
            else:
                rejected.append({"seq": tap["seq"], "reason": "bad_card_uid"})
        seqs = [int(t["seq"]) for t in data["taps"]]
        ack = max(seqs)
        if self.partial_ack and len(seqs) > 1:
            ack = sorted(seqs)[len(seqs) // 2 - 1]
        return JSONResponse(
            {
                "received": len(seqs),
                "accepted": accepted,
                "duplicates": duplicates,
                "rejected": rejected,
                "ack_seq": ack,
                "server_time": format_time(received),
            }
        )

    async def post_heartbeat(self, reader_id: str, request: Request) -> JSONResponse:
        body = await request.body()
        if not self._authorised(reader_id, body, request):
            return JSONResponse({"error": "unauthorized", "detail": "no"}, status_code=401)
        self.heartbeats.append((reader_id, json.loads(body)))
        return JSONResponse({"server_time": "2026-11-27T10:00:00Z"})


class LossyTransport(httpx.AsyncBaseTransport):
    """Refuses some connections, and loses some responses after the server stored them."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, refuse: float, lose: float) -> None:
        self.inner = inner
        self.refuse = refuse
        self.lose = lose
        self.rng = random.Random(1)
        self.refused = self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.rng.random() < self.refuse:
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        response = await self.inner.handle_async_request(request)
        if self.rng.random() < self.lose:
            await response.aread()
            self.lost += 1
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


def make_client(server: FakeServer, *, refuse: float = 0.0, lose: float = 0.0) -> httpx.AsyncClient:
    transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=server.app)
    if refuse or lose:
        transport = LossyTransport(transport, refuse=refuse, lose=lose)
    return httpx.AsyncClient(transport=transport, base_url="http://simulated")


class Sleeps:
    """An injectable sleep that records delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def identities(taps: Iterable[QueuedTap], reader_id: str) -> dict[tuple[str, int, int], str]:
    return {(reader_id, t.boot, t.seq): format_time(t.tapped_at) for t in taps}


def assert_all_stored(server: FakeServer, readers: Iterable[SimulatedReader]) -> None:
    expected: dict[tuple[str, int, int], tuple[str, str]] = {}
    for r in readers:
        for t in r.history:
            expected[(r.reader_id, t.boot, t.seq)] = (t.card_uid, format_time(t.tapped_at))
    got = {k: (v.card_uid, v.tapped_at) for k, v in server.taps.items()}
    assert got == expected
    assert server.conflicts == 0


@pytest.fixture
async def server_and_client() -> AsyncIterator[tuple[FakeServer, httpx.AsyncClient]]:
    server = FakeServer({"R-1": "secret-one", "R-2": "secret-two"})
    async with make_client(server) as client:
        yield server, client


# ----------------------------------------------------------------------------------------
# SimulatedReader
# ----------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------
# TownSimulation
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return load_demo_definition()


def classify(sim: TownSimulation, taps: list[SimTap]) -> Counter[str]:
    """A rough docs/scoring-rules.md walk of each card's taps (no campaigns, no period)."""
    code_of = {rid: code for code, rid in sim.reader_for.items()}
    by_card: dict[str, list[SimTap]] = defaultdict(list)
    for t in taps:
        by_card[t.card_uid].append(t)
    outcomes: Counter[str] = Counter()
    for card_taps in by_card.values():
        anchor: SimTap | None = None
        for t in card_taps:
            if anchor is None or t.tapped_at - anchor.tapped_at > timedelta(minutes=60):
                outcomes["journey_start"] += 1
            elif t.reader_id == anchor.reader_id:
                outcomes["repeat"] += 1
            else:
                a = sim.checkpoints[code_of[anchor.reader_id]]
                b = sim.checkpoints[code_of[t.reader_id]]
                hours = max((t.tapped_at - anchor.tapped_at).total_seconds(), 1e-9) / 3600
                kmh = haversine_m(a.lat, a.lon, b.lat, b.lon) / 1000 / hours
                outcomes["too_fast" if kmh > 25 else "leg"] += 1
            anchor = t
    return outcomes


def test_generate_is_deterministic_and_realistic(demo: dict[str, Any]) -> None:
    sim = TownSimulation(demo, seed=5)
    start, end = T0, T0 + timedelta(days=3)
    taps = sim.generate(5000, start, end, seed=11)
    assert len(taps) == 5000
    assert taps == TownSimulation(demo, seed=99).generate(5000, start, end, seed=11)
    assert taps != sim.generate(5000, start, end, seed=12)
    assert taps == sorted(taps, key=lambda t: (t.tapped_at, t.reader_id, t.card_uid))
    readers = {r["id"] for r in demo["readers"]}
    uids = {c["uid"] for c in demo["cards"]}
    for t in taps:
        assert t.reader_id in readers and t.card_uid in uids
        assert start <= t.tapped_at < end and t.tapped_at.tzinfo is not None
    outcomes = classify(sim, taps)
    for outcome in ("journey_start", "leg", "repeat", "too_fast"):
        assert outcomes[outcome] > 0, outcomes
    assert outcomes["leg"] > 2 * (outcomes["too_fast"] + outcomes["repeat"])
    assert len({t.card_uid for t in taps}) > 100
    night = sum(t.tapped_at.hour < 6 for t in taps)  # London is on UTC in November
    assert night < 0.03 * len(taps)
    assert sim.activity(T0.replace(hour=8)) > sim.activity(T0.replace(hour=3))
    anytime = sim.generate(5000, start, end, seed=11, diurnal=False)
    assert sum(t.tapped_at.hour < 6 for t in anytime) > 0.15 * len(anytime)
    assert sim.generate(0, start, end) == []


def test_generate_respects_mobile_boxes(demo: dict[str, Any]) -> None:
    sim = TownSimulation(demo)
    friday = sim.generate(3000, T0, T0 + timedelta(hours=12), seed=1)
    assert all(t.reader_id != "R-BB040" for t in friday)
    fun_day = sim.checkpoints["BB040"]
    assert fun_day.active_from is not None and fun_day.active_to is not None
    saturday = sim.generate(
        4000, fun_day.active_from - timedelta(hours=2), fun_day.active_to + timedelta(hours=2)
    )
    at_box = [t for t in saturday if t.reader_id == "R-BB040"]
    assert at_box
    assert all(fun_day.active_at(t.tapped_at) for t in at_box)


async def test_deliver_through_flaky_readers_loses_nothing(demo: dict[str, Any]) -> None:
    secrets = {r["id"]: r["secret"] for r in demo["readers"]}
    server = FakeServer(secrets, fail_rate=0.1, seed=3)
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=4, max_total_delay_s=60.0)
    async with make_client(server, refuse=0.05, lose=0.1) as client:
        sim = TownSimulation(
            demo,
            client,
            seed=2,
            flaky_fraction=0.2,
            skewed_fraction=0.1,
            retry=policy,
            sleep_fn=sleeps,
        )
        assert len(sim.flaky_readers) == 8 and len(sim.clock_skews) == 4
        taps = sim.generate(3000, T0 - timedelta(hours=6), T0, seed=4)
        stats = await sim.deliver(taps, max_batch=200, upload_every=400)
        assert stats.taps == 3000 and stats.restarts > 0
        for _ in range(20):  # uploads that gave up are simply tried again later
            if not sim.pending():
                break
            await sim.upload_all(max_batch=200)
    assert not sim.pending()
    assert_all_stored(server, sim.readers.values())
    assert len(server.taps) == 3000
    flaky_boots = {boot for (rid, boot, _seq) in server.taps if rid in sim.flaky_readers}
    assert flaky_boots == {0, 1}
    # The server's clock correction recovers the true times of skewed readers' taps.
    truth = Counter((t.reader_id, t.card_uid, t.tapped_at) for t in taps)
    recovered = Counter(
        (rid, s.card_uid, s.corrected.replace(microsecond=0))
        for (rid, _b, _s), s in server.taps.items()
    )
    mismatched = truth - recovered
    for rid, _uid, _when in mismatched:  # only a second of rounding on skewed boxes
        assert rid in sim.clock_skews
    assert sum(mismatched.values()) <= sum(truth.values()) * 0.05


async def test_run_live_with_fake_clock(demo: dict[str, Any]) -> None:
    secrets = {r["id"]: r["secret"] for r in demo["readers"]}
    server = FakeServer(secrets, fail_rate=0.05, seed=8)
    clock = [T0]

    def now() -> datetime:
        return clock[0]

    async def sleep(seconds: float) -> None:
        clock[0] += timedelta(seconds=seconds)

    async with make_client(server) as client:
        sim = TownSimulation(demo, client, seed=3, flaky_fraction=0.25, now_fn=now, sleep_fn=sleep)
        stats = await sim.run(3600, 0.5, tick_s=2.0, upload_every_s=10.0)
        # 1800 ticks of 2 s, plus the readers' retry back-offs (same injected sleep).
        assert T0 + timedelta(hours=1) <= clock[0] < T0 + timedelta(hours=1, minutes=10)
        assert 1200 <= stats.taps <= 1800  # about 0.5 taps a second
        assert stats.offline_periods > 0 and stats.restarts > 0
        assert stats.pending == 0 and not sim.pending()
        again = await sim.run(60, 1.0, tick_s=1.0)  # a second run carries on
        assert again.taps > 0
    assert_all_stored(server, sim.readers.values())
    assert sum(len(r.history) for r in sim.readers.values()) == stats.taps + again.taps

    # Taps are live ("now") and a card's next tap waits for it to walk there. (No reader
    # clock is skewed here, and the fake server's own clock is real: use the raw times.)
    code_of = {rid: code for code, rid in sim.reader_for.items()}
    taps = sorted(
        (
            SimTap(rid, s.card_uid, parse_time(s.tapped_at))
            for (rid, _b, _s), s in server.taps.items()
        ),
        key=lambda t: t.tapped_at,
    )
    assert all(T0 <= t.tapped_at <= clock[0] for t in taps)
    for t in taps:
        assert sim.checkpoints[code_of[t.reader_id]].active_at(t.tapped_at)
    outcomes = classify(sim, taps)
    assert outcomes["leg"] > 0 and outcomes["journey_start"] > 0
    assert outcomes["leg"] > 3 * outcomes["too_fast"]


async def test_town_needs_a_client_and_secrets(demo: dict[str, Any]) -> None:
    sim = TownSimulation(demo)
    with pytest.raises(RuntimeError):
        await sim.deliver([])
    stripped = dict(
        demo, readers=[{k: v for k, v in r.items() if k != "secret"} for r in demo["readers"]]
    )
    async with httpx.AsyncClient(base_url="http://unused") as client:
        with pytest.raises(ValueError):
            TownSimulation(stripped, client)
        secrets = {r["id"]: "x" for r in demo["readers"]}
        assert len(TownSimulation(stripped, client, secrets=secrets).readers) == 40


def test_string_timestamps_work_like_yaml_datetimes(demo: dict[str, Any]) -> None:
    """A JSON definition (or a shifted copy) carries times as RFC 3339 strings."""

    def stringify(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: stringify(v) for k, v in node.items()}
        if isinstance(node, list):
            return [stringify(v) for v in node]
        return node.isoformat() if isinstance(node, datetime) else node

    as_json = json.loads(json.dumps(stringify(demo)))
    window = (T0 + timedelta(days=1), T0 + timedelta(days=1, hours=8))
    assert TownSimulation(as_json).generate(500, *window) == TownSimulation(demo).generate(
        500, *window
    )


async def test_history_can_be_bounded(
    server_and_client: tuple[FakeServer, httpx.AsyncClient],
) -> None:
    _server, client = server_and_client
    reader = SimulatedReader("R-1", "secret-one", client, history_limit=5)
    for i in range(12):
        reader.tap("04A1B2C3D4E5F6", T0 + timedelta(seconds=i))
    assert [t.seq for t in reader.history] == [8, 9, 10, 11, 12]
    assert reader.queue_depth == 12  # the queue itself is never trimmed
