"""The interactive API reference at ``/docs``, served entirely by this server.

Swagger UI comes from the pinned ``swagger-ui-bundle`` package, not from a CDN, so the page
works inside a council network with no internet access. The page's own start-up code is a
static file too, so its Content-Security-Policy allows scripts and styles from this server
only (``'self'``), with no inline code.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs-assets"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Only the files the page uses: the bundle's folder also holds source maps and demos.
_FILES = {
    "swagger-ui-bundle.js": Path(str(swagger_ui_path)) / "swagger-ui-bundle.js",
    "swagger-ui.css": Path(str(swagger_ui_path)) / "swagger-ui.css",
    "start.js": Path(__file__).parent / "static" / "api-explorer.js",
}
_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Taptrail API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" data-openapi="/openapi.json">
<noscript><p>The interactive reference needs JavaScript. The API description itself is
<a href="/openapi.json">/openapi.json</a>.</p></noscript>
</main>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/start.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def explorer() -> HTMLResponse:
    return HTMLResponse(_PAGE, headers={"Content-Security-Policy": CSP})


@router.get(ASSETS + "/{name}")
async def asset(name: str) -> FileResponse:
    path = _FILES.get(name)
    if path is None:
        raise HTTPException(status_code=404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
