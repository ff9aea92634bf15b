"""The Burnley demo town for export tests: its 200 registered players with the deciles of the
demo's (illustrative) deprivation and postcode files, and seeded daily activity, under a slug of
the test's own. The reference files are read here, not imported, so the shared reference tables
of the test database are left alone."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, select

from api.app_state import state_of
from game.definition import validate
from game.models import HolderDay, HolderTotal
from kernel.scope import OPERATOR
from organising.loading import apply_definition
from people.models import Player
from taptrail.demo import DEMO_IMD_FILE, DEMO_POSTCODES_FILE, load_demo_definition
from tests.evaluation.eval_helpers import EGame, add_answers, answer, existing_game

START = date(2027, 5, 1)


def _demo_deciles() -> dict[str, int]:
    """postcode (no spaces, upper case) -> IMD decile, from the demo's sample files."""
    with DEMO_IMD_FILE.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        col = next(
            i for i, h in enumerate(header) if h.startswith("Index of Multiple") and "Decile" in h
        )
        decile = {row[0]: int(row[col]) for row in reader}
    with DEMO_POSTCODES_FILE.open(encoding="utf-8", newline="") as fh:
        return {
            r["pcd"].replace(" ", "").upper(): decile[r["lsoa11"]]
            for r in csv.DictReader(fh)
            if r["lsoa11"] in decile
        }


def demo_quintiles() -> dict[str, int | None]:
    """nickname -> IMD quintile of the demo's registered players."""
    deciles = _demo_deciles()
    out: dict[str, int | None] = {}
    for p in load_demo_definition()["players"]:
        decile = deciles.get(p["postcode"].replace(" ", "").upper())
        out[p["nickname"]] = (decile + 1) // 2 if decile else None
    return out


def activity(rng: random.Random, days: int) -> list[dict[str, Any]]:
    out = []
    for i in sorted(rng.sample(range(42), days)):
        legs = rng.choice((0, 1, 1, 2, 2, 3, 4, 6))
        double = rng.random() < 0.1
        out.append(
            {
                "local_date": START + timedelta(days=i),
                "taps": legs + 1,
                "counted_taps": legs + 1,
                "legs": legs,
                "points": legs * (20 if double else 10),
                "distance_m": round(legs * rng.uniform(500.0, 1300.0), 1),
            }
        )
    return out


async def demo_town(client: httpx.AsyncClient, app: FastAPI, organiser: str, slug: str) -> EGame:
    data = load_demo_definition()
    data["game"]["slug"] = slug
    data["readers"] = []
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await apply_definition(
            s, validate(data), box=state_of(app).secret_box, actor="test", scope=OPERATOR
        )
        await s.commit()
    game = await existing_game(app, slug, organiser)
    deciles = _demo_deciles()
    postcodes = {p["nickname"]: p["postcode"].replace(" ", "").upper() for p in data["players"]}
    rng = random.Random(2026)
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        players = list(
            await s.scalars(select(Player).where(Player.game_id == game.id).order_by(Player.id))
        )
        days_rows: list[dict[str, Any]] = []
        totals: list[dict[str, Any]] = []
        for p in players:
            decile = deciles.get(postcodes.get(p.nickname or "", ""))
            p.imd_decile, p.imd_nation = decile, "england" if decile else None
            p.deprivation_status = "found" if decile else "not_found"
            if rng.random() < 0.15:
                continue  # registered, never played
            rows = activity(rng, min(42, 1 + int(rng.expovariate(1 / 6))))
            for r in rows:
                r.update(game_id=game.id, holder_id=p.holder_id)
            days_rows += rows
            totals.append(
                {
                    "game_id": game.id,
                    "holder_id": p.holder_id,
                    **{
                        f: sum(r[f] for r in rows)
                        for f in ("taps", "counted_taps", "legs", "points")
                    },
                    "distance_m": sum(r["distance_m"] for r in rows),
                }
            )
        await s.execute(insert(HolderDay), days_rows)
        await s.execute(insert(HolderTotal), totals)
        await s.commit()
    # survey answers, some items unanswered (nulls in every format)
    await add_answers(
        app,
        [
            answer(p.id, 1, game.id, activity=n % 8, belonging="fairly", nature=[5, 6, 7, 5])
            for n, p in enumerate(players)
            if n % 3
        ],
    )
    await state_of(app).after_game_change(game.id)
    return game


async def public_board(client: httpx.AsyncClient, slug: str) -> list[dict[str, Any]]:
    """Everything the public players board shows: nickname, points, distance_km."""
    entries: list[dict[str, Any]] = []
    while True:
        response = await client.get(
            f"/api/v1/games/{slug}/leaderboards/players?limit=100&offset={len(entries)}"
        )
        assert response.status_code == 200, response.text
        page = response.json()["entries"]
        entries += page
        if len(page) < 100:
            return entries
