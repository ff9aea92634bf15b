"""Distance on the Earth: the one great-circle formula the scoring rules and the tools use,
and the one way a distance is shown in kilometres.

docs/scoring-rules.md: haversine on a sphere of radius 6,371,008.8 m (the mean radius).
"""

from __future__ import annotations

import math
from typing import Final

EARTH_RADIUS_M: Final = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (spherical Earth)."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    s_dphi = math.sin((phi2 - phi1) / 2.0)
    s_dlam = math.sin(math.radians(lon2 - lon1) / 2.0)
    a = s_dphi * s_dphi + math.cos(phi1) * math.cos(phi2) * s_dlam * s_dlam
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def km(metres: float) -> float:
    """A distance in metres as shown to people: kilometres to the metre."""
    return round(metres / 1000, 3)
