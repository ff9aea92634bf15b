"""Signed reader uploads (docs/reader-protocol.md): checking, storing and scoring batches of taps.

One upload is one transaction, run by the caller (the endpoint commits, then publishes):

1. ``authenticate`` locks the reader row and checks that the reader exists, is enabled
   and signed the raw body (401 otherwise, without saying which). The lock makes a
   reader's uploads run one at a time, so its identities ``(reader, boot, seq)`` are
   checked and stored race-free.
2. ``parse_batch``: 413 over 500 taps, 422 for anything malformed.
3. ``ingest`` corrects the clock, sorts each tap into duplicate / conflict / bad_timestamp /
   bad_card_uid / future_timestamp / unknown_card / accepted, stores the accepted taps
   (outcome still null) and the rejections with one set-based statement each, and updates
   the box's health. A tap whose time, after correction, is before 2000-01-01 or exists in
   no calendar (``kernel.times``) is rejected alone as bad_timestamp (future_timestamp
   when it lies beyond the calendar's end): its batch still counts.

The answer does not wait for scoring: after the commit the endpoint hands the games to the
process's scorer (``scoring.scorer``), which scores pending taps in coalesced rounds. An
upload takes no lock but its reader's, so uploads of different boxes never queue behind
each other or behind scoring.
"""

from __future__ import annotations

import weakref
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints import repository as repo
from checkpoints.models import Reader, ReaderHeartbeat
from checkpoints.schemas import MAX_TAPS, Heartbeat, TapBatch
from checkpoints.signing import verify
from kernel.errors import Invalid, TaptrailError, Unauthorized
from kernel.secrets_box import SecretBox
from kernel.times import EARLIEST, LATEST, to_utc
from kernel.uids import normalise_uid

CLOCK_TOLERANCE = timedelta(seconds=120)
FUTURE_TOLERANCE = timedelta(minutes=5)

BAD_CARD_UID = "bad_card_uid"
UNKNOWN_CARD = "unknown_card"
FUTURE_TIMESTAMP = "future_timestamp"
BAD_TIMESTAMP = "bad_timestamp"
CONFLICT = "conflict"

AUTH_FAILED = "the request is not signed by an enabled reader"
# Unknown readers still cost one HMAC, so timing does not tell them from bad signatures.
_DECOY_SECRET = "decoy-" + "x" * 43


class PayloadTooLarge(TaptrailError):
    status = 413
    code = "payload_too_large"


class Unavailable(TaptrailError):
    status = 503
    code = "unavailable"


# ---------------------------------------------------------------- authentication

# Decrypted secrets, per server key, keyed by the stored ciphertext: a rotated secret has
# new ciphertext, and everything else about the reader is read fresh on every request.
_secrets: weakref.WeakKeyDictionary[SecretBox, dict[str, str]] = weakref.WeakKeyDictionary()


def reader_secret(box: SecretBox, sealed: str) -> str:
    cache = _secrets.setdefault(box, {})
    secret = cache.get(sealed)
    if secret is None:
        secret = box.open(sealed)
        if len(cache) >= 10_000:
            cache.clear()
        cache[sealed] = secret
    return secret


async def authenticate(
    session: AsyncSession, reader_id: str, body: bytes, signature: str | None, box: SecretBox
) -> Reader:
    """The reader whose secret signed ``body``, locked for this transaction
    (``repository.lock_reader``); 401 for any failure, saying not which.

    A request that fails here holds the lock only until the caller rolls back at once.
    """
    reader = await repo.lock_reader(session, reader_id)
    return _check(reader, body, signature, box)


async def authenticate_upload(
    session: AsyncSession, reader_id: str, body: bytes, signature: str | None, box: SecretBox
) -> tuple[Reader, list[repo.Placement]]:
    """``authenticate``, with the reader's placements read in the same round trip (for
    ``ingest``)."""
    reader, placements = await repo.lock_reader_placed(session, reader_id)
    return _check(reader, body, signature, box), placements


def _check(reader: Reader | None, body: bytes, signature: str | None, box: SecretBox) -> Reader:
    if reader is None:
        verify(_DECOY_SECRET, body, signature)
        raise Unauthorized(AUTH_FAILED)
    signed = verify(reader_secret(box, reader.secret_encrypted), body, signature)
    if not signed or reader.disabled:
        raise Unauthorized(AUTH_FAILED)
    return reader


# ---------------------------------------------------------------- parsing

