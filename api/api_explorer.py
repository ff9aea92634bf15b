"""The interactive API reference at ``/docs``, served entirely by this server.

Swagger UI is vendored at a pinned version (``api/static/vendor/swagger-ui-dist-<version>``,
from the npm package ``swagger-ui-dist``, with its licence), not loaded from a CDN, so the
page works inside a council network with no internet access. Version 5 or later is needed:
FastAPI describes the API as OpenAPI 3.1. The page's own start-up code is a
static file too, so its Content-Security-Policy allows scripts and styles from this server
only (``'self'``), with no inline code.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

ASSETS = "/docs-assets"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Only the files the page uses: the bundle's folder also holds source maps and demos.
SWAGGER_UI = Path(__file__).parent / "static" / "vendor" / "swagger-ui-dist-5.35.0"
_FILES = {
    "swagger-ui-bundle.js": SWAGGER_UI / "swagger-ui-bundle.js",
    "swagger-ui.css": SWAGGER_UI / "swagger-ui.css",
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
