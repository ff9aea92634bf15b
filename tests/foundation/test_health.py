from __future__ import annotations

import httpx


async def test_healthz_reports_dependencies(client: httpx.AsyncClient, backend: str) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == ("ok" if backend == "postgres" else "not configured")


async def test_docs_and_schema(client: httpx.AsyncClient, backend: str) -> None:
    assert (await client.get("/docs")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert "/api/v1/admin/games/{slug}" in schema["paths"]
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            assert op.get("summary"), f"{method.upper()} {path} has no summary"


async def test_errors_are_json(client: httpx.AsyncClient, backend: str) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_body_size_limit(client: httpx.AsyncClient, backend: str) -> None:
    response = await client.post("/api/v1/games", content=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