M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        if any(e["type"] == "too_long" and tuple(e["loc"]) == ("taps",) for e in errors):
            raise PayloadTooLarge(f"a batch holds at most {MAX_TAPS} taps") from None
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in errors
        ]
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        raise Invalid(f"nothing was stored: {detail}", fields=fields) from None


def parse_batch(body: bytes) -> TapBatch:
    """413 for more than 500 taps; 422 (with the offending fields) for anything malformed."""
    return _parse(TapBatch, body)


def parse_heartbeat(body: bytes) -> Heartbeat:
    return _parse(Heartbeat, body)


# ---------------------------------------------------------------- identities


def source_key(reader_id: str, boot: int, seq: int) -> str:
    return f"{reader_id}/{boot}/{seq}"


def content_key(uid: str | None, raw_uid: str, raw_time: datetime) -> str:
    """What a tap said: its card (normalised when valid, else the raw text) and raw time
    (as sent when it has no UTC equivalent)."""
    card = uid if uid is not None else "?" + raw_uid[:80]
    at = to_utc(raw_time)
    if at is None:
        return f"{card}|{raw_time.isoformat()}"
    if at.year < 1000:  # strftime does not pad the year; keys already stored must match
        return f"{card}|{at:%Y-%m-%dT%H:%M:%S.%fZ}"
    # Every tap gets one: isoformat is several times cheaper than strftime, same text.
    return f"{card}|{at.isoformat(timespec='microseconds')[:-6]}Z"


def clock_offset(received_at: datetime, sent_at: datetime) -> tuple[float, timedelta]:
    """The reader's clock error in seconds, and the shift to apply (none within 120 s)."""
    offset = received_at - sent_at
    return offset.total_seconds(), offset if abs(offset) > CLOCK_TOLERANCE else timedelta(0)


def placement_at(placements: list[repo.Placement], when: datetime) -> repo.Placement:
    """The assignment with the latest ``valid_from <= when`` (null = from the start)."""
    chosen = placements[0]
    for p in placements:
        if p.valid_from is not None and p.valid_from > when:
            break
        chosen = p
    return chosen


# ---------------------------------------------------------------- ingestion

NEW, ACCEPTED, DUPLICATE, REJECTED = "new", "accepted", "duplicate", "rejected"


@dataclass(slots=True)
class _Item:
    seq: int
    key: str
    raw_uid: str
    uid: str | None
    raw: datetime | None  # None: no UTC equivalent (then ``at`` is None too)
    at: datetime | None  # None: the correction leaves the calendar
    content: str
    game_id: int
    checkpoint_id: int
    status: str = NEW
    reason: str | None = None
    detail: dict[str, Any] | None = None
    card_id: int = 0
    holder_id: int = 0
    bad_time: str | None = None  # see ``_bad_time``

    def reject(self, reason: str, detail: dict[str, Any] | None = None) -> None:
        self.status, self.reason, self.detail = REJECTED, reason, detail


@dataclass
class BatchResult:
    received: int
    accepted: int
    duplicates: int
    rejected: list[tuple[int, str]]
    ack_seq: int
    # Games whose taps were stored now: they have taps for the scorer.
    games: list[int] = field(default_factory=list)


def _stored_contents(rows: list[Any]) -> dict[str, str]:
    return {
        r.key: r.content if r.content is not None else content_key(r.uid, r.uid, r.raw)
        for r in rows
    }


def _classify_identity(item: _Item, prior: str | None) -> bool:
    """Duplicate or conflict when the identity is already taken; True if it was."""
    if prior is None:
        return False
    if prior == item.content:
        item.status = DUPLICATE
    else:
        item.reject(CONFLICT, {"stored": prior})
    return True


