"""A simulated reader (box), for tests, benchmarks and the demo.

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
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from checkpoints.signing import SIGNATURE_HEADER, sign
from kernel.db import utcnow

__all__ = [
    "MAX_BATCH",
    "QueuedTap",
    "ReaderCounters",
    "RetryPolicy",
    "SimulatedReader",
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
