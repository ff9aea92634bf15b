"""/metrics after a batch shows the counts that were sent."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx

from checkpoints.signing import sign
from tests.integration.live_town import live_game, load


def _value(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_metrics_count_a_batch(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    data = live_game(slug)
    await load(client, organiser_token, data)
    before = (await client.get("/metrics")).text
    reader = data["readers"][0]
    now = datetime.now(UTC)
    taps = [
        {
            "seq": 1,
            "card_uid": "04000000000001",
            "tapped_at": (now - timedelta(minutes=9)).isoformat(),
        },
        {
            "seq": 2,
            "card_uid": "04000000000002",
            "tapped_at": (now - timedelta(minutes=8)).isoformat(),
        },
        {"seq": 3, "card_uid": "not-a-card", "tapped_at": (now - timedelta(minutes=7)).isoformat()},
        {
            "seq": 4,
            "card_uid": "04FFFFFFFFFFFF",
            "tapped_at": (now - timedelta(minutes=6)).isoformat(),
        },
    ]
    body = json.dumps({"sent_at": now.isoformat(), "boot": 0, "taps": taps}).encode()
    headers = {"X-Reader-Signature": sign(reader["secret"], body)}
    url = f"/api/v1/readers/{reader['id']}/taps"
    assert (await client.post(url, content=body, headers=headers)).status_code == 200
    assert (await client.post(url, content=body, headers=headers)).status_code == 200  # again

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def delta(name: str, labels: str = "") -> float:
        return _value(after, name, labels) - _value(before, name, labels)

    assert delta("taptrail_taps_received_total", '{source="reader"}') == 8
    assert delta("taptrail_taps_accepted_total", '{source="reader"}') == 2
    assert delta("taptrail_taps_duplicate_total", '{source="reader"}') == 4
    assert delta("taptrail_taps_rejected_total", '{reason="bad_card_uid"}') == 1
    assert delta("taptrail_taps_rejected_total", '{reason="unknown_card"}') == 1
    assert delta("taptrail_scoring_lag_seconds_count") == 4
    assert (
        'taptrail_request_seconds_count{method="POST",route="/api/v1/readers/{reader_id}/taps",status="200"}'
        in after
    )
    assert "taptrail_websocket_clients" in after
