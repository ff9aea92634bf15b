"""Moving a box's place: new coordinates for the checkpoint a box stands at.

A checkpoint's latitude and longitude are scoring inputs (distances and speeds between
taps), so a moved place re-scores the whole game in the caller's transaction, as loading a
game file that changes them does (``organising.loading``). The change is audited as the
box's (``reader.place_moved``, with the old and new coordinates and the points moved), so
it appears in the box's history. The caller owns the transaction; previewing is making the
change and rolling it back (``organising.preview``).
"""

from __future__ import annotations

import math

from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Game
from kernel import audit
from kernel.errors import Invalid, NotFound
from organising import repository as repo
from scoring.rescore import RescoreReport, rescore_game

# Closer than this (about 1 cm) is the same place: nothing to move.
SAME_PLACE_DEGREES = 1e-7


def coordinate(text: str, name: str, limit: float) -> float:
    """A latitude (limit 90) or longitude (limit 180) typed as decimal degrees."""
    label = "latitude" if name == "lat" else "longitude"
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise Invalid(
            f"the {label} must be a number of degrees between -{limit:g} and {limit:g}, "
            f"for example {'53.78940' if name == 'lat' else '-2.24310'}",
            fields=[{"field": name, "message": f"must be between -{limit:g} and {limit:g}"}],
        )
    return value


async def move_place(
    session: AsyncSession,
    game: Game,
    code: str,
    lat: float,
    lon: float,
    *,
    actor: str,
    reader_id: str,
) -> RescoreReport:
    """Moves checkpoint ``code`` (where box ``reader_id`` stands) to ``lat``, ``lon`` and
    re-scores the game. Invalid if it is already there; NotFound for an unknown code."""
    place = next((c for c in await repo.checkpoints_of(session, game.id) if c.code == code), None)
    if place is None:
        raise NotFound(f"no checkpoint '{code}' in game '{game.slug}'")
    if abs(place.lat - lat) < SAME_PLACE_DEGREES and abs(place.lon - lon) < SAME_PLACE_DEGREES:
        raise Invalid(
            f"checkpoint {code} is already at {lat:.5f}, {lon:.5f}: enter its new place",
            fields=[{"field": "lat", "message": "is where it stands now"}],
        )
    old = (place.lat, place.lon)
    place.lat, place.lon = lat, lon
    change = f"checkpoint {code}: moved from {old[0]:.5f}, {old[1]:.5f} to {lat:.5f}, {lon:.5f}"
    report = await rescore_game(
        session, game.id, actor=actor, reason=change, detail={"checkpoint": code}
    )
    audit.record(
        session,
        actor=actor,
        action="reader.place_moved",
        game_id=game.id,
        reader=reader_id,
        checkpoint=code,
        before=list(old),
        after=[lat, lon],
        changes=[change],
        taps=report.taps,
        points_moved=report.points_moved,
    )
    await session.flush()
    return report
