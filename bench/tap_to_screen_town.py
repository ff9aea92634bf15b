"""The tap-to-screen benchmark's town and schedule: the game it loads (boxes, cards, teams
and the probe cards' campaign), and the plan of the run: which box uploads what and when,
and where the probe cards ride (bench/bench_tap_to_screen.py explains the measurement).
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scratch_db import grid_checkpoints

from kernel.geodesy import haversine_m
from simulator.reader_client import format_time
from simulator.town import SimTap

# What the hall-screen page subscribes to (api/static/board.js).
BOARDS = "teams-total,teams-average,teams-distance,players"
POINTS_PER_LEG = 10
PROBE_MULTIPLIER = 100
PROBE_POINTS = POINTS_PER_LEG * PROBE_MULTIPLIER
PROBE_AGE_BAND = "65+"
PROBE_UID_MARK = b'"04EE'  # probe card UIDs start 04EE; background UIDs 04000...
PROBE_SPEED_MS = 5.0  # 18 km/h between a probe card's taps: a leg, never too_fast (25 km/h)
PROBE_MIN_GAP_S = 120.0
PROBE_MAX_LEG_M = 5000.0  # at most 1,000 s apart: well inside the 60-minute journey window
TEAM_KINDS = ("school",) * 6 + ("community", "community", "workplace", "family")
GAME_DAYS_BACK = 30
TARGET_S = 1.5


def probe_uid(i: int) -> str:
    return f"04EE{i:010X}"


def town_definition(
    slug: str, *, boxes: int, cards: int, teams: int, probe_teams: int, now: datetime
) -> dict[str, Any]:
    checkpoints = grid_checkpoints(boxes)
    team_defs = [
        {"code": f"T{i:03d}", "name": f"Team {i:03d}", "kind": TEAM_KINDS[i % len(TEAM_KINDS)]}
        for i in range(teams)
    ]
    card_defs: list[dict[str, Any]] = [
        {
            "number": f"{i:07d}",
            "uid": f"04{i:012X}",
            "activation_code": f"K{i:06d}",
            **({"team": f"T{i % teams:03d}"} if teams and i % 3 else {}),
        }
        for i in range(1, cards + 1)
    ]
    starts, ends = now - timedelta(days=GAME_DAYS_BACK), now + timedelta(days=30)
    for i in range(probe_teams):
        team_defs.append({"code": f"PRB{i}", "name": f"Probe {i}", "kind": "school"})
        card_defs.append(
            {"number": f"P{i:06d}", "uid": probe_uid(i), "activation_code": f"PK{i:05d}"}
        )
    return {
        "game": {
            "slug": slug,
            "name": "Tap-to-screen bench town",
            "timezone": "Europe/London",
            "starts_at": format_time(starts),
            "ends_at": format_time(ends),
            "rules": {
                "journey_window_minutes": 60,
                "points_per_leg": POINTS_PER_LEG,
                "max_speed_kmh": 25,
            },
        },
        "checkpoints": checkpoints,
        "readers": [
            {"id": f"RB{i:04d}", "checkpoint": c["code"], "secret": f"t2s-{i:04d}-" + "s" * 32}
            for i, c in enumerate(checkpoints)
        ],
        "teams": team_defs,
        "campaigns": [
            {
                "code": "PROBES",
                "name": "Bench probes: legs of the probe cards x100",
                "multiplier": PROBE_MULTIPLIER,
                "starts_at": format_time(starts),
                "ends_at": format_time(ends),
                "age_bands": [PROBE_AGE_BAND],
            }
        ],
        "cards": card_defs,
        "players": [
            {
                "card": f"P{i:06d}",
                "nickname": f"Probe {i}",
                "age_band": PROBE_AGE_BAND,
                "team": f"PRB{i}",
                "public": True,
            }
            for i in range(probe_teams)
        ],
    }


def background_definition(definition: dict[str, Any], active_cards: int) -> dict[str, Any]:
    """The town as the walkers see it: no probe cards, only the first ``active_cards``."""
    cards = [c for c in definition["cards"] if not str(c["uid"]).startswith("04EE")]
    return {**definition, "cards": cards[:active_cards], "players": []}


@dataclass
class Probe:
    pid: int
    team: int  # probe team (and card) index
    nth: int  # the team's n-th probe: its points become nth * PROBE_POINTS
    reader: str
    server: int
    due: float  # seconds after the start of the schedule
    offset_s: float  # virtual seconds after the card's first (priming) tap
    uid: str = ""
    tapped_at: datetime | None = None
    key: tuple[str, str] = ("", "")


@dataclass
class Slot:
    t: float  # seconds after the start of the schedule
    reader: str
    taps: list[SimTap]
    probes: list[Probe] = field(default_factory=list)


@dataclass
class Plan:
    slots: list[Slot]
    probes: list[Probe]
    prime: list[tuple[str, str, datetime]]  # (reader, uid, tapped_at) of each card's anchor
    background_taps: int


def build_slots(
    taps: list[SimTap], readers: list[str], *, total_s: float, upload_every: float
) -> list[Slot]:
    """Box ``i`` uploads at ``phase_i + k * upload_every``, carrying the taps its walkers
    made since its previous upload; virtual tap times map linearly onto the run."""
    if not taps:
        return []
    v0 = taps[0].tapped_at
    span = max(1.0, (taps[-1].tapped_at - v0).total_seconds())
    per_reader: dict[str, deque[tuple[float, SimTap]]] = {r: deque() for r in readers}
    for tap in taps:
        real = (tap.tapped_at - v0).total_seconds() / span * total_s * 0.999
        per_reader[tap.reader_id].append((real, tap))
    slots: list[Slot] = []
    for i, rid in enumerate(readers):
        queue = per_reader[rid]
        t = upload_every * i / len(readers)
        while queue:
            batch: list[SimTap] = []
            while queue and queue[0][0] <= t:
                batch.append(queue.popleft()[1])
            if batch:
                slots.append(Slot(t, rid, batch))
            t += upload_every
    slots.sort(key=lambda s: (s.t, s.reader))
    return slots


def plan_probes(
    slots: list[Slot],
    definition: dict[str, Any],
    *,
    n_teams: int,
    rate: float,
    total_s: float,
    servers: int,
    rng: random.Random,
    now: datetime,
) -> tuple[list[Probe], list[tuple[str, str, datetime]]]:
    cp_of = {r["id"]: r["checkpoint"] for r in definition["readers"]}
    reader_of = {cp: rid for rid, cp in cp_of.items()}
    server_of = {rid: i % servers for i, rid in enumerate(sorted(cp_of))}
    where = {c["code"]: (float(c["lat"]), float(c["lon"])) for c in definition["checkpoints"]}

    def dist(a: str, b: str) -> float:
        return haversine_m(*where[a], *where[b])

    due_times: list[float] = []
    t = rng.expovariate(rate)
    while t < total_s:
        due_times.append(t)
        t += rng.expovariate(rate)

    last: list[str | None] = [None] * n_teams
    first: list[str | None] = [None] * n_teams
    offset = [0.0] * n_teams
    count = [0] * n_teams
    probes: list[Probe] = []
    nxt = 0  # next probe card, round robin
    pi = 0
    for slot in slots:
        cp = cp_of[slot.reader]
        used: set[int] = set()
        while pi < len(due_times) and due_times[pi] <= slot.t:
            chosen = None
            for k in range(n_teams):
                c = (nxt + k) % n_teams
                if c in used:
                    continue
                prev = last[c]
                if prev is None:  # the card's anchor: the nearest other box
                    prev = min((x for x in where if x != cp), key=lambda x: dist(cp, x))
                if prev != cp and dist(prev, cp) <= PROBE_MAX_LEG_M:
                    chosen = c
                    break
            if chosen is None:
                break  # no card can score here: the probe rides the next upload
            c = chosen
            if last[c] is None:
                first[c] = min((x for x in where if x != cp), key=lambda x: dist(cp, x))
                last[c] = first[c]
            prev_cp = last[c]
            assert prev_cp is not None
            offset[c] += max(PROBE_MIN_GAP_S, dist(prev_cp, cp) / PROBE_SPEED_MS)
            count[c] += 1
            last[c] = cp
            used.add(c)
            nxt = (c + 1) % n_teams
            probe = Probe(
                len(probes),
                c,
                count[c],
                slot.reader,
                server_of[slot.reader],
                due_times[pi],
                offset[c],
            )
            slot.probes.append(probe)
            probes.append(probe)
            pi += 1

    # Each card's taps end ten minutes before now; the game started GAME_DAYS_BACK ago.
    game_start = now - timedelta(days=GAME_DAYS_BACK)
    end = now.replace(microsecond=0) - timedelta(minutes=10)
    bases = [end - timedelta(seconds=math.ceil(o)) for o in offset]
    if min(bases, default=now) < game_start + timedelta(hours=1):
        raise SystemExit("too many probes per probe card for the game's period: more --probe-teams")
    prime: list[tuple[str, str, datetime]] = []
    for c in range(n_teams):
        cp0 = first[c]
        if cp0 is not None:
            prime.append((reader_of[cp0], probe_uid(c), bases[c]))
    for p in probes:
        p.uid = probe_uid(p.team)
        p.tapped_at = bases[p.team] + timedelta(seconds=math.ceil(p.offset_s))
        p.key = (p.uid, format_time(p.tapped_at))
    return probes, prime
