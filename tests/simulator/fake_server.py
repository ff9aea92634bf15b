"""A tiny fake of the reader endpoints for the simulator's tests (docs/reader-protocol.md).

It verifies signatures, stores taps by (reader, boot, seq), answers duplicates and
conflicts, returns ack_seq and, when asked, answers 503, refuses connections or loses
responses after storing.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from checkpoints.signing import SIGNATURE_HEADER, verify
from simulator.reader_client import (
    QueuedTap,
    SimulatedReader,
    format_time,
    parse_time,
)

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
HEX_UID = re.compile(r"(?:[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})")


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
