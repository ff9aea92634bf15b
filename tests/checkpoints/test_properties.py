"""Property: however the same taps are uploaded, the stored taps and outcomes are the same.

Each example loads a new game, then uploads one set of taps split into random batches,
in a random order, with random repeats, interleaved (and partly concurrent) across
readers, some of which have clocks minutes off. What is stored must equal what the pure
engine makes of the taps' true times, and the rejections must be exactly the bad ones.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.checkpoints.cp_helpers import (
    NOW,
    Town,
    engine_outcomes,
    ledger,
    load_town,
    reader_row,
    rejections,
    tap,
    team_ids,
    totals_consistent,
    uid,
    upload,
)

CODES = "ABCP"
UNKNOWN = "04FFFFFFFFFFFF"
BAD = "NOT-A-UID"
START = NOW - timedelta(hours=3)
_examples = itertools.count()


@dataclass(frozen=True)
class GenTap:
    code: str
    boot: int
    seq: int
    card: str
    true_time: datetime


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[GenTap], dict[str, timedelta], list[list[int]]]:
    n = draw(st.integers(1, 28))
    raw = draw(
        st.lists(
            st.tuples(
                st.sampled_from(CODES),
                st.one_of(
                    st.integers(1, 6).map(uid), st.sampled_from([UNKNOWN, BAD, uid(2).lower()])
                ),
                st.integers(0, 3 * 3600),
            ),
            min_size=n,
            max_size=n,
        )
    )
    raw.sort(key=lambda t: t[2])  # a reader numbers its taps in the order it records them
    restart_after = {c: draw(st.integers(0, 12)) for c in CODES}
    seqs: dict[tuple[str, int], int] = {}
    counts: dict[str, int] = {}
    taps = []
    for code, card, seconds in raw:
        counts[code] = counts.get(code, 0) + 1
        boot = int(counts[code] > restart_after[code] > 0)
        seq = seqs[(code, boot)] = seqs.get((code, boot), 0) + 1
        taps.append(GenTap(code, boot, seq, card, START + timedelta(seconds=seconds)))
    skews = {
        c: timedelta(seconds=draw(st.sampled_from([0, 0, 150, -600, 3600 * 5]))) for c in CODES
    }
    order = draw(st.permutations(range(len(taps))))
    repeats = draw(st.lists(st.integers(0, len(taps) - 1), max_size=8))
    sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=8))
    batches: list[list[int]] = []
    sizes_cycle = itertools.cycle(sizes)
    current: list[int] = []
    limit = next(sizes_cycle)
    for i in [*order, *repeats]:
        key = (taps[i].code, taps[i].boot)
        if current and (
            len(current) >= limit or (taps[current[0]].code, taps[current[0]].boot) != key
        ):
            batches.append(current)
            current, limit = [], next(sizes_cycle)
        current.append(i)
    batches.append(current)
    return taps, skews, batches


async def _send(
    client: httpx.AsyncClient, town: Town, taps: list[GenTap], skews: dict, batch: list[int]
) -> None:
    first = taps[batch[0]]
    skew = skews[first.code]
    payload = [tap(taps[i].seq, taps[i].card, taps[i].true_time + skew) for i in batch]
    r = await upload(client, town, first.code, payload, sent_at=NOW + skew, boot=first.boot)
    assert r.status_code == 200, r.text
    assert r.json()["ack_seq"] == max(taps[i].seq for i in batch)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_any_upload_order_stores_the_same_taps_and_outcomes(
    app: FastAPI,
    client: httpx.AsyncClient,
    organiser_token: str,
    slug: str,
    clock: object,
    scenario: tuple[list[GenTap], dict[str, timedelta], list[list[int]]],
) -> None:
    taps, skews, batches = scenario
    town = await load_town(client, organiser_token, f"{slug}-{next(_examples)}")
    # Interleaved sequentially first, then the last batches all at once.
    cut = max(0, len(batches) - 4)
    for batch in batches[:cut]:
        await _send(client, town, taps, skews, batch)
    await asyncio.gather(*(_send(client, town, taps, skews, b) for b in batches[cut:]))

    def key(t: GenTap) -> str:
        return f"{town.reader(t.code)}/{t.boot}/{t.seq}"

    good = [t for t in taps if t.card not in (UNKNOWN, BAD)]
    expected = engine_outcomes(
        town,
        [(key(t), t.code, t.card.upper(), t.true_time) for t in good],
        await team_ids(app, town.slug),
    )
    stored = await ledger(app, town.slug)
    assert set(stored) == {key(t) for t in good}
    for t in good:
        card, code, raw, corrected, outcome, points, distance, team, _ = stored[key(t)]
        skew = skews[t.code]
        assert (card, code, raw) == (t.card.upper(), t.code, t.true_time + skew)
        assert corrected == (t.true_time if abs(skew) > timedelta(seconds=120) else raw)
        assert (outcome, points, distance, team) == expected[key(t)]
    reasons = {UNKNOWN: "unknown_card", BAD: "bad_card_uid"}
    assert await rejections(app, town.slug) == sorted(
        (key(t), reasons[t.card]) for t in taps if t.card in reasons
    )
    assert await totals_consistent(app, town.slug)
    for code in CODES:
        assert (await reader_row(app, town.reader(code))).conflicts == 0
