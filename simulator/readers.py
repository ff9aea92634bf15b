"""Simulated readers (boxes) and a simulated town, for tests, benchmarks and the demo.

``SimulatedReader`` speaks docs/reader-protocol.md exactly, over an ``httpx.AsyncClient`` that
the caller passes in (``httpx.ASGITransport`` in tests, a real base URL for the demo or a
benchmark). Like a real box it:

- numbers its taps ``seq`` 1, 2, 3... within a ``boot``, and records ``tapped_at`` with its
  own (possibly wrong) clock;
- keeps every tap until the server acknowledges it (``ack_seq``), so a tap is never lost;
- retries ``503`` answers and connection errors with exponential backoff and jitter,
  within a bounded number of attempts and a bounded total delay, then gives up until the
  next upload (the taps stay queued);
- signs the raw body of every request with HMAC-SHA256 (``checkpoints.signing``).

``TownSimulation`` builds one reader per ``readers:`` entry of a parsed game definition
(``yaml.safe_load`` of a §2 file) and walks the definition's cards between nearby
checkpoints at walking to cycling speeds, with the odd repeat, long pause and lift in a
car. ``generate`` returns a deterministic list of taps for tests and benchmarks;
``deliver`` pushes such a list through the readers (some of them flaky); ``run`` drives a
live demo, timestamping taps "now".
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import json
import math
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx

from checkpoints.signing import SIGNATURE_HEADER, sign
from kernel.db import utcnow
from kernel.geodesy import haversine_m

__all__ = [
    "MAX_BATCH",
    "QueuedTap",
    "ReaderCounters",
    "RetryPolicy",
    "SimCheckpoint",
    "SimTap",
    "SimulatedReader",
    "SimulationStats",
    "TownSimulation",
    "UploadRejected",
    "UploadResult",
    "format_time",
    "parse_time",
]

SleepFn = Callable[[float], Awaitable[None]]
NowFn = Callable[[], datetime]

MAX_BATCH = 500  # taps per request allowed by docs/reader-protocol.md


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``; milliseconds only when there are any."""
    value = value.astimezone(UTC)
    # isoformat is several times cheaper than strftime; the simulator formats every tap.
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text[:-6] + "Z"  # "+00:00"


def parse_time(value: str | datetime) -> datetime:
    """An RFC 3339 string (``Z`` or an offset) or a datetime, as an aware UTC datetime."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        raise ValueError(f"time without an offset: {value!r}")
    return dt.astimezone(UTC)


def _tap_json(seq: int, card_uid: str, tapped_at: datetime) -> str:
    uid = json.dumps(card_uid)
    return f'{{"seq":{seq},"card_uid":{uid},"tapped_at":"{format_time(tapped_at)}"}}'


def _reader_time(value: datetime) -> datetime:
    """What a reader's clock stores: UTC, whole milliseconds."""
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


# ======================================================================================
# One reader
# ======================================================================================


@dataclass(frozen=True, slots=True)
class QueuedTap:
    """A tap as the reader stores it: its identity ``(boot, seq)`` and content."""

    boot: int
    seq: int
    card_uid: str
    tapped_at: datetime  # as the reader's own clock recorded it
    # The tap as JSON (``payload()`` encoded), rendered once when it is recorded: a box
    # stores its record then, and every upload attempt joins the stored records.
    record: str = field(compare=False, repr=False)

    def payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "card_uid": self.card_uid,
            "tapped_at": format_time(self.tapped_at),
        }


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in attempts and in total delay.

    The n-th retry waits ``d = min(max_delay_s, base_delay_s * 2**(n-1))`` scaled into
    ``[d * (1 - jitter), d]`` at random. An upload gives up (keeping its taps) after
    ``max_attempts`` requests or when the next wait would take the total past
    ``max_total_delay_s``.
    """

    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_total_delay_s: float = 120.0
    jitter: float = 0.5

    def delay(self, retry_number: int, rng: random.Random) -> float:
        d = min(self.max_delay_s, self.base_delay_s * 2 ** (retry_number - 1))
        return d * (1.0 - self.jitter * rng.random())


@dataclass
class ReaderCounters:
    """What happened to a reader's uploads. ``sent`` counts taps put on the wire
    (resends included); ``acked`` taps deleted after an ``ack_seq``."""

    sent: int = 0
    acked: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    retries: int = 0
    unavailable: int = 0  # 503 (or other 5xx / 429) answers
    connection_errors: int = 0
    unauthorized: int = 0
    gave_up: int = 0  # requests abandoned once the retry budget was spent
    heartbeats: int = 0


@dataclass(frozen=True)
class UploadResult:
    """Outcome of one ``SimulatedReader.upload()`` call."""

    batches: int  # requests answered 200
    sent: int  # taps in those requests
    acked: int  # taps deleted from the queue
    remaining: int  # taps still queued
    error: str | None = None  # offline, unauthorized, unavailable or no_progress

    @property
    def complete(self) -> bool:
        return self.remaining == 0


class UploadRejected(Exception):
    """The server refused a request for a reason retrying cannot fix (e.g. ``422``)."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"HTTP {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


class SimulatedReader:
    """A box on a lamppost: stores taps, uploads them in signed batches, never loses one.

    ``tap(card_uid, tapped_at)`` takes the *true* time of the tap; the reader records it
    as its own clock shows it (``tapped_at + clock_skew``), and ``sent_at`` is likewise
    ``now_fn() + clock_skew``. The server's correction (receive time - sent_at) then
    restores the true time.

    ``history`` keeps every tap recorded (for checking that none was lost), or only the
    last ``history_limit`` of them.
    """

    def __init__(
        self,
        reader_id: str,
        secret: str,
        client: httpx.AsyncClient,
        *,
        boot: int = 0,
        clock_skew: timedelta = timedelta(0),
        retry: RetryPolicy | None = None,
        sleep_fn: SleepFn = asyncio.sleep,
        now_fn: NowFn = utcnow,
        rng: random.Random | None = None,
        base_path: str = "/api/v1",
        history_limit: int | None = None,
    ) -> None:
        self.reader_id = reader_id
        self.secret = secret
        self.client = client
        self.clock_skew = clock_skew
        self.retry = retry or RetryPolicy()
        self.counters = ReaderCounters()
        self._boot = boot
        self._seq = 0
        self._online = True
        self._queue: list[QueuedTap] = []
        self._history: deque[QueuedTap] = deque(maxlen=history_limit)
        self._sleep = sleep_fn
        self._now = now_fn
        self._rng = rng or random.Random(reader_id)
        base = base_path.rstrip("/")
        self._taps_path = f"{base}/readers/{reader_id}/taps"
        self._heartbeat_path = f"{base}/readers/{reader_id}/heartbeat"

    # -- state ---------------------------------------------------------------------

    @property
    def boot(self) -> int:
        return self._boot

    @property
    def seq(self) -> int:
        """The seq of the last tap of the current boot (0 before the first)."""
        return self._seq

    @property
    def online(self) -> bool:
        return self._online

    @property
    def queue(self) -> tuple[QueuedTap, ...]:
        """Taps not yet acknowledged, oldest first."""
        return tuple(self._queue)

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def history(self) -> tuple[QueuedTap, ...]:
        """The taps this reader recorded, oldest first (all, or the last ``history_limit``)."""
        return tuple(self._history)

    def clock(self, true_time: datetime | None = None) -> datetime:
        """The reader's clock at ``true_time`` (default: now)."""
        return (true_time if true_time is not None else self._now()) + self.clock_skew

    # -- actions -------------------------------------------------------------------

    def tap(self, card_uid: str, tapped_at: datetime | None = None) -> QueuedTap:
        """Record a tap at true time ``tapped_at`` (default now) with the next seq."""
        self._seq += 1
        when = tapped_at if tapped_at is not None else self._now()
        at = _reader_time(self.clock(when))
        item = QueuedTap(self._boot, self._seq, card_uid, at, _tap_json(self._seq, card_uid, at))
        self._queue.append(item)
        self._history.append(item)
        return item

    def go_offline(self) -> None:
        """No network: taps keep accumulating, uploads and heartbeats do nothing."""
        self._online = False

    def come_online(self) -> None:
        self._online = True

    def restart(self) -> None:
        """A battery swap: boot+1 and seq restarts at 1. Un-acknowledged taps of the old
        boot stay queued with their old identity and are uploaded first."""
        self._boot += 1
        self._seq = 0

    async def upload(self, max_batch: int = MAX_BATCH) -> UploadResult:
        """Send queued taps in batches of at most ``max_batch`` (one boot per batch),
        deleting the acknowledged ones, until the queue is empty or the server cannot
        take more now. Offline, this does nothing."""
        if not self._online:
            return UploadResult(0, 0, 0, len(self._queue), "offline" if self._queue else None)
        batch_size = max(1, min(max_batch, MAX_BATCH))
        batches = sent = acked = 0
        error: str | None = None
        while self._queue:
            boot = self._queue[0].boot
            batch: list[QueuedTap] = []
            for item in self._queue:
                if item.boot != boot or len(batch) == batch_size:
                    break
                batch.append(item)

            def payload(boot: int = boot, batch: list[QueuedTap] = batch) -> bytes:
                # The same JSON as json.dumps of {"sent_at", "boot", "taps": [...]}, joined
                # from the taps' stored records rather than re-encoded on every attempt.
                taps = ",".join(t.record for t in batch)
                sent_at = format_time(self.clock())
                return f'{{"sent_at":"{sent_at}","boot":{boot},"taps":[{taps}]}}'.encode()

            response = await self._post(self._taps_path, payload, taps=len(batch))
            if response is None:
                error = "unavailable"
                break
            if response.status_code == 401:
                self.counters.unauthorized += 1
                error = "unauthorized"
                break
            if response.status_code == 413 and len(batch) > 1:
                batch_size = max(1, len(batch) // 2)
                continue
            if response.status_code != 200:
                raise UploadRejected(response.status_code, response.text)
            batches += 1
            sent += len(batch)
            removed = self._apply_answer(boot, response.json())
            acked += removed
            if removed == 0:
                error = "no_progress"  # the server kept everything back: try later
                break
        return UploadResult(batches, sent, acked, len(self._queue), error)

    async def heartbeat(
        self, battery_pct: int, firmware: str, queue_depth: int | None = None
    ) -> datetime | None:
        """Send a heartbeat; return the server's time, or None (offline or failed)."""
        if not self._online:
            return None
        depth = len(self._queue) if queue_depth is None else queue_depth

        def payload() -> dict[str, Any]:
            return {
                "sent_at": format_time(self.clock()),
                "battery_pct": battery_pct,
                "firmware": firmware,
                "queue_depth": depth,
            }

        response = await self._post(self._heartbeat_path, payload, taps=0)
        if response is None:
            return None
        if response.status_code == 401:
            self.counters.unauthorized += 1
            return None
        if response.status_code != 200:
            raise UploadRejected(response.status_code, response.text)
        self.counters.heartbeats += 1
        return parse_time(response.json()["server_time"])

    # -- internals -----------------------------------------------------------------

    def _apply_answer(self, boot: int, answer: Mapping[str, Any]) -> int:
        self.counters.accepted += int(answer.get("accepted", 0))
        self.counters.duplicates += int(answer.get("duplicates", 0))
        for rejection in answer.get("rejected") or ():
            self.counters.rejected[str(rejection.get("reason", "unknown"))] += 1
        ack_seq = answer.get("ack_seq")
        if ack_seq is None:
            return 0
        ack = int(ack_seq)
        before = len(self._queue)
        self._queue = [t for t in self._queue if not (t.boot == boot and t.seq <= ack)]
        removed = before - len(self._queue)
        self.counters.acked += removed
        return removed

    async def _post(
        self, path: str, payload: Callable[[], dict[str, Any] | bytes], *, taps: int
    ) -> httpx.Response | None:
        """POST a signed body, retrying 503/5xx/429 and connection errors. The body is
        rebuilt (new ``sent_at``) on every attempt. None when the retry budget is spent."""
        policy = self.retry
        waited = 0.0
        for attempt in range(1, max(1, policy.max_attempts) + 1):
            content = payload()
            if isinstance(content, bytes):
                body = content
            else:
                body = json.dumps(content, separators=(",", ":")).encode("utf-8")
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self.secret, body),
            }
            self.counters.requests += 1
            self.counters.sent += taps
            try:
                response = await self.client.post(path, content=body, headers=headers)
            except httpx.TransportError:
                self.counters.connection_errors += 1
            else:
                if response.status_code < 500 and response.status_code != 429:
                    return response
                self.counters.unavailable += 1
            if attempt >= policy.max_attempts:
                break
            delay = policy.delay(attempt, self._rng)
            if waited + delay > policy.max_total_delay_s:
                break
            waited += delay
            self.counters.retries += 1
            await self._sleep(delay)
        self.counters.gave_up += 1
        return None


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
