"""Reader uploads, rule by rule of docs/reader-protocol.md (both backends)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from api.app_state import state_of
from checkpoints.signing import SIGNATURE_HEADER, sign
from tests.checkpoints.cp_helpers import (
    NOW,
    Town,
    at,
    body,
    holder_points,
    iso,
    ledger,
    load_town,
    post_signed,
    reader_row,
    rejections,
    stored_rejections,
    tap,
    totals_consistent,
    uid,
    upload,
)
from tests.helpers import auth


async def test_accepted_taps_are_stored_scored_and_answered(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    r = await upload(client, town, "A", [tap(1041, 1, at(0))], sent_at=NOW)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "received": 1,
        "accepted": 1,
        "duplicates": 0,
        "rejected": [],
        "ack_seq": 1041,
        "server_time": "2027-05-03T09:00:00Z",
    }
    r = await upload(client, town, "B", [tap(7, 1, at(15))], sent_at=NOW)
    assert r.json()["accepted"] == 1
    stored = await ledger(app, town.slug)
    a_key, b_key = f"{town.reader('A')}/0/1041", f"{town.reader('B')}/0/7"
    assert stored[a_key][:5] == (uid(1), "A", at(0), at(0), "journey_start")
    assert stored[b_key][1:6] == ("B", at(15), at(15), "leg", 10)
    assert await holder_points(app, town.slug) == {"0000001": 10}
    assert await totals_consistent(app, town.slug)


async def test_worked_example_7_late_box_slots_in(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    # B 08:15 arrives first; A 08:00 an hour later: still one leg of 10 points.
    await upload(client, town, "B", [tap(1, 2, at(15))], sent_at=NOW)
    await upload(client, town, "C", [tap(1, 2, at(40))], sent_at=NOW)
    await upload(client, town, "A", [tap(1, 2, at(0))], sent_at=NOW)
    stored = await ledger(app, town.slug)
    outcomes = sorted((v[3], v[4], v[5]) for v in stored.values())
    assert [(o, p) for _, o, p in outcomes] == [("journey_start", 0), ("leg", 10), ("leg", 10)]
    assert await holder_points(app, town.slug) == {"0000002": 20}
    assert await totals_consistent(app, town.slug)


# ---------------------------------------------------------------- authentication


async def test_bad_signatures_unknown_and_disabled_readers_all_get_the_same_401(
    app: FastAPI, client: httpx.AsyncClient, town: Town, organiser_token: str
) -> None:
    raw = body([tap(1, 1, at(0))], sent_at=NOW)
    path = f"/api/v1/readers/{town.reader('A')}/taps"
    answers = [
        await post_signed(client, path, raw, None),  # no signature
        await post_signed(client, path, raw, town.secret("B")),  # another reader's secret
        await post_signed(client, path, raw, "x" * 43),
        await client.post(path, content=raw, headers={SIGNATURE_HEADER: "sha256=zz"}),
        await client.post(
            path, content=raw, headers={SIGNATURE_HEADER: sign(town.secret("A"), raw + b" ")}
        ),
        await post_signed(client, "/api/v1/readers/NO-SUCH-BOX/taps", raw, town.secret("A")),
    ]

    off = await client.post(
        f"/api/v1/admin/games/{town.slug}/readers/{town.reader('A')}/disable",
        headers=auth(organiser_token),
    )
    assert off.status_code == 200
    answers.append(await post_signed(client, path, raw, town.secret("A")))
    assert {a.status_code for a in answers} == {401}
    assert len({a.text for a in answers}) == 1
    assert answers[0].json()["error"] == "unauthorized"
    assert await ledger(app, town.slug) == {}
    assert await rejections(app, town.slug) == []

    on = await client.post(
        f"/api/v1/admin/games/{town.slug}/readers/{town.reader('A')}/enable",
        headers=auth(organiser_token),
    )
    assert on.status_code == 200
    ok = await post_signed(client, path, raw, town.secret("A"))
    assert ok.status_code == 200 and ok.json()["accepted"] == 1


async def test_signature_hex_case_is_ignored(client: httpx.AsyncClient, town: Town) -> None:
    raw = body([tap(1, 1, at(0))], sent_at=NOW)
    header = "sha256=" + sign(town.secret("A"), raw).split("=", 1)[1].upper()
    r = await client.post(
        f"/api/v1/readers/{town.reader('A')}/taps", content=raw, headers={SIGNATURE_HEADER: header}
    )
    assert r.status_code == 200


async def test_malformed_bodies_are_checked_only_after_the_signature(
    client: httpx.AsyncClient, town: Town
) -> None:
    raw = b"this is not json"
    r = await post_signed(client, f"/api/v1/readers/{town.reader('A')}/taps", raw, "wrong")
    assert r.status_code == 401


# ---------------------------------------------------------------- size and shape


async def test_501_taps_is_413_and_nothing_is_stored(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    taps = [tap(i, 1 + i % 10, at(i / 60)) for i in range(1, 502)]
    r = await upload(client, town, "A", taps, sent_at=NOW)
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"
    assert await ledger(app, town.slug) == {}
    r = await upload(client, town, "A", taps[:500], sent_at=NOW)
    assert r.status_code == 200
    assert r.json()["received"] == 500 and r.json()["ack_seq"] == 500


async def test_a_300_kib_body_is_413(app: FastAPI, client: httpx.AsyncClient, town: Town) -> None:
    good = [tap(1, 1, at(0))]
    padded = {"sent_at": iso(NOW), "boot": 0, "taps": good, "padding": "x" * (300 * 1024)}
    raw = json.dumps(padded).encode()
    r = await post_signed(client, f"/api/v1/readers/{town.reader('A')}/taps", raw, town.secret("A"))
    assert r.status_code == 413
    assert await ledger(app, town.slug) == {}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (json.dumps({"boot": 0, "taps": []}).encode(), "sent_at"),
        (json.dumps({"sent_at": iso(NOW), "taps": []}).encode(), "taps"),
        (json.dumps({"sent_at": iso(NOW)}).encode(), "taps"),
        (
            json.dumps(
                {
                    "sent_at": iso(NOW),
                    "taps": [{"seq": "1", "card_uid": uid(1), "tapped_at": iso(at(0))}],
                }
            ).encode(),
            "taps.0.seq",
        ),
        (
            json.dumps(
                {"sent_at": iso(NOW), "taps": [{"seq": 1, "card_uid": 4, "tapped_at": iso(at(0))}]}
            ).encode(),
            "taps.0.card_uid",
        ),
        (
            json.dumps(
                {
                    "sent_at": iso(NOW),
                    "taps": [{"seq": 1, "card_uid": uid(1), "tapped_at": 1809331200}],
                }
            ).encode(),
            "taps.0.tapped_at",
        ),
        (
            json.dumps(
                {
                    "sent_at": iso(NOW),
                    "taps": [{"seq": 1, "card_uid": uid(1), "tapped_at": "1809331200"}],
                }
            ).encode(),
            "taps.0.tapped_at",
        ),
        (
            json.dumps(
                {
                    "sent_at": iso(NOW),
                    "taps": [{"seq": 1, "card_uid": uid(1), "tapped_at": "2027-05-03T08:00:00"}],
                }
            ).encode(),
            "taps.0.tapped_at",
        ),
        (
            json.dumps(
                {
                    "sent_at": iso(NOW),
                    "taps": [{"seq": -1, "card_uid": uid(1), "tapped_at": iso(at(0))}],
                }
            ).encode(),
            "taps.0.seq",
        ),
        (
            json.dumps(
                {
                    "sent_at": iso(NOW),
                    "boot": "7",
                    "taps": [{"seq": 1, "card_uid": uid(1), "tapped_at": iso(at(0))}],
                }
            ).encode(),
            "boot",
        ),
        (
            json.dumps(
                {
                    "sent_at": "yesterday",
                    "taps": [{"seq": 1, "card_uid": uid(1), "tapped_at": iso(at(0))}],
                }
            ).encode(),
            "sent_at",
        ),
        (
            json.dumps(
                {"sent_at": iso(NOW), "taps": [{"card_uid": uid(1), "tapped_at": iso(at(0))}]}
            ).encode(),
            "taps.0.seq",
        ),
    ],
)
async def test_malformed_batches_are_422_naming_the_field_and_store_nothing(
    app: FastAPI, client: httpx.AsyncClient, town: Town, payload: bytes, field: str
) -> None:
    # A good tap travels with the bad one where the shape allows it: it is not stored either.
    if b'"taps": [{' in payload:
        data = json.loads(payload)
        data["taps"].append(tap(99, 1, at(0)))
        payload = json.dumps(data).encode()
    r = await post_signed(
        client, f"/api/v1/readers/{town.reader('A')}/taps", payload, town.secret("A")
    )
    assert r.status_code == 422, r.text
    answer = r.json()
    assert answer["error"] == "validation_error"
    assert field in [f["field"] for f in answer["fields"]], answer
    assert await ledger(app, town.slug) == {}
    assert await rejections(app, town.slug) == []


async def test_boot_defaults_to_zero_and_restarts_keep_both_counters(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    raw = json.dumps({"sent_at": iso(NOW), "taps": [tap(1, 1, at(0))]}).encode()
    r = await post_signed(client, f"/api/v1/readers/{town.reader('A')}/taps", raw, town.secret("A"))
    assert r.json()["accepted"] == 1
    # After a battery swap the counter starts again at 1: a new identity, not a conflict.
    r = await upload(client, town, "A", [tap(1, 2, at(5))], sent_at=NOW, boot=1)
    assert r.json()["accepted"] == 1
    assert set(await ledger(app, town.slug)) == {
        f"{town.reader('A')}/0/1",
        f"{town.reader('A')}/1/1",
    }
    # The reader's marks: per boot, the highest seq stored.
    r = await upload(client, town, "A", [tap(9, 3, at(6)), tap(4, "BAD", at(6))], sent_at=NOW)
    assert r.json()["ack_seq"] == 9
    assert (await reader_row(app, town.reader("A"))).seq_marks == {"0": 9, "1": 1}
    # Below the mark: seq 5 was never stored, seq 4 was (rejected).
    r = await upload(client, town, "A", [tap(5, 3, at(7)), tap(4, "BAD", at(6))], sent_at=NOW)
    assert (r.json()["accepted"], r.json()["duplicates"]) == (1, 1)
    assert (await reader_row(app, town.reader("A"))).seq_marks == {"0": 9, "1": 1}


# ---------------------------------------------------------------- identity


async def test_resending_is_a_duplicate_and_a_replayed_request_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    taps = [
        tap(1, 1, at(0)),
        tap(2, "BADUID", at(1)),
        tap(3, 3, at(2)),
        tap(4, "04FFFFFFFFFFFF", at(3)),
    ]
    raw = body(taps, sent_at=NOW)
    path = f"/api/v1/readers/{town.reader('A')}/taps"
    first = await post_signed(client, path, raw, town.secret("A"))
    assert first.json()["accepted"] == 2
    before = (await ledger(app, town.slug), await rejections(app, town.slug))
    points = await holder_points(app, town.slug)
    reader_before = await reader_row(app, town.reader("A"))
    replay = await post_signed(client, path, raw, town.secret("A"))
    assert replay.status_code == 200
    assert replay.json() | {"server_time": None} == {
        "received": 4,
        "accepted": 0,
        "duplicates": 4,
        "rejected": [],
        "ack_seq": 4,
        "server_time": None,
    }
    assert (await ledger(app, town.slug), await rejections(app, town.slug)) == before
    assert await holder_points(app, town.slug) == points
    assert (await reader_row(app, town.reader("A"))).conflicts == reader_before.conflicts == 0
    # The same taps in another batch with a new sent_at are duplicates too.
    again = await upload(client, town, "A", taps[2:], sent_at=NOW + timedelta(seconds=30))
    assert again.json()["duplicates"] == 2


async def test_a_reused_seq_with_other_content_is_a_conflict(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    await upload(client, town, "A", [tap(5, 1, at(0))], sent_at=NOW)
    r = await upload(client, town, "A", [tap(5, 2, at(0)), tap(6, 2, at(1))], sent_at=NOW)
    assert r.json()["accepted"] == 1
    assert r.json()["rejected"] == [{"seq": 5, "reason": "conflict"}]
    r = await upload(client, town, "A", [tap(5, 1, at(7))], sent_at=NOW)  # other time
    assert r.json()["rejected"] == [{"seq": 5, "reason": "conflict"}]
    stored = await ledger(app, town.slug)
    assert stored[f"{town.reader('A')}/0/5"][0] == uid(1)  # the first content stays
    assert await rejections(app, town.slug) == [
        (f"{town.reader('A')}/0/5", "conflict"),
        (f"{town.reader('A')}/0/5", "conflict"),
    ]
    assert (await reader_row(app, town.reader("A"))).conflicts == 2
    # Replaying the conflicting request is answered the same and counted once.
    r = await upload(client, town, "A", [tap(5, 1, at(7))], sent_at=NOW)
    assert r.json()["rejected"] == [{"seq": 5, "reason": "conflict"}]
    assert (await reader_row(app, town.reader("A"))).conflicts == 2
    assert len(await rejections(app, town.slug)) == 2


async def test_identities_repeated_inside_one_batch(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    r = await upload(
        client, town, "A", [tap(1, 1, at(0)), tap(1, 1, at(0)), tap(1, 2, at(0))], sent_at=NOW
    )
    assert r.json()["accepted"] == 1
    assert r.json()["duplicates"] == 1
    assert r.json()["rejected"] == [{"seq": 1, "reason": "conflict"}]


async def test_a_rejected_tap_sent_again_is_a_duplicate_and_other_content_a_conflict(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    await upload(client, town, "A", [tap(1, "04FFFFFFFFFFFF", at(0))], sent_at=NOW)
    r = await upload(client, town, "A", [tap(1, "04FFFFFFFFFFFF", at(0))], sent_at=NOW)
    assert r.json()["duplicates"] == 1
    r = await upload(client, town, "A", [tap(1, 1, at(0))], sent_at=NOW)
    assert r.json()["rejected"] == [{"seq": 1, "reason": "conflict"}]
    assert await ledger(app, town.slug) == {}


# ---------------------------------------------------------------- per-tap rejections


async def test_per_tap_rejections_are_kept_and_good_taps_count(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    taps = [
        tap(1, 1, at(0)),
        tap(2, "04-00:00 00.00_00-02", at(1)),  # separators and case are normalised
        tap(3, "4111111111111111", at(2)),  # a bank card number: 16 digits
        tap(4, "04ZZ0000000001", at(3)),
        tap(5, "04000000000063", at(4)),  # well-formed, never issued
        tap(6, "DEADBEEF", at(5)),  # 4-byte UID, never issued
        tap(7, 3, NOW + timedelta(minutes=6)),
        tap(8, 4, NOW + timedelta(minutes=4)),
        tap(9, "04a1b2c3d4e5f6a7b8c9", at(6)),  # 10-byte UID, never issued
        tap(10, "", at(7)),
    ]
    r = await upload(client, town, "A", taps, sent_at=NOW)
    answer = r.json()
    assert answer["received"] == 10
    assert answer["accepted"] == 3
    assert answer["ack_seq"] == 10
    assert answer["rejected"] == [
        {"seq": 3, "reason": "bad_card_uid"},
        {"seq": 4, "reason": "bad_card_uid"},
        {"seq": 5, "reason": "unknown_card"},
        {"seq": 6, "reason": "unknown_card"},
        {"seq": 7, "reason": "future_timestamp"},
        {"seq": 9, "reason": "unknown_card"},
        {"seq": 10, "reason": "bad_card_uid"},
    ]
    stored = await ledger(app, town.slug)
    assert stored[f"{town.reader('A')}/0/2"][0] == uid(2)
    async with state_of(app).sessionmaker() as s:
        kept = {r.seq: r for r in await stored_rejections(s, town.slug)}
    assert kept[3].card_uid_raw == "4111111111111111"
    assert kept[3].tapped_at_raw == at(2) and kept[3].reader_id == town.reader("A")
    assert kept[7].tapped_at == NOW + timedelta(minutes=6)


async def test_a_card_of_another_game_is_unknown(
    app: FastAPI, client: httpx.AsyncClient, town: Town, organiser_token: str
) -> None:
    other = await load_town(
        client,
        organiser_token,
        town.slug + "-o",
        cards=[{"number": "9", "uid": "04AAAAAAAAAAAA", "activation_code": "K999"}],
    )
    assert other.slug != town.slug
    r = await upload(client, town, "A", [tap(1, "04AAAAAAAAAAAA", at(0))], sent_at=NOW)
    assert r.json()["rejected"] == [{"seq": 1, "reason": "unknown_card"}]


# ---------------------------------------------------------------- heartbeats


async def test_heartbeats_are_signed_and_update_box_health(
    app: FastAPI, client: httpx.AsyncClient, town: Town
) -> None:
    path = f"/api/v1/readers/{town.reader('P')}/heartbeat"
    raw = json.dumps(
        {
            "sent_at": iso(NOW - timedelta(minutes=4)),
            "battery_pct": 81,
            "firmware": "2.4.1",
            "queue_depth": 3,
        }
    ).encode()
    assert (await post_signed(client, path, raw, town.secret("A"))).status_code == 401
    r = await post_signed(client, path, raw, town.secret("P"))
    assert r.status_code == 200
    assert r.json() == {"server_time": "2027-05-03T09:00:00Z"}
    row = await reader_row(app, town.reader("P"))
    assert (row.battery_pct, row.firmware, row.queue_depth) == (81, "2.4.1", 3)
    assert row.last_heartbeat_at == NOW
    assert row.clock_offset_s == pytest.approx(240)
    bad = json.dumps({"sent_at": iso(NOW), "battery_pct": 181}).encode()
    r = await post_signed(client, path, bad, town.secret("P"))
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "battery_pct"
