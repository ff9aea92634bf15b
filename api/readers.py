"""Reader (box) uploads and heartbeats, signed with the reader's secret (docs/reader-protocol.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Request

from api.app_state import app_state
from api.deps import Now, Session
from api.errors import error_response, error_responses
from api.transaction import Tx
from checkpoints.ingestion import (
    authenticate,
    authenticate_upload,
    ingest,
    parse_batch,
    parse_heartbeat,
    record_heartbeat,
)
from checkpoints.schemas import Heartbeat, HeartbeatAnswer, Rejected, TapBatch, TapsAnswer
from checkpoints.signing import SIGNATURE_HEADER

router = APIRouter(tags=["readers"])


def _count(request: Request, result: Any, batch: Any, received_at: Any) -> None:
    metrics = app_state(request).metrics
    metrics.taps_received.labels("reader").inc(result.received)
    metrics.taps_accepted.labels("reader").inc(result.accepted)
    metrics.taps_duplicate.labels("reader").inc(result.duplicates)
    for _, reason in result.rejected:
        metrics.taps_rejected.labels(reason).inc()
    if result.accepted:
        # How late taps reach the server (a box offline for a day shows up here).
        for tap in batch.taps:
            metrics.scoring_lag.observe(max(0.0, (received_at - tap.tapped_at).total_seconds()))


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
    tx: Tx,
    received_at: Now,
    after_answer: BackgroundTasks,
    signature: Signature = None,
) -> TapsAnswer:
    body = await request.body()
    box = app_state(request).secret_box

    async def work() -> Any:
        reader, placements = await authenticate_upload(session, reader_id, body, signature, box)
        batch = parse_batch(body)
        result = await ingest(
            session, reader, batch, received_at=received_at, placements=placements
        )
        return result, batch

    result, batch = await tx.run(work)
    _count(request, result, batch, received_at)
    if result.games:
        # Runs after the answer is sent (in tests over ASGITransport: before it returns).
        after_answer.add_task(app_state(request).scorer.settle, result.games)
    return TapsAnswer(
        received=result.received,
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=[Rejected(seq=seq, reason=reason) for seq, reason in result.rejected],
        ack_seq=result.ack_seq,
        server_time=received_at,
    )


@router.post(
    "/readers/{reader_id}/heartbeat",
    response_model=HeartbeatAnswer,
    summary="Report a box's battery, firmware and queue (signed like uploads)",
    responses=error_responses(_DESCRIBED, 401, 422, 503),
    openapi_extra=_body_doc(Heartbeat),
)
async def heartbeat(
    reader_id: str,
    request: Request,
    session: Session,
    tx: Tx,
    received_at: Now,
    signature: Signature = None,
) -> HeartbeatAnswer:
    body = await request.body()
    box = app_state(request).secret_box

    async def work() -> None:
        reader = await authenticate(session, reader_id, body, signature, box)
        beat = parse_heartbeat(body)
        await record_heartbeat(session, reader, beat, received_at=received_at)

    await tx.run(work)
    return HeartbeatAnswer(server_time=received_at)
