"""A small FastAPI app with the leaderboard routers, standing in for the real app in tests.

``build_app`` is used in-process (httpx ASGITransport); ``create_live_app`` is the uvicorn
factory for server subprocesses (memory runtime, or Redis when LB_TEST_REDIS_URL is set),
with control endpoints under /_test to publish changes.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response

from api import leaderboard, pages
from api.app_state import AppState, install
from api.board_lane import BoardReadLane
from api.family import board
from kernel.settings import Settings
from leaderboard.models import BoardChanges, BoardSnapshot, PlayerDelta, TeamDelta
from leaderboard.runtime import LeaderboardRuntime
from tests.leaderboard.lb_helpers import player, team

DEMO = "demo-town"


def demo_game(slug: str = DEMO) -> dict[str, Any]:
    """What GET /api/v1/games/{slug} answers (the lead's endpoint), for the map page."""
    cp = [
        ("BB001", "Queen's Park gates", 53.7893, -2.2368, ["park"]),
        ("BB002", "Library", 53.7890, -2.2480, []),
        ("BB003", "Towneley Hall", 53.7745, -2.2200, ["park", "heritage"]),
        ("BB004", "Canal basin <Weavers'>", 53.7880, -2.2560, ["canal"]),
        ("BB005", "Market square", 53.7895, -2.2420, []),
        ("BB006", "Scott Park", 53.7820, -2.2500, ["park"]),
        ("BB007", "Leisure centre", 53.7960, -2.2330, []),
        ("BB008", "Station", 53.7955, -2.2460, []),
    ]
    return {
        "slug": slug,
        "name": "Burnley Beats",
        "timezone": "Europe/London",
        "starts_at": "2027-05-01T00:00:00Z",
        "ends_at": "2027-06-12T00:00:00Z",
        "checkpoints": [
            {"code": c, "name": n, "lat": la, "lon": lo, "tags": t, "active": c != "BB006"}
            for c, n, la, lo, t in cp
        ],
        "campaigns": [
            {
                "code": "PARKS-WEEK",
                "name": "Double points in the parks",
                "multiplier": 2,
                "starts_at": "2027-05-15T00:00:00Z",
                "ends_at": "2027-05-22T00:00:00Z",
                "checkpoint_tags": ["park"],
                "checkpoints": [],
                "age_bands": [],
                "active_now": True,
            },
            {
                "code": "LIBRARY",
                "name": "Library lates",
                "multiplier": 3,
                "starts_at": "2027-06-01T00:00:00Z",
                "ends_at": "2027-06-02T00:00:00Z",
                "checkpoint_tags": [],
                "checkpoints": ["BB002"],
                "age_bands": [],
                "active_now": False,
            },
        ],
    }


def demo_snapshot() -> BoardSnapshot:
    teams = [
        team("ST-MARYS", 1240, name="St Mary's Primary", distance_m=182_400, members=31),
        team("HOLY-TRIN", 1180, name="Holy Trinity C of E", distance_m=171_050, members=28),
        team("CASTERTON", 960, name="Casterton Primary Academy", distance_m=150_900, members=19),
        team("ROSEGROVE", 960, name="Rosegrove Infants", distance_m=121_300, members=22),
        team("PARKRUN", 870, name="Burnley Parkrunners", kind="community", members=12),
        team("TURF-MOOR", 640, name="Turf Moor Walkers", kind="community", distance_m=99_000),
        team("COUNCIL", 520, name="Town Hall Strollers", kind="workplace", members=9),
        team("NHS", 410, name="Burnley General Night Shift", kind="workplace", members=4),
        team("SMITHS", 380, name="The Smiths <script>", kind="family", members=5),
        team("WHEELERS", 300, name="Padiham Wheelers", kind="other", members=3),
        team("LOWERHOUSE", 150, name="Lowerhouse Juniors", members=6),
        team("SHUTTLE", 90, name="Shuttleworth Bees", kind="community", members=2),
    ]
    players = [
        player("1", 320, nickname="Swift Fox", distance_m=41_700),
        player("2", 300, nickname="Brave Owl", distance_m=39_000),
        player("3", 300, nickname="Calm Otter", distance_m=39_000),
        player("4", 280, nickname="Secret Squirrel", public=False),
        player("5", 250, nickname="Happy Heron", distance_m=31_000),
    ]
    return BoardSnapshot.of(teams, players)


def build_app(
    runtime: LeaderboardRuntime,
    games: dict[str, dict[str, Any]],
    *,
    tiles_url: str | None = None,
    seed: dict[str, BoardSnapshot] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        for slug, snapshot in (seed or {}).items():
            await runtime.ensure_game(slug, _const(snapshot))
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(lifespan=lifespan)

    async def game_exists(slug: str) -> bool:
        return slug in games

    async def no_languages(slug: str) -> list[str] | None:
        return None  # the default: English and Welsh

    settings = Settings(map_tiles_url=None)
    settings.map_tiles_url = tiles_url  # unchecked: the test's own tile server is plain http
    absent = NotInThisApp()
    install(
        app,
        AppState(
            settings=settings,
            engine=absent,
            sessionmaker=absent,
            metrics=absent,
            secret_box=absent,
            redis=None,
            leaderboard=runtime,
            scorer=absent,
            writing=absent,
            publish_scores=absent,
            after_game_change=absent,
            repair_boards=absent,
            game_exists=game_exists,
            player_data_eraser=absent,
            game_languages=no_languages,
        ),
    )
    api = APIRouter(prefix="/api/v1")
    api.include_router(leaderboard.router)

    @api.get("/games/{slug}")
    async def describe(slug: str) -> Any:
        if slug not in games:
            return JSONResponse({"error": "not_found", "detail": "no game"}, status_code=404)
        return games[slug]

    app.include_router(api)
    app.include_router(pages.router)
    app.include_router(board.router)
    app.add_middleware(BoardReadLane, prefix="/api/v1")  # as the real app reads boards
    return app


class NotInThisApp:
    """Stands in for the collaborators the leaderboard routes never use (no database here)."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the leaderboard test app has no {name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the leaderboard test app has no database or scorer")


def _const(snapshot: BoardSnapshot) -> Any:
    async def load() -> BoardSnapshot:
        return snapshot

    return load


def create_live_app() -> FastAPI:
    """uvicorn factory: demo game seeded, plus /_test control endpoints."""
    redis_url = os.environ.get("LB_TEST_REDIS_URL") or None
    runtime = LeaderboardRuntime(redis_url, key_prefix=os.environ.get("LB_TEST_KEY_PREFIX", "tt"))
    games = {DEMO: demo_game()}
    app = build_app(
        runtime,
        games,
        tiles_url=os.environ.get("LB_TEST_TILES_URL") or None,
        seed={DEMO: demo_snapshot()},
    )

    @app.get("/_test/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "subscribers": runtime.broadcaster.subscriber_count()}

    @app.post("/_test/apply/{slug}")
    async def apply(slug: str, body: dict[str, Any]) -> dict[str, int]:
        changes = BoardChanges(
            teams=[TeamDelta(**t) for t in body.get("teams", [])],
            players=[PlayerDelta(**p) for p in body.get("players", [])],
        )
        return {"version": await runtime.publish_changes(slug, changes)}

    @app.get("/_test/tiles/{z}/{x}/{y}.png")
    async def tile(z: int, x: int, y: int) -> Response:
        return Response(tile_png(x + y), media_type="image/png")

    @app.post("/_test/kick")
    async def kick() -> dict[str, int]:
        return {"closed": runtime.broadcaster.disconnect_all()}

    return app


def tile_png(seed: int) -> bytes:
    """A plain 256 px map-like tile (pale land, faint streets) made without any library."""
    base = (233, 238, 226) if seed % 2 else (226, 233, 220)
    rows = []
    for py in range(256):
        row = bytearray([0])
        for px in range(256):
            street = px % 64 in (0, 1) or py % 64 in (0, 1)
            row += bytes((250, 250, 246) if street else base)
        rows.append(bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )
