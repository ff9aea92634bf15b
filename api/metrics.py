"""Prometheus exposition at /api/v1/metrics (and /metrics, mounted by the app)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.app_state import app_state

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics of this server process",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"example": "taptrail_taps_received_total 3.0"}}}},
)
async def metrics(request: Request) -> Response:
    return Response(app_state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
