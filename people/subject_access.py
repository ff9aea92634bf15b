"""A subject-access request: everything the people and scoring tables hold about a player.

``player_data`` gathers, for the game's organisers to hand to the player (or their parent),
the registration (nickname, public name, age band, gender, e-mail, neighbourhood code and
its deprivation decile, dates), the cards, the team history, the per-day totals and every
tap. Survey answers live in the evaluation domain; the console adds them. The result is
plain JSON-ready data; the caller records the request in the audit trail.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Game
from people import repository as repo
from people.players import player_in_game


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


async def player_data(session: AsyncSession, game: Game, player_id: int) -> dict[str, Any]:
    player = await player_in_game(session, game.id, player_id)
    team = await repo.team(session, player.team_id) if player.team_id else None
    cards = await repo.cards_of_holder(session, game.id, player.holder_id)
    history = await repo.memberships_of_holder(session, game.id, player.holder_id)
    days = await repo.days_of_holder(session, game.id, player.holder_id)
    taps = await repo.taps_of_holder(session, game.id, player.holder_id)
    return {
        "game": {"slug": game.slug, "name": game.name},
        "player": {
            "id": player.id,
            "nickname": player.nickname,
            "nickname_hidden": player.nickname_hidden,
            "public_name": player.public_name,
            "shown_on_public_boards": player.public,
            "show_nickname_publicly": player.show_nickname,
            "age_band": player.age_band,
            "gender": player.gender,
            "email": player.email,
            "neighbourhood_lsoa": player.lsoa_code,
            "imd_decile": player.imd_decile,
            "imd_nation": player.imd_nation,
            "team": team.code if team else None,
            "registered_at": _when(player.registered_at),
            "erased_at": _when(player.erased_at),
        },
        "cards": [
            {
                "number": c.number,
                "kind": c.kind,
                "valid_from": _when(c.valid_from),
                "valid_until": _when(c.valid_until),
            }
            for c in cards
        ],
        "team_history": [{"from": _when(at), "team": code} for at, code in history],
        "days": [
            {
                "date": _when(d.local_date),
                "taps": d.taps,
                "legs": d.legs,
                "points": d.points,
                "distance_m": round(d.distance_m, 1),
            }
            for d in days
        ],
        "taps": [
            {
                "at": _when(t[0]),
                "box": t[1],
                "card": t[2],
                "outcome": t[3],
                "points": t[4],
                "distance_m": round(t[5], 1),
            }
            for t in taps
        ],
    }