async def ingest(
    session: AsyncSession,
    reader: Reader,
    batch: TapBatch,
    *,
    received_at: datetime,
    placements: list[repo.Placement],
) -> BatchResult:
    """Stores one batch of a reader that ``authenticate_upload`` returned (and locked) in
    the same transaction, with the placements it read; the accepted taps are scored after
    the commit (``scoring.scorer``)."""
    placements = placements or [repo.Placement(None, reader.game_id, reader.checkpoint_id)]
    offset_s, shift = clock_offset(received_at, batch.sent_at)
    items = _prepare(reader.id, batch, shift, placements)
    game_ids = sorted({p.game_id for p in placements})

    # Only taps at or below the reader's mark for this boot can have been stored before.
    marks = dict(reader.seq_marks or {})
    mark = marks.get(str(batch.boot), -1)
    maybe_stored = [i.key for i in items if i.seq <= mark]
    stored = _stored_contents(await repo.stored_under(session, game_ids, maybe_stored))
    horizon = received_at + FUTURE_TOLERANCE
    first: dict[str, str] = {}
    for item in items:
        if _classify_identity(item, stored.get(item.key) or first.get(item.key)):
            continue
        first[item.key] = item.content
        if item.bad_time is not None:
            item.reject(item.bad_time)
        elif item.uid is None:
            item.reject(BAD_CARD_UID)
        elif item.at is None or item.at > horizon:  # (None: never, bad_time said so)
            item.reject(FUTURE_TIMESTAMP)
    await _resolve_cards(session, items)

    candidates = [i for i in items if i.status == ACCEPTED]
    inserted = await repo.insert_taps(
        session, [_tap_row(i, reader.id, batch.boot, received_at) for i in candidates]
    )
    if len(inserted) < len(candidates):
        await _settle_not_inserted(session, candidates, inserted)
    accepted = [i for i in items if i.status == ACCEPTED]
    rejected = [i for i in items if i.status == REJECTED]
    new_rejections = await repo.insert_rejections(
        session, [_rejection_row(i, reader.id, batch.boot, received_at) for i in rejected]
    )

    game_ids = sorted({i.game_id for i in accepted})
    known = {p.game_id: p.timezone for p in placements if p.timezone is not None}
    zones = {gid: known.get(gid) or await repo.game_timezone(session, gid) for gid in game_ids}
    await repo.add_reader_days(session, _day_counts(reader.id, accepted, zones))

    if accepted or new_rejections:
        # Only news counts as contact: a captured upload sent again changes nothing, not
        # even the box's health (it must not make a dead or stolen box look alive).
        _update_health(reader, items, received_at, offset_s, new_rejections)
    marks[str(batch.boot)] = max(mark, max(i.seq for i in items))
    reader.seq_marks = marks
    return BatchResult(
        received=len(items),
        accepted=len(accepted),
        duplicates=sum(1 for i in items if i.status == DUPLICATE),
        rejected=[(i.seq, i.reason or "") for i in rejected],
        ack_seq=max(i.seq for i in items),
        games=game_ids,
    )


def _prepare(
    reader_id: str, batch: TapBatch, shift: timedelta, placements: list[repo.Placement]
) -> list[_Item]:
    items = []
    for tap in batch.taps:
        raw = to_utc(tap.tapped_at)
        at = _corrected(raw, shift)
        bad_time = _bad_time(tap.tapped_at, raw, at, shift)
        uid = normalise_uid(tap.card_uid)
        # A time off the calendar counts where the box stood at that end of the window.
        place = placement_at(
            placements, at or (LATEST if bad_time == FUTURE_TIMESTAMP else EARLIEST)
        )
        items.append(
            _Item(
                seq=tap.seq,
                key=source_key(reader_id, batch.boot, tap.seq),
                raw_uid=tap.card_uid,
                uid=uid,
                raw=raw,
                at=at,
                content=content_key(uid, tap.card_uid, raw or tap.tapped_at),
                game_id=place.game_id,
                checkpoint_id=place.checkpoint_id,
                bad_time=bad_time,
            )
        )
    return items


def _corrected(raw: datetime | None, shift: timedelta) -> datetime | None:
    if raw is None:
        return None
    try:
        return raw + shift
    except OverflowError:
        return None


def _bad_time(
    sent: datetime, raw: datetime | None, at: datetime | None, shift: timedelta
) -> str | None:
    """The rejection a tap's time alone earns: bad_timestamp before 2000 (or before the
    calendar's start), future_timestamp past its end; None when the time can be judged
    against the server's clock (``ingest``)."""
    if at is not None:
        return BAD_TIMESTAMP if at < EARLIEST else None
    late = sent > LATEST if raw is None else shift > timedelta(0)
    return FUTURE_TIMESTAMP if late else BAD_TIMESTAMP


async def _resolve_cards(session: AsyncSession, items: list[_Item]) -> None:
    by_game: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        if item.status == NEW:
            by_game[item.game_id].append(item)
    for game_id, group in by_game.items():
        cards = await repo.cards_by_uid(session, game_id, [i.uid or "" for i in group])
        for item in group:
            card = cards.get(item.uid or "")
            if card is None:
                item.reject(UNKNOWN_CARD)
            else:
                item.status = ACCEPTED
                item.card_id, item.holder_id = card


async def _settle_not_inserted(
    session: AsyncSession, candidates: list[_Item], inserted: set[tuple[int, str]]
) -> None:
    """Defensive: an identity stored meanwhile by someone else is a duplicate or conflict."""
    missing = [i for i in candidates if (i.game_id, i.key) not in inserted]
    rows = await repo.stored_under(
        session, sorted({i.game_id for i in missing}), [i.key for i in missing]
    )
    stored = _stored_contents(rows)
    for item in missing:
        if not _classify_identity(item, stored.get(item.key)):
            item.reject(CONFLICT, {"stored": None})


