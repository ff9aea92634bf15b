"""A game's current definition file, made from the database (the Set-up page's download).

It holds the game and its rules, checkpoints, readers, teams and campaigns, in the format
``game.definition`` reads, with times in the game's local time. It leaves out what is
personal or secret: cards and players (registrations) and reader secrets. Loading it back
changes nothing: the loader keeps entries a file leaves out, and keeps a reader's secret
when the file gives none.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints import repository as checkpoint_repo
from game.definition import RulesDef
from game.models import Game
from organising import repository as repo

HEADER = (
    "# The game file of {slug}, made from the server on {made}.\n"
    "# Cards, players and reader secrets are left out on purpose; loading this file keeps\n"
    "# them as they are.\n"
)


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


async def definition_of(session: AsyncSession, game: Game) -> dict[str, Any]:
    zone = ZoneInfo(game.timezone)
    rules = {name: getattr(game, name) for name in RulesDef.model_fields}
    head: dict[str, Any] = {
        "slug": game.slug,
        "name": game.name,
        "timezone": game.timezone,
        "starts_at": _local(game.starts_at, zone),
        "ends_at": _local(game.ends_at, zone),
        "rules": rules,
    }
    if game.survey_instruments is not None:
        head["instruments"] = list(game.survey_instruments)
    checkpoints = []
    for c in await repo.checkpoints_of(session, game.id):
        entry: dict[str, Any] = {
            "code": c.code,
            "name": c.name,
            "lat": c.lat,
            "lon": c.lon,
            "tags": list(c.tags or []),
        }
        for name in ("active_from", "active_to"):
            if getattr(c, name) is not None:
                entry[name] = _local(getattr(c, name), zone)
        checkpoints.append(entry)
    readers = [
        {"id": reader.id, "checkpoint": code}
        for reader, code, _ in await checkpoint_repo.readers_of_game(session, game.id)
    ]
    teams = []
    for t in await repo.teams_of(session, game.id):
        team: dict[str, Any] = {"code": t.code, "name": t.name, "kind": t.kind}
        if t.join_code:
            team["join_code"] = t.join_code
        teams.append(team)
    campaigns = [
        {
            "code": c.code,
            "name": c.name,
            "multiplier": _number(c.multiplier),
            "starts_at": _local(c.starts_at, zone),
            "ends_at": _local(c.ends_at, zone),
            "checkpoint_tags": list(c.checkpoint_tags or []),
            "checkpoints": list(c.checkpoint_codes or []),
            "age_bands": list(c.age_bands or []),
        }
        for c in await repo.campaigns_of(session, game.id)
    ]
    return {
        "game": head,
        "checkpoints": checkpoints,
        "readers": readers,
        "teams": teams,
        "campaigns": campaigns,
    }


async def game_file_text(session: AsyncSession, game: Game, made: datetime) -> str:
    data = await definition_of(session, game)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return HEADER.format(slug=game.slug, made=made.isoformat(timespec="seconds")) + body
