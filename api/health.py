"""Liveness and dependency reachability."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.app_state import app_state

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="Database and Redis reachability",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"status": "ok", "database": "ok", "redis": "not configured"}
                }
            }
        },
        503: {"description": "A dependency is unreachable"},
    },
)
async def healthz(request: Request) -> JSONResponse:
    state = app_state(request)
    body: dict[str, Any] = {"status": "ok"}
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        body["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        body["database"] = f"unreachable: {type(exc).__name__}"
        body["status"] = "degraded"
    redis = state.redis
    if redis is None:
        body["redis"] = "not configured"
    else:
        try:
            await redis.ping()
            body["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            body["redis"] = f"unreachable: {type(exc).__name__}"
            body["status"] = "degraded"
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
