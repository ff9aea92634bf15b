"""Small game definitions for tests and benchmarks, each with its own slug, and the points
of their boxes."""

from __future__ import annotations

import copy
import math
from typing import Any

from kernel.geodesy import EARTH_RADIUS_M

# Three checkpoints 800 m apart from each other (an equilateral triangle near Burnley), and
# P 800 m from A, tagged park.
A = (53.7900, -2.2400)


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` metres north and ``east_m`` metres east of (lat, lon)."""
    r = EARTH_RADIUS_M
    dlat = north_m / r * 180 / math.pi
    dlon = east_m / (r * math.cos(math.radians(lat))) * 180 / math.pi
    return lat + dlat, lon + dlon


B = offset(*A, 0, 800)
C = offset(*A, 800 * 0.8660254, 400)
P = offset(*A, -800, 0)

# COM1's join code (given in the file); SCH1, a school, has none.
COM1_JOIN_CODE = "CANAL234"


def game_file(slug: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "game": {
            "slug": slug,
            "name": f"Test game {slug}",
            "timezone": "Europe/London",
            "starts_at": "2027-05-01T00:00:00+01:00",
            "ends_at": "2027-06-12T00:00:00+01:00",
            "rules": {"journey_window_minutes": 60, "points_per_leg": 10, "max_speed_kmh": 25},
        },
        "checkpoints": [
            {"code": "A", "name": "Alpha", "lat": A[0], "lon": A[1], "tags": []},
            {"code": "B", "name": "Bravo", "lat": B[0], "lon": B[1], "tags": []},
            {"code": "C", "name": "Charlie", "lat": C[0], "lon": C[1], "tags": []},
            {"code": "P", "name": "Park gate", "lat": P[0], "lon": P[1], "tags": ["park"]},
        ],
        "readers": [
            {"id": f"R-{slug}-{code}", "checkpoint": code, "secret": f"{slug}-{code}-" + "s" * 32}
            for code in "ABCP"
        ],
        "teams": [
            {"code": "SCH1", "name": "Alpha Primary", "kind": "school"},
            {
                "code": "COM1",
                "name": "Canal Walkers",
                "kind": "community",
                "join_code": COM1_JOIN_CODE,
            },
        ],
        "campaigns": [],
        "cards": [
            {
                "number": f"{i:07d}",
                "uid": f"04{i:012X}",
                "activation_code": f"K{i:03d}",
                **({"team": "SCH1"} if i <= 3 else {}),
            }
            for i in range(1, 11)
        ],
        "players": [],
    }
    for key, value in overrides.items():
        data[key] = value
    return copy.deepcopy(data)
