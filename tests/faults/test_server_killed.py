"""A server process is SIGKILLed while batches are in flight: every batch is stored whole
or not at all, re-sending is harmless (duplicates), and no tap is scored twice."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from checkpoints.signing import SIGNATURE_HEADER, sign
from harness.fault_town import (
    RecordingReader,
    differences,
    expected_points,
    ledger_problems,
    record,
    recorded_taps,
    settled_tap_counts,
    stored_keys,
    stored_points,
    tap_counts,
    town_definition,
    upload_all,
)
from harness.servers import ServerProcess
from kernel.db import utcnow
from simulator.reader_client import RetryPolicy, format_time
from simulator.town import TownSimulation
from tests.faults.conftest import FaultEnv
from tests.integration.live_town import load

ONE_TRY = RetryPolicy(max_attempts=1)
RETRY = RetryPolicy(max_attempts=8, base_delay_s=0.1, max_delay_s=1.0, max_total_delay_s=20)
KILL_AFTER = 8  # answered batches before the kill


async def test_a_killed_server_stores_batches_whole_and_scores_taps_once(
    fault_env: FaultEnv, servers: Callable[[int], list[ServerProcess]]
) -> None:
    slug = f"kill-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    data = town_definition(slug, checkpoints=12, cards=80, teams=6, players=12, now=now)
    secrets = {r["id"]: r["secret"] for r in data["readers"]}
    taps = TownSimulation(data, seed=33).generate(
        3000, now - timedelta(hours=4), now - timedelta(minutes=5), diurnal=False
    )
    (server,) = servers(1)
    batches: list[tuple[str, dict[str, Any]]] = []  # every request body sent
    answered: list[tuple[str, int, int]] = []  # (reader, boot, first seq) of 200 answers
    killed = asyncio.Event()

    async def on_request(request: httpx.Request) -> None:
        if request.url.path.endswith("/taps"):
            reader_id = request.url.path.split("/")[-2]
            batches.append((reader_id, json.loads(request.content)))

    async def on_response(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/taps") and response.status_code == 200:
            await response.aread()  # this answer reaches its reader, whatever comes next
            body = json.loads(response.request.content)
            reader_id = response.request.url.path.split("/")[-2]
            answered.append((reader_id, body["boot"], body["taps"][0]["seq"]))
            if len(answered) == KILL_AFTER and server.proc is not None:
                server.proc.send_signal(signal.SIGKILL)  # uploads are still in flight
                killed.set()

    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [on_request],
        "response": [on_response],
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=60, event_hooks=hooks) as client:
        await load(client, fault_env.token, data)
        readers = {
            rid: RecordingReader(rid, secret, client, retry=ONE_TRY)
            for rid, secret in secrets.items()
        }
        record(readers, taps)
        await asyncio.gather(*(r.upload(max_batch=60) for r in readers.values()))
    assert killed.is_set()
    assert server.proc is not None and server.proc.wait(10) == -signal.SIGKILL
    server.proc = None
    lost = sum(r.counters.connection_errors for r in readers.values())
    assert lost > 0, "no upload was in flight when the server died"

    # All or nothing, request by request. A batch stored but never answered (the kill came
    # between the commit and the answer) will come back as duplicates.
    unanswered_stored = 0
    for reader_id, body in batches:
        keys = [f"{reader_id}/{body['boot']}/{t['seq']}" for t in body["taps"]]
        stored = len(await stored_keys(fault_env.db, slug, keys))
        assert stored in (0, len(keys)), (keys[0], stored, len(keys))
        if stored and (reader_id, body["boot"], body["taps"][0]["seq"]) not in answered:
            unanswered_stored += stored
    # Taps stored just before the kill may still wait for the scorer: the restarted
    # server's sweep scores them (checked at the end).
    stored_before, _ = await tap_counts(fault_env.db, slug)
    assert 0 < stored_before < len(taps)

    server.start(wait_s=90)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        for reader in readers.values():
            reader.client = client
            reader.retry = RETRY
        await upload_all(readers)  # what was left: stored-but-unanswered ones are duplicates
        # Replaying every request ever sent changes nothing.
        replayed = accepted = 0
        for reader_id, body in batches:
            body = {**body, "sent_at": format_time(utcnow())}
            raw = json.dumps(body).encode()
            response = await client.post(
                f"/api/v1/readers/{reader_id}/taps",
                content=raw,
                headers={SIGNATURE_HEADER: sign(secrets[reader_id], raw)},
            )
            assert response.status_code == 200, response.text
            answer = response.json()
            replayed += answer["duplicates"]
            accepted += answer["accepted"]
            assert answer["rejected"] == []
    assert accepted == 0 and replayed == sum(len(b["taps"]) for _, b in batches)

    recorded = recorded_taps(readers)
    assert len(recorded) == len(taps)
    assert await settled_tap_counts(fault_env.db, slug) == (len(taps), 0)
    # Every tap was accepted exactly once: in an answer a reader saw, or in a batch whose
    # answer the kill swallowed (the reader then saw those taps as duplicates).
    assert sum(r.counters.accepted for r in readers.values()) + unanswered_stored == len(taps)
    assert sum(r.counters.duplicates for r in readers.values()) == unanswered_stored
    expected = expected_points(data, recorded)
    assert sum(expected.values()) > 1000
    assert differences(expected, await stored_points(fault_env.db, slug)) == {}
    assert await ledger_problems(fault_env.db, slug) == []
