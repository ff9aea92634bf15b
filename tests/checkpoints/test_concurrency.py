"""Concurrent uploads touching the same cards score exactly like sequential ones.

On PostgreSQL these are real concurrent transactions (one connection per request): the
reader row lock and the holder locks taken in id order must serialise what needs it,
without deadlocks and without lost updates of the totals. SQLite runs them too (its single
writer queues them).
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI

from simulator.town import TownSimulation
from tests.checkpoints.cp_helpers import (
    NOW,
    Clock,
    Town,
    body,
    engine_outcomes,
    holder_points,
    ledger,
    post_signed,
    tap,
    team_ids,
    totals_consistent,
    uid,
    upload,
)

START = NOW - timedelta(hours=4)


async def _check_against_engine(
    app: FastAPI, town: Town, taps: list[tuple[str, str, str, datetime]]
) -> None:
    expected = engine_outcomes(town, taps, await team_ids(app, town.slug))
    stored = await ledger(app, town.slug)
    assert set(stored) == set(expected)
    assert {k: (v[4], v[5], v[6], v[7]) for k, v in stored.items()} == expected
    assert await totals_consistent(app, town.slug)
    points: dict[str, int] = defaultdict(int)
    number = {c["uid"]: c["number"] for c in town.data["cards"]}
    for key, _code, card, _ in taps:
        points[number[card]] += expected[key][1]
    assert await holder_points(app, town.slug) == {n: p for n, p in points.items() if p}


async def test_two_clients_uploading_the_same_cards_at_once(
    app: FastAPI, town: Town, clock: Clock
) -> None:
    rng = random.Random(7)
    per_reader: dict[str, list[dict]] = {c: [] for c in "ABCP"}
    truth = []
    for _ in range(400):
        code = rng.choice("ABCP")
        card = rng.randint(1, 6)
        when = START + timedelta(seconds=rng.randint(0, 4 * 3600))
        seq = len(per_reader[code]) + 1
        per_reader[code].append(tap(seq, card, when))
        truth.append((f"{town.reader(code)}/0/{seq}", code, uid(card), when))
    transports = [httpx.ASGITransport(app=app) for _ in range(2)]
    clients = [httpx.AsyncClient(transport=t, base_url="http://testserver") for t in transports]

    async def send_all(client: httpx.AsyncClient, code: str) -> None:
        items = per_reader[code]
        for start in range(0, len(items), 20):
            r = await upload(client, town, code, items[start : start + 20], sent_at=NOW)
            assert r.status_code == 200, r.text
            assert r.json()["accepted"] == len(items[start : start + 20])

    try:
        await asyncio.gather(
            send_all(clients[0], "A"),
            send_all(clients[1], "B"),
            send_all(clients[0], "C"),
            send_all(clients[1], "P"),
        )
    finally:
        for c in clients:
            await c.aclose()
    await _check_against_engine(app, town, truth)


async def test_the_same_batch_sent_twice_at_once_is_stored_once(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    taps = [tap(i, 1 + i % 5, START + timedelta(minutes=7 * i)) for i in range(1, 31)]
    raw = body(taps, sent_at=NOW)
    path = f"/api/v1/readers/{town.reader('A')}/taps"
    answers = await asyncio.gather(
        *(post_signed(client, path, raw, town.secret("A")) for _ in range(3))
    )
    results = sorted((a.json()["accepted"], a.json()["duplicates"]) for a in answers)
    assert results == [(0, 30), (0, 30), (30, 0)]
    assert len(await ledger(app, town.slug)) == 30
    assert await totals_consistent(app, town.slug)


async def test_a_simulated_town_with_flaky_and_skewed_boxes_loses_nothing(
    app: FastAPI, client: httpx.AsyncClient, town: Town, clock: Clock
) -> None:
    sim = TownSimulation(
        town.data,
        client,
        seed=3,
        flaky_readers=[town.reader("C")],
        skewed_fraction=0.5,
        now_fn=clock,
    )
    generated = sim.generate(240, START, NOW - timedelta(minutes=1), diurnal=False)
    stats = await sim.deliver(generated, max_batch=25, upload_every=40)
    assert stats.pending == 0 and stats.restarts == 1
    assert sim.clock_skews  # some boxes' clocks are minutes off
    truth = [
        (
            f"{rid}/{t.boot}/{t.seq}",
            rid.rsplit("-", 1)[1],
            t.card_uid,
            t.tapped_at - sim.clock_skews.get(rid, timedelta(0)),
        )
        for rid, reader in sim.readers.items()
        for t in reader.history
    ]
    assert len(truth) == 240
    await _check_against_engine(app, town, truth)