def _tap_row(item: _Item, reader_id: str, boot: int, received_at: datetime) -> dict[str, Any]:
    return {
        "game_id": item.game_id,
        "source": "reader",
        "source_key": item.key,
        "reader_id": reader_id,
        "boot": boot,
        "seq": item.seq,
        "card_id": item.card_id,
        "holder_id": item.holder_id,
        "checkpoint_id": item.checkpoint_id,
        "card_uid": item.uid,
        "tapped_at_raw": item.raw,
        "tapped_at": item.at,
        "received_at": received_at,
        "points": 0,
        "distance_m": 0.0,
    }


def _rejection_row(item: _Item, reader_id: str, boot: int, received_at: datetime) -> dict[str, Any]:
    return {
        "game_id": item.game_id,
        "source": "reader",
        "reader_id": reader_id,
        "boot": boot,
        "seq": item.seq,
        "card_uid_raw": item.raw_uid[:80],
        "tapped_at_raw": item.raw,
        "tapped_at": item.at,
        "reason": item.reason,
        "received_at": received_at,
        "detail": item.detail,
        "source_key": item.key,
        "content_key": item.content,
    }


def _day_counts(
    reader_id: str, accepted: list[_Item], timezones: dict[int, str | None]
) -> Counter[tuple[int, str, date]]:
    zones = {gid: ZoneInfo(tz) for gid, tz in timezones.items() if tz is not None}
    return Counter(
        (i.game_id, reader_id, i.at.astimezone(zones[i.game_id]).date())
        for i in accepted
        if i.game_id in zones and i.at is not None
    )


def _update_health(
    reader: Reader,
    items: list[_Item],
    received_at: datetime,
    offset_s: float,
    new_rejections: list[str],
) -> None:
    reader.last_upload_at = received_at
    reader.clock_offset_s = offset_s
    # A box works when cards are tapped on it, whether or not they are in the game.
    tapped = [
        i.at
        for i in items
        if i.at is not None and (i.status == ACCEPTED or i.reason in (BAD_CARD_UID, UNKNOWN_CARD))
    ]
    if tapped:
        latest = max(tapped)
        if reader.last_tap_at is None or reader.last_tap_at < latest:
            reader.last_tap_at = latest
    conflicts = new_rejections.count(CONFLICT)
    if conflicts:
        reader.conflicts = (reader.conflicts or 0) + conflicts


async def record_heartbeat(
    session: AsyncSession, reader: Reader, heartbeat: Heartbeat, *, received_at: datetime
) -> bool:
    """Records a heartbeat; False (and nothing changes) for a replay. Heartbeats carry no
    sequence number, so ``sent_at`` is what stops a captured heartbeat, sent again, from
    making a dead box look alive: a heartbeat is a replay when its ``sent_at`` is not later
    than the mark (the latest recorded ``sent_at`` that was not ahead of the server's
    clock) or is exactly that of a heartbeat already recorded.

    A ``sent_at`` more than ``CLOCK_TOLERANCE`` ahead of ``received_at`` (a box whose clock
    runs ahead, or an absurd time) still counts for its readings, and the box is flagged
    clock skewed by its offset, but it does not move the mark: the box's later, honest
    heartbeats count again once it sets its clock from the answer's ``server_time``. A box
    whose clock went back is heard again the same way."""
    game_id, sent_at = reader.game_id, heartbeat.sent_at
    mark = await repo.heartbeat_mark(session, game_id, reader.id)
    if mark is not None and sent_at <= mark:
        return False
    if await repo.heartbeat_sent_at_recorded(session, game_id, reader.id, sent_at):
        return False
    session.add(
        ReaderHeartbeat(
            game_id=game_id,
            reader_id=reader.id,
            received_at=received_at,
            sent_at=sent_at,
            battery_pct=heartbeat.battery_pct,
            firmware=heartbeat.firmware,
            queue_depth=heartbeat.queue_depth,
            clock_ahead=sent_at > received_at + CLOCK_TOLERANCE,
        )
    )
    reader.last_heartbeat_at = received_at
    reader.battery_pct = heartbeat.battery_pct
    reader.firmware = heartbeat.firmware
    reader.queue_depth = heartbeat.queue_depth
    reader.clock_offset_s = clock_offset(received_at, sent_at)[0]
    return True
