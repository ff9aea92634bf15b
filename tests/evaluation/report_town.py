"""A prepared SQLite database for the report page: the Burnley demo town with its
(illustrative) deprivation and postcode files imported, 800 more players, three survey waves,
and an organiser token. Used by the browser test and handy for looking at the page:

    .venv/bin/python -m tests.evaluation.report_town /tmp/report.db   # prints the token
    TAPTRAIL_DATABASE_URL=sqlite+aiosqlite:////tmp/report.db .venv/bin/taptrail serve
"""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.tokens import create_token
from checkpoints.models import Reader, ReaderDay
from evaluation.importing import import_imd, import_postcodes
from evaluation.models import SurveyResponse, SurveyWave
from game.definition import validate
from game.instruments import chosen
from game.models import Game, HolderDay, HolderTotal, Team
from geo.models import LsoaArea
from kernel.db import make_engine, make_sessionmaker, utcnow
from kernel.scope import OPERATOR
from kernel.secrets_box import SecretBox
from organising.loading import apply_definition
from people.models import Holder, Player
from taptrail.demo import DEMO_IMD_FILE, DEMO_POSTCODES_FILE, load_demo_definition
from taptrail.demo.survey_answers import DemoPlayer, demo_answers
from taptrail.migrate import upgrade

SLUG = "burnley-demo"
EXTRA_PLAYERS = 800


async def prepare(path: Path, secret_key: str) -> str:
    """Create the database at ``path``; returns an organiser token."""
    url = f"sqlite+aiosqlite:///{path}"
    engine = make_engine(url)
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        async with sessions() as s:
            await import_imd(s, DEMO_IMD_FILE)
            await import_postcodes(s, DEMO_POSTCODES_FILE)
            await s.commit()
        async with sessions() as s:
            await apply_definition(
                s,
                validate(load_demo_definition()),
                box=SecretBox(secret_key),
                actor="test",
                scope=OPERATOR,
            )
            await s.commit()
        async with sessions() as s:
            return await _players_and_answers(s)
    finally:
        await engine.dispose()


async def _players_and_answers(s: AsyncSession) -> str:
    rng = random.Random(2027)
    game = await s.scalar(select(Game).where(Game.slug == SLUG))
    assert game is not None
    areas = list(await s.execute(select(LsoaArea.code, LsoaArea.imd_decile)))
    teams = list(await s.scalars(select(Team).where(Team.game_id == game.id)))
    weights = [3.0 if d <= 2 else 2.0 if d <= 4 else 1.0 for _, d in areas]
    holders = [Holder(game_id=game.id) for _ in range(EXTRA_PLAYERS)]
    s.add_all(holders)
    await s.flush()
    ages = ("5-11", "5-11", "5-11", "12-15", "25-44", "25-44", "45-64", "65+")
    for holder in holders:
        code, decile = rng.choices(areas, weights)[0]
        s.add(
            Player(
                game_id=game.id,
                holder_id=holder.id,
                age_band=rng.choice(ages),
                gender=rng.choice(("female", "male")),
                team_id=rng.choice(teams).id if rng.random() < 0.7 else None,
                lsoa_code=code,
                imd_decile=decile,
                imd_nation="england",
                deprivation_status="found",
            )
        )
    await s.flush()
    players = list(
        await s.execute(
            select(Player.id, Player.holder_id, Player.imd_decile, Player.age_band)
            .where(Player.game_id == game.id)
            .order_by(Player.id)
        )
    )
    # the demo's own answer model (every instrument of the demo game, by age)
    last_day = (game.ends_at - timedelta(days=1)).date()
    people = [
        DemoPlayer(pid, decile, band, game.starts_at.date()) for pid, _, decile, band in players
    ]
    await s.execute(
        insert(SurveyResponse),
        demo_answers(game.id, people, chosen(game.survey_instruments), last_day=last_day),
    )
    await _activity(s, game, [(holder, decile) for _, holder, decile, _ in players], rng)
    for wave in (1, 2, 3):
        s.add(SurveyWave(game_id=game.id, wave=wave, is_open=wave == 3, opened_at=utcnow()))
    token = await create_token(s, role="organiser", label="report page")
    await s.commit()
    return token


async def _activity(
    s: AsyncSession, game: Game, holders: list[tuple[int, int | None]], rng: random.Random
) -> None:
    """Tap days for the report's implementation blocks, written straight into the daily
    tables the scorer keeps (no taps are scored here): players from more deprived areas a
    little less often, every box heard from on most of the first 20 game days."""
    first = game.starts_at.date()
    days, totals = [], []
    for holder, decile in holders:
        n = min(20, int(rng.expovariate(1 / (3 + (decile or 5) * 0.6))))
        chosen_days = sorted(rng.sample(range(20), n))
        days += [
            {"game_id": game.id, "holder_id": holder, "local_date": first + timedelta(d)}
            | {"taps": 2, "counted_taps": 2, "legs": 1, "points": 10, "distance_m": 500.0}
            for d in chosen_days
        ]
        totals.append(
            {"game_id": game.id, "holder_id": holder, "taps": 2 * n, "counted_taps": 2 * n}
            | {"legs": n, "points": 10 * n, "distance_m": 500.0 * n}
        )
    if days:
        await s.execute(insert(HolderDay), days)
    await s.execute(insert(HolderTotal), totals)
    readers = list(await s.scalars(select(Reader.id).where(Reader.game_id == game.id)))
    await s.execute(
        insert(ReaderDay),
        [
            {"game_id": game.id, "reader_id": r, "local_date": first + timedelta(d), "taps": 5}
            for r in readers
            for d in range(20)
            if rng.random() < 0.9
        ],
    )


if __name__ == "__main__":  # pragma: no cover - a helper for people
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/taptrail-report.db")
    target.unlink(missing_ok=True)
    key = Fernet.generate_key().decode()
    print("TAPTRAIL_SECRET_KEY=" + key)
    print(asyncio.run(prepare(target, key)))
