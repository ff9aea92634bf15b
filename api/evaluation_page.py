"""The evaluation report's page for a council officer (``/games/{slug}/report``) and its
assets: a static page that reads the report from the API with a pasted token, or with the
console's session (``report_html``)."""

from __future__ import annotations

import html
from pathlib import Path as FsPath

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.app_state import app_state

pages_router = APIRouter(include_in_schema=False)

STATIC_DIR = FsPath(__file__).resolve().parent.parent / "evaluation" / "static"
ASSET_ROUTE = "/static/evaluation"
_MEDIA = {".js": "text/javascript", ".css": "text/css"}
_ASSETS = {p.name: p for p in STATIC_DIR.glob("*") if p.suffix in _MEDIA}

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


@pages_router.get("/games/{slug}/report", response_class=HTMLResponse)
async def report_page(request: Request, slug: str) -> Response:
    """The evaluation report for a council officer: paste a token (kept in this tab only)."""
    return await report_html(request, slug)


async def report_html(request: Request, slug: str, *, session_url: str = "") -> Response:
    """The report page; with ``session_url`` (the console) it reads the report from that
    address with the signed-in session's cookie instead of asking for a token."""
    exists = await app_state(request).game_exists(slug)
    if not exists:
        body = (
            "<!doctype html><meta charset=utf-8><title>Not found</title>"
            f"<p>There is no game called “{html.escape(slug)}”.</p>"
        )
        return HTMLResponse(body, status_code=404)
    root = request.scope.get("root_path", "")
    text = (STATIC_DIR / "report.html").read_text(encoding="utf-8")
    values = {
        "slug": slug,
        "api": f"{root}/api/v1",
        "assets": f"{root}{ASSET_ROUTE}",
        "session": session_url,
    }
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return HTMLResponse(
        text,
        headers={
            "Content-Security-Policy": _CSP,
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@pages_router.get(ASSET_ROUTE + "/{name}")
async def report_asset(name: str) -> Response:
    path = _ASSETS.get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        path,
        media_type=_MEDIA[path.suffix],
        headers={"Cache-Control": "no-cache"},
    )
