"""/docs works with no internet: every asset comes from this server, under a strict CSP."""

from __future__ import annotations

import re

import httpx


async def test_docs_page_loads_nothing_from_elsewhere(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "<script>" not in page.text  # no inline code for the CSP to allow
    for source in sources:
        if source.startswith("/docs-assets/"):
            asset = await client.get(source)
            assert asset.status_code == 200 and len(asset.content) > 100, source


async def test_unknown_assets_are_not_served(client: httpx.AsyncClient) -> None:
    for name in ("swagger-ui-bundle.js.map", "..%2F..%2Fpyproject.toml", "index.html"):
        assert (await client.get(f"/docs-assets/{name}")).status_code == 404


async def test_openapi_is_still_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Taptrail"
