"""A simulated town, for tests, benchmarks and the demo.

``TownSimulation`` builds one reader (``simulator.reader_client.SimulatedReader``) per
``readers:`` entry of a parsed game definition (``yaml.safe_load`` of a §2 file) and walks
the definition's cards between nearby checkpoints at walking to cycling speeds, with the odd
repeat, long pause and lift in a car. ``generate`` returns a deterministic list of taps for
tests and benchmarks; ``deliver`` pushes such a list through the readers (some of them
flaky); ``run`` drives a live demo, timestamping taps "now".
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx

from kernel.db import utcnow
from kernel.geodesy import haversine_m
from simulator.reader_client import (
    MAX_BATCH,
    NowFn,
    QueuedTap,
    RetryPolicy,
    SimulatedReader,
    SleepFn,
    parse_time,
)

__all__ = [
    "SimCheckpoint",
    "SimTap",
    "SimulationStats",
    "TownSimulation",
]

# ======================================================================================
# A town of readers and walkers
# ======================================================================================


class SimTap(NamedTuple):
    """A tap as it happened: which box, which card, the true time."""

    reader_id: str
    card_uid: str
    tapped_at: datetime


@dataclass(frozen=True)
class SimCheckpoint:
    code: str
    name: str
    lat: float
    lon: float
    tags: tuple[str, ...] = ()
    active_from: datetime | None = None
    active_to: datetime | None = None

    def active_at(self, when: datetime) -> bool:
        if self.active_from is not None and when < self.active_from:
            return False
        return not (self.active_to is not None and when >= self.active_to)


@dataclass
class SimulationStats:
    taps: int = 0  # taps made
    uploads: int = 0  # upload() calls
    acked: int = 0  # taps acknowledged by the server
    pending: int = 0  # taps still queued at the end
    offline_periods: int = 0
    restarts: int = 0
    gave_up: int = 0  # uploads that stopped early (left for later)


@dataclass
class _Walker:
    card_uid: str
    speed_kmh: float  # usual pace: walking, jogging or cycling
    at: str | None = None  # checkpoint of the last tap
    previous: str | None = None
    legs_left: int = 0
    next_code: str | None = None


# Behaviour of walkers (probabilities per step of a journey).
P_REPEAT = 0.05  # tap the same box again a little later
P_LONG_GAP = 0.04  # stop for over an hour (the next tap starts a new journey)
P_LIFT = 0.03  # get a lift: the leg is too fast to score
P_CONTINUE = 0.72  # chance that a journey has one more step (geometric length)
MAX_JOURNEY_TAPS = 10

# How busy the streets are by local hour (1.0 = the school run), weekdays and weekends.
# fmt: off
WEEKDAY_ACTIVITY = (0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.1, 0.45, 1.0, 0.6, 0.5, 0.55,
                    0.7, 0.6, 0.55, 0.95, 0.9, 0.8, 0.7, 0.45, 0.25, 0.1, 0.03, 0.01)
WEEKEND_ACTIVITY = (0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.03, 0.1, 0.35, 0.7, 0.9, 1.0,
                    0.95, 0.9, 0.9, 0.85, 0.7, 0.55, 0.4, 0.3, 0.2, 0.1, 0.03, 0.01)
# fmt: on


def _as_optional_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return parse_time(value)


class TownSimulation:
    """Readers and walkers for a parsed game definition (docs/running-a-game/game-file.md).

    ``client`` is needed only to upload (``deliver`` / ``run``); ``generate`` works
    without one. Reader secrets come from the definition's ``readers[].secret`` (the demo
    town ships fixed demo secrets) or from ``secrets``.

    A ``flaky`` reader goes offline now and then (its taps wait and arrive late) and is
    sometimes restarted with a new boot; a ``skewed`` reader's clock is off by minutes.
    Each reader remembers its last ``history_limit`` taps (None: all of them; the live
    demo runs for days, so the default is bounded).
    """

    def __init__(
        self,
        definition: Mapping[str, Any],
        client: httpx.AsyncClient | None = None,
        *,
        seed: int = 0,
        flaky_fraction: float = 0.0,
        flaky_readers: Iterable[str] = (),
        skewed_fraction: float = 0.0,
        max_skew: timedelta = timedelta(minutes=10),
        retry: RetryPolicy | None = None,
        sleep_fn: SleepFn = asyncio.sleep,
        now_fn: NowFn = utcnow,
        base_path: str = "/api/v1",
        secrets: Mapping[str, str] | None = None,
        neighbour_radius_m: float = 1200.0,
        history_limit: int | None = 20_000,
    ) -> None:
        self.seed = seed
        self.client = client
        self._sleep = sleep_fn
        self._now = now_fn
        rng = random.Random(f"town:{seed}")
        game = definition.get("game") or {}
        self.timezone = ZoneInfo(str(game.get("timezone") or "Europe/London"))

        self.checkpoints: dict[str, SimCheckpoint] = {}
        for item in definition.get("checkpoints") or ():
            cp = SimCheckpoint(
                code=str(item["code"]),
                name=str(item.get("name", item["code"])),
                lat=float(item["lat"]),
                lon=float(item["lon"]),
                tags=tuple(str(t) for t in item.get("tags") or ()),
                active_from=_as_optional_time(item.get("active_from")),
                active_to=_as_optional_time(item.get("active_to")),
            )
            self.checkpoints[cp.code] = cp
        if not self.checkpoints:
            raise ValueError("the definition has no checkpoints")

        self.reader_for: dict[str, str] = {}  # checkpoint code -> reader id
        reader_secrets: dict[str, str] = {}
        for item in definition.get("readers") or ():
            code = str(item["checkpoint"])
            if code not in self.checkpoints:
                raise ValueError(f"reader {item['id']} points to unknown checkpoint {code}")
            self.reader_for[code] = str(item["id"])
            if item.get("secret"):
                reader_secrets[str(item["id"])] = str(item["secret"])
        reader_secrets.update(secrets or {})
        # Taps can only happen where a box hangs.
        self._tappable = sorted(self.reader_for)
        if not self._tappable:
            raise ValueError("the definition has no readers")

        self._neighbours = self._build_neighbours(neighbour_radius_m)
        self._cards, self._card_weights = self._weighted_cards(definition)
        self._cum_weights = list(itertools.accumulate(self._card_weights))

        reader_ids = sorted(self.reader_for.values())
        n_flaky = round(flaky_fraction * len(reader_ids))
        self.flaky_readers: frozenset[str] = frozenset(
            set(rng.sample(reader_ids, n_flaky)) | set(flaky_readers)
        )
        n_skewed = round(skewed_fraction * len(reader_ids))
        self.clock_skews: dict[str, timedelta] = {}
        for rid in rng.sample(reader_ids, n_skewed):
            seconds = rng.uniform(150.0, max(151.0, max_skew.total_seconds()))
            self.clock_skews[rid] = timedelta(seconds=round(seconds) * rng.choice((-1, 1)))

        self.readers: dict[str, SimulatedReader] = {}
        if client is not None:
            missing = [rid for rid in reader_ids if rid not in reader_secrets]
            if missing:
                raise ValueError(f"no secret for readers {', '.join(missing)}")
            for i, rid in enumerate(reader_ids):
                self.readers[rid] = SimulatedReader(
                    rid,
                    reader_secrets[rid],
                    client,
                    clock_skew=self.clock_skews.get(rid, timedelta(0)),
                    retry=retry,
                    sleep_fn=sleep_fn,
                    now_fn=now_fn,
                    rng=random.Random(f"reader:{seed}:{i}"),
                    base_path=base_path,
                    history_limit=history_limit,
                )
        self._live_rng = random.Random(f"live:{seed}")
        self._live_walkers: list[_Walker] | None = None
        self._offline_until: dict[str, datetime] = {}

    # -- set-up --------------------------------------------------------------------

    def _build_neighbours(self, radius_m: float) -> dict[str, list[tuple[str, float]]]:
        result: dict[str, list[tuple[str, float]]] = {}
        for code in self._tappable:
            a = self.checkpoints[code]
            dists = sorted(
                (haversine_m(a.lat, a.lon, b.lat, b.lon), b.code)
                for b in (self.checkpoints[other] for other in self._tappable)
                if b.code != code
            )
            near = [(other, d) for d, other in dists if d <= radius_m]
            if len(near) < 2:
                near = [(other, d) for d, other in dists[:3]]
            result[code] = near
        return result

    @staticmethod
    def _weighted_cards(definition: Mapping[str, Any]) -> tuple[list[str], list[float]]:
        registered = {str(p["card"]) for p in definition.get("players") or ()}
        cards: list[str] = []
        weights: list[float] = []
        for card in definition.get("cards") or ():
            cards.append(str(card["uid"]))
            if str(card["number"]) in registered:
                weights.append(3.0)
            elif card.get("team"):
                weights.append(1.0)  # a school fob used before anyone registered it
            else:
                weights.append(0.3)
        if not cards:
            raise ValueError("the definition has no cards")
        return cards, weights

    @staticmethod
    def _pace(rng: random.Random) -> float:
        r = rng.random()
        if r < 0.70:
            return rng.uniform(4.0, 6.5)  # walking
        if r < 0.85:
            return rng.uniform(8.0, 11.0)  # jogging
        return rng.uniform(12.0, 15.0)  # cycling

    def _walker(self, rng: random.Random, uid: str) -> _Walker:
        return _Walker(uid, self._pace(rng))

    def _active(self, when: datetime) -> list[str]:
        return [c for c in self._tappable if self.checkpoints[c].active_at(when)]

    def _pick_neighbour(
        self, rng: random.Random, w: _Walker, here: str
    ) -> tuple[str, float] | None:
        options = self._neighbours.get(here) or []
        if not options:
            return None
        weights = [
            (1.0 if 250.0 <= d <= 1000.0 else 0.35) * (0.3 if code == w.previous else 1.0)
            for code, d in options
        ]
        return rng.choices(options, weights=weights)[0]

    def _next_step(self, rng: random.Random, w: _Walker, here: str) -> tuple[str, float] | None:
        """Where the walker taps next and how many seconds later (None: stays here)."""
        r = rng.random()
        if r < P_REPEAT:
            return here, rng.uniform(15.0, 240.0)
        picked = self._pick_neighbour(rng, w, here)
        if picked is None:
            return None
        code, dist = picked
        if r < P_REPEAT + P_LONG_GAP:
            pause = rng.uniform(61.0, 300.0) * 60.0
        else:
            pause = rng.uniform(10.0, 150.0)
        speed = (
            rng.uniform(30.0, 60.0)
            if rng.random() < P_LIFT
            else (w.speed_kmh * rng.uniform(0.85, 1.15))
        )
        return code, pause + dist / (speed / 3.6)

    @staticmethod
    def _journey_taps(rng: random.Random) -> int:
        n = 1
        while n < MAX_JOURNEY_TAPS and rng.random() < P_CONTINUE:
            n += 1
        return n

    # -- generate ------------------------------------------------------------------

    def activity(self, when: datetime) -> float:
        """How likely a journey starts at ``when`` (0-1), by local hour and weekday."""
        local = when.astimezone(self.timezone)
        profile = WEEKEND_ACTIVITY if local.weekday() >= 5 else WEEKDAY_ACTIVITY
        return profile[local.hour]

    def generate(
        self,
        n_taps: int,
        start: datetime,
        end: datetime,
        seed: int | None = None,
        *,
        diurnal: bool = True,
    ) -> list[SimTap]:
        """``n_taps`` realistic taps with true times in ``[start, end)``, sorted by time.

        Deterministic for a given definition and ``seed`` (default: the simulation's).
        Journeys start mostly in the day, peaking at the school run (``diurnal=False``:
        at any hour alike). A card never makes two journeys at once.
        """
        start, end = parse_time(start), parse_time(end)
        if n_taps <= 0:
            return []
        if end <= start:
            raise ValueError("end must be after start")
        rng = random.Random(f"generate:{self.seed if seed is None else seed}")
        span = (end - start).total_seconds()
        walkers: dict[str, _Walker] = {}
        busy: dict[str, tuple[list[float], list[float]]] = {}
        taps: list[SimTap] = []
        attempts = 0
        while len(taps) < n_taps:
            attempts += 1
            uid = rng.choices(self._cards, cum_weights=self._cum_weights)[0]
            w = walkers.get(uid)
            if w is None:
                w = walkers[uid] = self._walker(rng, uid)
            t0 = rng.uniform(0.0, span)
            if diurnal and rng.random() > self.activity(start + timedelta(seconds=t0)):
                continue
            journey = self._journey(rng, w, start, t0, span)
            if not journey:
                if attempts > 1000 * (len(taps) + 1):
                    raise ValueError("no checkpoint is active in the requested period")
                continue
            starts, ends = busy.setdefault(uid, ([], []))
            a, b = journey[0][1] - 300.0, journey[-1][1] + 300.0
            i = bisect.bisect_left(starts, b)
            if i > 0 and ends[i - 1] > a and attempts < 50 * n_taps:
                continue  # overlaps another journey of this card: draw again
            starts.insert(i, a)
            ends.insert(i, b)
            for code, offset in journey[: n_taps - len(taps)]:
                when = start + timedelta(seconds=offset)
                taps.append(SimTap(self.reader_for[code], uid, when.replace(microsecond=0)))
        taps.sort(key=lambda t: (t.tapped_at, t.reader_id, t.card_uid))
        return taps

    def _journey(
        self, rng: random.Random, w: _Walker, start: datetime, t0: float, span: float
    ) -> list[tuple[str, float]]:
        first_time = start + timedelta(seconds=t0)
        active = self._active(first_time)
        if not active:
            return []
        here = rng.choice(active)
        w.previous = None
        out = [(here, t0)]
        t = t0
        for _ in range(self._journey_taps(rng) - 1):
            step = self._next_step(rng, w, here)
            if step is None:
                break
            code, seconds = step
            t += seconds
            if t >= span or not self.checkpoints[code].active_at(start + timedelta(seconds=t)):
                break
            out.append((code, t))
            w.previous, here = here, code
        return out

    # -- deliver -------------------------------------------------------------------

    def _require_client(self) -> None:
        if self.client is None or not self.readers:
            raise RuntimeError("TownSimulation needs an httpx.AsyncClient to upload")

    async def upload_all(self, max_batch: int = MAX_BATCH) -> SimulationStats:
        """Upload every online reader's queue once (concurrently)."""
        self._require_client()
        stats = SimulationStats()
        await self._upload_online(stats, max_batch)
        stats.pending = sum(r.queue_depth for r in self.readers.values())
        return stats

    async def deliver(
        self,
        taps: Iterable[SimTap],
        *,
        max_batch: int = MAX_BATCH,
        upload_every: int | None = None,
    ) -> SimulationStats:
        """Push taps (e.g. from ``generate``) through the readers, in time order.

        Online readers upload every ``upload_every`` taps (default: once, at the end).
        Flaky readers are offline throughout, restart (battery swap) half-way through
        their taps, and upload late, after everyone else.
        """
        self._require_client()
        ordered = sorted(taps, key=lambda t: (t.tapped_at, t.reader_id, t.card_uid))
        per_reader = Counter(t.reader_id for t in ordered)
        seen: Counter[str] = Counter()
        stats = SimulationStats()
        for rid in self.flaky_readers:
            if rid in self.readers:
                self.readers[rid].go_offline()
                stats.offline_periods += 1
        for i, (rid, uid, when) in enumerate(ordered, start=1):
            reader = self.readers[rid]
            if rid in self.flaky_readers and seen[rid] == per_reader[rid] // 2 > 0:
                reader.restart()
                stats.restarts += 1
            reader.tap(uid, when)
            seen[rid] += 1
            stats.taps += 1
            if upload_every and i % upload_every == 0:
                await self._upload_online(stats, max_batch)
        await self._upload_online(stats, max_batch)
        for rid in sorted(self.flaky_readers):
            if rid in self.readers:
                self.readers[rid].come_online()
        await self._upload_online(stats, max_batch)
        stats.pending = sum(r.queue_depth for r in self.readers.values())
        return stats

    async def _upload_online(self, stats: SimulationStats, max_batch: int) -> None:
        readers = [r for r in self.readers.values() if r.online and r.queue_depth]
        results = await asyncio.gather(*(r.upload(max_batch) for r in readers))
        for result in results:
            stats.uploads += 1
            stats.acked += result.acked
            if result.error is not None:
                stats.gave_up += 1

    # -- live ----------------------------------------------------------------------

    async def run(
        self,
        duration_s: float,
        taps_per_s: float,
        *,
        now_fn: NowFn | None = None,
        sleep_fn: SleepFn | None = None,
        tick_s: float = 1.0,
        upload_every_s: float = 5.0,
        max_batch: int = MAX_BATCH,
    ) -> SimulationStats:
        """Drive the town live for ``duration_s`` seconds at about ``taps_per_s``.

        Taps are timestamped ``now_fn()``; a card's next tap comes only after it could
        have walked (or cycled) there. Flaky readers drop offline for a while, sometimes
        restart, and upload late. Each tick sleeps ``tick_s`` with ``sleep_fn``; the
        number of ticks is fixed (``duration_s / tick_s``), whatever the clock says.
        At the end every reader comes back online and uploads what it holds.
        """
        self._require_client()
        now_fn = now_fn or self._now
        sleep_fn = sleep_fn or self._sleep
        rng = self._live_rng
        if self._live_walkers is None:
            self._live_walkers = [self._walker(rng, uid) for uid in self._cards]
        walkers = self._live_walkers
        stats = SimulationStats()
        due: list[tuple[datetime, int, int]] = []  # (when, tie-breaker, walker index)
        for w in walkers:  # journeys of an earlier run() are over
            w.legs_left = 0
        busy: set[int] = set()
        counter = itertools.count()
        budget = 0.0
        burst = max(1.0, taps_per_s * tick_s * 3.0)
        ticks = max(1, math.ceil(duration_s / tick_s))
        since_upload = 0.0

        def schedule(i: int, now: datetime) -> None:
            w = walkers[i]
            if w.legs_left <= 0 or w.at is None:
                w.legs_left = 0
                busy.discard(i)
                return
            step = self._next_step(rng, w, w.at)
            if step is None:
                w.legs_left = 0
                busy.discard(i)
                return
            w.next_code = step[0]
            heapq.heappush(due, (now + timedelta(seconds=step[1]), next(counter), i))

        def do_tap(i: int, code: str, now: datetime) -> None:
            w = walkers[i]
            self.readers[self.reader_for[code]].tap(w.card_uid, now)
            stats.taps += 1
            w.previous, w.at = w.at, code
            w.legs_left -= 1

        for tick in range(ticks):
            now = now_fn()
            budget = min(burst, budget + taps_per_s * tick_s)
            while due and due[0][0] <= now and budget >= 1.0:
                _, _, i = heapq.heappop(due)
                code = walkers[i].next_code
                if code is not None and self.checkpoints[code].active_at(now):
                    do_tap(i, code, now)
                    budget -= 1.0
                    schedule(i, now)
                else:
                    walkers[i].legs_left = 0
                    busy.discard(i)
            if budget >= 1.0:
                active = self._active(now)
                idle = [i for i in range(len(walkers)) if i not in busy]
                while budget >= 1.0 and idle and active:
                    weights = [self._card_weights[j] for j in idle]
                    i = rng.choices(idle, weights=weights)[0]
                    idle.remove(i)
                    w = walkers[i]
                    w.at = w.previous = None
                    w.legs_left = self._journey_taps(rng)
                    busy.add(i)
                    do_tap(i, rng.choice(active), now)
                    budget -= 1.0
                    schedule(i, now)
            self._flaky_tick(rng, now, tick_s, stats)
            since_upload += tick_s
            if since_upload >= upload_every_s or tick == ticks - 1:
                since_upload = 0.0
                await self._upload_online(stats, max_batch)
            await sleep_fn(tick_s)

        for rid in sorted(self.flaky_readers):
            if rid in self.readers and not self.readers[rid].online:
                self.readers[rid].come_online()
        self._offline_until.clear()
        await self._upload_online(stats, max_batch)
        stats.pending = sum(r.queue_depth for r in self.readers.values())
        return stats

    def _flaky_tick(
        self, rng: random.Random, now: datetime, tick_s: float, stats: SimulationStats
    ) -> None:
        for rid in sorted(self.flaky_readers):
            reader = self.readers.get(rid)
            if reader is None:
                continue
            if reader.online:
                if rng.random() < tick_s / 300.0:  # about once every five minutes
                    reader.go_offline()
                    self._offline_until[rid] = now + timedelta(seconds=rng.uniform(30, 240))
                    stats.offline_periods += 1
            elif now >= self._offline_until.get(rid, now):
                if rng.random() < 0.3:
                    reader.restart()
                    stats.restarts += 1
                reader.come_online()

    # -- helpers for callers -------------------------------------------------------

    def all_taps(self) -> list[QueuedTap]:
        """Every tap any reader recorded (reader clock times), for checks."""
        return [t for r in self.readers.values() for t in r.history]

    def pending(self) -> dict[str, Sequence[QueuedTap]]:
        return {rid: r.queue for rid, r in self.readers.items() if r.queue_depth}
