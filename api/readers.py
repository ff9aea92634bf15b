"""Reader (box) uploads and heartbeats, signed with the reader's secret (docs/reader-protocol.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, BackgroundTasks, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Session
from api.errors import error_response, error_responses
from checkpoints.ingestion import (
    Unavailable,
    authenticate,
    ingest,
    parse_batch,
    parse_heartbeat,
    record_heartbeat,
)
from checkpoints.schemas import Heartbeat, HeartbeatAnswer, Rejected, TapBatch, TapsAnswer
from checkpoints.signing import SIGNATURE_HEADER
from kernel.db import utcnow
from kernel.db_errors import is_retryable, is_unavailable
from kernel.errors import TaptrailError
from kernel.logging import log

router = APIRouter(tags=["readers"])

T = TypeVar("T")
ATTEMPTS = 3  # a deadlocked or serialisation-failed transaction is run again this often


def server_now(request: Request) -> datetime:
    """The server's clock; tests may set ``app.state.clock`` to control it."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


async def _rollback(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception as exc:  # the connection may be gone; the pool discards it
        log.warning("readers.rollback_failed", error=str(exc))


async def in_transaction(
    request: Request, session: AsyncSession, work: Callable[[], Awaitable[T]]
) -> T:
    """Runs ``work`` and commits; a database outage becomes 503 with nothing stored."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with request.app.state.writing():
                value = await work()
                await session.commit()
            return value
        except TaptrailError:
            await _rollback(session)
            raise
        except Exception as exc:
            await _rollback(session)
            if is_retryable(exc) and attempt < ATTEMPTS:
                log.info("readers.retry", attempt=attempt, error=type(exc).__name__)
                continue
            if is_unavailable(exc) or is_retryable(exc):
                request.app.state.metrics.db_errors.inc()
                log.warning("readers.unavailable", error=str(exc)[:300])
                raise Unavailable(
                    "the database is unavailable: nothing was stored; retry with backoff"
                ) from None
            raise
    raise AssertionError("unreachable")


def _count(request: Request, result: Any, batch: Any, received_at: Any) -> None:
    metrics = request.app.state.metrics
    metrics.taps_received.labels("reader").inc(result.received)
    metrics.taps_accepted.labels("reader").inc(result.accepted)
    metrics.taps_duplicate.labels("reader").inc(result.duplicates)
    for _, reason in result.rejected:
        metrics.taps_rejected.labels(reason).inc()
    if result.accepted:
        # How late taps reach the server (a box offline for a day shows up here).
        for tap in batch.taps:
            metrics.scoring_lag.observe(max(0.0, (received_at - tap.tapped_at).total_seconds()))


async def publish(request: Request, game_id: int, delta: Any) -> None:
    """After the commit: score changes to the boards. A failure does not undo the answer:
    everything is stored, and boards can be rebuilt from the database."""
    try:
        await request.app.state.publish_scores(game_id, delta)
    except Exception as exc:
        log.warning("scores.publish_failed", game_id=game_id, error=str(exc)[:300])


def _body_doc(model: Any) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        },
        "parameters": [
            {
                "name": SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "description": "sha256=<hex of HMAC-SHA256(reader secret, raw request body)>",
                "schema": {"type": "string"},
            }
        ],
    }


_DESCRIBED = {
    401: error_response(
        "Missing or wrong signature, unknown or disabled reader (not said which)",
        "unauthorized",
        "the request is not signed by an enabled reader",
    ),
    413: error_response(
        "More than 500 taps, or a body over 256 KiB; nothing stored",
        "payload_too_large",
        "a batch holds at most 500 taps",
    ),
    422: error_response(
        "Malformed JSON, missing fields or wrong types; nothing stored",
        "validation_error",
        "nothing was stored: taps.0.tapped_at: Input should have timezone info",
        [{"field": "taps.0.tapped_at", "message": "Input should have timezone info"}],
    ),
    503: error_response(
        "The database is unavailable: nothing was stored; retry with backoff",
        "unavailable",
        "the database is unavailable: nothing was stored",
    ),
}
ERRORS = error_responses(_DESCRIBED)

Signature = Annotated[str | None, Header(alias=SIGNATURE_HEADER, include_in_schema=False)]


@router.post(
    "/readers/{reader_id}/taps",
    response_model=TapsAnswer,
    summary="Upload a signed batch of 1 to 500 taps (reader boxes)",
    description=(
        "Each tap's identity is (reader, boot, seq): sending it again is a `duplicate`; "
        "the same identity with other content is rejected as `conflict`. Per-tap rejections "
        "(`bad_card_uid`, `unknown_card`, `future_timestamp`, `conflict`) are kept for "
        "diagnosis; the rest of the batch still counts. If `sent_at` is more than 120 s "
        "from the server's clock, every `tapped_at` is shifted by the difference. The "
        "answer comes after everything is stored: delete every tap with seq <= `ack_seq`. "
        "Accepted taps are scored right after the answer (typically well within a second; "
        "`taptrail_scoring_delay_seconds` in /metrics)."
    ),
    responses=ERRORS,
    openapi_extra=_body_doc(TapBatch),
)
async def upload_taps(
    reader_id: str,
    request: Request,
    session: Session,
    after_answer: BackgroundTasks,
    signature: Signature = None,
) -> TapsAnswer:
    body = await request.body()
    received_at = server_now(request)
    box = request.app.state.secret_box

    async def work() -> Any:
        reader = await authenticate(session, reader_id, body, signature, box)
        batch = parse_batch(body)
        return await ingest(session, reader, batch, received_at=received_at), batch

    result, batch = await in_transaction(request, session, work)
    _count(request, result, batch, received_at)
    if result.games:
        # Runs after the answer is sent (in tests over ASGITransport: before it returns).
        after_answer.add_task(request.app.state.scorer.settle, result.games)
    return TapsAnswer(
        received=result.received,
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=[Rejected(seq=seq, reason=reason) for seq, reason in result.rejected],
        ack_seq=result.ack_seq,
        server_time=server_now(request),
    )


@router.post(
    "/readers/{reader_id}/heartbeat",
    response_model=HeartbeatAnswer,
    summary="Report a box's battery, firmware and queue (signed like uploads)",
    responses=error_responses(_DESCRIBED, 401, 422, 503),
    openapi_extra=_body_doc(Heartbeat),
)
async def heartbeat(
    reader_id: str, request: Request, session: Session, signature: Signature = None
) -> HeartbeatAnswer:
    body = await request.body()
    received_at = server_now(request)
    box = request.app.state.secret_box

    async def work() -> None:
        reader = await authenticate(session, reader_id, body, signature, box)
        beat = parse_heartbeat(body)
        await record_heartbeat(session, reader, beat, received_at=received_at)

    await in_transaction(request, session, work)
    return HeartbeatAnswer(server_time=server_now(request))
